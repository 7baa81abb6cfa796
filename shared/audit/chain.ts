/**
 * The one audit chain of Custos: append-only, hash-chained entries, written by the agent (in its
 * SQLite database) and by the custodian app (inside its sealed vault state), checked by one verifier
 * (docs/protocol.md "Audit chain").
 *
 *   entry  = { seq, at, prev, hash, fields }          seq counts from 0, at = ms since the epoch
 *   hash_n = taggedHash("audit-entry", prev_n, canonicalCBOR({ seq, at, prev, fields }))
 *   prev_0 = 32 zero bytes (GENESIS), prev_n = hash_{n-1}
 *
 * Each entry carries its sequence number and its predecessor's hash, so verification finds the first
 * entry that was edited (its hash no longer matches), removed (a gap in seq, or a prev that does not
 * match) or reordered. Removing entries from the END cannot be seen from the entries alone: callers
 * keep the head somewhere else (and the agent signs checkpoints of it, shared/audit/checkpoint.ts).
 *
 * Fields follow the seed SOP (§7 审计与证据): key_id, node_id, share_index, envelope hash,
 * signature, version, timestamp, operator, approver, target entity, result, failure reason; the
 * agent adds what it knows besides (action, set_id, epoch, structured details).
 */
import { z } from 'zod';
import { fromHex, toHex } from '../bytes';
import { encodeCanonical } from '../protocol/cbor';
import { taggedHash } from '../crypto/hash';
import { CustosError } from '../errors';

export const AUDIT_EVENTS = [
  'init',
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
  'configure',
] as const;
export type AuditEvent = (typeof AUDIT_EVENTS)[number];
export type AuditResult = 'ok' | 'refused' | 'failed';

/** What a structured `details` value may hold: no floats, no bytes (hex them), bounded depth. */
export type AuditValue = string | number | boolean | null | readonly AuditValue[] | { readonly [k: string]: AuditValue };

const MAX_DEPTH = 4;
/** A plain recursive check (a recursive zod schema costs tens of µs per entry; verification runs it per entry). */
function isAuditValue(v: unknown, depth: number): boolean {
  if (v === null || typeof v === 'boolean') return true;
  if (typeof v === 'string') return v.length <= 4096;
  if (typeof v === 'number') return Number.isSafeInteger(v);
  if (depth >= MAX_DEPTH || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.length <= 256 && v.every((x) => isAuditValue(x, depth + 1));
  if (Object.getPrototypeOf(v) !== Object.prototype) return false;
  const entries = Object.entries(v as Record<string, unknown>);
  return entries.length <= 256 && entries.every(([k, x]) => k.length <= 100 && isAuditValue(x, depth + 1));
}
const auditDetails = z.custom<{ readonly [k: string]: AuditValue }>((v) => typeof v === 'object' && v !== null && !Array.isArray(v) && isAuditValue(v, 0), {
  message: 'details hold strings, whole numbers, booleans, null, lists and maps, at most 4 deep',
});

const hex32 = z.string().regex(/^[0-9a-f]{64}$/);
const text = z.string().max(4096);

export const auditFieldsSchema = z.strictObject({
  event: z.enum(AUDIT_EVENTS),
  /** What exactly happened within the event, e.g. "backup-set", "hard-delete" (agent). */
  action: z.string().max(100).optional(),
  result: z.enum(['ok', 'refused', 'failed']),
  key_id: text.optional(),
  node_id: text.optional(),
  set_id: text.optional(),
  epoch: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  share_index: z.number().int().min(0).max(255).optional(),
  envelope_hash: text.optional(),
  signature: text.optional(),
  version: z.number().int().optional(),
  operator: text.optional(),
  approver: text.optional(),
  target: text.optional(),
  reason: text.optional(),
  /** A sentence (custodian app). */
  detail: text.optional(),
  /** Structured facts (agent). */
  details: auditDetails.optional(),
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

/** Where a chain stands: how many entries it holds and the last one's hash (GENESIS when empty). */
export interface ChainHead {
  readonly size: number;
  readonly hash: string;
}
export const EMPTY_HEAD: ChainHead = { size: 0, hash: GENESIS };

function stripUndefined(fields: AuditFields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields) as [string, unknown][]) if (v !== undefined) out[k] = v;
  return out;
}

/** The hash of an entry from its parts (fields already schema-checked). */
export function entryHash(seq: number, at: number, prev: string, fields: AuditFields): string {
  const body = encodeCanonical({ seq, at, prev, fields: stripUndefined(fields) });
  return toHex(taggedHash('audit-entry', fromHex(prev), body));
}

/** Builds the next entry after `head` (null or an empty head for the first entry). */
export function nextEntry(head: { seq: number; hash: string } | ChainHead | null, at: number, fields: AuditFields): AuditEntry {
  const checked = auditFieldsSchema.parse(fields);
  const seq = head === null ? 0 : 'size' in head ? head.size : head.seq + 1;
  const prev = head === null ? GENESIS : head.hash;
  return { seq, at, prev, hash: entryHash(seq, at, prev, checked), fields: checked };
}

/** Why one entry does not follow a head: not an entry, wrong seq, wrong prev, or content changed. */
export type StepProblem = 'malformed' | 'seq' | 'prev' | 'hash';
export type Step = { readonly ok: true; readonly entry: AuditEntry; readonly head: ChainHead } | { readonly ok: false; readonly problem: StepProblem; readonly seq?: number };

/** The one rule every verifier applies: does `raw` follow `head`? */
export function stepChain(head: ChainHead, raw: unknown): Step {
  const parsed = auditEntrySchema.safeParse(raw);
  if (!parsed.success) return { ok: false, problem: 'malformed' };
  const e = parsed.data;
  if (e.seq !== head.size) return { ok: false, problem: 'seq', seq: e.seq };
  if (e.prev !== head.hash) return { ok: false, problem: 'prev', seq: e.seq };
  if (entryHash(e.seq, e.at, e.prev, e.fields) !== e.hash) return { ok: false, problem: 'hash', seq: e.seq };
  return { ok: true, entry: e, head: { size: e.seq + 1, hash: e.hash } };
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
  let at: ChainHead = EMPTY_HEAD;
  for (const [position, raw] of entries.entries()) {
    const step = stepChain(at, raw);
    if (!step.ok) {
      const reason = step.problem === 'hash' ? 'edited' : step.problem === 'malformed' ? 'malformed' : 'removed-or-reordered';
      return { ok: false, entries: entries.length, firstBad: { seq: step.seq ?? position, position, reason } };
    }
    at = step.head;
  }
  if (head !== undefined && (at.size !== head.seq + 1 || at.hash !== head.hash)) {
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
