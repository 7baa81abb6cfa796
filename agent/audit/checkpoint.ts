/**
 * The agent's signed audit checkpoints (issue 9 §2; format in shared/audit/checkpoint.ts): when,
 * where they go, and the external sink.
 *
 * When: every `every` entries (default 1,000), when an entry is appended `intervalMs` (default one
 * hour) or more after the last checkpoint, on every sensitive event (a completed recovery, a hard
 * delete or zero-retention purge, a KEK rotation: see `sensitiveReason`), and whenever a module
 * calls `checkpoint(db, reason)`. A checkpoint made inside a transaction commits or rolls back
 * with it.
 *
 * Where: the `audit_checkpoints` table, and — after the transaction committed — appended to the
 * sink file configured with `configureAudit` (outside the data directory; each line fsynced). A
 * sink that cannot be written does not stop the agent: the checkpoints stay in the database, the
 * failure is kept (`auditStatus(db).sinkError`) and the next flush writes what is missing.
 */
import type Database from 'better-sqlite3';
import { closeSync, fsyncSync, openSync, realpathSync, statSync, writeSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { AuditEntry as ChainEntry, ChainHead } from '../../shared/audit/chain';
import { CHECKPOINT_REASONS, openCheckpoint, signCheckpoint, type CheckpointReason, type SignedCheckpoint } from '../../shared/audit/checkpoint';
import { toHex } from '../../shared/bytes';
import type { SigningKey, Verifier } from '../../shared/protocol/frame';
import { agentFingerprint } from '../../shared/protocol/identity';
import { CustosError } from '../../shared/errors';
import { AgentError } from '../errors';
import { appendAudit, chainHead, META_SINK, readSink, setAuditSigner } from './log';
import { MIGRATION_ACTION } from './migrate';
import { parseSyslogTarget, rfc5424, sendSyslog, SYSLOG_PREFIX, syslogSpec, type SyslogTarget } from './syslog';

export { CHECKPOINT_REASONS, type CheckpointReason } from '../../shared/audit/checkpoint';

export const DEFAULT_CHECKPOINT_EVERY = 1000;
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 3_600_000;

const META_EVERY = 'audit_checkpoint_every';
const META_INTERVAL = 'audit_checkpoint_interval_ms';

export interface AuditPolicy {
  /** A checkpoint after this many entries since the last one (0: never by count). */
  readonly every: number;
  /** A checkpoint at the first entry this long after the last one (0: never by time). */
  readonly intervalMs: number;
  /**
   * Absolute path of the sink file, outside the data directory, or a syslog target
   * (`syslog:udp://…`, `syslog:tcp://…`, `syslog:unix:/…`, ./syslog.ts); undefined: database only.
   */
  readonly sink?: string;
}

interface Attached {
  readonly signing: SigningKey;
  readonly fingerprint: string;
  readonly now: () => number;
  readonly verify: Verifier | undefined;
  policy: AuditPolicy;
  last: { size: number; head: string; at: number } | undefined;
  /** The newest checkpoint the sink holds (read at attach): the database's may have been removed. */
  sinkLast: { size: number; head: string } | undefined;
  /** Why the last checkpoint was not signed, if it was not (status). */
  refused: string | undefined;
  /** The largest size known to be in the sink. */
  sinkSize: number;
  sinkError: string | undefined;
  flushScheduled: boolean;
  /** The syslog sends in flight (chained), and the size of the newest checkpoint queued. */
  sending: Promise<void> | undefined;
  queued: number;
}

/** How far the syslog sink got (it cannot be read back): the size of the last checkpoint it took. */
const META_SYSLOG_SENT = 'audit_syslog_sent';

const syslogTargetOf = (sink: string | undefined): SyslogTarget | undefined => (sink?.startsWith(SYSLOG_PREFIX) === true ? parseSyslogTarget(sink) : undefined);

function syslogSent(db: Database.Database): number {
  const row = db.prepare('SELECT value FROM meta WHERE name = ?').get(META_SYSLOG_SENT) as { value: string } | undefined;
  const n = Number(row?.value ?? 0);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

const attached = new WeakMap<Database.Database, Attached>();

/** The entry's checkpoint reason if it records a sensitive event, else undefined. */
export function sensitiveReason(e: ChainEntry): CheckpointReason | undefined {
  const f = e.fields;
  if (f.result !== 'ok') return undefined;
  const action = f.action ?? '';
  if (f.event === 'recover' && action === 'session-complete') return 'recovery-completed';
  if (f.event === 'delete' && (action === 'hard-delete' || action === 'zero-retention' || action === 'purge')) return 'hard-delete';
  if (action.startsWith('kek-') || (f.event === 'rotate' && action.includes('kek'))) return 'kek-rotation';
  return undefined;
}

export function readPolicy(db: Database.Database): AuditPolicy {
  const rows = db.prepare('SELECT name, value FROM meta WHERE name IN (?, ?, ?)').all(META_EVERY, META_INTERVAL, META_SINK) as { name: string; value: string }[];
  const get = (n: string): string | undefined => rows.find((r) => r.name === n)?.value;
  const every = Number(get(META_EVERY) ?? DEFAULT_CHECKPOINT_EVERY);
  const intervalMs = Number(get(META_INTERVAL) ?? DEFAULT_CHECKPOINT_INTERVAL_MS);
  const sink = get(META_SINK);
  return { every, intervalMs, ...(sink === undefined || sink === '' ? {} : { sink }) };
}

function lastCheckpoint(db: Database.Database): { size: number; head: string; at: number } | undefined {
  return db.prepare('SELECT size, head, at FROM audit_checkpoints ORDER BY size DESC LIMIT 1').get() as { size: number; head: string; at: number } | undefined;
}

export { readSink } from './log';

/** The sink's newest line whose signature verifies (cheap: reads back from the end, stops at the first). */
function sinkLastOf(path: string, keys: readonly Uint8Array[], verify: Verifier | undefined): { size: number; head: string } | undefined {
  const text = readSink(path);
  if (text === undefined) return undefined;
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  for (const line of lines.reverse()) {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      continue;
    }
    const opened = openCheckpoint(raw, keys, verify);
    if (opened.ok) return { size: opened.body.size, head: opened.body.head };
  }
  return undefined;
}

/**
 * Starts checkpointing for an open agent database: after this, every append applies the policy.
 * `verify` is the Ed25519 verifier to use (node:crypto's in the agent).
 */
export function attachCheckpoints(db: Database.Database, options: { signing: SigningKey; fingerprint?: string; now: () => number; verify?: Verifier }): void {
  const policy = readPolicy(db);
  const a: Attached = {
    signing: options.signing,
    fingerprint: options.fingerprint ?? toHex(agentFingerprint(options.signing.publicKey)),
    now: options.now,
    verify: options.verify,
    policy,
    last: lastCheckpoint(db),
    sinkSize: 0,
    sinkLast: undefined,
    refused: undefined,
    sinkError: undefined,
    flushScheduled: false,
    sending: undefined,
    queued: 0,
  };
  attached.set(db, a);
  if (policy.sink?.startsWith(SYSLOG_PREFIX) === true) {
    a.sinkSize = syslogSent(db);
    a.queued = a.sinkSize;
  } else if (policy.sink !== undefined) {
    try {
      a.sinkLast = sinkLastOf(policy.sink, [options.signing.publicKey], options.verify);
      a.sinkSize = a.sinkLast?.size ?? 0;
    } catch (error) {
      a.sinkError = error instanceof Error ? error.message : String(error);
    }
  }
  // Entries written while no signer was attached (migration 3; a KEK rotation run by `agent kek
  // rotate` on the database alone) get their checkpoint now if one of them is sensitive.
  const current = chainHead(db);
  const from = a.last?.size ?? 0;
  if (current.size > from) {
    let reason: CheckpointReason | undefined;
    for (const row of db.prepare('SELECT entry FROM audit_log WHERE seq >= ? ORDER BY seq').iterate(from) as IterableIterator<{ entry: string }>) {
      const e = JSON.parse(row.entry) as ChainEntry;
      reason = e.fields.action === MIGRATION_ACTION ? 'migration' : (sensitiveReason(e) ?? reason);
    }
    if (reason !== undefined) {
      const r = reason;
      db.transaction(() => make(db, a, current, r)).immediate();
    }
  }
  setAuditSigner(db, {
    publicKey: options.signing.publicKey,
    ...(options.verify === undefined ? {} : { verify: options.verify }),
    hook: (head, entry) => {
      const reason = sensitiveReason(entry) ?? (due(a, head) ? 'interval' : undefined);
      if (reason !== undefined) make(db, a, head, reason);
    },
  });
  flushSink(db);
}

/** Stops checkpointing (before the database closes): the sink gets what it still lacks. */
export function detachCheckpoints(db: Database.Database): void {
  const a = attached.get(db);
  if (a === undefined) return;
  if (db.open && !db.inTransaction) {
    // A checkpoint of the final head, so the sink also pins what was written since the last one.
    try {
      db.transaction(() => make(db, a, chainHead(db), 'close')).immediate();
    } catch {
      // A database that cannot be written now keeps its last checkpoint; nothing is lost.
    }
    flushSink(db);
  }
  setAuditSigner(db, undefined);
  attached.delete(db);
}

function due(a: Attached, head: ChainHead): boolean {
  const since = head.size - (a.last?.size ?? 0);
  if (since <= 0) return false;
  if (a.policy.every > 0 && since >= a.policy.every) return true;
  return a.policy.intervalMs > 0 && a.last !== undefined && a.now() - a.last.at >= a.policy.intervalMs;
}

/**
 * The agent never signs a chain that does not extend its last checkpoint (the database's, or the
 * sink's if that is newer): after a rewrite or a cut it refuses, so its key cannot launder one.
 */
function continuityProblem(db: Database.Database, a: Attached, head: ChainHead): string | undefined {
  const anchors = [a.last, a.sinkLast].filter((x): x is { size: number; head: string } => x !== undefined);
  for (const anchor of anchors) {
    if (anchor.size > head.size) return `the log holds ${String(head.size)} entries but a checkpoint covers ${String(anchor.size)}`;
    const row = db.prepare('SELECT hash FROM audit_log WHERE seq = ?').get(anchor.size - 1) as { hash: string } | undefined;
    if (row?.hash !== anchor.head) return `entry ${String(anchor.size - 1)} no longer has the hash its checkpoint signed`;
  }
  return undefined;
}

function make(db: Database.Database, a: Attached, head: ChainHead, reason: CheckpointReason): SignedCheckpoint | undefined {
  if (head.size === 0 || (a.last !== undefined && a.last.size >= head.size)) return undefined;
  const problem = continuityProblem(db, a, head);
  if (problem !== undefined) {
    a.refused = `No checkpoint was signed: ${problem}. Run \`agent audit verify\` to find what changed.`;
    return undefined;
  }
  a.refused = undefined;
  const at = a.now();
  const cp = signCheckpoint({ agent: a.fingerprint, size: head.size, head: head.hash, at, reason }, a.signing);
  db.prepare('INSERT INTO audit_checkpoints (size, head, at, reason, line) VALUES (?, ?, ?, ?, ?)').run(cp.size, cp.head, at, reason, cp.line);
  // If the transaction rolls back, so does the row; the flush re-reads the table after it ended.
  a.last = { size: cp.size, head: cp.head, at };
  scheduleFlush(db, a);
  return cp;
}

/**
 * Signs a checkpoint of the chain as it stands now, for a sensitive event a module knows of
 * (e.g. `checkpoint(db, 'kek-rotation')` after re-wrapping every data key). Returns undefined when
 * the last checkpoint already covers the head, or the database has no signer attached.
 */
export function checkpoint(db: Database.Database, reason: CheckpointReason): SignedCheckpoint | undefined {
  if (!(CHECKPOINT_REASONS as readonly string[]).includes(reason)) throw new AgentError('INTERNAL', `Unknown checkpoint reason "${reason}".`);
  const a = attached.get(db);
  if (a === undefined) return undefined;
  const run = (): SignedCheckpoint | undefined => make(db, a, chainHead(db), reason);
  const cp = db.inTransaction ? run() : db.transaction(run).immediate();
  if (!db.inTransaction) flushSink(db);
  return cp;
}

function scheduleFlush(db: Database.Database, a: Attached): void {
  if (a.flushScheduled) return;
  a.flushScheduled = true;
  // better-sqlite3 transactions are synchronous: by the time this runs, the one that made the
  // checkpoint has committed or rolled back, and the table says which.
  setImmediate(() => {
    a.flushScheduled = false;
    if (attached.get(db) !== a || !db.open) return;
    if (db.inTransaction) scheduleFlush(db, a);
    else flushSink(db);
  });
}

function appendLines(path: string, text: string): void {
  const fd = openSync(path, 'a', 0o600);
  try {
    const bytes = Buffer.from(text, 'utf8');
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Appends to the sink every checkpoint it does not have yet. Never throws; see `sinkError`. */
export function flushSink(db: Database.Database): void {
  const a = attached.get(db);
  if (a === undefined || !db.open || db.inTransaction) return;
  a.last = lastCheckpoint(db); // the truth after commit or rollback
  const sink = a.policy.sink;
  if (sink === undefined) return;
  if (sink.startsWith(SYSLOG_PREFIX)) {
    flushSyslog(db, a, sink);
    return;
  }
  const rows = db.prepare('SELECT size, line FROM audit_checkpoints WHERE size > ? ORDER BY size ASC').all(a.sinkSize) as { size: number; line: string }[];
  if (rows.length === 0) return;
  try {
    appendLines(sink, rows.map((r) => `${r.line}\n`).join(''));
    const newest = rows[rows.length - 1];
    if (newest !== undefined) a.sinkSize = newest.size;
    a.sinkError = undefined;
  } catch (error) {
    a.sinkError = `The audit sink ${sink} cannot be written (${(error as NodeJS.ErrnoException).code ?? String(error)}); checkpoints stay in the database and are written when it can be.`;
  }
}

/**
 * Sends what the syslog sink lacks, in the background and in order: the lines are read now (the
 * database may be closed by the time an earlier send finished) and chained after any send in
 * flight. The progress is kept in `meta` after each delivered batch while the database is open,
 * so a restart resends only what may not have been delivered (a collector sees a checkpoint at
 * most twice, never out of order); a failure is kept as `sinkError` and retried at the next flush.
 */
function flushSyslog(db: Database.Database, a: Attached, sink: string): void {
  const rows = db.prepare('SELECT size, line FROM audit_checkpoints WHERE size > ? ORDER BY size ASC').all(a.queued) as { size: number; line: string }[];
  const newest = rows[rows.length - 1]?.size;
  if (newest === undefined) return;
  let target: SyslogTarget;
  try {
    target = parseSyslogTarget(sink);
  } catch (error) {
    a.sinkError = error instanceof Error ? error.message : String(error);
    return;
  }
  a.queued = newest;
  const messages = rows.map((r) => rfc5424(r.line, new Date(a.now())));
  const send = async (): Promise<void> => {
    try {
      await sendSyslog(target, messages);
    } catch (error) {
      a.queued = a.sinkSize; // resent at the next flush
      a.sinkError = `The audit sink ${sink} cannot be reached (${(error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error))}); checkpoints stay in the database and are sent when it can be.`;
      return;
    }
    if (a.policy.sink !== sink) return; // reconfigured meanwhile
    a.sinkSize = Math.max(a.sinkSize, newest);
    a.sinkError = undefined;
    if (db.open && !db.inTransaction) {
      db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(META_SYSLOG_SENT, String(a.sinkSize));
    }
  };
  const chained: Promise<void> = (a.sending ?? Promise.resolve()).then(send).finally(() => {
    if (a.sending === chained) a.sending = undefined;
  });
  a.sending = chained;
}

/** Resolves when no syslog send is in flight (tests; the CLI before it exits). */
export async function sinkSettled(db: Database.Database): Promise<void> {
  for (;;) {
    const a = attached.get(db);
    if (a === undefined) return;
    if (a.sending !== undefined) await a.sending;
    else if (a.flushScheduled) await new Promise<void>((r) => setImmediate(r));
    else return;
  }
}

/**
 * Checks an `--audit-sink` value (file:PATH, an absolute PATH, or syslog:…) and returns the text to
 * store: a file's path checked to be outside the data directory, a syslog target in canonical form.
 */
export function checkSink(spec: string, dataDir: string): string {
  if (spec.startsWith(SYSLOG_PREFIX)) return syslogSpec(parseSyslogTarget(spec));
  return checkSinkPath(spec.startsWith('file:') ? spec.slice('file:'.length) : spec, dataDir);
}

/**
 * `agent init --audit-sink`: the checks that can run before the data directory exists (the form,
 * a file's folder exists and the file is not inside the directory-to-be); configureAudit checks again.
 */
export function precheckSink(spec: string, dataDir: string): void {
  if (spec.startsWith(SYSLOG_PREFIX)) {
    parseSyslogTarget(spec);
    return;
  }
  const path = spec.startsWith('file:') ? spec.slice('file:'.length) : spec;
  if (path === '' || !isAbsolute(path)) throw new CustosError('INVALID_PARAMETERS', `The audit sink must be file:/ABSOLUTE/PATH outside the data directory or syslog:udp://HOST:PORT, syslog:tcp://HOST:PORT, syslog:unix:/PATH; got "${spec}".`);
  const rel = relative(resolve(dataDir), resolve(path));
  if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) {
    throw new CustosError('INVALID_PARAMETERS', `The audit sink ${path} is inside the agent data directory; put it outside (another disk, a log volume), or a copy of the directory carries it along.`);
  }
  try {
    if (!statSync(dirname(resolve(path))).isDirectory()) throw new Error('not a directory');
  } catch (error) {
    throw new AgentError('NOT_FOUND', `The folder of the audit sink, ${dirname(resolve(path))}, does not exist; create it first (ideally on another disk or a mounted log volume).`, { cause: error });
  }
}

export interface AuditStatus extends AuditPolicy {
  readonly size: number;
  readonly lastCheckpoint?: { readonly size: number; readonly at: number };
  readonly sinkSize?: number;
  readonly sinkError?: string;
  /** Why the agent last refused to sign a checkpoint (the chain does not extend the last one). */
  readonly refused?: string;
}

export function auditStatus(db: Database.Database): AuditStatus {
  const a = attached.get(db);
  const policy = a?.policy ?? readPolicy(db);
  const last = lastCheckpoint(db);
  return {
    ...policy,
    size: chainHead(db).size,
    ...(last === undefined ? {} : { lastCheckpoint: last }),
    ...(a === undefined || policy.sink === undefined ? {} : { sinkSize: a.sinkSize }),
    ...(a?.sinkError === undefined ? {} : { sinkError: a.sinkError }),
    ...(a?.refused === undefined ? {} : { refused: a.refused }),
  };
}

/** Refuses a sink inside the data directory (a copy or a writer of the directory would have it too). */
export function checkSinkPath(path: string, dataDir: string): string {
  if (typeof path !== 'string' || path === '' || !isAbsolute(path)) {
    throw new CustosError('INVALID_PARAMETERS', 'The audit sink must be an absolute file path outside the agent data directory, e.g. /var/log/custos/audit-checkpoints.jsonl.');
  }
  const parent = dirname(resolve(path));
  let realParent: string;
  try {
    realParent = realpathSync(parent);
    if (!statSync(realParent).isDirectory()) throw new Error('not a directory');
  } catch (error) {
    throw new AgentError('NOT_FOUND', `The folder of the audit sink, ${parent}, does not exist; create it first (ideally on another disk or a mounted log volume).`, { cause: error });
  }
  const full = join(realParent, resolve(path).slice(parent.length + 1));
  const data = realpathSync(dataDir);
  const rel = relative(data, full);
  if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel)) || full.startsWith(data + sep)) {
    throw new CustosError('INVALID_PARAMETERS', `The audit sink ${path} is inside the agent data directory; put it outside (another disk, a log volume), or a copy of the directory carries it along.`);
  }
  return full;
}

/**
 * Changes the checkpoint policy and/or the sink, audited. The new sink receives every checkpoint
 * the database holds, so it starts complete.
 */
export function configureAudit(db: Database.Database, change: { every?: number; intervalMs?: number; sink?: string | null }, operator: string, nowMs: number): AuditStatus {
  const dataDir = dirname(db.name);
  const set = db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value');
  const checkInt = (v: number | undefined, what: string, max: number): void => {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 0 || v > max)) throw new CustosError('INVALID_PARAMETERS', `${what} must be a whole number from 0 to ${String(max)}.`);
  };
  checkInt(change.every, 'The checkpoint interval in entries', 100_000_000);
  checkInt(change.intervalMs, 'The checkpoint interval in milliseconds', 366 * 24 * 3_600_000);
  const sink = change.sink === undefined || change.sink === null ? change.sink : checkSink(change.sink, dataDir);
  const before = readPolicy(db);
  db.transaction(() => {
    if (change.every !== undefined) set.run(META_EVERY, String(change.every));
    if (change.intervalMs !== undefined) set.run(META_INTERVAL, String(change.intervalMs));
    if (sink !== undefined) {
      set.run(META_SINK, sink ?? '');
      set.run(META_SYSLOG_SENT, '0'); // a new syslog sink receives every checkpoint
    }
    const after = readPolicy(db);
    appendAudit(
      db,
      {
        event: 'configure',
        action: 'audit-checkpoints',
        result: 'ok',
        operator,
        target: after.sink === undefined ? 'database' : `sink:${after.sink}`,
        details: { every: after.every, interval_ms: after.intervalMs, sink: after.sink ?? null, previous_sink: before.sink ?? null },
      },
      nowMs,
    );
  }).immediate();
  const a = attached.get(db);
  if (a !== undefined) {
    a.policy = readPolicy(db);
    if (sink !== undefined) {
      a.sinkLast = sink === null || syslogTargetOf(sink) !== undefined ? undefined : sinkLastOf(sink, [a.signing.publicKey], a.verify);
      a.sinkSize = a.sinkLast?.size ?? 0;
      a.queued = a.sinkSize;
      a.sinkError = undefined;
    }
    flushSink(db);
  }
  return auditStatus(db);
}
