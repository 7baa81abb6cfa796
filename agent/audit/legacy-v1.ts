/**
 * The agent's first audit chain (schema versions 1 and 2), kept only to verify a stored log under
 * its own rules before migration 3 re-chains it under the one chain of shared/audit/chain.ts.
 * Never written to any more.
 *
 *   entry  = canonical JSON (keys sorted, no whitespace, integers only) of
 *            { v: 1, seq (from 1), ts, time, event, action, result, key_id, node_id, set_id, epoch,
 *              share_index, envelope_sha256, signature, version, operator, approver, target, reason,
 *              details }   (absent fields are omitted)
 *   hash_n = taggedHash("agent-audit", hash_{n-1}, entry_n)    with hash_0 = 32 zero bytes
 *   head   = meta "audit_head_seq" / "audit_head_hash"
 */
import type Database from 'better-sqlite3';
import { fromHex, toHex } from '../../shared/bytes';
import { taggedHash } from '../../shared/crypto/hash';
import { AgentError } from '../errors';

/** The v1 table, as migration 1 created it (a shipped migration: never change this text). */
export const AUDIT_SCHEMA_V1 = `
CREATE TABLE audit_log (
  seq       INTEGER PRIMARY KEY,
  entry     TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash      TEXT NOT NULL
) STRICT;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`;

export const GENESIS_HASH_V1 = '00'.repeat(32);
export const HEAD_SEQ_V1 = 'audit_head_seq';
export const HEAD_HASH_V1 = 'audit_head_hash';

/** Canonical JSON: object keys sorted by UTF-16 code units, no whitespace, safe integers only. */
export function canonicalJsonV1(value: unknown): string {
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
      if (Array.isArray(value)) return `[${value.map(canonicalJsonV1).join(',')}]`;
      const keys = Object.keys(value).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJsonV1((value as Record<string, unknown>)[k])}`).join(',')}}`;
    }
    default:
      throw new AgentError('INTERNAL', `An audit entry cannot hold a ${typeof value}.`);
  }
}

export function entryHashV1(prevHash: string, entryJson: string): string {
  return toHex(taggedHash('agent-audit', fromHex(prevHash, 'previous audit hash'), entryJson));
}

export interface V1Row {
  seq: number;
  entry: string;
  prev_hash: string;
  hash: string;
}

export interface V1Verification {
  readonly ok: boolean;
  readonly entries: number;
  readonly headHash: string;
  readonly rows: readonly (V1Row & { parsed: Record<string, unknown> })[];
  readonly firstBad?: { readonly seq: number; readonly problem: string; readonly message: string };
}

/** Verifies a v1 `audit_log` table exactly as the v1 agent did, returning the parsed rows. */
export function verifyAuditV1(db: Database.Database): V1Verification {
  const rows = db.prepare('SELECT seq, entry, prev_hash, hash FROM audit_log ORDER BY seq ASC').all() as V1Row[];
  let expectedSeq = 1;
  let prev = GENESIS_HASH_V1;
  const out: (V1Row & { parsed: Record<string, unknown> })[] = [];
  const bad = (seq: number, problem: string, message: string): V1Verification => ({ ok: false, entries: out.length, headHash: prev, rows: out, firstBad: { seq, problem, message } });
  for (const row of rows) {
    if (row.seq !== expectedSeq) return bad(expectedSeq, 'missing', `Audit entry ${String(expectedSeq)} is missing: the log jumps from ${String(expectedSeq - 1)} to ${String(row.seq)}.`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(row.entry);
    } catch {
      return bad(row.seq, 'unreadable', `Audit entry ${String(row.seq)} is not valid JSON.`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || (parsed as { seq?: unknown }).seq !== row.seq) {
      return bad(row.seq, 'reordered', `Audit entry ${String(row.seq)} holds the content of another entry: entries were reordered or moved.`);
    }
    if (row.prev_hash !== prev) return bad(row.seq, 'chain-broken', `Audit entry ${String(row.seq)} does not follow entry ${String(row.seq - 1)}.`);
    let canonical: string;
    try {
      canonical = canonicalJsonV1(parsed);
    } catch {
      return bad(row.seq, 'unreadable', `Audit entry ${String(row.seq)} holds values an audit entry cannot hold.`);
    }
    if (canonical !== row.entry || entryHashV1(prev, row.entry) !== row.hash) {
      return bad(row.seq, 'edited', `Audit entry ${String(row.seq)} was changed after it was written: its hash does not cover its content.`);
    }
    out.push({ ...row, parsed: parsed as Record<string, unknown> });
    prev = row.hash;
    expectedSeq++;
  }
  const head = db.prepare('SELECT name, value FROM meta WHERE name IN (?, ?)').all(HEAD_SEQ_V1, HEAD_HASH_V1) as { name: string; value: string }[];
  const headSeq = Number(head.find((h) => h.name === HEAD_SEQ_V1)?.value ?? '0');
  const headHash = head.find((h) => h.name === HEAD_HASH_V1)?.value ?? GENESIS_HASH_V1;
  if (headSeq !== out.length || headHash !== prev) {
    return bad(Math.min(out.length + 1, headSeq), 'truncated', `The audit log ends at entry ${String(out.length)} but its recorded head is entry ${String(headSeq)}: entries were cut off the end or the head was altered.`);
  }
  return { ok: true, entries: out.length, headHash: prev, rows: out };
}
