/**
 * The agent's append-only audit log (seeds SOP §7 "审计与证据"), stored in the agent database and
 * chained by the one audit chain of shared/audit/chain.ts (canonical CBOR, tag "audit-entry", seq
 * from 0) that the custodian app uses too; checked by the one verifier of shared/audit/verify.ts.
 *
 * Every entry carries the SOP's fields — key_id, node_id, share_index, envelope hash, signature,
 * version, timestamp, operator, approver, target entity, result and failure reason — for the SOP's
 * events (generate, deliver, confirm, inspect, drill, recover, delete, rollback) and the agent's own
 * (init, register, import, configure), with the agent's action, set_id, epoch and details.
 *
 * Storage: `audit_log(seq, entry, hash)`, `entry` being the chain entry as JSON (what an export
 * line holds), made append-only by triggers for every ordinary writer; the head (size and hash) in
 * `meta`, written in the same transaction, so cutting entries off the end is noticed; signed
 * checkpoints in `audit_checkpoints` and in an external sink (agent/audit/checkpoint.ts), so a
 * writer of the database file who rewrites the whole chain is noticed too.
 *
 * The API keeps the agent's flat view of an entry (`AuditEntry`: seq, ts, time, event, action, …,
 * envelope_sha256, details) that the CLI, metrics and tests read.
 */
import type Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { EMPTY_HEAD, nextEntry, stepChain, type AuditEntry as ChainEntry, type AuditFields, type AuditValue, type ChainHead } from '../../shared/audit/chain';
import type { CheckpointBody } from '../../shared/audit/checkpoint';
import { ChainReader, CheckpointIndex, type AuditVerification } from '../../shared/audit/verify';
import { fromHex } from '../../shared/bytes';
import type { Verifier } from '../../shared/protocol/frame';
import { PROTOCOL_VERSION } from '../../shared/protocol/frame';
import { FileError } from '../../node/errors';
import { AgentError } from '../errors';

export type { AuditValue } from '../../shared/audit/chain';
import type { AuditEvent as ChainAuditEvent } from '../../shared/audit/chain';
export type { AuditVerification } from '../../shared/audit/verify';

/** The events the agent writes: a subset of the one chain's list (shared/audit/chain.ts), checked by the compiler. */
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
] as const satisfies readonly ChainAuditEvent[];
export type AuditEvent = (typeof AUDIT_EVENTS)[number];
export type AuditResult = 'ok' | 'refused' | 'failed';

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

/** The agent's flat view of one chain entry. */
export interface AuditEntry {
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

/** The tables of the one chain (created by migration 3, agent/audit/migrate.ts). */
export const AUDIT_SCHEMA_V2 = `
CREATE TABLE audit_log (
  seq   INTEGER PRIMARY KEY CHECK (seq >= 0),
  entry TEXT NOT NULL,
  hash  TEXT NOT NULL CHECK (length(hash) = 64)
) STRICT;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE audit_checkpoints (
  size   INTEGER PRIMARY KEY CHECK (size >= 1),
  head   TEXT NOT NULL CHECK (length(head) = 64),
  at     INTEGER NOT NULL,
  reason TEXT NOT NULL,
  line   TEXT NOT NULL
) STRICT;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
`;

export const HEAD_SIZE = 'audit_size';
export const HEAD_HASH = 'audit_head';

/** The chain fields an agent input becomes (the one chain's names: envelope_sha256 → envelope_hash). */
export function fieldsOf(input: AuditInput): AuditFields {
  const f: Record<string, unknown> = {
    event: input.event,
    action: input.action,
    result: input.result,
    key_id: input.keyId,
    node_id: input.nodeId,
    set_id: input.setId,
    epoch: input.epoch,
    share_index: input.shareIndex,
    envelope_hash: input.envelopeSha256,
    signature: input.signature,
    version: input.version ?? PROTOCOL_VERSION,
    operator: input.operator,
    approver: input.approver,
    target: input.target,
    reason: input.reason,
    details: input.details,
  };
  return Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)) as AuditFields;
}

/** The agent's flat view of a chain entry. */
export function viewOf(e: ChainEntry): AuditEntry {
  const f = e.fields;
  const view: Record<string, unknown> = {
    seq: e.seq,
    ts: e.at,
    time: new Date(e.at).toISOString(),
    event: f.event,
    action: f.action ?? '',
    result: f.result,
    key_id: f.key_id,
    node_id: f.node_id,
    set_id: f.set_id,
    epoch: f.epoch,
    share_index: f.share_index,
    envelope_sha256: f.envelope_hash,
    signature: f.signature,
    version: f.version ?? PROTOCOL_VERSION,
    operator: f.operator,
    approver: f.approver,
    target: f.target,
    reason: f.reason ?? f.detail,
    details: f.details,
  };
  return Object.fromEntries(Object.entries(view).filter(([, v]) => v !== undefined)) as unknown as AuditEntry;
}

interface Statements {
  last: Database.Statement;
  insert: Database.Statement;
  setMeta: Database.Statement;
}
const statements = new WeakMap<Database.Database, Statements>();
function stmts(db: Database.Database): Statements {
  let s = statements.get(db);
  if (s === undefined) {
    s = {
      last: db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1'),
      insert: db.prepare('INSERT INTO audit_log (seq, entry, hash) VALUES (?, ?, ?)'),
      setMeta: db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value'),
    };
    statements.set(db, s);
  }
  return s;
}

/** The chain's head as the entries say it (not the recorded head in meta). */
export function chainHead(db: Database.Database): ChainHead {
  const last = stmts(db).last.get() as { seq: number; hash: string } | undefined;
  return last === undefined ? EMPTY_HEAD : { size: last.seq + 1, hash: last.hash };
}

/** Called after every append, inside its transaction (the checkpoint policy hangs here). */
export type AppendHook = (head: ChainHead, entry: ChainEntry) => void;

/** What agent/audit/checkpoint.ts attaches to an open database: the policy hook and the agent's key. */
export interface AuditSigner {
  readonly hook: AppendHook;
  /** The agent's own public key, from its KEK-sealed identity (never from the database). */
  readonly publicKey: Uint8Array;
  readonly verify?: Verifier;
}
const signers = new WeakMap<Database.Database, AuditSigner>();
export function setAuditSigner(db: Database.Database, signer: AuditSigner | undefined): void {
  if (signer === undefined) signers.delete(db);
  else signers.set(db, signer);
}

/** Where checkpoints also go (a file outside the data directory), as configured. */
export const META_SINK = 'audit_sink';

/** The sink FILE, if the sink is one (a syslog sink cannot be read back: export a collector's copy and verify it). */
export function sinkPath(db: Database.Database): string | undefined {
  const row = db.prepare('SELECT value FROM meta WHERE name = ?').get(META_SINK) as { value: string } | undefined;
  return row === undefined || row.value === '' || row.value.startsWith('syslog:') ? undefined : row.value;
}

/** The sink's text, or undefined when there is no sink file (yet). */
export function readSink(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FileError('IO_FAILED', `The audit sink ${path} cannot be read; check that the agent may read it.`, { cause: error });
  }
}

/** Writes one chain entry (no policy hook): for appendAudit and the migration. */
export function writeEntry(db: Database.Database, fields: AuditFields, ts: number): ChainEntry {
  const s = stmts(db);
  const head = chainHead(db);
  const entry = nextEntry(head, ts, fields);
  s.insert.run(entry.seq, JSON.stringify(entry), entry.hash);
  s.setMeta.run(HEAD_SIZE, String(entry.seq + 1));
  s.setMeta.run(HEAD_HASH, entry.hash);
  return entry;
}

/**
 * Appends one entry. Runs inside the caller's transaction if there is one (so the entry commits
 * or rolls back with the change it records), else in its own IMMEDIATE transaction.
 */
export function appendAudit(db: Database.Database, input: AuditInput, ts: number): AuditRecord {
  if (!(AUDIT_EVENTS as readonly string[]).includes(input.event)) throw new AgentError('INTERNAL', `Unknown audit event "${input.event}".`);
  const run = (): AuditRecord => {
    let entry: ChainEntry;
    try {
      entry = writeEntry(db, fieldsOf(input), ts);
    } catch (error) {
      if (error instanceof Error && error.name === 'ZodError') throw new AgentError('INTERNAL', `An audit entry for ${input.event}/${input.action} has a field an audit entry cannot hold.`, { cause: error });
      throw error;
    }
    signers.get(db)?.hook({ size: entry.seq + 1, hash: entry.hash }, entry);
    return { entry: viewOf(entry), prevHash: entry.prev, hash: entry.hash };
  };
  return db.inTransaction ? run() : db.transaction(run).immediate();
}

interface Row {
  seq: number;
  entry: string;
  hash: string;
}

/** Checkpoint lines stored in the database, by size. */
export function storedCheckpoints(db: Database.Database, fromSize = 0): { size: number; line: string }[] {
  return db.prepare('SELECT size, line FROM audit_checkpoints WHERE size >= ? ORDER BY size ASC').all(fromSize) as { size: number; line: string }[];
}

export interface VerifyOptions {
  /** Start at the last valid checkpoint instead of the first entry. */
  readonly fromCheckpoint?: boolean;
  /**
   * The agent key(s) checkpoints must be signed by. Default: the attached agent's own key; for a
   * database read without its agent, the key recorded in `meta` (which a writer of the file could
   * replace: verify exports against the agent card for that case).
   */
  readonly agentKeys?: readonly Uint8Array[];
  /** Checkpoint lines from outside the database. Default: the configured sink file's text. */
  readonly external?: string;
  readonly verify?: Verifier;
}

function recordedHead(db: Database.Database): ChainHead {
  const head = db.prepare('SELECT name, value FROM meta WHERE name IN (?, ?)').all(HEAD_SIZE, HEAD_HASH) as { name: string; value: string }[];
  const size = Number(head.find((h) => h.name === HEAD_SIZE)?.value ?? '0');
  return { size, hash: head.find((h) => h.name === HEAD_HASH)?.value ?? EMPTY_HEAD.hash };
}

function parseRow(row: Row): unknown {
  try {
    const parsed = JSON.parse(row.entry) as unknown;
    // The hash column is what the head and checkpoints were computed from; it must be the entry's.
    if (typeof parsed === 'object' && parsed !== null && (parsed as { hash?: unknown }).hash !== row.hash) return { ...parsed, hash: row.hash };
    return parsed;
  } catch {
    return null;
  }
}

function agentKeysOf(db: Database.Database, given: readonly Uint8Array[] | undefined): readonly Uint8Array[] {
  if (given !== undefined) return given;
  const signer = signers.get(db);
  if (signer !== undefined) return [signer.publicKey];
  const row = db.prepare("SELECT value FROM meta WHERE name = 'agent_sign_key'").get() as { value: string } | undefined;
  return row === undefined ? [] : [fromHex(row.value, 'agent signing key')];
}

/**
 * Verifies the chain: every entry from the first (default), or from the last valid checkpoint on
 * (`fromCheckpoint`), against the checkpoints in the database and those given from outside.
 * Names the first bad entry: edited, missing, reordered, chain broken, rewritten (does not match a
 * signed checkpoint), or truncated (the recorded head or a checkpoint lies beyond the end).
 */
export function verifyAudit(db: Database.Database, options: VerifyOptions = {}): AuditVerification {
  const keys = agentKeysOf(db, options.agentKeys);
  const verify = options.verify ?? signers.get(db)?.verify;
  const sink = sinkPath(db);
  const externalText = options.external ?? (sink === undefined ? undefined : readSink(sink));
  const external: unknown[] = [];
  let unreadable = 0;
  for (const line of (externalText ?? '').split('\n')) {
    if (line.trim() === '') continue;
    try {
      external.push(JSON.parse(line));
    } catch {
      unreadable++;
    }
  }
  const recorded = recordedHead(db);
  if (options.fromCheckpoint === true) {
    const incremental = verifyFromCheckpoint(db, new CheckpointIndex(keys, verify), external, recorded, unreadable);
    if (incremental !== undefined) return incremental;
  }
  const cps = new CheckpointIndex(keys, verify);
  cps.invalid = unreadable;
  for (const { line } of storedCheckpoints(db)) cps.add(parseLine(line));
  for (const c of external) cps.add(c);
  const reader = new ChainReader(cps);
  for (const row of db.prepare('SELECT seq, entry, hash FROM audit_log ORDER BY seq ASC').iterate() as IterableIterator<Row>) {
    if (!reader.push(parseRow(row), row.seq)) break;
  }
  return reader.finish(recorded);
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return null;
  }
}

/**
 * The incremental path: the last checkpoint whose signature verifies (database or outside); the
 * entry it ends on must hash to its head; then only the entries after it are read. Returns
 * undefined when there is no usable checkpoint or it does not match the entries (the full path then
 * names the first bad entry). Invalid checkpoint lines met on the way still fail the verification.
 */
function verifyFromCheckpoint(db: Database.Database, cps: CheckpointIndex, external: readonly unknown[], recorded: ChainHead, unreadable: number): AuditVerification | undefined {
  let start: CheckpointBody | undefined;
  for (const row of db.prepare('SELECT line FROM audit_checkpoints ORDER BY size DESC').iterate() as IterableIterator<{ line: string }>) {
    start = cps.add(parseLine(row.line));
    if (start !== undefined) break;
  }
  // Outside checkpoints: the newest valid one (it may be beyond the database's).
  for (let i = external.length - 1; i >= 0; i--) {
    const b = cps.add(external[i]);
    if (b !== undefined) {
      if (start === undefined || b.size > start.size) start = b;
      break;
    }
  }
  if (start === undefined) return undefined;
  cps.invalid += unreadable;
  const at = db.prepare('SELECT seq, entry, hash FROM audit_log WHERE seq = ?').get(start.size - 1) as Row | undefined;
  if (at === undefined || at.hash !== start.head) return undefined;
  const e = parseRow(at) as { prev?: unknown } | null;
  if (e === null || typeof e.prev !== 'string') return undefined;
  // The checkpointed entry itself must hash to the signed head.
  const own = stepChain({ size: start.size - 1, hash: e.prev }, e);
  if (!own.ok || own.head.hash !== start.head) return undefined;
  const reader = new ChainReader(cps, start);
  for (const row of db.prepare('SELECT seq, entry, hash FROM audit_log WHERE seq >= ? ORDER BY seq ASC').iterate(start.size) as IterableIterator<Row>) {
    if (!reader.push(parseRow(row), row.seq)) break;
  }
  return reader.finish(recorded);
}

/** Entries in order, from `fromSeq` (default 0, the first), at most `limit` (default all). */
export function listAudit(db: Database.Database, options: { fromSeq?: number; limit?: number } = {}): AuditRecord[] {
  const rows = db.prepare('SELECT seq, entry, hash FROM audit_log WHERE seq >= ? ORDER BY seq ASC LIMIT ?').all(options.fromSeq ?? 0, options.limit ?? -1) as Row[];
  return rows.map((r) => {
    const e = JSON.parse(r.entry) as ChainEntry;
    return { entry: viewOf(e), prevHash: e.prev, hash: r.hash };
  });
}

/**
 * The log as JSON Lines for archiving and offline verification: one chain entry per line
 * ({"seq":…,"at":…,"prev":…,"hash":…,"fields":{…}}), each signed checkpoint
 * ({"checkpoint":{"body":…,"signature":…}}) right after the entry it ends on.
 */
export function exportAuditJsonl(db: Database.Database): string {
  const cps = new Map(storedCheckpoints(db).map((c) => [c.size, c.line]));
  const out: string[] = [];
  for (const r of db.prepare('SELECT seq, entry FROM audit_log ORDER BY seq ASC').iterate() as IterableIterator<Pick<Row, 'seq' | 'entry'>>) {
    out.push(r.entry, '\n');
    const cp = cps.get(r.seq + 1);
    if (cp !== undefined) out.push(cp, '\n');
  }
  return out.join('');
}
