import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../shared/bytes';
import { combineShares } from '../../shared/crypto/shamir';
import { generateAgeKeyPair } from '../../shared/crypto/seal';
import { provePossession } from '../../shared/crypto/possession';
import { fileHash } from '../../shared/crypto/hash';
import { isCustosError } from '../../shared/errors';
import {
  combineExpectation,
  custodianIdentityFingerprint,
  makeApproval,
  makeAttestation,
  makeChallenge,
  makeReceipt,
  makeRecoveryExport,
  makeRecoveryRequest,
  openChallenge,
  openEnvelope,
  openReceipt,
  openRecoveryExport,
  openRecoveryRequest,
  verifyAttestation,
  type SessionDetails,
} from '../../shared/protocol';
import { at, makeWorld, NOW } from './helpers';

async function expectCode(p: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(isCustosError(e) ? e.code : e).toBe(code);
    return;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

describe('the whole protocol loop', () => {
  it('backs up, delivers, confirms, and recovers external-only and mixed', async () => {
    const w = await makeWorld();
    const agentKey = w.agent.signing.publicKey;
    expect(w.backup.envelopes).toHaveLength(3);
    expect(w.backup.retained.map((s) => s.index)).toEqual([1, 2]);

    // Each custodian opens its envelope and signs a receipt the agent accepts.
    const held: { index: number; share: Uint8Array; custodian: number }[] = [];
    for (const [i, env] of w.backup.envelopes.entries()) {
      const c = at(w.custodians, i);
      const opened = await openEnvelope(env.bytes, agentKey, { fingerprint: custodianIdentityFingerprint(c), ageIdentity: c.age.identity }, NOW + 10);
      held.push({ index: opened.envelope.body.share_index, share: opened.share, custodian: i });
      const receipt = makeReceipt(
        {
          envelope_hash: opened.hash,
          key_id: 'key-1',
          node_id: 'node-1',
          set_id: opened.manifest.body.set_id,
          epoch: 1,
          share_index: opened.envelope.body.share_index,
          status: 'accepted',
          received_at: NOW + 10,
        },
        c.signing,
      );
      const r = openReceipt(receipt, c.signing.publicKey);
      expect(r.body.envelope_hash).toEqual(fileHash(env.bytes));
      // A custodian cannot open another custodian's envelope.
      const other = at(w.custodians, (i + 1) % 3);
      await expectCode(openEnvelope(env.bytes, agentKey, { fingerprint: custodianIdentityFingerprint(other), ageIdentity: other.age.identity }, NOW), 'WRONG_RECIPIENT');
    }

    // A recovery session with two approvals.
    const sessionKey = await generateAgeKeyPair();
    const session: SessionDetails = {
      session_id: randomBytes(16),
      incident_id: 'INC-2026-0042',
      key_id: 'key-1',
      node_id: 'node-1',
      set_id: w.backup.manifest.set_id,
      epoch: 1,
      mode: 'external-only',
      not_after: NOW + 3600,
    };
    const approvals = w.approvers.map((a) => makeApproval({ session, approver_name: a.name, approved_at: NOW }, a.signing));
    const requestBytes = makeRecoveryRequest(
      { session, approvals, recipient: sessionKey.recipient, manifest: w.backup.manifestBytes, created_at: NOW },
      w.agent.signing,
    );
    const req = openRecoveryRequest(requestBytes, agentKey, NOW + 60, w.approvers.map((a) => a.signing.publicKey));
    expect(req.approvals.map((a) => a.body.approver_name)).toEqual(['Alice (security)', 'Bob (business owner)']);

    const registered = w.custodians.map((c) => ({ signKey: c.signing.publicKey, ageRecipient: c.age.recipient }));
    const recovered = [];
    for (const h of held) {
      const c = at(w.custodians, h.custodian);
      const exp = await makeRecoveryExport(req, h.index, h.share, { signing: c.signing, fingerprint: custodianIdentityFingerprint(c) }, NOW + 120);
      const opened = await openRecoveryExport(exp, req, registered, sessionKey.identity);
      recovered.push({ index: opened.shareIndex, share: opened.share, setId: session.set_id, epoch: 1 });
    }
    const expectation = combineExpectation(w.backup.manifest);
    expect(await combineShares(expectation, recovered)).toEqual(w.secret);

    // Mixed: two server shares and one external.
    const mixed = [
      ...w.backup.retained.map((s) => ({ ...s, setId: session.set_id, epoch: 1 })),
      at(recovered, 2),
    ];
    expect(await combineShares(expectation, mixed)).toEqual(w.secret);

    // Refusals with their codes.
    await expectCode(combineShares(expectation, recovered.slice(0, 2)), 'BELOW_THRESHOLD');
    await expectCode(combineShares(expectation, [at(recovered, 0), at(recovered, 0), at(recovered, 1)]), 'DUPLICATE_SHARE');
    const bad = { ...at(recovered, 1), share: Uint8Array.from(at(recovered, 1).share) };
    bad.share[0] = at(bad.share, 0) ^ 1;
    try {
      await combineShares(expectation, [at(recovered, 0), bad, at(recovered, 2)]);
      throw new Error('no error');
    } catch (e) {
      expect(isCustosError(e, 'SHARE_COMMITMENT_MISMATCH')).toBe(true);
      expect(isCustosError(e) && e.details['shareIndex']).toBe(bad.index);
    }
    await expectCode(combineShares(expectation, [at(recovered, 0), { ...at(recovered, 1), epoch: 2 }, at(recovered, 2)]), 'SET_MISMATCH');
    await expectCode(() => openRecoveryRequest(requestBytes, agentKey, NOW + 7200), 'EXPIRED');
  });

  it('refuses an export replayed into another session', async () => {
    const w = await makeWorld();
    const c = at(w.custodians, 0);
    const env = await openEnvelope(at(w.backup.envelopes, 0).bytes, w.agent.signing.publicKey, { fingerprint: custodianIdentityFingerprint(c), ageIdentity: c.age.identity }, NOW);
    const mk = async (incident: string) => {
      const key = await generateAgeKeyPair();
      const session: SessionDetails = {
        session_id: randomBytes(16),
        incident_id: incident,
        key_id: 'key-1',
        node_id: 'node-1',
        set_id: w.backup.manifest.set_id,
        epoch: 1,
        mode: 'external-only',
        not_after: NOW + 3600,
      };
      const approvals = w.approvers.map((a) => makeApproval({ session, approver_name: a.name, approved_at: NOW }, a.signing));
      const bytes = makeRecoveryRequest({ session, approvals, recipient: key.recipient, manifest: w.backup.manifestBytes, created_at: NOW }, w.agent.signing);
      return { key, req: openRecoveryRequest(bytes, w.agent.signing.publicKey, NOW) };
    };
    const s1 = await mk('INC-1');
    const s2 = await mk('INC-2');
    const exp = await makeRecoveryExport(s1.req, env.envelope.body.share_index, env.share, { signing: c.signing, fingerprint: custodianIdentityFingerprint(c) }, NOW);
    const registered = [{ signKey: c.signing.publicKey, ageRecipient: c.age.recipient }];
    await expectCode(openRecoveryExport(exp, s2.req, registered, s2.key.identity), 'SESSION_MISMATCH');
    await expectCode(openRecoveryExport(exp, s1.req, [], s1.key.identity), 'UNTRUSTED_SIGNER');
  });

  it('refuses approvals that are missing, duplicated, or for other details', async () => {
    const w = await makeWorld();
    const key = await generateAgeKeyPair();
    const session: SessionDetails = {
      session_id: randomBytes(16),
      incident_id: 'INC-9',
      key_id: 'key-1',
      node_id: 'node-1',
      set_id: w.backup.manifest.set_id,
      epoch: 1,
      mode: 'mixed',
      not_after: NOW + 3600,
    };
    const [alice, bob] = w.approvers as [(typeof w.approvers)[0], (typeof w.approvers)[0]];
    const a1 = makeApproval({ session, approver_name: alice.name, approved_at: NOW }, alice.signing);
    const a1again = makeApproval({ session, approver_name: 'Alice again', approved_at: NOW + 1 }, alice.signing);
    const bOther = makeApproval({ session: { ...session, mode: 'external-only' }, approver_name: bob.name, approved_at: NOW }, bob.signing);
    const req = (approvals: Uint8Array[]) =>
      makeRecoveryRequest({ session, approvals, recipient: key.recipient, manifest: w.backup.manifestBytes, created_at: NOW }, w.agent.signing);
    await expectCode(() => req([a1]), 'MALFORMED');
    await expectCode(() => openRecoveryRequest(req([a1, a1again]), w.agent.signing.publicKey, NOW), 'DUPLICATE_APPROVER');
    await expectCode(() => openRecoveryRequest(req([a1, bOther]), w.agent.signing.publicKey, NOW), 'SESSION_MISMATCH');
    await expectCode(() => openRecoveryRequest(req([a1, makeApproval({ session, approver_name: bob.name, approved_at: NOW }, bob.signing)]), w.agent.signing.publicKey, NOW, [alice.signing.publicKey]), 'UNTRUSTED_SIGNER');
  });

  it('proves possession for inventory without revealing the share', async () => {
    const w = await makeWorld();
    const c = at(w.custodians, 1);
    const me = custodianIdentityFingerprint(c);
    const env = await openEnvelope(at(w.backup.envelopes, 1).bytes, w.agent.signing.publicKey, { fingerprint: me, ageIdentity: c.age.identity }, NOW);
    const m = w.backup.manifest;
    const item = { key_id: m.key_id, node_id: m.node_id, set_id: m.set_id, epoch: m.epoch, share_index: env.envelope.body.share_index };
    const other = { ...item, node_id: 'node-2' };
    const chBytes = makeChallenge({ challenge_id: randomBytes(16), nonce: randomBytes(32), custodian: me, items: [item, other], created_at: NOW, not_after: NOW + 86400 }, w.agent.signing);
    const ch = openChallenge(chBytes, w.agent.signing.publicKey, me, NOW + 5);
    const proof = provePossession(ch.hash, { setId: m.set_id, epoch: m.epoch }, item.share_index, env.share);
    const att = makeAttestation({ challenge_id: ch.body.challenge_id, challenge_hash: ch.hash, items: [{ ...item, status: 'held', proof }], answered_at: NOW + 6 }, c.signing);
    const possession = (i: typeof item) => (i.node_id === 'node-1' ? m.shares[i.share_index - 1]?.possession_key : undefined);
    const { verdicts } = verifyAttestation(att, ch, c.signing.publicKey, possession);
    expect(verdicts.map((v) => v.result)).toEqual(['proven', 'not-answered']);
    // A proof made with a different share does not verify.
    const wrong = provePossession(ch.hash, { setId: m.set_id, epoch: m.epoch }, item.share_index, randomBytes(env.share.length));
    const att2 = makeAttestation({ challenge_id: ch.body.challenge_id, challenge_hash: ch.hash, items: [{ ...item, status: 'held', proof: wrong }], answered_at: NOW + 6 }, c.signing);
    expect(verifyAttestation(att2, ch, c.signing.publicKey, possession).verdicts[0]?.result).toBe('bad-proof');
  });
});
