// Rotation (issue 5, "Rotation"; seeds SOP §4.5): a new backup set (new epoch) for a key and node
// gives new envelopes, a signed supersede notice for each custodian of the old set, and puts the
// old set's server shares into their cooling-off period. Shares of two sets are never mixed in a
// recovery: an export of the old set submitted into a session of the new set is refused with its
// reason, and nothing is written.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { fileHash } from '../../shared/crypto/hash';
import { sealTo } from '../../shared/crypto/seal';
import { toHex } from '../../shared/bytes';
import { custodianIdentityFingerprint, openRecoveryRequest, openSupersede, recoveryExportSchema, sealMessage } from '../../shared/protocol';
import { approvedSession, compactFixture, expectCode, exportFor, openAllEnvelopes, receiptFor, removeTempDirs, tempDir } from '../agent/helpers';
import { attest, backedUp, DAY, KEY, NODE, SEL, sharesOf, stored } from './helpers';

afterAll(removeTempDirs);

describe('rotation: a new backup set for a key and node', () => {
  it('gives new envelopes and one signed supersede notice per custodian of the old set; the old server shares cool off', async () => {
    const { w, backup } = await backedUp();
    w.clock.advance(3600);
    const out2 = tempDir('custos-out2-');
    const second = await w.agent.backup(KEY, NODE, {}, w.fingerprints.slice(0, 3), out2, { qr: false, operator: 'ops-rotate' });
    expect(second).toMatchObject({ epoch: 2, threshold: 3, total: 5, retainedIndexes: [1, 2] });
    expect(second.setId).not.toBe(backup.setId);
    expect(second.envelopes.map((e) => e.sha256)).not.toEqual(backup.envelopes.map((e) => e.sha256));
    expect(second.superseded).toMatchObject({ setId: backup.setId, epoch: 1, retainedSoftDeleted: [1, 2] });

    // Each custodian of the old set opens its own notice with the agent key it pinned.
    const notices = second.superseded!.notices;
    expect(notices.map((n) => n.shareIndex)).toEqual([3, 4, 5]);
    const manifest2 = readFileSync(second.manifestFile);
    for (const n of notices) {
      const c = w.custodians[w.fingerprints.indexOf(n.custodian)]!;
      const opened = openSupersede(new Uint8Array(readFileSync(n.file)), w.agent.publicKey, custodianIdentityFingerprint(c));
      expect(opened.body).toMatchObject({ key_id: KEY, node_id: NODE, old_epoch: 1, new_epoch: 2, created_at: w.clock.seconds, destroy_after: w.clock.seconds + 7 * DAY });
      expect(toHex(opened.body.old_set_id)).toBe(backup.setId);
      expect(toHex(opened.body.new_set_id)).toBe(second.setId);
      expect(opened.body.new_manifest_hash).toEqual(fileHash(new Uint8Array(manifest2)));
      // Addressed to that custodian only.
      const other = w.custodians.find((x) => x !== c)!;
      await expectCode(() => openSupersede(new Uint8Array(readFileSync(n.file)), w.agent.publicKey, custodianIdentityFingerprint(other)), 'WRONG_RECIPIENT');
    }

    // The old set's server shares are soft-deleted with the rotation, audited; the new set's are held.
    const shares = w.agent.listBackupShares(KEY, NODE);
    expect(shares.map((s) => [s.epoch, s.shareIndex, s.state, s.setState])).toEqual([
      [2, 1, 'held', 'active'],
      [2, 2, 'held', 'active'],
      [1, 1, 'soft-deleted', 'superseded'],
      [1, 2, 'soft-deleted', 'superseded'],
    ]);
    const trail = w.agent.auditEntries().map((r) => r.entry);
    expect(trail.filter((e) => e.action === 'supersede-notice').map((e) => [e.share_index, e.operator])).toEqual([
      [3, 'ops-rotate'],
      [4, 'ops-rotate'],
      [5, 'ops-rotate'],
    ]);
    expect(trail.filter((e) => e.event === 'delete' && e.action === 'soft-delete').map((e) => [e.set_id, e.share_index])).toEqual([
      [backup.setId, 1],
      [backup.setId, 2],
    ]);
    // Status and inventory follow the new set; the old one can still be rolled back meanwhile.
    expect(w.agent.getBackupStatus(KEY, NODE)).toMatchObject({ setId: second.setId, epoch: 2, serverSharesHeld: 2, externalConfirmed: 0 });
    expect((await w.agent.rollbackServerShares({ ...SEL, setId: backup.setId })).map((s) => s.state)).toEqual(['held', 'held']);
    w.agent.close();
  });

  it('refuses any mix of the two sets in a recovery, end to end, with the reason; nothing is written; the new set alone recovers', async () => {
    const { w, backup, held } = await backedUp();
    // An external-only session of the OLD set is opened first, and its custodians export for it.
    const oldSession = await approvedSession(w, { ...SEL, setId: backup.setId, mode: 'external-only', incidentId: 'INC-OLD' });
    const oldExports = await Promise.all([3, 4, 5].map((i) => exportFor(w, oldSession.request, held.get(i)!, i)));

    const out2 = tempDir('custos-out2-');
    const second = await w.agent.backup(KEY, NODE, {}, w.fingerprints.slice(0, 3), out2, { qr: false });
    const held2 = await openAllEnvelopes(w, second);
    for (const [i, h] of held2) await w.agent.confirmShareDelivery(receiptFor(w, second, h, i));
    const s = await approvedSession(w, { ...SEL, mode: 'external-only', incidentId: 'INC-NEW' });
    expect(w.agent.getSession(s.sessionId)).toMatchObject({ setId: second.setId, epoch: 2 });
    const before = stored(w);
    const auditBefore = w.agent.auditEntries({ limit: 100_000 }).length;

    // 1. The old set's exports, made for the old session, submitted into the new one: SESSION_MISMATCH.
    const replayed = await w.agent.submitExports(s.sessionId, oldExports);
    expect(replayed.accepted).toEqual([]);
    expect(replayed.refused.map((r) => [r.shareIndex, r.code])).toEqual([
      [3, 'SESSION_MISMATCH'],
      [4, 'SESSION_MISMATCH'],
      [5, 'SESSION_MISMATCH'],
    ]);
    expect(replayed.refused[0]!.message).toMatch(/made for another recovery session/);

    // 2. An old share bound to the new session but naming its own (old) set: SET_MISMATCH.
    const req = openRecoveryRequest(s.request, w.agent.publicKey, w.clock.seconds);
    const relabelled = async (index: number, setId: Uint8Array, epoch: number): Promise<Uint8Array> => {
      const h = held.get(index)!;
      return sealMessage(
        'recovery-export',
        recoveryExportSchema,
        {
          session_id: req.session.session_id,
          request_hash: req.hash,
          key_id: KEY,
          node_id: NODE,
          set_id: setId,
          epoch,
          share_index: index,
          payload: await sealTo(req.request.body.recipient, h.share),
          created_at: w.clock.seconds,
        },
        h.custodian.signing,
      );
    };
    const oldSetLabel = await relabelled(4, held.get(4)!.setId, 1);
    // 3. An old share passed off as a share of the new set: its commitment does not match.
    const newSetLabel = await relabelled(5, req.manifest.body.set_id, 2);
    const mixed = await w.agent.submitExports(s.sessionId, [oldSetLabel, newSetLabel]);
    expect(mixed.accepted).toEqual([]);
    expect(mixed.refused.map((r) => [r.shareIndex, r.code])).toEqual([
      [4, 'SET_MISMATCH'],
      [5, 'SHARE_COMMITMENT_MISMATCH'],
    ]);
    expect(mixed.refused[0]!.message).toMatch(/another key, node or backup set/);

    // Nothing was written and nothing entered the session; every refusal is in the audit log.
    expect(stored(w)).toEqual(before);
    expect(w.agent.getSession(s.sessionId)).toMatchObject({ received: [], missing: [3, 4, 5], state: 'collecting' });
    const refusals = w.agent
      .auditEntries({ fromSeq: auditBefore })
      .map((r) => r.entry)
      .filter((e) => e.action === 'export-submit');
    expect(refusals.map((e) => [e.result, e.reason?.split(':')[0]])).toEqual([
      ['refused', 'SESSION_MISMATCH'],
      ['refused', 'SESSION_MISMATCH'],
      ['refused', 'SESSION_MISMATCH'],
      ['refused', 'SET_MISMATCH'],
      ['refused', 'SHARE_COMMITMENT_MISMATCH'],
    ]);
    // Completing now is below threshold, and still writes nothing.
    await expectCode(w.agent.completeRecovery(s.sessionId), 'BELOW_THRESHOLD');
    expect(stored(w)).toEqual(before);

    // The new set's own shares recover the node byte for byte.
    const good = await w.agent.submitExports(s.sessionId, await Promise.all([3, 4, 5].map((i) => exportFor(w, s.request, held2.get(i)!, i))));
    expect(good.accepted).toEqual([3, 4, 5]);
    const outcome = await w.agent.completeRecovery(s.sessionId);
    expect(outcome).toMatchObject({ success: true, sharesUsed: { server: 0, external: 3 }, keydataSha256: toHex(fileHash(compactFixture('eddsa', 0))) });
    expect(await w.agent.exportKeydata(KEY, NODE)).toEqual(compactFixture('eddsa', 0));
    w.agent.close();
  });

  it('inventory after a rotation asks only for the new set; an attestation for the old set proves nothing', async () => {
    const { w, held } = await backedUp();
    const out2 = tempDir('custos-out2-');
    const second = await w.agent.backup(KEY, NODE, {}, w.fingerprints.slice(0, 3), out2, { qr: false });
    const held2 = await openAllEnvelopes(w, second);
    for (const [i, h] of held2) {
      await w.agent.requestShareDelivery({ ...SEL, shareIndex: i });
      await w.agent.confirmShareDelivery(receiptFor(w, second, h, i));
    }
    const c = await w.agent.issueInventoryChallenge(w.fingerprints[0]!);
    expect(c.items).toEqual([{ keyId: KEY, nodeId: NODE, setId: second.setId, epoch: 2, shareIndex: 3 }]);
    // The custodian proves with the OLD share (it kept the superseded one): a bad proof.
    const oldShare = held.get(3)!.share;
    const r = await w.agent.submitInventoryAttestation(attest(w, c.challenge, w.custodians[0]!, sharesOf(held2, 0, w, KEY, NODE, 2), { forge: oldShare }));
    expect(r).toMatchObject({ proven: 0, badProof: 1 });
    expect(w.agent.inventoryStatus(KEY, NODE).shares.find((x) => x.shareIndex === 3)).toMatchObject({ lastResult: 'bad-proof', attested: false });
    w.agent.close();
  });
});
