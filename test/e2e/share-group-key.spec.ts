import { readFileSync } from 'node:fs';
import { fromHex } from '../../shared/bytes';
import { groupKeyOf, parseKeydata } from '../../shared/keydata';
import { meOf, TestAgent } from './lib/world';
import { expect, LANGS, nav, onScreen, say, shot, test, withVault } from './lib/ui';

// Issue 12 (H14), in each language: a share's details panel shows the group public key its signed
// manifest names (compressed, and the Ethereum-style address for secp256k1), to compare with what
// the company knows before a recovery; a share whose manifest predates the field says to compare
// after recovery instead.
const FIXTURE = new URL('../fixtures/tss-lib/ecdsa/keygen_data_0.json', import.meta.url);

for (const lang of LANGS) {
  test(`shares: the group key from the manifest in the details panel [${lang}]`, async ({ app, host }) => {
    const gk = groupKeyOf(parseKeydata(new Uint8Array(readFileSync(FIXTURE))));
    const agent = new TestAgent();
    await withVault(app, host, lang);
    await host.ok('trust:pin', { card: { name: 'agent.custos', bytes: agent.card }, confirmCode: agent.code });
    const me = await meOf(host);
    const withKey = await agent.issue(me, { keyId: 'eth-cold-1', nodeId: 'node-a', groupKey: fromHex(gk.compressed) });
    const older = await agent.issue(me, { keyId: 'eth-legacy', nodeId: 'node-b' });
    const imported = await host.ok('inbox:import', { opId: 'setup', files: [{ name: 'new.custos', bytes: withKey.envelope }, { name: 'old.custos', bytes: older.envelope }] });
    expect(imported.accepted).toBe(2);
    await app.reload();

    await nav(app, lang, 'shares');
    const shares = await onScreen(app, 'shares', 'list');
    const table = shares.getByTestId('shares-table');
    await table.getByRole('button', { name: say(lang, 'openShare', { key: 'eth-cold-1', node: 'node-a', i: 3 }) }).click();
    const panel = shares.getByTestId('share-details');
    const key = panel.getByTestId('share-group-key');
    await expect(key).toContainText(say(lang, 'shareGroupKeyTitle'));
    await expect(key).toContainText(gk.compressed);
    await expect(key).toContainText(gk.address ?? '?');
    await expect(key).toContainText(say(lang, 'shareGroupKeyCompare'));
    await key.scrollIntoViewIfNeeded();
    await shot(app, lang, 'shares-details-group-key', { fullPage: true });

    await table.getByRole('button', { name: say(lang, 'openShare', { key: 'eth-legacy', node: 'node-b', i: 3 }) }).click();
    await expect(panel.getByRole('heading', { level: 2 })).toHaveText('eth-legacy · node-b · #3');
    await expect(panel.getByTestId('share-group-key')).toContainText(say(lang, 'shareGroupKeyAbsent'));
    await expect(panel.getByTestId('share-group-key')).not.toContainText(gk.compressed);
    await shot(app, lang, 'shares-details-group-key-absent', { fullPage: true });
  });
}
