// Rollback protection (docs/custodian-vault.md, "Rollback protection"): an older GENUINE copy of
// the records put back into the folder is refused at unlock, not silently used. The red team's
// three cases are regression tests: the previous copy of the records is refused, a purged share is
// not resurrected, a replaced agent key is not re-pinned. Plus the documented limit (a copy of the
// whole folder, identity.age included, is accepted), owner-only modes forced at open and save, and
// the wrong-passphrase counter under parallel attempts.
import { chmodSync, cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../shared/bytes';
import { fileHash } from '../../shared/crypto/hash';
import { createAgentIdentity, makeAgentCard, makeAgentKeyRotation } from '../../shared/protocol';
import { purgeDue, softDelete } from '../../main/services/deletion';
import { importEnvelope } from '../../main/services/inbox';
import { isCodedError } from '../../main/services/errors';
import { applyAgentKeyRotation, pinnedAgentKey } from '../../main/services/trust';
import { Vault } from '../../main/services/vault';
import { copyVault, createVault, makeAgent, makeSet, meOf, NOW, PASSPHRASE, pinned, putBack, storeDir, storeFiles, tempDir, testClock, TEST_LOG_N } from './helpers';

const DAY = 86_400;

/** Unlocks `v` after locking it; returns the coded refusal, or undefined when it opened. */
async function reopen(v: Vault): Promise<{ code: string; details?: Record<string, unknown> } | undefined> {
  await v.lock();
  try {
    await v.unlock(PASSPHRASE);
    return undefined;
  } catch (error) {
    if (!isCodedError(error)) throw error;
    return { code: error.code, details: (error as { details?: Record<string, unknown> }).details };
  }
}

describe('rollback protection', () => {
  it('refuses an older genuine copy of the records put back (not silently unlocked), and opens again with the newest', async () => {
    const v = await createVault();
    const agent = makeAgent();
    await pinned(v, agent);
    const old = copyVault(v);
    const set = await makeSet(agent.id, meOf(v));
    expect((await importEnvelope(v, set.envelope)).outcome).toBe('accepted');
    await v.compact();
    const generation = v.state.generation;
    const newest = copyVault(v);

    putBack(v, old);
    expect(await reopen(v)).toMatchObject({ code: 'VAULT_CORRUPT', details: { reason: 'rollback', expected: generation } });
    // Removing just the newest journal entry is the same: refused.
    putBack(v, newest);
    await v.unlock(PASSPHRASE);
    await v.save();
    const latest = copyVault(v);
    const last = storeFiles(v).filter((f) => f.startsWith('log-')).at(-1)!;
    rmSync(join(storeDir(v), last));
    expect(await reopen(v)).toMatchObject({ code: 'VAULT_CORRUPT', details: { reason: 'rollback' } });
    // The newest copy (taken after that save) opens, with everything in it.
    expect(await reopen(v)).toMatchObject({ code: 'VAULT_CORRUPT' });
    writeFileSync(join(storeDir(v), last), readFileSync(join(latest, 'store', last)));
    expect(await reopen(v)).toBeUndefined();
    expect(v.state.shares).toHaveLength(1);
  });

  it('does not resurrect a purged share from an older copy', async () => {
    const clock = testClock();
    const v = await createVault({ clock: clock.fn });
    const agent = makeAgent();
    await pinned(v, agent);
    const set = await makeSet(agent.id, meOf(v));
    await importEnvelope(v, set.envelope);
    const id = toHex(fileHash(set.envelope));
    await softDelete(v, id, { coolingDays: 1 });
    const old = copyVault(v);
    clock.advance(2 * DAY);
    expect((await purgeDue(v)).purged).toHaveLength(1);
    const current = copyVault(v);

    putBack(v, old);
    expect(await reopen(v)).toMatchObject({ code: 'VAULT_CORRUPT', details: { reason: 'rollback' } });
    // The old files mixed in with the current ones (copied over, nothing removed): the newest
    // snapshot wins and the share stays purged.
    putBack(v, current);
    cpSync(join(old, 'store'), storeDir(v), { recursive: true });
    expect(await reopen(v)).toBeUndefined();
    expect(v.state.shares).toHaveLength(0);
    expect(v.state.purged.map((p) => p.id)).toEqual([id]);
    expect((await importEnvelope(v, set.envelope)).code).toBe('ALREADY_DESTROYED');
  });

  it('does not re-pin a replaced agent key from an older copy', async () => {
    const v = await createVault();
    const agent = makeAgent();
    await pinned(v, agent);
    const old = copyVault(v);
    const successor = createAgentIdentity('agent node-1 (2027)');
    await applyAgentKeyRotation(v, makeAgentKeyRotation(makeAgentCard(successor, NOW), agent.id.signing, NOW));
    expect(toHex(pinnedAgentKey(v))).toBe(toHex(successor.signing.publicKey));

    putBack(v, old);
    expect(await reopen(v)).toMatchObject({ code: 'VAULT_CORRUPT', details: { reason: 'rollback' } });
    expect(v.unlocked).toBe(false);
  });

  it('the documented limit: a copy of the WHOLE folder, identity.age included, is accepted', async () => {
    const v = await createVault();
    const agent = makeAgent();
    await pinned(v, agent);
    const old = copyVault(v);
    const oldGeneration = v.state.generation;
    await v.save();
    putBack(v, old, ['store', 'identity.age']);
    expect(await reopen(v)).toBeUndefined();
    expect(v.state.generation).toBe(oldGeneration);
  });
});

describe('vault folder modes', () => {
  it('forces the folder to 0700 and its files to 0600 (public ones 0644) at open, whatever they were', async () => {
    const dir = join(tempDir(), 'vault');
    const v = await Vault.create(dir, { name: 'Carol', passphrase: PASSPHRASE }, { kdfLogN: TEST_LOG_N, allowWeakKdf: true, clock: testClock().fn });
    await v.save();
    await v.lock();
    chmodSync(dir, 0o777);
    chmodSync(join(dir, 'store'), 0o777);
    for (const f of readdirSync(join(dir, 'store'))) chmodSync(join(dir, 'store', f), 0o666);
    chmodSync(join(dir, 'identity.age'), 0o666);
    chmodSync(join(dir, 'vault.json'), 0o666);
    const mode = (p: string): number => statSync(p).mode & 0o777;
    const opened = await Vault.open(dir);
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, 'store'))).toBe(0o700);
    expect(mode(join(dir, 'identity.age'))).toBe(0o600);
    expect(mode(join(dir, 'vault.json'))).toBe(0o644);
    for (const f of readdirSync(join(dir, 'store'))) expect(mode(join(dir, 'store', f)), f).toBe(0o600);
    // And at every save.
    await opened.unlock(PASSPHRASE);
    chmodSync(dir, 0o777);
    await opened.save();
    expect(mode(dir)).toBe(0o700);
    for (const f of readdirSync(join(dir, 'store'))) expect(mode(join(dir, 'store', f)), f).toBe(0o600);
  });

  it('a vault created in a 0777 folder is 0700', async () => {
    const target = tempDir();
    chmodSync(target, 0o777);
    const v = await Vault.create(target, { name: 'Carol', passphrase: PASSPHRASE }, { kdfLogN: TEST_LOG_N, allowWeakKdf: true, clock: testClock().fn });
    expect(statSync(target).mode & 0o777).toBe(0o700);
    await v.lock();
  });
});

describe('wrong passphrases', () => {
  it('parallel wrong attempts in one process are counted one by one, not split', async () => {
    const waits: number[] = [];
    const v0 = await createVault();
    await v0.lock();
    const v = await Vault.open(v0.dir, { sleep: (ms) => (waits.push(ms), Promise.resolve()), clock: testClock().fn });
    const results = await Promise.allSettled([v.unlock('wrong one 1'), v.unlock('wrong one 2'), v.unlock('wrong one 3')]);
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    const failures = results.map((r) => (r.status === 'rejected' ? (r.reason as { details?: { failures?: number } }).details?.failures : undefined));
    expect(failures).toEqual([1, 2, 3]);
    expect(waits).toEqual([500, 1000]);
  });
});
