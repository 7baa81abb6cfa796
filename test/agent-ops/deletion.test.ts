// Deletion of the agent's retained shares (issue 5, "Deletion, cooling and zero retention"; seeds
// SOP §6): soft delete → cooling-off period → hard delete with two distinct registered approvers'
// signed approvals, rollback meanwhile, and zero retention only after a passed external-only drill
// of that same backup set. A controllable clock drives the cooling-off period.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backupStatus as backupStatusReply } from '../../agent/rpc/convert';
import { createApproverIdentity, makeApproval } from '../../shared/protocol';
import { approvedSession, expectCode, exportFor, openAllEnvelopes, receiptFor, removeTempDirs, tempDir, T0 } from '../agent/helpers';
import { approveDeletion, auditTrail, backedUp, DAY, KEY, NODE, SEL, stored } from './helpers';
import { rosterApprovals } from '../registry/helpers';

afterAll(removeTempDirs);

const retainedDir = (dir: string, setId: string): string => join(dir, 'backup', KEY, NODE, setId);

describe('soft delete, cooling-off period and rollback', () => {
  it('soft-deleted shares leave recovery, roll back during the cooling-off period, and the open deletion is cancelled; every step audited with who and when', async () => {
    const { w, backup } = await backedUp();
    w.clock.advance(60);
    const soft = await w.agent.softDeleteServerShares(SEL, { operator: 'ops-alice' });
    expect(soft.map((s) => [s.shareIndex, s.state, s.softDeletedAt])).toEqual([
      [1, 'soft-deleted', w.clock.seconds],
      [2, 'soft-deleted', w.clock.seconds],
    ]);
    expect(w.agent.getBackupStatus(KEY, NODE)).toMatchObject({ serverSharesHeld: 0, serverSharesSoftDeleted: 2, zeroRetention: false });
    await expectCode(w.agent.openSession({ incidentId: 'INC-1', ...SEL, mode: 'mixed' }), 'FAILED_PRECONDITION');

    const { deletion } = await w.agent.requestDeletion(SEL, { operator: 'ops-alice' });
    expect(deletion).toMatchObject({ state: 'awaiting-approvals', purpose: 'zero-retention', shareIndexes: [1, 2], coolingEndsAt: w.clock.seconds + 7 * DAY, operator: 'ops-alice' });
    expect(deletion.blockers.map((b) => b.code)).toEqual(['COOLING_OFF', 'APPROVAL_REQUIRED', 'DRILL_REQUIRED']);

    // Six days later, still cooling off: roll share 2 back. The deletion that named it ends.
    w.clock.advance(6 * DAY);
    const back = await w.agent.rollbackServerShares({ ...SEL, indexes: [2] }, { operator: 'ops-bob' });
    expect(back.map((s) => [s.shareIndex, s.state])).toEqual([[2, 'held']]);
    expect(w.agent.getDeletion(deletion.deletionId)).toMatchObject({ state: 'cancelled', blockers: [] });
    expect(w.agent.getBackupStatus(KEY, NODE)).toMatchObject({ serverSharesHeld: 1, serverSharesSoftDeleted: 1 });
    expect(existsSync(join(retainedDir(w.dir, backup.setId), '2.enc'))).toBe(true);
    // A mixed session can use the restored share again.
    const s = await w.agent.openSession({ incidentId: 'INC-2', ...SEL, mode: 'mixed' });
    expect(s.session.serverAvailable).toEqual([2]);
    await w.agent.cancelSession(s.session.sessionId);

    // Nothing to roll back twice; only soft-deleted shares roll back.
    await expectCode(w.agent.rollbackServerShares({ ...SEL, indexes: [2] }), 'FAILED_PRECONDITION');

    const trail = auditTrail(w);
    const softEntries = trail.filter((e) => e.event === 'delete' && e.action === 'soft-delete' && e.result === 'ok');
    expect(softEntries.map((e) => [e.share_index, e.operator, e.ts])).toEqual([
      [1, 'ops-alice', T0 + 60_000],
      [2, 'ops-alice', T0 + 60_000],
    ]);
    expect(trail.find((e) => e.action === 'deletion-request')).toMatchObject({ event: 'delete', result: 'ok', operator: 'ops-alice', ts: T0 + 60_000 });
    expect(trail.find((e) => e.event === 'rollback' && e.action === 'restore')).toMatchObject({ result: 'ok', share_index: 2, operator: 'ops-bob', ts: T0 + 60_000 + 6 * DAY * 1000 });
    expect(trail.find((e) => e.event === 'rollback' && e.action === 'deletion-cancel')).toMatchObject({ result: 'ok', operator: 'ops-bob' });
    expect(w.agent.verifyAudit().ok).toBe(true);
    w.agent.close();
  });

  it('the cooling-off period is a setting: changed with an audit entry, bound into the signed details, never shortened for a deletion already asked', async () => {
    const { w } = await backedUp();
    expect(w.agent.getSettings()).toEqual({ deletionCoolingSeconds: 7 * DAY, inventoryMaxAgeSeconds: 90 * DAY, inventoryChallengeTtlSeconds: 7 * DAY });
    await expectCode(w.agent.updateSettings({ deletionCoolingSeconds: 60 }), 'INVALID_PARAMETERS');
    await w.agent.softDeleteServerShares({ ...SEL, indexes: [1] });
    const long = await w.agent.requestDeletion(SEL);
    expect(long.details.cooling_ends_at).toBe(w.clock.seconds + 7 * DAY);
    const changed = await w.agent.updateSettings({ deletionCoolingSeconds: 2 * DAY }, { operator: 'sec-carol' });
    expect(changed.deletionCoolingSeconds).toBe(2 * DAY);
    expect(auditTrail(w).filter((e) => e.event === 'configure').map((e) => [e.result, e.operator])).toEqual([
      ['refused', 'tester'],
      ['ok', 'sec-carol'],
    ]);
    // The deletion asked before the change keeps the 7 days its approvers will sign.
    for (const a of w.approvers.slice(0, 2)) await w.agent.approveDeletion(long.deletion.deletionId, approveDeletion(long.details, a, w.clock.seconds));
    w.clock.advance(3 * DAY);
    await expectCode(w.agent.purgeServerShares(long.deletion.deletionId), 'COOLING_OFF');
    // A new soft delete cools off for the new period.
    await w.agent.cancelDeletion(long.deletion.deletionId);
    await w.agent.softDeleteServerShares({ ...SEL, indexes: [2] });
    const short = await w.agent.requestDeletion({ ...SEL, indexes: [2] });
    expect(short.details).toMatchObject({ cooling_ends_at: w.clock.seconds + 2 * DAY, purpose: 'reduce-retention', share_indexes: [2] });
    w.agent.close();
  });
});

describe('hard delete needs the cooling-off period and two distinct registered approvers', () => {
  it('is refused before the cooling-off period ends, with one approval, with the same approver twice, and with approvals that are not valid; nothing is destroyed', async () => {
    const { w, backup, held } = await backedUp();
    await w.agent.softDeleteServerShares(SEL);
    const { deletion, details } = await w.agent.requestDeletion(SEL);
    const did = deletion.deletionId;
    const [alice, bob] = w.approvers;
    const before = stored(w);

    // Passed drill and every receipt: only cooling-off and approvals stand in the way.
    const drill = await approvedSession(w, { ...SEL, mode: 'external-only', incidentId: 'DRILL-2026-Q3' });
    await w.agent.submitExports(drill.sessionId, await Promise.all([3, 4, 5].map((i) => exportFor(w, drill.request, held.get(i)!, i))));
    await w.agent.completeRecovery(drill.sessionId, { drill: true });

    // Before the cooling-off period ends, even fully approved: COOLING_OFF.
    await w.agent.approveDeletion(did, approveDeletion(details, alice!, w.clock.seconds));
    const same = await expectCode(w.agent.approveDeletion(did, approveDeletion(details, alice!, w.clock.seconds + 5)), 'DUPLICATE_APPROVER');
    expect(same.message).toMatch(/Alice \(security\) has approved this deletion already/);
    w.clock.advance(30);
    await w.agent.approveDeletion(did, approveDeletion(details, bob!, w.clock.seconds));
    expect(w.agent.getDeletion(did)).toMatchObject({ state: 'approved', approvals: [{ name: 'Alice (security)' }, { name: 'Bob (business owner)' }] });
    w.clock.advance(7 * DAY - 90);
    const cooling = await expectCode(w.agent.purgeServerShares(did), 'COOLING_OFF');
    expect(cooling.message).toMatch(/cooling-off period until .* can still be rolled back/);
    expect(stored(w)).toEqual(before);

    // After it, with Bob's approval withdrawn (approver disabled): one approval is not enough.
    w.clock.advance(120);
    await w.agent.disableApprover(w.agent.listApprovers().find((a) => a.name === bob!.name)!.fingerprint, {}, rosterApprovals(w.agent, [alice!, w.approvers[2]!], 'disable', bob!, w.clock.seconds));
    const one = await expectCode(w.agent.purgeServerShares(did), 'APPROVAL_REQUIRED');
    expect(one.details).toMatchObject({ have: 1, need: 2 });
    // Approvals that do not count: an unregistered key, other details, a recovery approval, a name typed in.
    await expectCode(w.agent.approveDeletion(did, approveDeletion(details, createApproverIdentity('Mallory'), w.clock.seconds)), 'UNTRUSTED_SIGNER');
    const carol = w.approvers[2]!;
    await expectCode(w.agent.approveDeletion(did, approveDeletion({ ...details, share_indexes: [1] }, carol, w.clock.seconds)), 'SESSION_MISMATCH');
    await expectCode(w.agent.approveDeletion(did, approveDeletion({ ...details, purpose: 'superseded-set' }, carol, w.clock.seconds)), 'SESSION_MISMATCH');
    await expectCode(w.agent.approveDeletion(did, makeApproval({ session: drill.details, approver_name: carol.name, approved_at: w.clock.seconds }, carol.signing)), 'WRONG_TYPE');
    await expectCode(w.agent.approveDeletion(did, new TextEncoder().encode('approved -- Carol')), 'MALFORMED');
    await expectCode(w.agent.purgeServerShares(did), 'APPROVAL_REQUIRED');
    expect(stored(w)).toEqual(before);
    expect(readdirSync(retainedDir(w.dir, backup.setId)).sort()).toEqual(['1.enc', '2.enc']);

    // A second, different approver: the hard delete runs, audited with the operator and both approvers.
    await w.agent.approveDeletion(did, approveDeletion(details, carol, w.clock.seconds), { operator: 'ops-dave' });
    const purged = await w.agent.purgeServerShares(did, { operator: 'ops-dave' });
    expect(purged.shares.map((s) => [s.shareIndex, s.state, s.deletedAt])).toEqual([
      [1, 'deleted', w.clock.seconds],
      [2, 'deleted', w.clock.seconds],
    ]);
    expect(purged.deletion).toMatchObject({ state: 'completed', blockers: [] });
    expect(readdirSync(retainedDir(w.dir, backup.setId))).toEqual([]);
    const hard = auditTrail(w).filter((e) => e.action === 'hard-delete');
    expect(hard.filter((e) => e.result === 'refused').map((e) => e.reason?.split(':')[0])).toEqual(['COOLING_OFF', 'APPROVAL_REQUIRED', 'APPROVAL_REQUIRED']);
    const done = hard.filter((e) => e.result === 'ok');
    expect(done.map((e) => e.share_index)).toEqual([1, 2]);
    for (const e of done) {
      expect(e.operator).toBe('ops-dave');
      expect(e.ts).toBe(w.clock.t);
      expect(e.approver).toMatch(/^Alice \(security\) \([0-9a-f]{64}\); Carol \(compliance\) \([0-9a-f]{64}\)$/);
    }
    // A completed deletion cannot run again.
    await expectCode(w.agent.purgeServerShares(did), 'FAILED_PRECONDITION');
    w.agent.close();
  });

  it('a deletion whose approvals ran out is EXPIRED; shares that are not soft-deleted cannot be asked for', async () => {
    const { w } = await backedUp();
    await expectCode(w.agent.requestDeletion(SEL), 'FAILED_PRECONDITION');
    await w.agent.softDeleteServerShares({ ...SEL, indexes: [1] });
    await expectCode(w.agent.requestDeletion({ ...SEL, indexes: [2] }), 'FAILED_PRECONDITION');
    const r = await w.agent.requestDeletion({ ...SEL, indexes: [1] }, { ttlSeconds: 3600 });
    expect(r.details.not_after).toBe(r.details.cooling_ends_at + 3600);
    await expectCode(w.agent.requestDeletion({ ...SEL, indexes: [1] }), 'CONFLICT');
    w.clock.advance(7 * DAY + 3601);
    await expectCode(w.agent.approveDeletion(r.deletion.deletionId, approveDeletion(r.details, w.approvers[0]!, w.clock.seconds)), 'EXPIRED');
    await expectCode(w.agent.purgeServerShares(r.deletion.deletionId), 'EXPIRED');
    expect(w.agent.getDeletion(r.deletion.deletionId).state).toBe('expired');
    w.agent.close();
  });
});

describe('zero retention', () => {
  it('is refused before an external-only drill of that same set passed (a drill of another set or one recorded by hand does not count), and allowed after', async () => {
    const { w, backup, held } = await backedUp();
    // An external-only drill of the FIRST set...
    const old = await approvedSession(w, { ...SEL, mode: 'external-only', incidentId: 'DRILL-OLD' });
    await w.agent.submitExports(old.sessionId, await Promise.all([3, 4, 5].map((i) => exportFor(w, old.request, held.get(i)!, i))));
    await w.agent.completeRecovery(old.sessionId, { drill: true });
    // ...then a rotation: the set whose shares go is a new one.
    const out2 = tempDir('custos-out2-');
    const second = await w.agent.backup(KEY, NODE, {}, w.fingerprints.slice(0, 3), out2, { qr: false });
    expect(second.superseded?.retainedSoftDeleted).toEqual([1, 2]);
    const held2 = await openAllEnvelopes(w, second);
    for (const [i, h] of held2) await w.agent.confirmShareDelivery(receiptFor(w, second, h, i));
    await w.agent.recordDrill({ ...SEL, mode: 'external-only', ok: true, durationMs: 1200, setId: second.setId, note: 'claimed by hand' });

    await w.agent.softDeleteServerShares(SEL);
    const { deletion, details } = await w.agent.requestDeletion(SEL);
    expect(details.purpose).toBe('zero-retention'); // of the current set (the old set's shares are still on the server)
    for (const a of w.approvers.slice(0, 2)) await w.agent.approveDeletion(deletion.deletionId, approveDeletion(details, a, w.clock.seconds));
    w.clock.advance(7 * DAY + 1);
    const before = stored(w);
    const refused = await expectCode(w.agent.purgeServerShares(deletion.deletionId), 'DRILL_REQUIRED');
    expect(refused.message).toMatch(/external-only recovery drill of this same backup set \(epoch 2\)/);
    expect(refused.details).toMatchObject({ setId: second.setId });
    expect(stored(w)).toEqual(before);
    expect(w.agent.getBackupStatus(KEY, NODE)).toMatchObject({ zeroRetention: false, serverSharesHeld: 0, serverSharesSoftDeleted: 2 });

    // A failed drill of the new set is not enough either.
    const d = await approvedSession(w, { ...SEL, mode: 'external-only', incidentId: 'DRILL-NEW' });
    await w.agent.submitExports(d.sessionId, await Promise.all([3, 4].map((i) => exportFor(w, d.request, held2.get(i)!, i))));
    await expectCode(w.agent.completeRecovery(d.sessionId, { drill: true }), 'BELOW_THRESHOLD');
    await expectCode(w.agent.purgeServerShares(deletion.deletionId), 'DRILL_REQUIRED');
    await w.agent.submitExports(d.sessionId, [await exportFor(w, d.request, held2.get(5)!, 5)]);
    await w.agent.completeRecovery(d.sessionId, { drill: true });

    const purged = await w.agent.purgeServerShares(deletion.deletionId);
    // The old set's shares are still soft-deleted on the server: not zero retention yet.
    expect(purged.zeroRetention).toBe(false);
    expect(w.agent.getBackupStatus(KEY, NODE)).toMatchObject({ serverSharesHeld: 0, serverSharesSoftDeleted: 0, zeroRetention: false });

    // The superseded set's shares need the cooling-off period and two approvals, but no drill.
    const oldDeletion = await w.agent.requestDeletion({ ...SEL, setId: backup.setId });
    expect(oldDeletion.details.purpose).toBe('superseded-set');
    expect(oldDeletion.deletion.blockers.map((b) => b.code)).toEqual(['APPROVAL_REQUIRED']);
    for (const a of w.approvers.slice(1, 3)) await w.agent.approveDeletion(oldDeletion.deletion.deletionId, approveDeletion(oldDeletion.details, a, w.clock.seconds));
    const last = await w.agent.purgeServerShares(oldDeletion.deletion.deletionId);
    expect(last.zeroRetention).toBe(true);
    expect(w.agent.getBackupStatus(KEY, NODE)).toMatchObject({
      setId: second.setId,
      serverSharesHeld: 0,
      serverSharesSoftDeleted: 0,
      zeroRetention: true,
      zeroRetentionSince: w.clock.seconds,
      externalOnlyRecoverable: true,
      recoverable: true,
    });
    expect(w.agent.listBackupShares(KEY, NODE).every((s) => s.state === 'deleted')).toBe(true);
    expect(auditTrail(w).filter((e) => e.action === 'zero-retention')).toHaveLength(1);
    // With nothing left on the server, a mixed session is refused; external-only still works.
    await expectCode(w.agent.openSession({ incidentId: 'INC-9', ...SEL, mode: 'mixed' }), 'FAILED_PRECONDITION');
    w.agent.close();
  });

  it('allowed right after a passed external-only drill of the same set, and the RPC status shows the server holds none', async () => {
    const { w, backup, held } = await backedUp();
    await w.agent.softDeleteServerShares(SEL);
    const { deletion, details } = await w.agent.requestDeletion(SEL);
    for (const a of w.approvers.slice(0, 2)) await w.agent.approveDeletion(deletion.deletionId, approveDeletion(details, a, w.clock.seconds));
    const d = await approvedSession(w, { ...SEL, mode: 'external-only', incidentId: 'DRILL-1' });
    await w.agent.submitExports(d.sessionId, await Promise.all([3, 4, 5].map((i) => exportFor(w, d.request, held.get(i)!, i))));
    await w.agent.completeRecovery(d.sessionId, { drill: true });
    w.clock.advance(7 * DAY);
    expect(w.agent.getDeletion(deletion.deletionId).blockers).toEqual([]);
    const purged = await w.agent.purgeServerShares(deletion.deletionId);
    expect(purged).toMatchObject({ zeroRetention: true, deletion: { purpose: 'zero-retention', state: 'completed' } });
    expect(readdirSync(retainedDir(w.dir, backup.setId))).toEqual([]);
    const status = w.agent.getBackupStatus(KEY, NODE);
    expect(status).toMatchObject({ serverSharesHeld: 0, zeroRetention: true, recoverable: true, externalOnlyRecoverable: true });
    // What GetBackupStatus sends (the RPC conversion of the same status).
    expect(backupStatusReply(status)).toMatchObject({ serverSharesHeld: 0, zeroRetention: true, serverSharesSoftDeleted: 0, zeroRetentionSince: { seconds: BigInt(w.clock.seconds) } });
    w.agent.close();
  });
});
