/**
 * Signed audit checkpoints (docs/protocol.md "Audit checkpoints"), in the spirit of Certificate
 * Transparency's signed tree heads: the agent signs "my audit chain held `size` entries and its head
 * hash was `head` at time `at`" with its Ed25519 identity key.
 *
 *   body      = canonical CBOR { v: 1, agent: <agent fingerprint, hex>, size, head: <hex>, at: <ms>, reason }
 *   signature = Ed25519(agent key, "custos/v1/sig/audit-checkpoint" || 0x00 || body)
 *   on paper  = one JSON line {"checkpoint":{"body":"<hex>","signature":"<hex>"}}
 *
 * The label has the shape of every Custos signature label (shared/protocol/frame.ts), and
 * "audit-checkpoint" is no message type, so a checkpoint signature can never pass for a message's.
 * A database writer cannot make one without the agent key; kept outside the database (an export, a
 * file sink on another disk, syslog) a checkpoint pins the chain up to `size`.
 */
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { z } from 'zod';
import { concatBytes, fromHex, toHex } from '../bytes';
import { domainLabel } from '../crypto/hash';
import { decodeCanonical, encodeCanonical } from '../protocol/cbor';
import type { SigningKey, Verifier } from '../protocol/frame';
import { agentFingerprint } from '../protocol/identity';
import { CustosError } from '../errors';

ed.hashes.sha512 = sha512;

const LABEL = domainLabel('sig/audit-checkpoint');
const hex = (n: number): z.ZodString => z.string().regex(new RegExp(`^[0-9a-f]{${String(n)}}$`));

export const CHECKPOINT_REASONS = ['interval', 'recovery-completed', 'hard-delete', 'kek-rotation', 'migration', 'manual', 'close'] as const;
export type CheckpointReason = (typeof CHECKPOINT_REASONS)[number];

export const checkpointBodySchema = z.strictObject({
  v: z.literal(1),
  agent: hex(64),
  size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  head: hex(64),
  at: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  reason: z.enum(CHECKPOINT_REASONS),
});
export type CheckpointBody = z.infer<typeof checkpointBodySchema>;

/** The form a checkpoint travels in (export line, sink line, database row). */
export const checkpointLineSchema = z.strictObject({
  checkpoint: z.strictObject({ body: z.string().regex(/^[0-9a-f]{2,4096}$/), signature: hex(128) }),
});
export type CheckpointLine = z.infer<typeof checkpointLineSchema>;

export interface SignedCheckpoint extends CheckpointBody {
  /** The line to store or append: `{"checkpoint":{…}}`. */
  readonly line: string;
}

const nobleVerify: Verifier = (signature, message, publicKey) => {
  try {
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
};

export function signCheckpoint(body: Omit<CheckpointBody, 'v'>, key: SigningKey): SignedCheckpoint {
  const checked = checkpointBodySchema.parse({ v: 1, ...body });
  const bytes = encodeCanonical(checked);
  const signature = ed.sign(concatBytes(LABEL, bytes), key.seed);
  const line = JSON.stringify({ checkpoint: { body: toHex(bytes), signature: toHex(signature) } });
  return { ...checked, line };
}

export type OpenedCheckpoint = { readonly ok: true; readonly body: CheckpointBody } | { readonly ok: false; readonly problem: 'malformed' | 'bad-signature' | 'wrong-agent' };

/**
 * Checks a checkpoint line (parsed JSON) against the agent keys the caller trusts (the agent card's,
 * and earlier pinned ones): the signature over the body bytes first, then the body.
 */
export function openCheckpoint(raw: unknown, agentKeys: readonly Uint8Array[], verify: Verifier = nobleVerify): OpenedCheckpoint {
  const line = checkpointLineSchema.safeParse(raw);
  if (!line.success || line.data.checkpoint.body.length % 2 !== 0) return { ok: false, problem: 'malformed' };
  const bytes = fromHex(line.data.checkpoint.body, 'checkpoint body');
  const signature = fromHex(line.data.checkpoint.signature, 'checkpoint signature');
  const message = concatBytes(LABEL, bytes);
  const signer = agentKeys.find((k) => verify(signature, message, k));
  if (signer === undefined) return { ok: false, problem: 'bad-signature' };
  let body: CheckpointBody;
  try {
    const parsed = checkpointBodySchema.safeParse(decodeCanonical(bytes, 'audit checkpoint'));
    if (!parsed.success) return { ok: false, problem: 'malformed' };
    body = parsed.data;
  } catch (error) {
    if (error instanceof CustosError) return { ok: false, problem: 'malformed' };
    throw error;
  }
  if (body.agent !== toHex(agentFingerprint(signer))) return { ok: false, problem: 'wrong-agent' };
  return { ok: true, body };
}
