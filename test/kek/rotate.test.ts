// The agent on an HSM KEK (SoftHSM2) and KEK rotation (issue 9 §1): init, import, backup, delivery,
// a mixed recovery and a drill with the key inside the token; then rotations file → HSM, HSM → new
// HSM key, HSM → file, each rewrapping every file and the open session's key in the database in place, the
// old KEK id refused afterwards, audited; and the refusals that must leave nothing half-written.
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DB_FILE } from '../../agent/db';
import { defaultKekFile, kekStatus, KEK_CONFIG_FILE, readKekState, ROTATION_JOURNAL, type KekChoice } from '../../agent/kek/config';
import { KEK_FILE, LocalFileKek } from '../../agent/kek/file';
import { rotateKek, sealedKekId } from '../../agent/kek/rotate';
import { Agent } from '../../agent/service';
import { createApproverIdentity, createCustodianIdentity, makeApproverCard, makeCustodianCard, type ApproverIdentity, type CustodianIdentity } from '../../shared/protocol';
import { approvedSession, Clock, compactFixture, expectCode, exportFor, fixture, openAllEnvelopes, receiptFor, removeTempDirs, tempDir, type World } from '../agent/helpers';
import { makeToken, removeTokens, SOFTHSM_MODULE, type Token } from './softhsm';

afterEach(() => {
  removeTempDirs();
  removeTokens();
});

const hsm = (token: Token, keyLabel: string): KekChoice => ({ provider: 'pkcs11', module: SOFTHSM_MODULE, tokenLabel: token.label, keyLabel, pinFile: token.pinFile });

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

/** Every sealed file of the directory with the KEK id its header names. */
function sealedIds(dir: string): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.enc')) out.set(p.slice(dir.length + 1), sealedKekId(new Uint8Array(readFileSync(p))));
    }
  };
  walk(dir);
  return out;
}

function sessionBlobIds(dir: string): (string | undefined)[] {
  const db = new Database(join(dir, DB_FILE), { readonly: true });
  try {
    return (db.prepare('SELECT identity_sealed FROM recovery_sessions WHERE identity_sealed IS NOT NULL').all() as { identity_sealed: Uint8Array }[]).map((r) => sealedKekId(new Uint8Array(r.identity_sealed)));
  } finally {
    db.close();
  }
}

describe('the agent with its KEK in an HSM (SoftHSM2)', () => {
  it('init, backup, delivery, a mixed recovery and a drill with the key inside the token', async () => {
    const token = makeToken();
    const dir = join(tempDir(), 'data');
    const w = await world(dir, hsm(token, 'custos-kek-1'));
    const { agent } = w;
    expect(agent.kekId).toMatch(/^pkcs11:[0-9a-f]{16}$/);
    expect(readKekState(dir)?.current).toMatchObject({ provider: 'pkcs11', tokenLabel: token.label, keyLabel: 'custos-kek-1', id: agent.kekId });
    // No key file anywhere near the data directory, and nothing secret in kek.json.
    expect(existsSync(join(dir, KEK_FILE))).toBe(false);
    expect(existsSync(defaultKekFile(dir))).toBe(false);
    expect(readFileSync(join(dir, KEK_CONFIG_FILE), 'utf8')).not.toContain('493817');

    const original = compactFixture('ecdsa', 0);
    await agent.importKeyshare('key-1', 'node-0', fixture('ecdsa', 0));
    const backup = await agent.backup('key-1', 'node-0', { threshold: 3, total: 5, retain: 2 }, w.fingerprints, w.out);
    const held = await openAllEnvelopes(w, backup);
    for (const [index, h] of held) await agent.confirmShareDelivery(receiptFor(w, backup, h, index));
    for (const id of sealedIds(dir).values()) expect(id).toBe(agent.kekId);

    rmSync(join(dir, 'keys', 'key-1', 'node-0.enc'));
    rmSync(join(dir, 'keys', 'key-1', 'node-0.keydata.enc'));
    const mixed = await approvedSession(w, { keyId: 'key-1', nodeId: 'node-0', mode: 'mixed' });
    expect(sessionBlobIds(dir)).toEqual([agent.kekId]);
    await agent.submitExports(mixed.sessionId, [await exportFor(w, mixed.request, held.get(4)!, 4)]);
    expect(await agent.completeRecovery(mixed.sessionId)).toMatchObject({ success: true, sharesUsed: { server: 2, external: 1 }, written: true });
    expect(await agent.exportKeydata('key-1', 'node-0')).toEqual(original);

    const drill = await approvedSession(w, { keyId: 'key-1', nodeId: 'node-0', mode: 'mixed', incidentId: 'DRILL-2026-Q4' });
    await agent.submitExports(drill.sessionId, [await exportFor(w, drill.request, held.get(5)!, 5)]);
    expect(await agent.completeRecovery(drill.sessionId, { drill: true })).toMatchObject({ success: true, written: false });
    agent.close();

    // Reopened from kek.json alone (PIN from the recorded PIN file): the same key.
    const again = await Agent.open(dir, { now: w.clock.now });
    expect(again.kekId).toBe(agent.kekId);
    expect(await again.exportKeydata('key-1', 'node-0')).toEqual(original);
    again.close();
  });

  it('a wrong PIN, a missing token or a missing key refuse to open with KEK_UNAVAILABLE and change nothing', async () => {
    const token = makeToken();
    const dir = join(tempDir(), 'data');
    const w = await world(dir, hsm(token, 'custos-kek-1'));
    await w.agent.importKeyshare('key-1', 'node-0', fixture('eddsa', 0));
    w.agent.close();
    const before = snapshotDir(dir);
    writeFileSync(token.pinFile, '000000\n', { mode: 0o600 });
    expect((await expectCode(Agent.open(dir), 'KEK_UNAVAILABLE')).details).toMatchObject({ reason: 'pin-incorrect' });
    writeFileSync(token.pinFile, '493817\n', { mode: 0o600 });
    // Another token directory (the HSM unplugged): no such token.
    const elsewhere = makeToken('another-token');
    expect((await expectCode(Agent.open(dir), 'KEK_UNAVAILABLE')).details).toMatchObject({ reason: 'token-missing' });
    // Back on the right token, the key deleted by someone: key-missing.
    process.env.SOFTHSM2_CONF = token.conf;
    expect(elsewhere.label).toBe('another-token');
    (await Agent.open(dir)).close();
    const label = readKekState(dir)?.current;
    expect(label?.provider).toBe('pkcs11');
    rmSync(token.tokenDir, { recursive: true, force: true });
    makeToken(token.label, { root: token.root });
    expect((await expectCode(Agent.open(dir), 'KEK_UNAVAILABLE')).details).toMatchObject({ reason: 'key-missing' });
    expect(snapshotDir(dir)).toEqual(before);
  });

  it('the token removed while the agent runs: KEK_UNAVAILABLE, no half-written file, the old file still there', async () => {
    const token = makeToken();
    const dir = join(tempDir(), 'data');
    const w = await world(dir, hsm(token, 'custos-kek-1'));
    await w.agent.importKeyshare('key-1', 'node-0', fixture('eddsa', 0));
    const before = snapshotDir(dir);
    rmSync(token.tokenDir, { recursive: true, force: true });
    expect((await expectCode(w.agent.importKeyshare('key-1', 'node-1', fixture('eddsa', 1)), 'KEK_UNAVAILABLE')).details).toMatchObject({ reason: 'token-removed' });
    await expectCode(w.agent.exportKeydata('key-1', 'node-0'), 'KEK_UNAVAILABLE');
    const after = snapshotDir(dir);
    for (const [path, hash] of before) if (path.endsWith('.enc')) expect(after.get(path), path).toBe(hash);
    expect([...after.keys()].filter((p) => p.includes('node-1') || p.endsWith('.tmp'))).toEqual([]);
    w.agent.close();
  });
});

describe('KEK rotation', () => {
  it('file → HSM → new HSM key → file: every file and the open session key move, nothing else changes, old ids are refused, audited', async () => {
    const token = makeToken();
    const dir = join(tempDir(), 'data');
    const w = await world(dir);
    const { agent } = w;
    const original = compactFixture('eddsa', 0);
    await agent.importKeyshare('key-1', 'node-0', fixture('eddsa', 0));
    const backup = await agent.backup('key-1', 'node-0', { threshold: 3, total: 5, retain: 2 }, w.fingerprints, w.out);
    const held = await openAllEnvelopes(w, backup);
    for (const [index, h] of held) await agent.confirmShareDelivery(receiptFor(w, backup, h, index));
    // A session open across the rotations: its sealed age identity lives in the database.
    const session = await approvedSession(w, { keyId: 'key-1', nodeId: 'node-0', mode: 'mixed' });
    const firstId = agent.kekId;
    agent.close();
    const beforeFiles = sealedIds(dir);
    expect(beforeFiles.size).toBe(5); // share, keydata, 2 retained shares, identity
    const oldKeydata = readFileSync(join(dir, 'keys', 'key-1', 'node-0.keydata.enc'));

    const ids = [firstId];
    for (const to of [hsm(token, 'custos-kek-1'), hsm(token, 'custos-kek-2'), { provider: 'file' as const, path: join(tempDir(), 'new.kek') }]) {
      const progress: string[] = [];
      const r = await rotateKek(dir, to, { operator: 'ops-1', now: w.clock.now, onProgress: (p) => progress.push(p.phase) });
      expect(r.fromId).toBe(ids.at(-1));
      expect(r.rewrapped).toBe(6); // 5 files + 1 session key
      expect(r.upgraded).toBe(0); // all version 2: rewrapped in place
      expect(progress[0]).toBe('prepared');
      expect(progress.at(-1)).toBe('finished');
      ids.push(r.toId);
      const now = sealedIds(dir);
      expect([...now.keys()].sort()).toEqual([...beforeFiles.keys()].sort());
      for (const id of now.values()) expect(id).toBe(r.toId);
      expect(sessionBlobIds(dir)).toEqual([r.toId]);
      expect(existsSync(join(dir, ROTATION_JOURNAL))).toBe(false);
      expect(readKekState(dir)?.retired.map((x) => x.id)).toEqual(ids.slice(0, -1));
    }
    expect(new Set(ids).size).toBe(4);

    const reopened = await Agent.open(dir, { now: w.clock.now, operator: 'tester' });
    expect(reopened.kekId).toBe(ids[3]);
    // A copy of a file from before the rotations names a retired KEK: refused with KEK_RETIRED.
    const current = readFileSync(join(dir, 'keys', 'key-1', 'node-0.keydata.enc'));
    writeFileSync(join(dir, 'keys', 'key-1', 'node-0.keydata.enc'), oldKeydata, { mode: 0o600 });
    await expectCode(reopened.exportKeydata('key-1', 'node-0'), 'KEK_RETIRED');
    writeFileSync(join(dir, 'keys', 'key-1', 'node-0.keydata.enc'), current, { mode: 0o600 });
    expect(await reopened.exportKeydata('key-1', 'node-0')).toEqual(original);
    // The session opened before the rotations completes: its key moved with the rest.
    rmSync(join(dir, 'keys', 'key-1', 'node-0.enc'));
    rmSync(join(dir, 'keys', 'key-1', 'node-0.keydata.enc'));
    await reopened.submitExports(session.sessionId, [await exportFor(w, session.request, held.get(3)!, 3)]);
    expect(await reopened.completeRecovery(session.sessionId)).toMatchObject({ success: true, sharesUsed: { server: 2, external: 1 } });
    expect(await reopened.exportKeydata('key-1', 'node-0')).toEqual(original);
    // Audited: a start and an end entry per rotation, and the chain verifies.
    const rotations = reopened.auditEntries().filter((e) => e.entry.action === 'kek-rotate');
    expect(rotations.map((e) => [e.entry.details?.phase, e.entry.details?.to])).toEqual([
      ['started', ids[1]],
      ['completed', ids[1]],
      ['started', ids[2]],
      ['completed', ids[2]],
      ['started', ids[3]],
      ['completed', ids[3]],
    ]);
    expect(reopened.verifyAudit().ok).toBe(true);
    reopened.close();
    // Back to a retired key: refused.
    await expectCode(rotateKek(dir, hsm(token, 'custos-kek-1'), { operator: 'ops-1' }), 'CONFLICT');
    expect(existsSync(join(dir, ROTATION_JOURNAL))).toBe(false);
  });

  it('a data directory with kek.key inside (made before kek.json) opens with a warning, and rotating moves the key out and removes it', async () => {
    const dir = join(tempDir(), 'data');
    const clock = new Clock();
    // How older versions made it: the key file inside, no kek.json.
    const keyHome = tempDir();
    const legacy = LocalFileKek.create(keyHome);
    await Agent.init(dir, { now: clock.now, kek: legacy });
    legacy.close();
    copyFileSync(join(keyHome, KEK_FILE), join(dir, KEK_FILE));
    expect(existsSync(join(dir, KEK_CONFIG_FILE))).toBe(false);
    const a = await Agent.open(dir, { now: clock.now });
    await a.importKeyshare('key-1', 'node-0', fixture('eddsa', 0));
    a.close();
    expect(kekStatus(dir).warnings.join(' ')).toMatch(/INSIDE the data directory/);
    const copy = join(tempDir(), 'copy-of-data');
    const { cpSync } = await import('node:fs');
    cpSync(dir, copy, { recursive: true });

    // Refused: a new key file inside the directory again.
    await expectCode(rotateKek(dir, { provider: 'file', path: join(dir, 'elsewhere.key') }, { operator: 'ops' }), 'FAILED_PRECONDITION');
    expect(existsSync(join(dir, ROTATION_JOURNAL))).toBe(false);
    const r = await rotateKek(dir, { provider: 'file' }, { operator: 'ops', now: clock.now });
    expect(r.to).toMatchObject({ provider: 'file', path: defaultKekFile(dir) });
    expect(existsSync(join(dir, KEK_FILE))).toBe(false);
    expect(r.oldKeyAdvice).toMatch(/removed/);
    expect(kekStatus(dir).warnings.join(' ')).not.toMatch(/INSIDE/);
    const b = await Agent.open(dir, { now: clock.now });
    expect(await b.exportKeydata('key-1', 'node-0')).toEqual(compactFixture('eddsa', 0));
    b.close();
    // The old copy still opens with its own key (that is what a copy is), but its files are
    // refused by the rotated agent: put into the live directory, KEK_RETIRED.
    copyFileSync(join(copy, 'keys', 'key-1', 'node-0.keydata.enc'), join(dir, 'keys', 'key-1', 'node-0.keydata.enc'));
    const c = await Agent.open(dir, { now: clock.now });
    await expectCode(c.exportKeydata('key-1', 'node-0'), 'KEK_RETIRED');
    c.close();
  });

  it('refusals before anything moved leave no journal and no new key: same key, an unreachable HSM, an interrupted rotation', async () => {
    const token = makeToken();
    const dir = join(tempDir(), 'data');
    const w = await world(dir);
    w.agent.close();
    const keyFile = defaultKekFile(dir);
    await expectCode(rotateKek(dir, { provider: 'file', path: keyFile }, { operator: 'ops' }), 'CONFLICT');
    const before = snapshotDir(dir);
    writeFileSync(token.pinFile, '000000\n', { mode: 0o600 });
    expect((await expectCode(rotateKek(dir, hsm(token, 'custos-kek-1'), { operator: 'ops' }), 'KEK_UNAVAILABLE')).details).toMatchObject({ reason: 'pin-incorrect' });
    expect(snapshotDir(dir)).toEqual(before);
    await expectCode(rotateKek(dir, 'resume', { operator: 'ops' }), 'FAILED_PRECONDITION');
    // An interrupted rotation (a journal left by a crash): open refuses and says how to finish.
    writeFileSync(token.pinFile, '493817\n', { mode: 0o600 });
    const target = join(tempDir(), 'next.kek');
    const { writeFileSync: w2 } = await import('node:fs');
    w2(
      join(dir, ROTATION_JOURNAL),
      JSON.stringify({ version: 1, from: readKekState(dir)?.current, legacy: false, to: { provider: 'file', path: target }, startedAt: 0 }),
      { mode: 0o600 },
    );
    const refused = await expectCode(Agent.open(dir), 'FAILED_PRECONDITION');
    expect(refused.message).toMatch(/agent kek rotate --resume/);
    await expectCode(rotateKek(dir, { provider: 'file', path: join(tempDir(), 'x.kek') }, { operator: 'ops' }), 'FAILED_PRECONDITION');
    const r = await rotateKek(dir, 'resume', { operator: 'ops' });
    expect(r).toMatchObject({ resumed: true, rewrapped: 1 });
    (await Agent.open(dir)).close();
  });
});

/** Path → content hash of every file under `dir`. */
function snapshotDir(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (!e.name.startsWith(DB_FILE)) out.set(p.slice(dir.length + 1), readFileSync(p).toString('base64'));
    }
  };
  walk(dir);
  return out;
}
