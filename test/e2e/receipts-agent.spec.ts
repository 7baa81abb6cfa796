import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Interceptor } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { Agent, readApiToken } from '../../agent/service';
import { serveAgent } from '../../agent/rpc/server';
import { BackupDeliveryService, DeliveryStatus } from '../../proto/gen/infra/v1/backup_pb';
import { toHex } from '../../shared/bytes';
import { createCustodianIdentity, custodianIdentityFingerprint, makeCustodianCard } from '../../shared/protocol';
import { expect, LANGS, nav, onScreen, say, shot, test, withVault } from './lib/ui';

// Receipts sent to a linked agent in each language, against a REAL agent (agent/service.ts with
// the tss-lib fixture imported as key-1/node-1 and key-1/node-2) on its real Connect socket on
// 127.0.0.1: the vault's card is enrolled by the agent, which backs up both nodes (3-of-5, the
// vault holds one external share of each); the vault imports the two envelopes, links the agent
// (its address and its API token in Settings → Recovery agent: the only place the app takes
// them), signs "accepted" for both and sends them; the agent's own API (QueryShareStatus)
// then reports both shares confirmed for this custodian.
const sec = (): number => Math.floor(Date.now() / 1000);
const FIXTURES = new URL('../fixtures/tss-lib/ecdsa/', import.meta.url);
const NODES = ['node-1', 'node-2'] as const;

const dir = mkdtempSync(join(tmpdir(), 'custos-receipts-agent-'));
const data = join(dir, 'data');
await Agent.init(data, { operator: 'e2e' });
const agent = await Agent.open(data, { operator: 'e2e', recoveryRateLimit: false });
for (const [i, node] of NODES.entries()) await agent.importKeyshare('key-1', node, new Uint8Array(readFileSync(new URL(`keygen_data_${String(i)}.json`, FIXTURES))));
const others: string[] = [];
for (const role of ['security-team', 'independent-custodian'] as const) {
  const c = await createCustodianIdentity(`Custodian ${role}`);
  await agent.addCustodian(makeCustodianCard(c, sec()), `Custodian ${role}`, role);
  others.push(toHex(custodianIdentityFingerprint(c)));
}
const token = readApiToken(data);
const server = await serveAgent(agent, { logger: { info: () => undefined, warn: () => undefined, error: () => undefined } });
const bearer: Interceptor = (next) => async (req) => {
  req.header.set('authorization', `Bearer ${token}`);
  return next(req);
};
const delivery = createClient(BackupDeliveryService, createConnectTransport({ baseUrl: server.url, httpVersion: '2', interceptors: [bearer] }));

test.afterAll(async () => {
  await server.close();
  agent.close();
  rmSync(dir, { recursive: true, force: true });
});

for (const lang of LANGS) {
  test(`receipts: sign and send to the linked agent, the agent reports them confirmed [${lang}]`, async ({ app, host }) => {
    test.setTimeout(30_000);
    await withVault(app, host, lang);
    await host.ok('trust:pin', { card: { name: 'agent.custos', bytes: agent.card }, confirmCode: agent.code });

    // The agent enrolls this vault and backs up both nodes: the vault gets share #3 of each.
    const card = await host.ok('vault:card', {});
    await agent.addCustodian(card.card.bytes, `Carol Wu ${lang}`, 'cold-storage');
    const mine = card.fingerprint;
    const envelopes: { name: string; bytes: Uint8Array }[] = [];
    const sets: Record<string, string> = {};
    for (const node of NODES) {
      const b = await agent.backup('key-1', node, {}, [mine, ...others], join(dir, `out-${lang}-${node}`), { qr: false });
      const e = b.envelopes.find((x) => x.custodian === mine)!;
      expect(e.shareIndex).toBe(3);
      sets[node] = b.setId;
      envelopes.push({ name: `key-1_${node}.custos`, bytes: new Uint8Array(readFileSync(e.file)) });
    }
    const imported = await host.ok('inbox:import', { opId: 'setup', files: envelopes });
    expect(imported.accepted).toBe(2);
    const statusOf = async (node: string): Promise<DeliveryStatus | undefined> =>
      (await delivery.queryShareStatus({ keyId: 'key-1', nodeId: node, setId: sets[node]! })).shares.find((s) => s.custodian === mine)?.status;
    for (const node of NODES) expect(await statusOf(node)).not.toBe(DeliveryStatus.CONFIRMED);
    await app.reload();

    // Link the agent: its address in Settings…
    await nav(app, lang, 'settings');
    const settings = await onScreen(app, 'settings');
    const form = settings.getByTestId('agent-url-form');
    await form.getByLabel(say(lang, 'agentUrlOptional')).fill(server.url);
    await form.getByRole('button', { name: say(lang, 'save'), exact: true }).click();
    await expect(settings.getByTestId('agent-settings').locator('.notice')).toContainText(say(lang, 'linkedNow', { url: server.url }));
    await shot(app, lang, 'settings-agent-linked');
    // …and its API token (memory only), in the same Settings section (issue 13).
    const tokenForm = settings.getByTestId('agent-token-form');
    await tokenForm.getByLabel(say(lang, 'agentToken')).fill(token);
    await tokenForm.getByRole('button', { name: say(lang, 'useToken') }).click();
    await expect(tokenForm).toHaveAttribute('data-token', 'yes');

    // Sign "accepted" for both and send them.
    await nav(app, lang, 'receipts');
    const receipts = await onScreen(app, 'receipts', 'ready');
    await receipts.getByRole('button', { name: say(lang, 'acceptAll', { n: 2 }) }).click();
    await onScreen(app, 'receipts', 'signed');
    const signed = receipts.getByTestId('signed-receipts');
    await signed.getByRole('button', { name: say(lang, 'sendToAgent') }).click();
    await expect(signed.locator('.notice-success')).toContainText(say(lang, 'sentResult', { ok: 2, n: 2 }));
    await shot(app, lang, 'receipts-sent');

    // The agent, asked through its own API: both shares confirmed by this custodian.
    for (const node of NODES) expect(await statusOf(node), node).toBe(DeliveryStatus.CONFIRMED);
    expect((await host.ok('vault:status', {})).counts).toMatchObject({ received: 0, confirmed: 2 });
  });
}
