/**
 * Inventory challenge and attestation, version 1 (docs/protocol.md §4.9).
 *
 * The agent signs a challenge with a fresh nonce listing the shares a custodian should hold. The
 * custodian answers with a signed attestation: for every item, either "held" with a proof of
 * possession (a signature by the share's possession key, see crypto/possession.ts), or "missing".
 * The agent verifies each proof against the possession key in the signed manifest: nothing about
 * the share itself is revealed.
 */
import { z } from 'zod';
import { constantTimeEqual } from '../bytes';
import { CustosError } from '../errors';
import { fileHash } from '../crypto/hash';
import { verifyPossession } from '../crypto/possession';
import { openMessage, sealMessage, trustKey, type Opened, type SigningKey } from './frame';
import { bytes, epoch, fingerprint, identifier, setId, sha256Digest, shareIndex, timestamp } from './schema';

const itemSchema = z.strictObject({
  key_id: identifier,
  node_id: identifier,
  set_id: setId,
  epoch,
  share_index: shareIndex,
});
export type InventoryItem = z.infer<typeof itemSchema>;

export const challengeSchema = z.strictObject({
  challenge_id: bytes(16),
  nonce: bytes(32),
  custodian: fingerprint,
  items: z.array(itemSchema).min(1).max(20000),
  created_at: timestamp,
  not_after: timestamp,
});
export type InventoryChallenge = z.infer<typeof challengeSchema>;

export const attestationItemSchema = z
  .strictObject({
    ...itemSchema.shape,
    status: z.enum(['held', 'missing']),
    proof: bytes(64).optional(),
  })
  .superRefine((i, ctx) => {
    if ((i.status === 'held') !== (i.proof !== undefined)) ctx.addIssue({ code: 'custom', path: ['proof'], message: 'is required exactly for held shares' });
  });

export const attestationSchema = z.strictObject({
  challenge_id: bytes(16),
  challenge_hash: sha256Digest,
  items: z.array(attestationItemSchema).min(1).max(20000),
  answered_at: timestamp,
});
export type InventoryAttestation = z.infer<typeof attestationSchema>;

export const makeChallenge = (body: InventoryChallenge, agent: SigningKey): Uint8Array =>
  sealMessage('inventory-challenge', challengeSchema, body, agent);

export function openChallenge(input: unknown, agentKey: Uint8Array, me: Uint8Array, now: number): Opened<InventoryChallenge> & { hash: Uint8Array } {
  const opened = openMessage(input, 'inventory-challenge', challengeSchema, trustKey(agentKey));
  if (!constantTimeEqual(opened.body.custodian, me)) throw new CustosError('WRONG_RECIPIENT', 'This inventory challenge is addressed to another custodian.');
  if (now > opened.body.not_after) throw new CustosError('EXPIRED', 'This inventory challenge has expired; ask the agent operator for a new one.');
  return { ...opened, hash: fileHash(opened.bytes) };
}

export const makeAttestation = (body: InventoryAttestation, custodian: SigningKey): Uint8Array =>
  sealMessage('inventory-attestation', attestationSchema, body, custodian);

export type ItemVerdict = InventoryItem & { readonly result: 'proven' | 'missing' | 'bad-proof' | 'not-answered' };

/**
 * Agent side. `possessionKeyOf` returns the possession public key for an item from the stored,
 * verified manifest. Every challenged item gets a verdict; an item the custodian did not answer is
 * `not-answered`, an answer for an item that was not asked is refused.
 */
export function verifyAttestation(
  input: unknown,
  challenge: { bytes: Uint8Array; body: InventoryChallenge },
  custodianKey: Uint8Array,
  possessionKeyOf: (item: InventoryItem) => Uint8Array | undefined,
): { attestation: Opened<InventoryAttestation>; verdicts: ItemVerdict[] } {
  const opened = openMessage(input, 'inventory-attestation', attestationSchema, trustKey(custodianKey));
  const hash = fileHash(challenge.bytes);
  if (!constantTimeEqual(opened.body.challenge_hash, hash) || !constantTimeEqual(opened.body.challenge_id, challenge.body.challenge_id)) {
    throw new CustosError('SESSION_MISMATCH', 'This attestation answers a different inventory challenge.');
  }
  const key = (i: InventoryItem): string => `${i.key_id}\u0000${i.node_id}\u0000${Array.from(i.set_id).join(',')}\u0000${String(i.epoch)}\u0000${String(i.share_index)}`;
  const asked = new Map(challenge.body.items.map((i) => [key(i), i]));
  const answers = new Map<string, (typeof opened.body.items)[number]>();
  for (const a of opened.body.items) {
    const k = key(a);
    if (!asked.has(k)) throw new CustosError('MALFORMED', `The attestation answers share ${String(a.share_index)} of ${a.key_id}/${a.node_id}, which was not asked.`);
    if (answers.has(k)) throw new CustosError('MALFORMED', `The attestation answers share ${String(a.share_index)} of ${a.key_id}/${a.node_id} twice.`);
    answers.set(k, a);
  }
  const verdicts: ItemVerdict[] = challenge.body.items.map((item) => {
    const a = answers.get(key(item));
    if (a === undefined) return { ...item, result: 'not-answered' };
    if (a.status === 'missing' || a.proof === undefined) return { ...item, result: 'missing' };
    const pk = possessionKeyOf(item);
    const ok = pk !== undefined && verifyPossession(a.proof, hash, { setId: item.set_id, epoch: item.epoch }, item.share_index, pk);
    return { ...item, result: ok ? 'proven' : 'bad-proof' };
  });
  return { attestation: opened, verdicts };
}
