// Every refusal the issue lists, each with its code, and nothing stored changed: the node's files,
// the retained shares and the output directory are compared byte for byte before and after.
import Database from 'better-sqlite3';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BackupResult } from '../../agent/api';
import { DB_FILE } from '../../agent/db';
import { Agent } from '../../agent/service';
import { createTokenCheck } from '../../agent/rpc/auth';
import { sealTo } from '../../shared/crypto/seal';
import { parseKeydata, writeKeydata, type Keydata } from '../../shared/keydata';
import {
  createApproverIdentity,
  makeApproverCard,
  makeDeletionApproval,
  openRecoveryRequest,
  recoveryExportSchema,
  sealMessage,
} from '../../shared/protocol';
import {
  approve,
  approvedSession,
  compactFixture,
  expectCode,
  exportFor,
  fixture,
  makeWorld,
  openAllEnvelopes,
  receiptFor,
  removeTempDirs,
  snapshot,
  tempDir,
  type World,
} from './helpers';
import { rosterApprovals } from '../registry/helpers';

afterAll(removeTempDirs);

type Held = Awaited<ReturnType<typeof openAllEnvelopes>>;

/** An ed25519 node (fast) imported and backed up 3-of-5, retain 2, envelopes opened by custodians. */
async function backedUp(): Promise<{ w: World; backup: BackupResult; held: Held }> {
  const w = await makeWorld();
  await w.agent.importKeyshare('key-1', 'node-0', fixture('eddsa', 0));
  const backup = await w.agent.backup('key-1', 'node-0', {}, w.fingerprints, w.out, { qr: false });
  return { w, backup, held: await openAllEnvelopes(w, backup) };
}

/** Everything stored that a refusal must not change. */
function stored(w: World): Map<string, string> {
  const all = new Map<string, string>();
  for (const sub of ['keys', 'backup', 'agent']) for (const [k, v] of snapshot(join(w.dir, sub))) all.set(`${sub}/${k}`, v);
  for (const [k, v] of snapshot(w.out)) all.set(`out/${k}`, v);
  return all;
}

/** A custodian-signed export with chosen contents (what a damaged or hostile export looks like). */
async function forgedExport(w: World, request: Uint8Array, held: Held extends Map<number, infer H> ? H : never, index: number, change: { share?: Uint8Array; setId?: Uint8Array; epoch?: number }): Promise<Uint8Array> {
  const req = openRecoveryRequest(request, w.agent.publicKey, w.clock.seconds);
  const m = req.manifest.body;
  return sealMessage(
    'recovery-export',
    recoveryExportSchema,
    {
      session_id: req.session.session_id,
      request_hash: req.hash,
      key_id: m.key_id,
      node_id: m.node_id,
      set_id: change.setId ?? m.set_id,
      epoch: change.epoch ?? m.epoch,
      share_index: index,
      payload: await sealTo(req.request.body.recipient, change.share ?? held.share),
      created_at: w.clock.seconds,
    },
    held.custodian.signing,
  );
}

function lastAudit(w: World): { event: string; action: string; result: string; reason?: string } {
  const entries = w.agent.auditEntries();
  return entries[entries.length - 1]!.entry;
}

describe('recovery refusals', () => {
  it('below threshold: BELOW_THRESHOLD, nothing written, the session stays open for more shares', async () => {
    const { w, held } = await backedUp();
    const before = stored(w);
    const s = await approvedSession(w, { keyId: 'key-1', nodeId: 'node-0', mode: 'external-only' });
    await w.agent.submitExports(s.sessionId, [await exportFor(w, s.request, held.get(3)!, 3), await exportFor(w, s.request, held.get(5)!, 5)]);
    const e = await expectCode(w.agent.completeRecovery(s.sessionId), 'BELOW_THRESHOLD');
    expect(e.message).toMatch(/2 valid share\(s\) of the 3 needed/);
    expect(stored(w)).toEqual(before);
    expect(lastAudit(w)).toMatchObject({ event: 'recover', action: 'session-complete', result: 'refused', reason: expect.stringMatching(/^BELOW_THRESHOLD/) as unknown });
    // The missing share arrives; the same session completes.
    await w.agent.submitExports(s.sessionId, [await exportFor(w, s.request, held.get(4)!, 4)]);
    expect((await w.agent.completeRecovery(s.sessionId)).success).toBe(true);
    w.agent.close();
  });

  it('one tampered share is named and refused, the good ones are kept', async () => {
    const { w, held } = await backedUp();
    const s = await approvedSession(w, { keyId: 'key-1', nodeId: 'node-0', mode: 'external-only' });
    const bad = Uint8Array.from(held.get(4)!.share);
    bad[0]! ^= 0x01;
    const tampered = await forgedExport(w, s.request, held.get(4)!, 4, { share: bad });
    const flipped = await exportFor(w, s.request, held.get(5)!, 5);
    flipped[flipped.length - 70]! ^= 0x01; // inside the signature (the frame ends with "t":"recovery-export","v":1)
    const before = stored(w);
    const result = await w.agent.submitExports(s.sessionId, [await exportFor(w, s.request, held.get(3)!, 3), tampered, flipped]);
    expect(result.accepted).toEqual([3]);
    expect(result.refused).toEqual([
      { shareIndex: 4, code: 'SHARE_COMMITMENT_MISMATCH', message: expect.stringMatching(/Share 4 does not match its commitment/) as unknown },
      { shareIndex: 5, code: 'SIGNATURE_INVALID', message: expect.any(String) as unknown },
    ]);
    expect(result.session.received).toEqual([3]);
    await expectCode(w.agent.completeRecovery(s.sessionId), 'BELOW_THRESHOLD');
    expect(stored(w)).toEqual(before);
    const refusedEntries = w.agent.auditEntries().filter((e) => e.entry.action === 'export-submit' && e.entry.result === 'refused');
    expect(refusedEntries.map((e) => e.entry.share_index)).toEqual([4, 5]);
    w.agent.close();
  });

  it('an export replayed into another session: SESSION_MISMATCH', async () => {
    const { w, held } = await backedUp();
    const s1 = await approvedSession(w, { keyId: 'key-1', nodeId: 'node-0', mode: 'external-only', incidentId: 'INC-1' });
    const s2 = await approvedSession(w, { keyId: 'key-1', nodeId: 'node-0', mode: 'external-only', incidentId: 'INC-2' });
    const exp = await exportFor(w, s1.request, held.get(3)!, 3);
    expect(await w.agent.submitExports(s1.sessionId, [exp])).toMatchObject({ accepted: [3] });
    const before = stored(w);
    const r = await w.agent.submitExports(s2.sessionId, [exp]);
    expect(r.accepted).toEqual([]);
    expect(r.refused).toMatchObject([{ shareIndex: 3, code: 'SESSION_MISMATCH' }]);
    expect(r.session.received).toEqual([]);
    expect(stored(w)).toEqual(before);
    // The same export again in its own session is idempotent; a different export for the same index is refused.
    expect(await w.agent.submitExports(s1.sessionId, [exp])).toMatchObject({ accepted: [3], refused: [] });
    const again = await exportFor(w, s1.request, held.get(3)!, 3);
    expect((await w.agent.submitExports(s1.sessionId, [again])).refused).toMatchObject([{ shareIndex: 3, code: 'DUPLICATE_SHARE' }]);
    w.agent.close();
  });

  it('shares of two backup sets are never combined: SET_MISMATCH, named', async () => {
    const { w, backup, held } = await backedUp();
    const out2 = tempDir('custos-out2-');
    const second = await w.agent.backup('key-1', 'node-0', {}, w.fingerprints, out2, { qr: false });
    expect(second.epoch).toBe(2);
    expect(second.superseded).toMatchObject({ setId: backup.setId, epoch: 1 });
    expect(second.superseded?.notices.map((n) => n.shareIndex)).toEqual([3, 4, 5]);
    expect(readdirSync(out2).filter((f) => f.endsWith('.supersede.cbor'))).toHaveLength(3);
    const held2 = await openAllEnvelopes(w, second);
    const s = await approvedSession(w, { keyId: 'key-1', nodeId: 'node-0', mode: 'external-only' });
    expect(w.agent.getSession(s.sessionId).setId).toBe(second.setId);
    const before = stored(w);
    const oldSet = await forgedExport(w, s.request, held.get(4)!, 4, { setId: held.get(4)!.setId, epoch: 1 });
    const oldShareNewLabel = await forgedExport(w, s.request, held.get(5)!, 5, {});
    const r = await w.agent.submitExports(s.sessionId, [await exportFor(w, s.request, held2.get(3)!, 3), oldSet, oldShareNewLabel]);
    expect(r.accepted).toEqual([3]);
    expect(r.refused).toMatchObject([
      { shareIndex: 4, code: 'SET_MISMATCH' },
      { shareIndex: 5, code: 'SHARE_COMMITMENT_MISMATCH' },
    ]);
    expect(stored(w)).toEqual(before);
    w.agent.close();
  });

  it('missing approval: APPROVAL_REQUIRED for the request, the exports and the completion', async () => {
    const { w } = await backedUp();
    const opened = await w.agent.openSession({ incidentId: 'INC-7', keyId: 'key-1', nodeId: 'node-0', mode: 'mixed' });
    const sid = opened.session.sessionId;
    await expectCode(w.agent.recoveryRequest(sid), 'APPROVAL_REQUIRED');
    await w.agent.addApproval(sid, approve(w, opened.details, w.approvers[0]!));
    const before = stored(w);
    await expectCode(w.agent.recoveryRequest(sid), 'APPROVAL_REQUIRED');
    await expectCode(w.agent.submitExports(sid, [new Uint8Array([1])]), 'APPROVAL_REQUIRED');
    await expectCode(w.agent.completeRecovery(sid), 'APPROVAL_REQUIRED');
    expect(stored(w)).toEqual(before);
    expect(w.agent.getSession(sid)).toMatchObject({ state: 'awaiting-approvals', requestIssued: false });
    w.agent.close();
  });

  it('the same approver twice: DUPLICATE_APPROVER; an unregistered approver or other details are refused', async () => {
    const { w } = await backedUp();
    const opened = await w.agent.openSession({ incidentId: 'INC-8', keyId: 'key-1', nodeId: 'node-0', mode: 'mixed' });
    const sid = opened.session.sessionId;
    const [alice, bob] = w.approvers as [World['approvers'][0], World['approvers'][0]];
    await w.agent.addApproval(sid, approve(w, opened.details, alice));
    await expectCode(w.agent.addApproval(sid, approve(w, opened.details, alice, w.clock.seconds + 5)), 'DUPLICATE_APPROVER');
    await expectCode(w.agent.addApproval(sid, approve(w, opened.details, createApproverIdentity('Mallory'))), 'UNTRUSTED_SIGNER');
    await expectCode(w.agent.addApproval(sid, approve(w, { ...opened.details, mode: 'external-only' }, bob)), 'SESSION_MISMATCH');
    await expectCode(w.agent.addApproval(sid, new TextEncoder().encode('I approve. -- Bob')), 'MALFORMED');
    expect(w.agent.getSession(sid).approvals.map((a) => a.name)).toEqual(['Alice (security)']);
    await expectCode(w.agent.recoveryRequest(sid), 'APPROVAL_REQUIRED');
    // A disabled approver's approval no longer counts.
    await w.agent.addApproval(sid, approve(w, opened.details, bob));
    // (Disabling needs two other approvers' roster changes: Carol joins with Alice's and Bob's, then Alice and Carol disable Bob.)
    const carol = createApproverIdentity('Carol (compliance)');
    await w.agent.addApprover(makeApproverCard(carol, w.clock.seconds), {}, rosterApprovals(w.agent, [alice, bob], 'add', carol, w.clock.seconds));
    await w.agent.disableApprover(w.agent.listApprovers().find((a) => a.name === bob.name)!.fingerprint, {}, rosterApprovals(w.agent, [alice, carol], 'disable', bob, w.clock.seconds));
    await expectCode(w.agent.recoveryRequest(sid), 'APPROVAL_REQUIRED');
    w.agent.close();
  });

  it('an expired session: EXPIRED, its key destroyed, nothing written', async () => {
    const { w, held } = await backedUp();
    const s = await approvedSession(w, { keyId: 'key-1', nodeId: 'node-0', mode: 'external-only', ttlSeconds: 600 });
    await w.agent.submitExports(s.sessionId, [await exportFor(w, s.request, held.get(3)!, 3), await exportFor(w, s.request, held.get(4)!, 4)]);
    const last = await exportFor(w, s.request, held.get(5)!, 5);
    const before = stored(w);
    w.clock.advance(601);
    await expectCode(w.agent.submitExports(s.sessionId, [last]), 'EXPIRED');
    await expectCode(w.agent.completeRecovery(s.sessionId), 'EXPIRED');
    expect(w.agent.getSession(s.sessionId)).toMatchObject({ state: 'expired' });
    const db = new Database(join(w.dir, DB_FILE), { readonly: true });
    const row = db.prepare('SELECT identity_sealed FROM recovery_sessions WHERE session_id = ?').get(s.sessionId) as { identity_sealed: Uint8Array | null };
    db.close();
    expect(row.identity_sealed).toBeNull();
    expect(stored(w)).toEqual(before);
    // A session that expires before it is approved.
    const o = await w.agent.openSession({ incidentId: 'INC-9', keyId: 'key-1', nodeId: 'node-0', mode: 'mixed', ttlSeconds: 60 });
    w.clock.advance(61);
    await expectCode(w.agent.addApproval(o.session.sessionId, approve(w, o.details, w.approvers[0]!)), 'EXPIRED');
    w.agent.close();
  });

  it('a corrupted .enc or .keydata.enc: CORRUPT_FILE, nothing changed; a recovery then repairs it', async () => {
    const { w, held } = await backedUp();
    const share = join(w.dir, 'keys', 'key-1', 'node-0.enc');
    const keydata = join(w.dir, 'keys', 'key-1', 'node-0.keydata.enc');
    for (const f of [share, keydata]) {
      const b = new Uint8Array(readFileSync(f));
      b[b.length - 5]! ^= 0x40;
      writeFileSync(f, b);
    }
    const before = stored(w);
    await expectCode(w.agent.backup('key-1', 'node-0', {}, w.fingerprints, tempDir(), { qr: false }), 'CORRUPT_FILE');
    await expectCode(w.agent.exportKeydata('key-1', 'node-0'), 'CORRUPT_FILE');
    expect(await w.agent.inspectNode('key-1', 'node-0')).toMatchObject({ shareFile: 'corrupt', keydataFile: 'corrupt', ok: false });
    expect(stored(w)).toEqual(before);
    const s = await approvedSession(w, { keyId: 'key-1', nodeId: 'node-0', mode: 'mixed' });
    await w.agent.submitExports(s.sessionId, [await exportFor(w, s.request, held.get(5)!, 5)]);
    await w.agent.completeRecovery(s.sessionId);
    expect(await w.agent.exportKeydata('key-1', 'node-0')).toEqual(compactFixture('eddsa', 0));
    w.agent.close();
  });

  it('a damaged retained share is set aside in mixed mode and named', async () => {
    const { w, backup, held } = await backedUp();
    const r1 = join(w.dir, 'backup', 'key-1', 'node-0', backup.setId, '1.enc');
    const b = new Uint8Array(readFileSync(r1));
    b[40]! ^= 1;
    writeFileSync(r1, b);
    const s = await approvedSession(w, { keyId: 'key-1', nodeId: 'node-0', mode: 'mixed' });
    await w.agent.submitExports(s.sessionId, [await exportFor(w, s.request, held.get(3)!, 3)]);
    const before = stored(w);
    await expectCode(w.agent.completeRecovery(s.sessionId), 'BELOW_THRESHOLD');
    expect(stored(w)).toEqual(before);
    await w.agent.submitExports(s.sessionId, [await exportFor(w, s.request, held.get(4)!, 4)]);
    const out = await w.agent.completeRecovery(s.sessionId);
    expect(out).toMatchObject({ success: true, indexesUsed: [2, 3, 4], skipped: [{ shareIndex: 1, code: 'CORRUPT_FILE' }] });
    w.agent.close();
  });

  it("a peer keydata of another key is refused and nothing is written", async () => {
    const { w, held } = await backedUp();
    const s = await approvedSession(w, { keyId: 'key-1', nodeId: 'node-0', mode: 'external-only' });
    await w.agent.submitExports(s.sessionId, await Promise.all([3, 4, 5].map((i) => exportFor(w, s.request, held.get(i)!, i))));
    const before = stored(w);
    await expectCode(w.agent.completeRecovery(s.sessionId, { peerKeydata: fixture('ecdsa', 1) }), 'KEYDATA_INVALID');
    await expectCode(w.agent.completeRecovery(s.sessionId, { peerKeydata: new TextEncoder().encode('{"Xi":1}') }), 'KEYDATA_INVALID');
    expect(stored(w)).toEqual(before);
    expect((await w.agent.completeRecovery(s.sessionId, { peerKeydata: fixture('eddsa', 1) })).contextSource).toBe('peer');
    w.agent.close();
  });
});

describe('import refusals', () => {
  it('a keydata failing its self-check: SELF_CHECK_FAILED, nothing stored', async () => {
    const w = await makeWorld({ custodians: 0, approvers: 0 });
    for (const scheme of ['eddsa', 'ecdsa'] as const) {
      const k = parseKeydata(fixture(scheme, 0));
      const bad: Keydata = { ...k, Xi: k.Xi + 1n };
      const e = await expectCode(w.agent.importKeyshare('key-1', `node-${scheme}`, writeKeydata(bad)), 'SELF_CHECK_FAILED');
      expect(e.message).toMatch(/xiMatchesBigXj/);
    }
    await expectCode(w.agent.importKeyshare('key-1', 'node-x', new TextEncoder().encode('{"not":"keydata"}')), 'KEYDATA_INVALID');
    await expectCode(w.agent.importKeyshare('key-1', '../x', fixture('eddsa', 0)), 'INVALID_PARAMETERS');
    expect(snapshot(join(w.dir, 'keys')).size).toBe(0);
    expect(w.agent.listNodes()).toEqual([]);
    expect(w.agent.auditEntries().filter((e) => e.entry.event === 'import').map((e) => e.entry.result)).toEqual(['refused', 'refused', 'refused', 'refused']);
    // A second import of an imported node is refused and keeps the stored share.
    await w.agent.importKeyshare('key-1', 'node-0', fixture('eddsa', 0));
    const before = snapshot(join(w.dir, 'keys'));
    await expectCode(w.agent.importKeyshare('key-1', 'node-0', fixture('eddsa', 1)), 'CONFLICT');
    expect(snapshot(join(w.dir, 'keys'))).toEqual(before);
    w.agent.close();
  });
});

describe('backup and delivery refusals', () => {
  it('bad threshold / total / retain combinations and custodian lists are refused with a reason; nothing is written', async () => {
    const w = await makeWorld({ custodians: 4 });
    await w.agent.importKeyshare('key-1', 'node-0', fixture('eddsa', 0));
    const three = w.fingerprints.slice(0, 3);
    const cases: [Parameters<Agent['backup']>[2], string[], string, RegExp][] = [
      [{ threshold: 3, total: 5, retain: 3 }, w.fingerprints.slice(0, 2), 'INVALID_PARAMETERS', /enough to recover alone/],
      [{ threshold: 4, total: 5, retain: 2 }, three, 'INVALID_PARAMETERS', /fewer than the threshold/],
      [{ threshold: 1, total: 5, retain: 0 }, three, 'INVALID_PARAMETERS', /at least 2/],
      [{ threshold: 6, total: 5, retain: 2 }, three, 'INVALID_PARAMETERS', /cannot be larger/],
      [{ threshold: 3, total: 5, retain: 2 }, w.fingerprints.slice(0, 2), 'INVALID_PARAMETERS', /name exactly one per external share/],
      [{ threshold: 3, total: 5, retain: 2 }, [three[0]!, three[0]!, three[1]!], 'INVALID_PARAMETERS', /different custodian/],
      [{ threshold: 3, total: 5, retain: 2 }, [three[0]!, three[1]!, 'ab'.repeat(32)], 'NOT_FOUND', /No custodian/],
    ];
    const out = tempDir();
    for (const [params, fps, code, why] of cases) {
      const e = await expectCode(w.agent.backup('key-1', 'node-0', params, fps, out, { qr: false }), code);
      expect(e.message).toMatch(why);
    }
    await w.agent.disableCustodian(w.fingerprints[3]!);
    await expectCode(w.agent.backup('key-1', 'node-0', {}, [three[0]!, three[1]!, w.fingerprints[3]!], out, { qr: false }), 'FAILED_PRECONDITION');
    expect(readdirSync(out)).toEqual([]);
    expect(snapshot(join(w.dir, 'backup')).size).toBe(0);
    await expectCode(() => w.agent.getBackupStatus('key-1', 'node-0'), 'NOT_FOUND');
    await expectCode(() => w.agent.getBackupStatus('key-1', 'node-9'), 'NOT_FOUND');
    // Zero retention is a valid choice (3-of-3 external).
    const zero = await w.agent.backup('key-1', 'node-0', { threshold: 3, total: 3, retain: 0 }, three, out, { qr: false });
    expect(zero.retainedIndexes).toEqual([]);
    w.agent.close();
  });

  it('receipts: only the registered custodian, only over the envelope issued for that share', async () => {
    const { w, backup, held } = await backedUp();
    const h3 = held.get(3)!;
    const h4 = held.get(4)!;
    // Custodian of share 4 signs a receipt for share 3.
    const wrongSigner = receiptFor(w, backup, { ...h3, custodian: h4.custodian }, 3);
    await expectCode(w.agent.confirmShareDelivery(wrongSigner), 'UNTRUSTED_SIGNER');
    // The right custodian, but over another envelope's hash.
    const wrongEnvelope = receiptFor(w, backup, { ...h3, hash: h4.hash }, 3);
    await expectCode(w.agent.confirmShareDelivery(wrongEnvelope), 'ENVELOPE_MISMATCH');
    const damaged = receiptFor(w, backup, h3, 3);
    damaged[damaged.length - 20]! ^= 1; // inside the signature (the frame ends with "t":"receipt","v":1)
    await expectCode(w.agent.confirmShareDelivery(damaged), 'SIGNATURE_INVALID');
    expect(w.agent.queryShareStatus({ keyId: 'key-1', nodeId: 'node-0', shareIndex: 3 })).toMatchObject([{ status: 'pending' }]);
    const oldRejection = receiptFor(w, backup, h3, 3, 'rejected');
    expect(await w.agent.confirmShareDelivery(oldRejection)).toMatchObject({ status: 'rejected', reason: 'OTHER: not for me' });
    w.clock.advance(60);
    const acceptance = receiptFor(w, backup, h3, 3);
    expect(await w.agent.confirmShareDelivery(acceptance)).toMatchObject({ status: 'confirmed' });
    // Receipts are not secret: replaying the older rejection must not undo the newer acceptance.
    await expectCode(w.agent.confirmShareDelivery(oldRejection), 'CONFLICT');
    expect(await w.agent.confirmShareDelivery(acceptance)).toMatchObject({ status: 'confirmed' });
    expect(w.agent.queryShareStatus({ keyId: 'key-1', nodeId: 'node-0', shareIndex: 3 })).toMatchObject([{ status: 'confirmed' }]);
    await expectCode(w.agent.requestShareDelivery({ keyId: 'key-1', nodeId: 'node-0', shareIndex: 1 }), 'NOT_FOUND');
    expect(w.agent.verifyAudit().ok).toBe(true);
    w.agent.close();
  });
});

describe('deletion policy: soft delete, cooling-off, rollback, hard delete (zero retention)', () => {
  it('follows the SOP and refuses shortcuts', async () => {
    const { w, backup, held } = await backedUp();
    const sel = { keyId: 'key-1', nodeId: 'node-0' };
    expect((await w.agent.softDeleteServerShares(sel)).map((s) => s.state)).toEqual(['soft-deleted', 'soft-deleted']);
    await expectCode(w.agent.openSession({ incidentId: 'INC-10', keyId: 'key-1', nodeId: 'node-0', mode: 'mixed' }), 'FAILED_PRECONDITION');
    expect((await w.agent.rollbackServerShares({ ...sel, indexes: [2] })).map((s) => [s.shareIndex, s.state])).toEqual([[2, 'held']]);
    await w.agent.softDeleteServerShares({ ...sel, indexes: [2] });
    const requested = await w.agent.requestDeletion(sel);
    expect(requested.deletion).toMatchObject({ purpose: 'zero-retention', shareIndexes: [1, 2], state: 'awaiting-approvals' });
    const did = requested.deletion.deletionId;
    for (const a of w.approvers.slice(0, 2)) {
      await w.agent.approveDeletion(did, makeDeletionApproval({ deletion: requested.details, approver_name: a.name, approved_at: w.clock.seconds }, a.signing));
    }
    await expectCode(w.agent.purgeServerShares(did), 'COOLING_OFF');
    w.clock.advance(7 * 24 * 3600 + 1);
    const e = await expectCode(w.agent.purgeServerShares(did), 'RECEIPTS_REQUIRED');
    expect(e.message).toMatch(/confirmed/);
    for (const [i, h] of held) await w.agent.confirmShareDelivery(receiptFor(w, backup, h, i));
    await expectCode(w.agent.purgeServerShares(did), 'DRILL_REQUIRED');
    const d = await approvedSession(w, { keyId: 'key-1', nodeId: 'node-0', mode: 'external-only', incidentId: 'DRILL-1' });
    await w.agent.submitExports(d.sessionId, await Promise.all([3, 4, 5].map((i) => exportFor(w, d.request, held.get(i)!, i))));
    await expectCode(w.agent.completeRecovery(d.sessionId, { drill: true, peerKeydata: fixture('ecdsa', 1) }), 'KEYDATA_INVALID');
    expect(w.agent.getBackupStatus('key-1', 'node-0').lastDrill).toMatchObject({ ok: false, mode: 'external-only' });
    await expectCode(w.agent.purgeServerShares(did), 'DRILL_REQUIRED'); // a failed drill is not enough
    w.clock.advance(1);
    await w.agent.completeRecovery(d.sessionId, { drill: true });
    expect(w.agent.getBackupStatus('key-1', 'node-0').lastDrill).toMatchObject({ ok: true, mode: 'external-only' });
    const purged = await w.agent.purgeServerShares(did);
    expect(purged.zeroRetention).toBe(true);
    expect(purged.shares.map((s) => [s.shareIndex, s.state])).toEqual([
      [1, 'deleted'],
      [2, 'deleted'],
    ]);
    expect(readdirSync(join(w.dir, 'backup', 'key-1', 'node-0', backup.setId))).toEqual([]);
    expect(w.agent.getBackupStatus('key-1', 'node-0')).toMatchObject({ serverSharesHeld: 0, zeroRetention: true, recoverable: true, externalOnlyRecoverable: true });
    const events = w.agent.auditEntries().map((x) => `${x.entry.event}/${x.entry.action}/${x.entry.result}`);
    expect(events).toContain('delete/soft-delete/ok');
    expect(events).toContain('rollback/restore/ok');
    expect(events).toContain('delete/hard-delete/ok');
    expect(events).toContain('delete/zero-retention/ok');
    w.agent.close();
  });
});

describe('agent basics', () => {
  it('init refuses an initialised directory; tokens are checked in constant time; recovery calls are rate limited', async () => {
    const dir = tempDir();
    const info = await Agent.init(dir);
    expect(info.code).toMatch(/^\d{4}( \d{4}){5}$/);
    await expectCode(Agent.init(dir), 'CONFLICT');
    const token = readFileSync(join(dir, 'api.token'), 'utf8');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const agent = await Agent.open(dir, { recoveryRateLimit: { burst: 2, perMinute: 1 } });
    // The one token check is the RPC server's (agent/rpc/auth.ts): SHA-256 digests compared in constant time.
    const check = createTokenCheck(token);
    expect(check(`Bearer ${token}`).ok).toBe(true);
    expect(check(`Bearer ${token}x`)).toEqual({ ok: false, reason: 'wrong' });
    expect(check(null)).toEqual({ ok: false, reason: 'missing' });
    const open = () => agent.openSession({ incidentId: 'INC-1', keyId: 'key-1', nodeId: 'node-0', mode: 'mixed' });
    await expectCode(open(), 'NOT_FOUND');
    await expectCode(open(), 'NOT_FOUND');
    await expectCode(open(), 'RATE_LIMITED');
    agent.close();
  });
});
