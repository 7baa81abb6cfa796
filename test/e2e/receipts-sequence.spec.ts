import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent } from '../../agent/service';
import { toHex } from '../../shared/bytes';
import { createCustodianIdentity, custodianIdentityFingerprint, makeCustodianCard } from '../../shared/protocol';
import { MessageSorter } from '../../shared/qr/assemble';
import { expect, LANGS, nav, onScreen, say, shot, test, withVault, zbar } from './lib/ui';

// Receipts travel back by QR, all of a batch in one animated sequence (issue 13), in each language,
// against a REAL agent: the agent (agent/service.ts, the tss-lib fixture imported as key-1/node-0..2)
// backs up three nodes to this vault and two other custodians; the vault imports its three
// envelopes and signs "accepted" for all; "Show all as one QR sequence" plays every receipt in one
// player. Stepped through at the coarse density as a camera would see it (screenshots of the code,
// every third one dropped, so mixed frames have to stand in), each picture read by zbarimg until
// every receipt reassembles; the pictures go to a folder as PNG files, and the real agent CLI
// (`tsx agent/cli.ts delivery confirm <folder>`, its own process) confirms each receipt once.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const FIXTURES = new URL('../fixtures/tss-lib/ecdsa/', import.meta.url);
const NODES = ['node-0', 'node-1', 'node-2'] as const;
const sec = (): number => Math.floor(Date.now() / 1000);

const dir = mkdtempSync(join(tmpdir(), 'custos-receipts-seq-'));
test.afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

for (const lang of LANGS) {
  test(`receipts: a batch of signed receipts as one QR sequence, read off the screen and confirmed by the agent CLI [${lang}]`, async ({ app, host }) => {
    test.setTimeout(180_000);
    await withVault(app, host, lang);
    const data = join(dir, `data-${lang}`);
    await Agent.init(data, { operator: 'e2e' });
    const agent = await Agent.open(data, { operator: 'e2e', recoveryRateLimit: false });
    const sets: Record<string, string> = {};
    let mine = '';
    try {
      for (const [i, node] of NODES.entries()) await agent.importKeyshare('key-1', node, new Uint8Array(readFileSync(new URL(`keygen_data_${String(i)}.json`, FIXTURES))));
      const others: string[] = [];
      for (const role of ['security-team', 'independent-custodian'] as const) {
        const c = await createCustodianIdentity(`Custodian ${role}`);
        await agent.addCustodian(makeCustodianCard(c, sec()), `Custodian ${role}`, role);
        others.push(toHex(custodianIdentityFingerprint(c)));
      }
      await host.ok('trust:pin', { card: { name: 'agent.custos', bytes: agent.card }, confirmCode: agent.code });
      const card = await host.ok('vault:card', {});
      await agent.addCustodian(card.card.bytes, `Carol Wu ${lang}`, 'cold-storage');
      mine = card.fingerprint;
      const envelopes: { name: string; bytes: Uint8Array }[] = [];
      for (const node of NODES) {
        const b = await agent.backup('key-1', node, {}, [mine, ...others], join(dir, `out-${lang}-${node}`), { qr: false });
        sets[node] = b.setId;
        envelopes.push({ name: `key-1_${node}.custos`, bytes: new Uint8Array(readFileSync(b.envelopes.find((x) => x.custodian === mine)!.file)) });
      }
      expect((await host.ok('inbox:import', { opId: 'setup', files: envelopes })).accepted).toBe(NODES.length);
    } finally {
      agent.close(); // the CLI below opens the agent's data itself
    }

    await app.reload();
    await nav(app, lang, 'receipts');
    const receipts = await onScreen(app, 'receipts', 'ready');
    await receipts.getByRole('button', { name: say(lang, 'acceptAll', { n: NODES.length }) }).click();
    await onScreen(app, 'receipts', 'signed');
    const signed = receipts.getByTestId('signed-receipts');
    await shot(app, lang, 'receipts-batch-signed');
    await signed.getByRole('button', { name: say(lang, 'receipts_showAllQr', { n: NODES.length }) }).click();

    const player = await onScreen(app, 'qr-player', 'playing');
    await expect(player).toHaveAttribute('data-messages', String(NODES.length));
    await expect(player.getByText(say(lang, 'receipts_seqTitle', { n: NODES.length }))).toBeVisible();
    await player.getByRole('button', { name: say(lang, 'pause') }).click();
    await player.getByTestId('player-density').selectOption('10');
    await expect(player).toHaveAttribute('data-version', '10');
    await expect(player).toHaveAttribute('data-seq', '1');
    const count = Number(await player.getAttribute('data-frames'));
    expect(count).toBeGreaterThan(NODES.length); // at the coarse density each receipt is several frames
    await expect(player.getByTestId('player-sub')).toHaveText(say(lang, 'receipts_seqCaption', { n: NODES.length, f: count }));
    await shot(app, lang, 'receipts-sequence-first');

    const frames = join(dir, `frames-${lang}`);
    mkdirSync(frames);
    const sorter = new MessageSorter();
    const complete = (): boolean => {
      const r = sorter.results();
      return r.messages.length === NODES.length && r.unfinished.length === 0;
    };
    const seen = new Set<number>();
    const lens = new Map<number, number>(); // each receipt's numbered frames, counted in the first round
    let mixed = false;
    let n = 1;
    for (; !complete() && n <= 6 * count; n++) {
      await expect(player).toHaveAttribute('data-seq', String(n));
      const m = Number(await player.getAttribute('data-message'));
      seen.add(m);
      if (n <= count) lens.set(m, (lens.get(m) ?? 0) + 1);
      if (n === count + 1) {
        // The second round starts: the first receipt's first mixed frame, after its numbered ones.
        await expect(player.getByTestId('player-count')).toHaveText(say(lang, 'qrSeq_mixed', { m: 1, M: NODES.length, k: 1, n: lens.get(1) ?? 0 }));
        await expect(player).toHaveAttribute('data-message', '1');
        await shot(app, lang, 'receipts-sequence-mixed');
        mixed = true;
      }
      if (n % 3 !== 0) {
        const png = join(frames, `screen-${String(n).padStart(3, '0')}.png`);
        writeFileSync(png, await player.getByTestId('player-qr').screenshot());
        const read = zbar(png);
        expect(read, `frame ${String(n)} reads`).toHaveLength(1);
        sorter.add({ name: png, frame: read[0]!.toLowerCase() });
      }
      await player.getByRole('button', { name: say(lang, 'nextFrame') }).click();
    }
    expect(complete()).toBe(true);
    expect(mixed).toBe(true); // a third of the numbered frames were dropped: mixed frames completed them
    expect([...seen].sort()).toEqual(NODES.map((_x, i) => i + 1));
    await app.keyboard.press('Escape');
    await expect(app.locator('[data-screen="qr-player"]')).toHaveCount(0);

    // The real agent CLI, in its own process, on the folder of screenshots.
    const pngs = readdirSync(frames).length;
    const run = spawnSync(TSX, ['agent/cli.ts', 'delivery', 'confirm', '--data', data, frames, '--json'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1' } });
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout.trim().split('\n').pop()!) as { confirmed: { nodeId: string; custodian: string; status: string }[]; refused: unknown[]; inputs: { files: number; qrFrames: number; receipts: number } };
    expect(out.refused).toEqual([]);
    expect(out.inputs).toMatchObject({ files: pngs, receipts: NODES.length });
    expect(out.confirmed.map((s) => `${s.nodeId}:${s.status}`).sort()).toEqual(NODES.map((x) => `${x}:confirmed`));
    expect(out.confirmed.every((s) => s.custodian === mine)).toBe(true);

    // The agent's own record, opened afresh: this custodian's share of each backup set is confirmed.
    const after = await Agent.open(data, { operator: 'e2e', recoveryRateLimit: false });
    try {
      for (const node of NODES) expect(after.queryShareStatus({ keyId: 'key-1', nodeId: node, setId: sets[node]! }).find((s) => s.custodian === mine)?.status, node).toBe('confirmed');
    } finally {
      after.close();
    }
  });
}
