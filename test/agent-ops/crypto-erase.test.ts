// Crypto-erase on purge (issue 9 §1b "a hard delete does not make earlier copies unreadable"): a
// copy of a retained share's file, and of the whole data directory, taken before the hard delete
// no longer opens afterwards with anything the agent keeps — with the file KEK (the share's erase
// key file beside the KEK is destroyed) and with the KEK in a SoftHSM2 token (the share's erase key
// object is destroyed with C_DestroyObject). Another set's shares still open, in the live directory
// and in the copy. And, said plainly by the last check: a backup of the KEK side (the erase key
// folder, or the token) taken before the purge still opens the old copy.
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openKek, readKekState, type KekChoice } from '../../agent/kek/config';
import { eraseDirOf } from '../../agent/kek/file';
import { SecretStore, type SecretRef } from '../../agent/secret-store';
import { Agent } from '../../agent/service';
import { createApproverIdentity, createCustodianIdentity, makeApproverCard, makeCustodianCard, type ApproverIdentity, type CustodianIdentity } from '../../shared/protocol';
import { approvedSession, Clock, exportFor, fixture, openAllEnvelopes, receiptFor, removeTempDirs, tempDir, type World } from '../agent/helpers';
import { makeToken, removeTokens, SOFTHSM_MODULE, type Token } from '../kek/softhsm';
import { approveDeletion, DAY } from './helpers';

afterEach(() => {
  removeTempDirs();
  removeTokens();
});

const KEY = 'key-1';
const A = { keyId: KEY, nodeId: 'node-0' } as const; // its set is purged
const B = { keyId: KEY, nodeId: 'node-1' } as const; // its set stays

async function world(dir: string, kekChoice?: KekChoice): Promise<World> {
  const out = tempDir('custos-out-');
  const clock = new Clock();
  await Agent.init(dir, { now: clock.now, name: 'agent under test', operator: 'test-init', ...(kekChoice === undefined ? {} : { kekChoice }) });
  const agent = await Agent.open(dir, { now: clock.now, operator: 'tester' });
  const custodians: CustodianIdentity[] = [];
  const fingerprints: string[] = [];
  for (let i = 0; i < 3; i++) {
    const c = await createCustodianIdentity(`custodian ${String(i + 1)}`);
    custodians.push(c);
    fingerprints.push((await agent.addCustodian(makeCustodianCard(c, clock.seconds), `Custodian ${String(i + 1)}`, 'cold-storage')).fingerprint);
  }
  const approvers: ApproverIdentity[] = [];
  for (const name of ['Alice (security)', 'Bob (business owner)']) {
    const a = createApproverIdentity(name);
    approvers.push(a);
    await agent.addApprover(makeApproverCard(a, clock.seconds));
  }
  return { dir, out, clock, agent, custodians, fingerprints, approvers };
}

const retained = (node: typeof A | typeof B, setId: string, index: number): SecretRef => ({ kind: 'retained-share', ...node, setId, index });

/** Opens `ref` from `sealed` with a fresh store over `dir`'s configured KEK; the error code, or 'read'. */
async function opens(dir: string, ref: SecretRef, sealed?: Uint8Array): Promise<{ code: string; reason?: unknown }> {
  const kek = openKek(dir);
  try {
    const store = new SecretStore(dir, kek);
    await (sealed === undefined ? store.read(ref) : store.open(ref, sealed));
    return { code: 'read' };
  } catch (error) {
    const e = error as { code?: string; details?: Record<string, unknown> };
    return { code: String(e.code), reason: e.details?.reason };
  } finally {
    kek.close();
  }
}

const fileOf = (dir: string, ref: SecretRef & { kind: 'retained-share' }): string => join(dir, 'backup', ref.keyId, ref.nodeId, ref.setId, `${String(ref.index)}.enc`);

interface Purged {
  readonly setA: string;
  readonly setB: string;
  /** A's retained files as they were before the purge. */
  readonly copies: Map<number, Uint8Array>;
  /** A copy of the whole data directory taken before the purge. */
  readonly dirCopy: string;
}

/**
 * Backs up A and B (3-of-5, the server keeps 1 and 2), copies A's retained files and the whole data
 * directory (and, with `keySide`, the KEK side: it is called just before the purge), then runs A's
 * hard delete the way an operator must (soft delete, two approvals, every receipt, an
 * external-only drill, the cooling-off period). The agent is closed at the end.
 */
async function purgeA(w: World, keySide?: () => void, indexes?: readonly number[]): Promise<Purged> {
  const { agent } = w;
  await agent.importKeyshare(A.keyId, A.nodeId, fixture('eddsa', 0));
  await agent.importKeyshare(B.keyId, B.nodeId, fixture('eddsa', 1));
  const backupA = await agent.backup(A.keyId, A.nodeId, { threshold: 3, total: 5, retain: 2 }, w.fingerprints, w.out, { qr: false });
  const backupB = await agent.backup(B.keyId, B.nodeId, { threshold: 3, total: 5, retain: 2 }, w.fingerprints, join(w.out, 'b'), { qr: false });
  const held = await openAllEnvelopes(w, backupA);
  for (const [i, h] of held) {
    await agent.requestShareDelivery({ ...A, shareIndex: i });
    await agent.confirmShareDelivery(receiptFor(w, backupA, h, i));
  }
  // The copies an attacker (or a backup job) took before the purge.
  const copies = new Map([1, 2].map((i) => [i, new Uint8Array(readFileSync(fileOf(w.dir, { kind: 'retained-share', ...A, setId: backupA.setId, index: i })))]));
  const dirCopy = join(tempDir('custos-copy-'), 'data');
  cpSync(w.dir, dirCopy, { recursive: true });

  const sel = indexes === undefined ? A : { ...A, indexes };
  await agent.softDeleteServerShares(sel);
  const { deletion, details } = await agent.requestDeletion(sel);
  for (const a of w.approvers) await agent.approveDeletion(deletion.deletionId, approveDeletion(details, a, w.clock.seconds));
  const drill = await approvedSession(w, { ...A, mode: 'external-only', incidentId: 'DRILL-ERASE' });
  await agent.submitExports(drill.sessionId, await Promise.all([3, 4, 5].map((i) => exportFor(w, drill.request, held.get(i)!, i))));
  await agent.completeRecovery(drill.sessionId, { drill: true });
  w.clock.advance(7 * DAY + 60);
  keySide?.();
  const purged = await agent.purgeServerShares(deletion.deletionId, { operator: 'ops-erase' });
  expect(purged.shares.map((s) => s.state)).toEqual((indexes ?? [1, 2]).map(() => 'deleted'));
  agent.close();
  return { setA: backupA.setId, setB: backupB.setId, copies, dirCopy };
}

/** After the purge: no copy of A's shares opens, in the live directory or the copied one; B's do. */
async function expectErased(w: World, r: Purged): Promise<void> {
  for (const i of [1, 2]) {
    const ref = { kind: 'retained-share', ...A, setId: r.setA, index: i } as const;
    expect(existsSync(fileOf(w.dir, ref))).toBe(false);
    expect(await opens(w.dir, ref, r.copies.get(i)), `share ${String(i)} from a copy`).toEqual({ code: 'CORRUPT_FILE', reason: 'erased' });
    // The whole copied data directory, opened as the agent would (its kek.json names the same KEK).
    expect(await opens(r.dirCopy, ref), `share ${String(i)} in the copied directory`).toEqual({ code: 'CORRUPT_FILE', reason: 'erased' });
    // Put back into the live directory: refused by the agent too, and the refusal says why.
    writeFileSync(fileOf(w.dir, ref), r.copies.get(i)!, { mode: 0o600 });
    expect(await opens(w.dir, ref)).toEqual({ code: 'CORRUPT_FILE', reason: 'erased' });
    rmSync(fileOf(w.dir, ref));
  }
  for (const i of [1, 2]) {
    expect(await opens(w.dir, retained(B, r.setB, i))).toEqual({ code: 'read' });
    expect(await opens(r.dirCopy, retained(B, r.setB, i))).toEqual({ code: 'read' });
  }
}

describe('the purge is a crypto-erase', () => {
  it('file KEK: copies of the purged set (and of the whole data directory) no longer open; another set does; a backup of the erase-key folder from before still opens them', async () => {
    const w = await world(join(tempDir(), 'data'));
    const state = readKekState(w.dir);
    if (state?.current.provider !== 'file') throw new Error('expected a file KEK');
    // The erase keys live beside the KEK file, outside the data directory.
    const eraseDir = eraseDirOf(state.current.path);
    const keyBackup = join(tempDir('custos-kek-backup-'), 'erase');
    const r = await purgeA(w, () => {
      cpSync(eraseDir, keyBackup, { recursive: true });
    });
    expect(readdirSync(eraseDir).sort()).toEqual([`${r.setB}-1.key`, `${r.setB}-2.key`]);
    await expectErased(w, r);

    // What remains true for snapshots (docs/agent-operations.md): a backup of the KEK side taken
    // before the purge (here the erase-key folder) still opens the old copy.
    rmSync(eraseDir, { recursive: true });
    cpSync(keyBackup, eraseDir, { recursive: true });
    expect(await opens(w.dir, retained(A, r.setA, 1), r.copies.get(1))).toEqual({ code: 'read' });
  });

  it('a deletion of one share of a set erases exactly that one: the copy of the other still opens, and that share stays held', async () => {
    const w = await world(join(tempDir(), 'data'));
    const r = await purgeA(w, undefined, [1]);
    const one = retained(A, r.setA, 1);
    const two = retained(A, r.setA, 2);
    expect(await opens(w.dir, one, r.copies.get(1))).toEqual({ code: 'CORRUPT_FILE', reason: 'erased' });
    expect(await opens(r.dirCopy, one)).toEqual({ code: 'CORRUPT_FILE', reason: 'erased' });
    expect(await opens(w.dir, two)).toEqual({ code: 'read' });
    expect(await opens(w.dir, two, r.copies.get(2))).toEqual({ code: 'read' });
    const agent = await Agent.open(w.dir, { now: w.clock.now });
    expect(agent.listBackupShares(A.keyId, A.nodeId).filter((s) => s.setId === r.setA).map((s) => [s.shareIndex, s.state])).toEqual([
      [1, 'deleted'],
      [2, 'held'],
    ]);
    agent.close();
  });

  it('KEK in an HSM (SoftHSM2): the erase key objects are destroyed on the token; another set opens; a backup of the token from before still opens the copy', async () => {
    const token: Token = makeToken();
    const w = await world(join(tempDir(), 'data'), { provider: 'pkcs11', module: SOFTHSM_MODULE, tokenLabel: token.label, keyLabel: 'custos-kek-1', pinFile: token.pinFile });
    const tokenBackup = join(tempDir('custos-token-backup-'), 'tokens');
    const r = await purgeA(w, () => {
      cpSync(token.tokenDir, tokenBackup, { recursive: true });
    });
    // Nothing of the erase keys is on disk near the data directory.
    expect(readdirSync(dirname(w.dir)).filter((n) => n.includes('erase'))).toEqual([]);
    await expectErased(w, r);

    // A backup of the token taken before the purge (an HSM backup) still has the erase keys.
    rmSync(token.tokenDir, { recursive: true });
    cpSync(tokenBackup, token.tokenDir, { recursive: true });
    expect(await opens(w.dir, retained(A, r.setA, 1), r.copies.get(1))).toEqual({ code: 'read' });
  });
});
