/**
 * Migration 3 of the agent database (agent/db.ts): the agent's first audit chain (legacy-v1.ts:
 * canonical JSON, tag "agent-audit", seq from 1) becomes the one chain of shared/audit/chain.ts
 * (canonical CBOR, tag "audit-entry", seq from 0), in place and verified, inside the migration's
 * transaction:
 *
 *   1. the stored chain is verified under its own (v1) rules; if it does not verify, nothing is
 *      changed and the agent refuses to open, naming the bad entry;
 *   2. every entry is re-chained under the new rules, keeping every field (envelope_sha256 is the
 *      one chain's envelope_hash; `time` is derived from `ts` as before; seq n becomes n - 1);
 *   3. an entry records the migration with the old head (seq and hash), so the new chain vouches for
 *      the old one; the agent signs a checkpoint of it the first time it opens (checkpoint.ts).
 */
import type Database from 'better-sqlite3';
import type { AuditFields } from '../../shared/audit/chain';
import { AgentError } from '../errors';
import { HEAD_HASH_V1, HEAD_SEQ_V1, verifyAuditV1 } from './legacy-v1';
import { AUDIT_SCHEMA_V2, writeEntry } from './log';

export const MIGRATION_ACTION = 'audit-migrate';

const V1_KEYS = new Set(['v', 'seq', 'ts', 'time', 'event', 'action', 'result', 'key_id', 'node_id', 'set_id', 'epoch', 'share_index', 'envelope_sha256', 'signature', 'version', 'operator', 'approver', 'target', 'reason', 'details']);

/** The one chain's fields for a v1 entry; refuses anything that would not survive the move. */
export function fieldsFromV1(e: Record<string, unknown>): AuditFields {
  for (const k of Object.keys(e)) {
    if (!V1_KEYS.has(k)) throw new AgentError('CORRUPT_FILE', `Audit entry ${String(e['seq'])} has a field "${k}" the audit chain does not know; the database was not changed.`);
  }
  if (e['v'] !== 1 || typeof e['ts'] !== 'number' || e['time'] !== new Date(e['ts']).toISOString()) {
    throw new AgentError('CORRUPT_FILE', `Audit entry ${String(e['seq'])} is not a version 1 entry with a consistent time; the database was not changed.`);
  }
  const f: Record<string, unknown> = {
    event: e['event'],
    action: e['action'],
    result: e['result'],
    key_id: e['key_id'],
    node_id: e['node_id'],
    set_id: e['set_id'],
    epoch: e['epoch'],
    share_index: e['share_index'],
    envelope_hash: e['envelope_sha256'],
    signature: e['signature'],
    version: e['version'],
    operator: e['operator'],
    approver: e['approver'],
    target: e['target'],
    reason: e['reason'],
    details: e['details'],
  };
  return Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)) as AuditFields;
}

/** Runs inside the migration's transaction. `nowMs` stamps the migration entry. */
export function migrateAuditToOneChain(db: Database.Database, nowMs: number): void {
  const v1 = verifyAuditV1(db);
  if (!v1.ok) {
    throw new AgentError(
      'CORRUPT_FILE',
      `The audit log does not verify under its original rules, so it cannot be carried over to the new audit chain: ${v1.firstBad?.message ?? 'unknown problem'} ` +
        'Nothing was changed. Keep this database for investigation and restore the data directory from a backup, or run an agent of the previous version to inspect it.',
      { details: { seq: v1.firstBad?.seq ?? 0, problem: v1.firstBad?.problem ?? 'unknown' } },
    );
  }
  db.exec(`DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; ALTER TABLE audit_log RENAME TO audit_log_v1;`);
  db.exec(AUDIT_SCHEMA_V2);
  for (const row of v1.rows) {
    try {
      writeEntry(db, fieldsFromV1(row.parsed), row.parsed['ts'] as number);
    } catch (error) {
      if (error instanceof AgentError) throw error;
      throw new AgentError('CORRUPT_FILE', `Audit entry ${String(row.seq)} holds a value the audit chain cannot hold; the database was not changed.`, { cause: error });
    }
  }
  db.exec('DROP TABLE audit_log_v1;');
  db.prepare('DELETE FROM meta WHERE name IN (?, ?)').run(HEAD_SEQ_V1, HEAD_HASH_V1);
  if (v1.entries > 0) {
    writeEntry(
      db,
      {
        event: 'configure',
        action: MIGRATION_ACTION,
        result: 'ok',
        operator: 'agent (database migration 3)',
        version: 1,
        target: 'audit-log',
        details: {
          from: 'agent-audit v1: canonical JSON, seq from 1',
          to: 'audit-entry: canonical CBOR, seq from 0',
          entries: v1.entries,
          v1_head_seq: v1.entries,
          v1_head_hash: v1.headHash,
        },
      },
      nowMs,
    );
  }
}
