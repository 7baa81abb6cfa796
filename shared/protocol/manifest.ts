/**
 * Backup manifest, version 1 (docs/protocol.md §4.2). Signed by the agent when it splits a node's
 * secret record. It is the anchor every later check refers to: which shares exist, who holds each,
 * their commitments and the commitment to the whole secret.
 *
 * `group_key` (issue 12) is the tss-lib key's group public key in its compressed encoding (SEC 1
 * compressed for secp256k1, 33 bytes; RFC 8032 for ed25519, 32 bytes), so a custodian can compare
 * it with what the company knows before a recovery, and after one with the recovered keydata's. It
 * is optional so that manifests signed before it existed still open (still version 1: the field
 * only adds to the signed body); a reader then says it is not in that backup's manifest.
 */
import { z } from 'zod';
import { CustosError } from '../errors';
import { checkShamirParams, type CombineExpectation } from '../crypto/shamir';
import { openMessage, sealMessage, trustKey, type Opened, type SigningKey } from './frame';
import { bytes, curve, epoch, fingerprint, identifier, publicKey, setId, sha256Digest, shareIndex, timestamp } from './schema';
import { fileHash } from '../crypto/hash';
import { groupKeyFromEncoding, type GroupKey } from '../keydata/group-key';

export const manifestShareSchema = z.strictObject({
  index: shareIndex,
  /** The custodian's fingerprint, or null for a share the server retains. */
  custodian: fingerprint.nullable(),
  commitment: sha256Digest,
  possession_key: publicKey,
});

export const manifestSchema = z
  .strictObject({
    key_id: identifier,
    node_id: identifier,
    set_id: setId,
    epoch,
    curve,
    threshold: z.number().int().min(2).max(255),
    total: z.number().int().min(2).max(255),
    secret_length: z.number().int().min(1).max(16384),
    secret_commitment: sha256Digest,
    public_context_hash: sha256Digest,
    /** Optional (absent in manifests made before it existed): the group public key, compressed. */
    group_key: bytes().optional(),
    shares: z.array(manifestShareSchema).min(2).max(255),
    created_at: timestamp,
  })
  .superRefine((m, ctx) => {
    if (m.threshold > m.total) ctx.addIssue({ code: 'custom', path: ['threshold'], message: 'is larger than total' });
    if (m.shares.length !== m.total) ctx.addIssue({ code: 'custom', path: ['shares'], message: 'must list exactly total shares' });
    m.shares.forEach((s, i) => {
      if (s.index !== i + 1) ctx.addIssue({ code: 'custom', path: ['shares', i, 'index'], message: 'must number shares 1..total in order' });
    });
    const held = new Set<string>();
    for (const [i, s] of m.shares.entries()) {
      if (s.custodian === null) continue;
      const key = Array.from(s.custodian).join(',');
      if (held.has(key)) ctx.addIssue({ code: 'custom', path: ['shares', i, 'custodian'], message: 'holds two shares of one set' });
      held.add(key);
    }
    if (m.group_key !== undefined) {
      const want = m.curve === 'secp256k1' ? 33 : 32;
      if (m.group_key.length !== want) ctx.addIssue({ code: 'custom', path: ['group_key'], message: `must be ${String(want)} bytes for ${m.curve}` });
      else {
        try {
          groupKeyFromEncoding(m.curve, m.group_key);
        } catch {
          ctx.addIssue({ code: 'custom', path: ['group_key'], message: `is not a valid ${m.curve} point` });
        }
      }
    }
    const retained = m.shares.filter((s) => s.custodian === null).length;
    if (retained >= m.threshold) ctx.addIssue({ code: 'custom', path: ['shares'], message: 'lets the server alone reach the threshold' });
  });
export type Manifest = z.infer<typeof manifestSchema>;

export function makeManifest(body: Manifest, agent: SigningKey): Uint8Array {
  checkShamirParams(body);
  return sealMessage('manifest', manifestSchema, body, agent);
}

export function openManifest(bytes: unknown, agentKey: Uint8Array): Opened<Manifest> {
  return openMessage(bytes, 'manifest', manifestSchema, trustKey(agentKey));
}

/** SHA-256 of the manifest's bytes: its name in envelopes, receipts and supersede notices. */
export const manifestHash = (bytes: Uint8Array): Uint8Array => fileHash(bytes);

export function manifestShare(m: Manifest, index: number): z.infer<typeof manifestShareSchema> {
  const s = m.shares[index - 1];
  if (s?.index !== index) {
    throw new CustosError('SHARE_COMMITMENT_MISMATCH', `Share index ${String(index)} is not part of this backup set.`, { details: { shareIndex: index } });
  }
  return s;
}

/** The group key a verified manifest names, in every form a person compares; undefined in a manifest made before the field. */
export function manifestGroupKey(m: Manifest): GroupKey | undefined {
  return m.group_key === undefined ? undefined : groupKeyFromEncoding(m.curve, m.group_key);
}

/** What combineShares needs to know, taken from a verified manifest. */
export function combineExpectation(m: Manifest): CombineExpectation {
  return {
    setId: m.set_id,
    epoch: m.epoch,
    threshold: m.threshold,
    total: m.total,
    secretLength: m.secret_length,
    secretCommitment: m.secret_commitment,
    shareCommitments: new Map(m.shares.map((s) => [s.index, s.commitment])),
  };
}
