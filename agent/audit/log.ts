/**
 * The append-only, hash-chained audit log (seeds SOP §7 "审计与证据").
 *
 * Every entry carries the SOP's fields — key_id, node_id, share_index, envelope hash, signature,
 * version, timestamp, operator, approver, target entity, result and failure reason — for the SOP's
 * events (generate, deliver, confirm, inspect, drill, recover, delete, rollback) and the agent's own
 * (init, register, import, configure). Inventory challenges and attestations (SOP §4.3 盘点) are
 * `inspect` events. Entries live in the `audit_log` table of the agent database, which
 * triggers make append-only for every ordinary writer.
 *
 *   entry  = canonical JSON (keys sorted, no whitespace, integers only) of
 *            { v: 1, seq, ts (ms since epoch), time (ISO 8601), event, action, result, key_id, node_id,
 *              set_id, epoch, share_index, envelope_sha256, signature, version, operator, approver,
 *              target, reason, details }   (absent fields are omitted)
 *   hash_n = taggedHash("agent-audit", hash_{n-1}, entry_n)    with hash_0 = 32 zero bytes
 *
 * The current head (seq and hash) is kept in `meta` in the same transaction, so `verifyAudit` also
 * notices entries cut off the end. Anyone with a copy of the table can re-verify the chain: the
 * hash is unkeyed on purpose (compliance can check an exported log without a secret).
 */
import type Database from 'better-sqlite3';
import { fromHex, toHex } from '../../shared/bytes';
import { taggedHash } from '../../shared/crypto/hash';
import { PROTOCOL_VERSION } from '../../shared/protocol/frame';
import { AgentError } from '../errors';

export const AUDIT_EVENTS = [
  'init',
  'register',
  'import',
  'generate',
  'deliver',
  'confirm',
  'inspect',
  'drill',
  'recover',
  'delete',
  'rollback',
  'configure',
] as const;
export type AuditEvent = (typeof AUDIT_EVENTS)[number];
export type AuditResult = 'ok' | 'refused' | 'failed';

export type AuditValue = string | number | boolean | null | readonly AuditValue[] | { readonly [k: string]: AuditValue };

export interface AuditInput {
  readonly event: AuditEvent;
  /** What exactly happened within the event, e.g. "backup-set", "share", "session-open". */
  readonly action: string;
  readonly result: AuditResult;
  readonly keyId?: string;
  readonly nodeId?: string;
  readonly setId?: string;
  readonly epoch?: number;
  readonly shareIndex?: number;
  readonly envelopeSha256?: string;
  /** Hex signature of the message the event is about (envelope, receipt, approval, request). */
  readonly signature?: string;
  /** Protocol / format version of that message (defaults to the protocol version). */
  readonly version?: number;
  readonly operator?: string;
  readonly approver?: string;
  /** The target entity: a custodian's fingerprint and label, "server", a file… */
  readonly target?: string;
  /** Failure reason: "<CODE>: <sentence>". */
  readonly reason?: string;
  readonly details?: { readonly [k: string]: AuditValue };
}

export interface AuditEntry {
  readonly v: 1;
  readonly seq: number;
  readonly ts: number;
  readonly time: string;
  readonly event: AuditEvent;
  readonly action: string;
  readonly result: AuditResult;
  readonly key_id?: string;
  readonly node_id?: string;
  readonly set_id?: string;
  readonly epoch?: number;
  readonly share_index?: number;
  readonly envelope_sha256?: string;
  readonly signature?: string;
  readonly version: number;
  readonly operator?: string;
  readonly approver?: string;
  readonly target?: string;
  readonly reason?: string;
  readonly details?: { readonly [k: string]: AuditValue };
}

export interface AuditRecord {
  readonly entry: AuditEntry;
  readonly prevHash: string;
  readonly hash: string;
}

export const AUDIT_SCHEMA = `
CREATE TABLE audit_log (
  seq       INTEGER PRIMARY KEY,
  entry     TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
) STRICT;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`;

export const GENESIS_HASH = '00'.repeat(32);

/** Canonical JSON: object keys sorted by UTF-16 code units, no whitespace, safe integers only. */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) throw new AgentError('INTERNAL', 'Audit entries hold whole numbers only.');
      return String(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
    }
    default:
      throw new AgentError('INTERNAL', `An audit entry cannot hold a ${typeof value}.`);
  }
}

export function entryHash(prevHash: string, entryJson: string): string {
  return toHex(taggedHash('agent-audit', fromHex(prevHash, 'previous audit hash'), entryJson));
}

function buildEntry(input: AuditInput, seq: number, ts: number): AuditEntry {
  const entry: Record<string, unknown> = {
    v: 1,
    seq,
    ts,
    time: new Date(ts).toISOString(),
    event: input.event,
    action: input.action,
    result: input.result,
    key_id: input.keyId,
    node_id: input.nodeId,
    set_id: input.setId,
    epoch: input.epoch,
    share_index: input.shareIndex,
    envelope_sha256: input.envelopeSha256,
    signature: input.signature,
    version: input.version ?? PROTOCOL_VERSION,
    operator: input.operator,
    approver: input.approver,
    target: input.target,
    reason: input.reason,
    details: input.details,
  };
  return Object.fromEntries(Object.entries(entry).filter(([, v]) => v !== undefined)) as unknown as AuditEntry;
}

interface AuditRow {
  seq: number;
  entry: string;
  prev_hash: string;
  hash: string;
}

const HEAD_SEQ = 'audit_head_seq';
const HEAD_HASH = 'audit_head_hash';

/**
 * Appends one entry. Runs inside the caller's transaction if there is one (so the entry commits
 * or rolls back with the change it records), else in its own IMMEDIATE transaction.
 */
export function appendAudit(db: Database.Database, input: AuditInput, ts: number): AuditRecord {
  if (!(AUDIT_EVENTS as readonly string[]).includes(input.event)) throw new AgentError('INTERNAL', `Unknown audit event "${input.event}".`);
  const run = (): AuditRecord => {
    const last = db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as Pick<AuditRow, 'seq' | 'hash'> | undefined;
    const seq = (last?.seq ?? 0) + 1;
    const prevHash = last?.hash ?? GENESIS_HASH;
    const entry = buildEntry(input, seq, ts);
    const json = canonicalJson(entry);
    const hash = entryHash(prevHash, json);
    db.prepare('INSERT INTO audit_log (seq, entry, prev_hash, hash) VALUES (?, ?, ?, ?)').run(seq, json, prevHash, hash);
    const setMeta = db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value');
    setMeta.run(HEAD_SEQ, String(seq));
    setMeta.run(HEAD_HASH, hash);
    return { entry, prevHash, hash };
  };
  return db.inTransaction ? run() : db.transaction(run).immediate();
}

export interface AuditVerification {
  readonly ok: boolean;
  /** Entries read. */
  readonly entries: number;
  readonly headHash: string;
  /** The first entry that does not verify, and why. */
  readonly firstBad?: { readonly seq: number; readonly problem: 'missing' | 'edited' | 'reordered' | 'chain-broken' | 'unreadable' | 'truncated'; readonly message: string };
}

/**
 * Re-verifies the whole chain from the first entry. Names the first bad entry: an edited entry
 * (its hash does not cover its content), a removed one (a gap in the sequence, or the recorded
 * head is beyond the last entry), a reordered one (an entry's own seq is not its position, or its
 * previous hash is not its predecessor's).
 */
export function verifyAudit(db: Database.Database): AuditVerification {
  const rows = db.prepare('SELECT seq, entry, prev_hash, hash FROM audit_log ORDER BY seq ASC').iterate() as IterableIterator<AuditRow>;
  let expectedSeq = 1;
  let prev = GENESIS_HASH;
  let count = 0;
  const bad = (seq: number, problem: NonNullable<AuditVerification['firstBad']>['problem'], message: string): AuditVerification => ({
    ok: false,
    entries: count,
    headHash: prev,
    firstBad: { seq, problem, message },
  });
  for (const row of rows) {
    count++;
    if (row.seq !== expectedSeq) {
      return bad(expectedSeq, 'missing', `Audit entry ${String(expectedSeq)} is missing: the log jumps from ${String(expectedSeq - 1)} to ${String(row.seq)}.`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(row.entry);
    } catch {
      return bad(row.seq, 'unreadable', `Audit entry ${String(row.seq)} is not valid JSON.`);
    }
    const ownSeq = typeof parsed === 'object' && parsed !== null ? (parsed as { seq?: unknown }).seq : undefined;
    if (ownSeq !== row.seq) {
      return bad(row.seq, 'reordered', `Audit entry ${String(row.seq)} holds the content of entry ${String(ownSeq)}: entries were reordered or moved.`);
    }
    if (row.prev_hash !== prev) {
      return bad(row.seq, 'chain-broken', `Audit entry ${String(row.seq)} does not follow entry ${String(row.seq - 1)}: an entry before it was removed, replaced or reordered.`);
    }
    let canonical: string;
    try {
      canonical = canonicalJson(parsed);
    } catch {
      return bad(row.seq, 'unreadable', `Audit entry ${String(row.seq)} holds values an audit entry cannot hold.`);
    }
    if (canonical !== row.entry || entryHash(prev, row.entry) !== row.hash) {
      return bad(row.seq, 'edited', `Audit entry ${String(row.seq)} was changed after it was written: its hash does not cover its content.`);
    }
    prev = row.hash;
    expectedSeq++;
  }
  const head = db.prepare('SELECT name, value FROM meta WHERE name IN (?, ?)').all(HEAD_SEQ, HEAD_HASH) as { name: string; value: string }[];
  const headSeq = Number(head.find((h) => h.name === HEAD_SEQ)?.value ?? '0');
  const headHash = head.find((h) => h.name === HEAD_HASH)?.value ?? GENESIS_HASH;
  if (headSeq !== count || headHash !== prev) {
    return bad(
      Math.min(count + 1, headSeq),
      'truncated',
      `The audit log ends at entry ${String(count)} but its recorded head is entry ${String(headSeq)}: entries were cut off the end or the head was altered.`,
    );
  }
  return { ok: true, entries: count, headHash: prev };
}

/** Entries in order, from `fromSeq` (default 1), at most `limit` (default all). */
export function listAudit(db: Database.Database, options: { fromSeq?: number; limit?: number } = {}): AuditRecord[] {
  const rows = db
    .prepare('SELECT seq, entry, prev_hash, hash FROM audit_log WHERE seq >= ? ORDER BY seq ASC LIMIT ?')
    .all(options.fromSeq ?? 1, options.limit ?? -1) as AuditRow[];
  return rows.map((r) => ({ entry: JSON.parse(r.entry) as AuditEntry, prevHash: r.prev_hash, hash: r.hash }));
}

/** The log as JSON Lines ({"entry":…,"prev_hash":…,"hash":…} per line), for archiving. */
export function exportAuditJsonl(db: Database.Database): string {
  const rows = db.prepare('SELECT seq, entry, prev_hash, hash FROM audit_log ORDER BY seq ASC').all() as AuditRow[];
  return rows.map((r) => `{"entry":${r.entry},"prev_hash":"${r.prev_hash}","hash":"${r.hash}"}\n`).join('');
}
