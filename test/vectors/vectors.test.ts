/**
 * The checked-in protocol v1 vectors (test/vectors/README.md):
 * - every file is what vectors.json says (length, SHA-256);
 * - rebuilding every message from the recorded inputs gives the same bytes, and the same
 *   fingerprints, comparison codes, commitments and hashes;
 * - an independent reading (cborg without our canonical checks, node:crypto Ed25519 and SHA-256)
 *   agrees with the library about frames, signatures, fingerprints and commitments;
 * - every vector opens through its public open* function, including decryption of the sealed
 *   payloads, and gives the recorded body;
 * - the titled vectors (an approval and a request whose session has an incident_title, issue 13)
 *   likewise, and only for their own session details.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { decode } from 'cborg';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../shared/bytes';
import { openSealed } from '../../shared/crypto/seal';
import { combineShares } from '../../shared/crypto/shamir';
import { isCustosError } from '../../shared/errors';
import {
  combineExpectation,
  comparisonCode,
  MESSAGE_TYPES,
  openApproval,
  openApprovals,
  openEnvelope,
  openRecoveryRequest,
  openManifest,
  manifestGroupKey,
  peekMessage,
  verifyEnvelope,
  type MessageType,
  type OpenedApproval,
  type OpenedCard,
  type OpenedEnvelope,
  type OpenedRecoveryExport,
  type OpenedRecoveryRequest,
  type Opened,
  type ItemVerdict,
} from '../../shared/protocol';
import { at, buildVectorFile, TITLED_TYPES, toJson, type VectorFile } from './build';
import { loadVectors, readTitledMessages, readVectorFile, type LoadedVectors } from './load';

let v: LoadedVectors;
beforeAll(async () => {
  v = await loadVectors();
});

const sha256 = (...parts: (Uint8Array | string)[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const be32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
};
const be64 = (n: number): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
};
/** docs/protocol.md §3.2, written out again without the library. */
const tagged = (purpose: string, ...parts: (Uint8Array | string | number)[]): Uint8Array => {
  const chunks: Uint8Array[] = [new TextEncoder().encode(`custos/v1/${purpose}\u0000`)];
  for (const p of parts) {
    const bytes = typeof p === 'string' ? new TextEncoder().encode(p) : typeof p === 'number' ? be64(p) : p;
    chunks.push(be32(bytes.length), bytes);
  }
  return sha256(...chunks);
};
const code24 = (fp: Uint8Array): string => {
  const n = BigInt(`0x${toHex(fp.subarray(0, 10))}`) % 10n ** 24n;
  return n.toString().padStart(24, '0').replace(/(\d{4})(?=\d)/g, '$1 ');
};
const nodeVerify = (sig: Uint8Array, msg: Uint8Array, key: Uint8Array): boolean =>
  verify(null, msg, createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), key]), format: 'der', type: 'spki' }), sig);

describe('test vectors v1: the files', () => {
  it('every file has the recorded length and SHA-256', () => {
    const file = readVectorFile();
    expect(file.protocolVersion).toBe(1);
    for (const type of MESSAGE_TYPES) {
      const rec = file.expected.messages[type];
      const bytes = v.messages[type];
      expect(bytes.length, type).toBe(rec.length);
      expect(toHex(sha256(bytes)), type).toBe(rec.sha256);
    }
  });

  it('rebuilding from the recorded inputs gives byte-identical messages and identical expectations', async () => {
    const file = readVectorFile();
    const rebuilt = await buildVectorFile(file.inputs);
    for (const type of MESSAGE_TYPES) {
      expect(toHex(rebuilt.messages[type]), `${type} differs from test/vectors/v1/${type}.cbor`).toBe(toHex(v.messages[type]));
    }
    expect(JSON.parse(JSON.stringify(rebuilt.file)) as VectorFile).toEqual(file);
  });
});

describe('test vectors v1: an independent reading', () => {
  it('every frame is {v: 1, t, k, b, s} in canonical key order, and its signature verifies with node:crypto', () => {
    for (const type of MESSAGE_TYPES) {
      const bytes = v.messages[type];
      // A map of five entries whose keys are the one-letter text strings b, k, s, t, v in that order.
      expect(bytes[0], type).toBe(0xa5);
      const frame = decode(bytes) as Record<string, unknown>;
      expect(Object.keys(frame), type).toEqual(['b', 'k', 's', 't', 'v']);
      expect(frame['v']).toBe(1);
      expect(frame['t']).toBe(type);
      const { b, k, s } = frame as { b: Uint8Array; k: Uint8Array; s: Uint8Array };
      expect(toHex(k)).toBe(v.file.expected.messages[type].signer);
      const label = new TextEncoder().encode(`custos/v1/sig/${type}\u0000`);
      expect(nodeVerify(s, Buffer.concat([label, b]), k), `${type} signature`).toBe(true);
      // The signature is for this type only.
      const other = MESSAGE_TYPES.find((t) => t !== type) ?? 'manifest';
      expect(nodeVerify(s, Buffer.concat([new TextEncoder().encode(`custos/v1/sig/${other}\u0000`), b]), k)).toBe(false);
      expect(toJson(decode(b))).toEqual(v.file.expected.messages[type].body);
    }
  });

  it('fingerprints, comparison codes and commitments follow docs/protocol.md', () => {
    const { inputs, expected } = v.file;
    const w = v.world;
    expect(toHex(tagged('fingerprint/agent', w.agent.publicKey))).toBe(expected.fingerprints.agent);
    expect(toHex(tagged('fingerprint/agent', w.agentNext.publicKey))).toBe(expected.fingerprints.agentNext);
    w.custodians.forEach((c, i) => {
      const fp = tagged('fingerprint/custodian', c.publicKey, at(expected.ageRecipients.custodians, i));
      expect(toHex(fp)).toBe(expected.fingerprints.custodians[i]);
      expect(code24(fp)).toBe(expected.comparisonCodes.custodians[i]);
      expect(comparisonCode(fp)).toBe(code24(fp));
    });
    w.approvers.forEach((a, i) => {
      const fp = tagged('fingerprint/approver', a.publicKey);
      expect(toHex(fp)).toBe(expected.fingerprints.approvers[i]);
      expect(code24(fp)).toBe(expected.comparisonCodes.approvers[i]);
    });
    expect(code24(fromHex(expected.fingerprints.agent))).toBe(expected.comparisonCodes.agent);
    expect(expected.comparisonCodes.agent).toMatch(/^\d{4}( \d{4}){5}$/);
    const setId = fromHex(inputs.setId);
    inputs.shares.forEach((share, i) => {
      expect(toHex(tagged('share-commitment', setId, inputs.epoch, i + 1, fromHex(share)))).toBe(expected.shareCommitments[i]);
    });
    expect(toHex(tagged('secret-commitment', setId, inputs.epoch, fromHex(inputs.secret)))).toBe(expected.secretCommitment);
    expect(toHex(sha256(v.messages.manifest))).toBe(expected.hashes.manifest);
    expect(toHex(sha256(v.messages.envelope))).toBe(expected.hashes.envelope);
  });

  it('the recorded payloads decrypt to the recorded share, and the recorded shares recombine to the secret', async () => {
    const { inputs } = v.file;
    const held = fromHex(at(inputs.shares, inputs.retain));
    expect(await openSealed(at(inputs.ageIdentities.custodians, 0), fromHex(inputs.envelopePayload))).toEqual(held);
    expect(await openSealed(inputs.ageIdentities.session, fromHex(inputs.exportPayload))).toEqual(held);
    const m = openManifest(v.messages.manifest, v.world.agent.publicKey).body;
    // The manifest's group_key (issue 12) is the recorded edwards25519 point, valid on its curve.
    expect(toHex(m.group_key ?? new Uint8Array())).toBe(inputs.groupKey);
    expect(manifestGroupKey(m)?.compressed).toBe(inputs.groupKey);
    const all = inputs.shares.map((s, i) => ({ index: i + 1, share: fromHex(s), setId: m.set_id, epoch: m.epoch }));
    for (const subset of [[0, 1, 2], [2, 3, 4], [0, 2, 4], [0, 1, 2, 3, 4]]) {
      const provided = subset.map((i) => at(all, i));
      expect(toHex(await combineShares(combineExpectation(m), provided))).toBe(inputs.secret);
    }
  });
});

describe('test vectors v1: every vector opens through its public function', () => {
  const bodyOf = (type: MessageType, result: unknown): unknown => {
    switch (type) {
      case 'envelope':
        return (result as OpenedEnvelope).envelope.body;
      case 'recovery-request':
        return (result as OpenedRecoveryRequest).request.body;
      case 'recovery-export':
        return (result as OpenedRecoveryExport).export.body;
      case 'inventory-attestation':
        return (result as { attestation: Opened<unknown> }).attestation.body;
      case 'agent-key-rotation':
        return undefined; // returns the new card, checked below
      default:
        return (result as { body: unknown }).body;
    }
  };

  it.each(MESSAGE_TYPES)('%s', async (type) => {
    const bytes = v.messages[type];
    const rec = v.file.expected.messages[type];
    const peek = peekMessage(bytes);
    expect(peek.type).toBe(type);
    expect(peek.version).toBe(1);
    expect(toHex(peek.signer)).toBe(rec.signer);
    const result = await v.open(type, bytes);
    const body = bodyOf(type, result);
    if (body !== undefined) expect(toJson(body)).toEqual(rec.body);
  });

  it('cards give the recorded fingerprints and comparison codes', async () => {
    const e = v.file.expected;
    const agent = (await v.open('agent-card', v.messages['agent-card'])) as OpenedCard<unknown>;
    expect([toHex(agent.fingerprint), agent.code]).toEqual([e.fingerprints.agent, e.comparisonCodes.agent]);
    const custodian = (await v.open('custodian-card', v.messages['custodian-card'])) as OpenedCard<{ age_recipient: string }>;
    expect([toHex(custodian.fingerprint), custodian.code]).toEqual([e.fingerprints.custodians[0], e.comparisonCodes.custodians[0]]);
    expect(custodian.body.age_recipient).toBe(e.ageRecipients.custodians[0]);
    const approver = (await v.open('approver-card', v.messages['approver-card'])) as OpenedCard<unknown>;
    expect([toHex(approver.fingerprint), approver.code]).toEqual([e.fingerprints.approvers[0], e.comparisonCodes.approvers[0]]);
    const next = (await v.open('agent-key-rotation', v.messages['agent-key-rotation'])) as OpenedCard<{ name: string }>;
    expect([toHex(next.fingerprint), next.code, next.body.name]).toEqual([e.fingerprints.agentNext, e.comparisonCodes.agentNext, v.file.inputs.names.agentNext]);
  });

  it('openEnvelope decrypts the share and checks it; verifyEnvelope agrees without decrypting', async () => {
    const opened = (await v.open('envelope', v.messages.envelope)) as OpenedEnvelope & { share: Uint8Array };
    expect(toHex(opened.share)).toBe(v.file.inputs.shares[v.world.heldIndex - 1]);
    expect(toHex(opened.hash)).toBe(v.file.expected.hashes.envelope);
    expect(toJson(opened.manifest.body)).toEqual(v.file.expected.messages.manifest.body);
    const me = at(v.world.custodianFingerprints, 0);
    expect(verifyEnvelope(v.messages.envelope, v.world.agent.publicKey, me, v.openAt.envelope).hash).toEqual(opened.hash);
    // The other custodians and a late opening are refused with their codes.
    const other = { fingerprint: at(v.world.custodianFingerprints, 1), ageIdentity: at(v.file.inputs.ageIdentities.custodians, 1) };
    await expect(openEnvelope(v.messages.envelope, v.world.agent.publicKey, other, v.openAt.envelope)).rejects.toMatchObject({ code: 'WRONG_RECIPIENT' });
    const late = v.file.inputs.now + 31 * 86400;
    await expect(openEnvelope(v.messages.envelope, v.world.agent.publicKey, { fingerprint: me, ageIdentity: at(v.file.inputs.ageIdentities.custodians, 0) }, late)).rejects.toMatchObject({ code: 'EXPIRED' });
    // The right fingerprint with the wrong age identity cannot decrypt.
    await expect(openEnvelope(v.messages.envelope, v.world.agent.publicKey, { fingerprint: me, ageIdentity: v.file.inputs.ageIdentities.session }, v.openAt.envelope)).rejects.toMatchObject({ code: 'DECRYPT_FAILED' });
  });

  it('openRecoveryRequest and openRecoveryExport give the approvals and the share', async () => {
    const req = (await v.open('recovery-request', v.messages['recovery-request'])) as OpenedRecoveryRequest;
    expect(req.approvals.map((a: OpenedApproval) => a.body.approver_name)).toEqual(v.file.inputs.names.approvers);
    expect(req.approvals.map((a) => toHex(a.fingerprint))).toEqual(v.file.expected.fingerprints.approvers);
    expect(toHex(req.hash)).toBe(v.file.expected.hashes.recoveryRequest);
    expect(openApprovals(req.request.body.approvals, v.world.session, 2).length).toBe(2);
    expect(toHex(req.request.body.approvals[0] ?? new Uint8Array())).toBe(toHex(v.messages.approval));
    const exp = (await v.open('recovery-export', v.messages['recovery-export'])) as OpenedRecoveryExport;
    expect(exp.shareIndex).toBe(v.world.heldIndex);
    expect(exp.share).toEqual(v.world.heldShare);
    await expect(v.open('recovery-request', v.messages['recovery-request'], v.world.agentNext.publicKey)).rejects.toSatisfy((e) => isCustosError(e, 'UNTRUSTED_SIGNER'));
  });

  it('verifyAttestation proves the held share and reports the missing one', async () => {
    const r = (await v.open('inventory-attestation', v.messages['inventory-attestation'])) as { verdicts: ItemVerdict[] };
    expect(r.verdicts.map((x) => [x.node_id, x.share_index, x.result])).toEqual([
      [v.file.inputs.nodeId, v.world.heldIndex, 'proven'],
      ['node-2', v.world.heldIndex + 1, 'missing'],
    ]);
    const ch = (await v.open('inventory-challenge', v.messages['inventory-challenge'])) as { hash: Uint8Array };
    expect(toHex(ch.hash)).toBe(v.file.expected.hashes.inventoryChallenge);
  });
});

describe('test vectors v1: the titled vectors (incident_title, issue 13)', () => {
  const file = () => readVectorFile();

  it('approval-titled.cbor and recovery-request-titled.cbor have the recorded bytes and rebuild identically', async () => {
    const f = file();
    const titled = readTitledMessages(f);
    const rebuilt = await buildVectorFile(f.inputs);
    for (const type of TITLED_TYPES) {
      const rec = f.expected.titled[type];
      expect(titled[type].length, type).toBe(rec.length);
      expect(toHex(sha256(titled[type])), type).toBe(rec.sha256);
      expect(toHex(rebuilt.titled[type]), `${type} differs from test/vectors/v1/${rec.file}`).toBe(toHex(titled[type]));
      // An independent reading: the signature verifies with node:crypto and the body is the recorded one.
      const frame = decode(titled[type]) as { b: Uint8Array; k: Uint8Array; s: Uint8Array; t: string };
      expect(frame.t).toBe(type);
      expect(nodeVerify(frame.s, Buffer.concat([new TextEncoder().encode(`custos/v1/sig/${type}\u0000`), frame.b]), frame.k)).toBe(true);
      expect(toJson(decode(frame.b))).toEqual(rec.body);
    }
    // The title is the recorded one, in UTF-8, with its "/" (a file name makes it safe, not the protocol).
    expect(f.inputs.incidentTitle).toBe('交易所热钱包事故 2026/12');
    const body = decode((decode(titled.approval) as { b: Uint8Array }).b) as { session: Record<string, unknown> };
    expect(body.session['incident_title']).toBe(f.inputs.incidentTitle);
    // Everything else in the titled session is the untitled one's.
    const plain = decode((decode(v.messages.approval) as { b: Uint8Array }).b) as { session: Record<string, unknown> };
    expect({ ...body.session, incident_title: undefined }).toEqual({ ...plain.session, incident_title: undefined });
    expect(Object.keys(plain.session)).not.toContain('incident_title');
  });

  it('they open through openApproval and openRecoveryRequest, and only for the titled session', () => {
    const f = file();
    const titled = readTitledMessages(f);
    const approvers = v.world.approvers.map((a) => a.publicKey);
    const approval = openApproval(titled.approval, v.world.titledSession, approvers);
    expect(approval.body.session.incident_title).toBe(f.inputs.incidentTitle);
    const req = openRecoveryRequest(titled['recovery-request'], v.world.agent.publicKey, v.openAt['recovery-request'], approvers);
    expect(req.session.incident_title).toBe(f.inputs.incidentTitle);
    expect(toHex(req.request.body.approvals[0] ?? new Uint8Array())).toBe(toHex(titled.approval));
    // An approval over the untitled details is not one over the titled details, and the other way round.
    expect(() => openApproval(v.messages.approval, v.world.titledSession, approvers)).toThrow(expect.objectContaining({ code: 'SESSION_MISMATCH' }) as Error);
    expect(() => openApproval(titled.approval, v.world.session, approvers)).toThrow(expect.objectContaining({ code: 'SESSION_MISMATCH' }) as Error);
  });
});
