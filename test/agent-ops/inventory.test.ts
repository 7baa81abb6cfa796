// Inventory (issue 5, "Inventory"; seeds SOP §4.3 盘点 and §9): the agent issues signed challenges
// per custodian, takes their attestations (possession proofs checked against the manifests'
// possession keys) and tracks, per key and node, shares held, delivered, confirmed and attested, a
// recoverable flag and overdue custodians. Three custodians: one answers with valid proofs, one
// with a bad proof, one does not answer. A controllable clock drives expiry and the maximum age.
import { afterAll, describe, expect, it } from 'vitest';
import { AgentMetrics } from '../../agent/metrics';
import { fileHash } from '../../shared/crypto/hash';
import { provePossession } from '../../shared/crypto/possession';
import { makeAttestation, openChallenge, custodianIdentityFingerprint } from '../../shared/protocol';
import { expectCode, removeTempDirs } from '../agent/helpers';
import { attest, backedUp, DAY, KEY, NODE, SEL, sharesOf, stored } from './helpers';

afterAll(removeTempDirs);

/** Prometheus exposition text → "name{labels}" → value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

describe('inventory: challenges, attestations, overdue custodians', () => {
  it('one custodian proves possession, one sends a bad proof, one does not answer: verdicts, attested shares, recoverable flag, overdue custodians, metrics', async () => {
    const { w, held } = await backedUp();
    const [good, bad, silent] = [w.fingerprints[0]!, w.fingerprints[1]!, w.fingerprints[2]!];
    const label = (fp: string): string => w.agent.listCustodians().find((c) => c.fingerprint === fp)!.label;

    // Before any inventory: nothing attested, nobody overdue yet (deliveries are fresh).
    expect(w.agent.inventoryStatus(KEY, NODE)).toMatchObject({ serverSharesHeld: 2, externalDelivered: 3, externalConfirmed: 3, externalAttested: 0, recoverable: false, overdueCustodians: [] });

    const challenges = new Map<string, Awaited<ReturnType<typeof w.agent.issueInventoryChallenge>>>();
    for (const fp of [good, bad, silent]) challenges.set(fp, await w.agent.issueInventoryChallenge(fp, { operator: 'ops-inventory' }));
    const cg = challenges.get(good)!;
    expect(cg).toMatchObject({ custodian: good, createdAt: w.clock.seconds, notAfter: w.clock.seconds + 7 * DAY });
    expect(cg.items).toEqual([{ keyId: KEY, nodeId: NODE, setId: w.agent.getBackupStatus(KEY, NODE).setId, epoch: 1, shareIndex: 3 }]);
    // The custodian checks the challenge with the agent key it pinned.
    expect(() => openChallenge(cg.challenge, w.agent.publicKey, custodianIdentityFingerprint(w.custodians[0]!), w.clock.seconds)).not.toThrow();

    w.clock.advance(3600);
    const ok = await w.agent.submitInventoryAttestation(attest(w, cg.challenge, w.custodians[0]!, sharesOf(held, 0, w)));
    expect(ok).toMatchObject({ custodian: good, proven: 1, missing: 0, badProof: 0, notAnswered: 0, answeredAt: w.clock.seconds });
    // The second custodian signs a proof made with something other than its share.
    const forged = await w.agent.submitInventoryAttestation(attest(w, challenges.get(bad)!.challenge, w.custodians[1]!, sharesOf(held, 1, w), { forge: held.get(3)!.share }));
    expect(forged).toMatchObject({ custodian: bad, proven: 0, badProof: 1 });
    expect(forged.items).toMatchObject([{ shareIndex: 4, result: 'bad-proof' }]);

    let inv = w.agent.inventoryStatus(KEY, NODE);
    expect(inv).toMatchObject({ externalAttested: 1, externalFailed: 1, recoverable: true, overdueCustodians: [] });
    expect(inv.shares.map((s) => [s.shareIndex, s.label, s.delivery, s.lastResult ?? null, s.attested])).toEqual([
      [3, label(good), 'confirmed', 'proven', true],
      [4, label(bad), 'confirmed', 'bad-proof', false],
      [5, label(silent), 'confirmed', null, false],
    ]);
    expect(inv.shares[0]!.lastProvenAt).toBe(w.clock.seconds);

    // The silent custodian's challenge expires unanswered: overdue. An answer that reaches the agent
    // only after that (made on day 6, delivered on day 8) is refused and changes nothing.
    w.clock.advance(5 * DAY);
    const late = attest(w, challenges.get(silent)!.challenge, w.custodians[2]!, sharesOf(held, 2, w), {});
    w.clock.advance(2 * DAY);
    inv = w.agent.inventoryStatus(KEY, NODE);
    expect(inv.overdueCustodians).toEqual([
      { custodian: silent, label: label(silent), reason: 'challenge-unanswered', since: challenges.get(silent)!.notAfter, shareIndexes: [5], challengeId: challenges.get(silent)!.challengeId },
    ]);
    const before = stored(w);
    const expired = await expectCode(w.agent.submitInventoryAttestation(late), 'EXPIRED');
    expect(expired.message).toMatch(/overdue/);
    expect(stored(w)).toEqual(before);
    expect(w.agent.inventoryStatus(KEY, NODE).shares[2]).toMatchObject({ attested: false, overdue: 'challenge-unanswered' });

    const status = w.agent.getBackupStatus(KEY, NODE);
    expect(status.inventory).toEqual({ externalAttested: 1, externalFailed: 1, recoverable: true, overdueCustodians: [silent], lastAttestedAt: ok.answeredAt });
    const custodians = w.agent.inventoryCustodians();
    const byLabel = [...custodians].sort((a, b) => a.label.localeCompare(b.label));
    expect(byLabel.map((c) => [c.label, c.sharesExpected, c.sharesAttested, c.lastChallenge?.state, c.overdue ?? null])).toEqual([
      [label(good), 1, 1, 'answered', null],
      [label(bad), 1, 0, 'answered', null],
      [label(silent), 1, 0, 'expired', 'challenge-unanswered'],
    ]);

    const metrics = new AgentMetrics(w.agent, { defaultMetrics: false });
    const m = samples(await metrics.render());
    const l = `{key_id="${KEY}",node_id="${NODE}"}`;
    expect(m.get(`custos_inventory_external_attested${l}`)).toBe(1);
    expect(m.get(`custos_inventory_external_failed${l}`)).toBe(1);
    expect(m.get(`custos_inventory_recoverable${l}`)).toBe(1);
    expect(m.get(`custos_inventory_overdue_custodians${l}`)).toBe(1);
    expect(m.get(`custos_inventory_oldest_proof_timestamp_seconds${l}`)).toBe(0);
    expect(m.get('custos_inventory_custodians_overdue{reason="challenge-unanswered"}')).toBe(1);
    expect(m.get('custos_inventory_last_challenges{state="expired"}')).toBe(1);
    expect(m.get('custos_inventory_last_challenges{state="answered"}')).toBe(2);
    expect(m.get(`custos_backup_zero_retention${l}`)).toBe(0);

    // 90 days after the good custodian's proof, it is stale too: overdue, and the flag drops.
    w.clock.advance(83 * DAY + 1);
    inv = w.agent.inventoryStatus(KEY, NODE);
    expect(inv).toMatchObject({ externalAttested: 0, recoverable: false });
    expect(inv.overdueCustodians.map((o) => [o.custodian, o.reason])).toEqual([
      [good, 'attestation-stale'],
      [bad, 'attestation-stale'],
      [silent, 'challenge-unanswered'],
    ]);
    expect(inv.overdueCustodians[0]!.since).toBe(ok.answeredAt + 90 * DAY);
    const m2 = samples(await metrics.render());
    expect(m2.get(`custos_inventory_recoverable${l}`)).toBe(0);
    expect(m2.get(`custos_inventory_overdue_custodians${l}`)).toBe(3);

    // A fresh round brings the good custodian back.
    const again = await w.agent.issueInventoryChallenge(good);
    await w.agent.submitInventoryAttestation(attest(w, again.challenge, w.custodians[0]!, sharesOf(held, 0, w)));
    expect(w.agent.inventoryStatus(KEY, NODE)).toMatchObject({ externalAttested: 1, recoverable: true });

    const trail = w.agent.auditEntries({ limit: 100_000 }).map((r) => r.entry);
    expect(trail.filter((e) => e.action === 'inventory-challenge' && e.result === 'ok').map((e) => e.operator).slice(0, 3)).toEqual(['ops-inventory', 'ops-inventory', 'ops-inventory']);
    expect(trail.filter((e) => e.action === 'inventory-attestation').map((e) => e.result)).toEqual(['ok', 'failed', 'refused', 'ok']);
    expect(trail.find((e) => e.action === 'inventory-item')).toMatchObject({ result: 'failed', share_index: 4, reason: expect.stringMatching(/^SIGNATURE_INVALID: /) as unknown });
    expect(w.agent.verifyAudit().ok).toBe(true);
    w.agent.close();
  });

  it('refuses attestations that are tampered with, signed by another custodian, for an unknown challenge, or answered twice; a share reported missing is recorded', async () => {
    const { w, held } = await backedUp();
    const c = await w.agent.issueInventoryChallenge(w.fingerprints[0]!);
    const good = attest(w, c.challenge, w.custodians[0]!, sharesOf(held, 0, w));

    const tampered = Uint8Array.from(good);
    tampered[tampered.length - 40]! ^= 1; // inside the signature
    await expectCode(w.agent.submitInventoryAttestation(tampered), 'SIGNATURE_INVALID');
    // Another registered custodian answers this custodian's challenge.
    const opened = openChallenge(c.challenge, w.agent.publicKey, custodianIdentityFingerprint(w.custodians[0]!), w.clock.seconds);
    const hash = fileHash(opened.bytes);
    const item = opened.body.items[0]!;
    const byOther = makeAttestation(
      {
        challenge_id: opened.body.challenge_id,
        challenge_hash: hash,
        items: [{ ...item, status: 'held', proof: provePossession(hash, { setId: item.set_id, epoch: item.epoch }, item.share_index, held.get(3)!.share) }],
        answered_at: w.clock.seconds,
      },
      w.custodians[1]!.signing,
    );
    await expectCode(w.agent.submitInventoryAttestation(byOther), 'UNTRUSTED_SIGNER');
    // An answer to a challenge this agent never issued.
    const foreign = makeAttestation({ challenge_id: new Uint8Array(16).fill(7), challenge_hash: hash, items: [{ ...item, status: 'missing' }], answered_at: w.clock.seconds }, w.custodians[0]!.signing);
    await expectCode(w.agent.submitInventoryAttestation(foreign), 'NOT_FOUND');
    // The right challenge id over another challenge's hash.
    const wrongHash = makeAttestation({ challenge_id: opened.body.challenge_id, challenge_hash: new Uint8Array(32), items: [{ ...item, status: 'missing' }], answered_at: w.clock.seconds }, w.custodians[0]!.signing);
    await expectCode(w.agent.submitInventoryAttestation(wrongHash), 'SESSION_MISMATCH');
    await expectCode(w.agent.submitInventoryAttestation(new TextEncoder().encode('all good')), 'MALFORMED');
    expect(w.agent.inventoryStatus(KEY, NODE).shares[0]).toMatchObject({ attested: false });
    expect(w.agent.inventoryStatus(KEY, NODE).shares[0]!.lastResult).toBeUndefined();

    const first = await w.agent.submitInventoryAttestation(good);
    expect(first.proven).toBe(1);
    // The same file again is idempotent; a different answer to an answered challenge is a CONFLICT.
    expect(await w.agent.submitInventoryAttestation(good)).toEqual(first);
    await expectCode(w.agent.submitInventoryAttestation(attest(w, c.challenge, w.custodians[0]!, sharesOf(held, 0, w), { missing: true })), 'CONFLICT');

    // The second custodian reports its share missing: recorded, the share counts as failed.
    const c2 = await w.agent.issueInventoryChallenge(w.fingerprints[1]!);
    const r2 = await w.agent.submitInventoryAttestation(attest(w, c2.challenge, w.custodians[1]!, sharesOf(held, 1, w), { missing: true }));
    expect(r2).toMatchObject({ missing: 1, proven: 0 });
    expect(w.agent.inventoryStatus(KEY, NODE)).toMatchObject({ externalAttested: 1, externalFailed: 1 });

    // Nothing to challenge for a custodian without delivered shares; a disabled custodian is not challenged.
    await w.agent.disableCustodian(w.fingerprints[2]!);
    await expectCode(w.agent.issueInventoryChallenge(w.fingerprints[2]!), 'FAILED_PRECONDITION');
    await expectCode(w.agent.issueInventoryChallenge('ab'.repeat(32)), 'NOT_FOUND');
    await expectCode(w.agent.issueInventoryChallenge(w.fingerprints[0]!, { ttlSeconds: 10 }), 'INVALID_PARAMETERS');
    w.agent.close();
  });

  it('a custodian whose share was delivered long ago and never proven is overdue once the maximum age (a setting) has passed', async () => {
    const { w } = await backedUp();
    await w.agent.updateSettings({ inventoryMaxAgeSeconds: 30 * DAY });
    w.clock.advance(30 * DAY + 1);
    const inv = w.agent.inventoryStatus(KEY, NODE);
    expect(inv.maxAgeSeconds).toBe(30 * DAY);
    expect(inv.overdueCustodians.map((o) => o.reason)).toEqual(['attestation-stale', 'attestation-stale', 'attestation-stale']);
    expect(w.agent.getBackupStatus(KEY, NODE).inventory?.overdueCustodians).toHaveLength(3);
    // Shares never delivered are not the custodian's to prove.
    const fresh = await backedUp({ confirm: false });
    fresh.w.clock.advance(365 * DAY);
    expect(fresh.w.agent.inventoryStatus(KEY, NODE)).toMatchObject({ externalDelivered: 0, overdueCustodians: [] });
    await expectCode(fresh.w.agent.issueInventoryChallenge(fresh.w.fingerprints[0]!), 'FAILED_PRECONDITION');
    fresh.w.agent.close();
    expect(SEL.keyId).toBe(KEY);
    w.agent.close();
  });
});
