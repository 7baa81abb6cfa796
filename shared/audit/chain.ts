/**
 * Append-only, hash-chained audit log entries, shared by the agent and the custodian app.
 *
 *   hash_n = taggedHash("audit-entry", hash_{n-1}, canonicalCBOR(entry_n without "hash"))
 *   hash_0's predecessor is 32 zero bytes.
 *
 * Each entry carries its sequence number and its predecessor's hash, so verification finds the first
 * entry that was edited (its hash no longer matches), removed (a gap in seq, or a prev that does not
 * match) or reordered. Removing entries from the END cannot be seen from the entries alone: callers
 * keep the head (seq and hash of the last entry) somewhere else and pass it to verifyChain.
 *
 * Fields follow the seed SOP (§7 审计与证据): key_id, node_id, share_index, envelope hash,
 * signature, version, timestamp, operator, approver, target entity, result, failure reason.
 */
import { z } from 'zod';
import { fromHex, toHex } from '../bytes';
import { encodeCanonical } from '../protocol/cbor';
import { taggedHash } from '../crypto/hash';
import { CustosError } from '../errors';

export const AUDIT_EVENTS = [
  'generate',
  'deliver',
  'confirm',
  'inspect',
  'drill',
  'recover',
  'delete',
  'rollback',
  'import',
  'receipt',
  'export',
  'approve',
  'register',
  'rotate',
  'inventory',
  'settings',
] as const;
export type AuditEvent = (typeof AUDIT_EVENTS)[number];

const hex32 = z.string().regex(/^[0-9a-f]{64}$/);
const text = z.string().max(2000);

export const auditFieldsSchema = z.strictObject({
  event: z.enum(AUDIT_EVENTS),
  result: z.enum(['ok', 'refused', 'failed']),
  key_id: text.optional(),
  node_id: text.optional(),
  set_id: text.optional(),
  share_index: z.number().int().min(0).max(255).optional(),
  envelope_hash: text.optional(),
  signature: text.optional(),
  version: z.number().int().optional(),
  operator: text.optional(),
  approver: text.optional(),
  target: text.optional(),
  reason: text.optional(),
  detail: text.optional(),
});
export type AuditFields = z.infer<typeof auditFieldsSchema>;

export const auditEntrySchema = z.strictObject({
  seq: z.number().int().min(0),
  at: z.number().int().min(0),
  prev: hex32,
  hash: hex32,
  fields: auditFieldsSchema,
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

export const GENESIS = '0'.repeat(64);

function entryHash(seq: number, at: number, prev: string, fields: AuditFields): string {
  const body = encodeCanonical({ seq, at, prev, fields: stripUndefined(fields) });
  return toHex(taggedHash('audit-entry', fromHex(prev), body));
}

function stripUndefined(fields: AuditFields): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(fields) as [string, string | number | undefined][]) if (v !== undefined) out[k] = v;
  return out;
}

/** Builds the next entry after `head` (null for the first entry). */
export function nextEntry(head: { seq: number; hash: string } | null, at: number, fields: AuditFields): AuditEntry {
  const checked = auditFieldsSchema.parse(fields);
  const seq = head === null ? 0 : head.seq + 1;
  const prev = head === null ? GENESIS : head.hash;
  return { seq, at, prev, hash: entryHash(seq, at, prev, checked), fields: checked };
}

export interface ChainVerdict {
  readonly ok: boolean;
  readonly entries: number;
  /** The first entry that does not verify, and why. */
  readonly firstBad?: { readonly seq: number; readonly position: number; readonly reason: 'edited' | 'removed-or-reordered' | 'malformed' | 'truncated' };
}

/**
 * Verifies a whole chain in order. `head`, when given, is the last entry's seq and hash kept apart
 * from the log, and catches entries removed from the end.
 */
export function verifyChain(entries: readonly unknown[], head?: { seq: number; hash: string }): ChainVerdict {
  let prev = GENESIS;
  for (const [position, raw] of entries.entries()) {
    const parsed = auditEntrySchema.safeParse(raw);
    if (!parsed.success) return { ok: false, entries: entries.length, firstBad: { seq: position, position, reason: 'malformed' } };
    const e = parsed.data;
    if (e.seq !== position || e.prev !== prev) {
      return { ok: false, entries: entries.length, firstBad: { seq: e.seq, position, reason: 'removed-or-reordered' } };
    }
    if (entryHash(e.seq, e.at, e.prev, e.fields) !== e.hash) {
      return { ok: false, entries: entries.length, firstBad: { seq: e.seq, position, reason: 'edited' } };
    }
    prev = e.hash;
  }
  if (head !== undefined && (entries.length !== head.seq + 1 || prev !== head.hash)) {
    return { ok: false, entries: entries.length, firstBad: { seq: entries.length, position: entries.length, reason: 'truncated' } };
  }
  return { ok: true, entries: entries.length };
}

export function assertChain(entries: readonly unknown[], head?: { seq: number; hash: string }): void {
  const v = verifyChain(entries, head);
  if (!v.ok && v.firstBad) {
    throw new CustosError('MALFORMED', `The audit log does not verify: entry ${String(v.firstBad.seq)} was ${v.firstBad.reason.replace(/-/g, ' ')}.`, {
      details: { seq: v.firstBad.seq, reason: v.firstBad.reason },
    });
  }
}
