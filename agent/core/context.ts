/**
 * The context every capability module of the agent is given (issue 8): the open database, the
 * secret store, the agent's signing key, the clock, the default operator, the per-node and
 * per-session mutex, the recovery rate limiter, and the one audited-operation wrapper. Modules
 * own their tables; this object owns none (the `meta` rows of the identity belong to
 * ./lifecycle.ts).
 */
import type Database from 'better-sqlite3';
import { wipe } from '../../shared/bytes';
import type { SigningKey } from '../../shared/protocol';
import type { OpContext } from '../api';
import { attachCheckpoints, detachCheckpoints } from '../audit/checkpoint';
import { appendAudit, type AuditInput } from '../audit/log';
import { nodeVerifier } from '../../node/ed25519';
import { AgentError, isCodedError } from '../errors';
import type { KekProvider } from '../kek/provider';
import type { TokenBuckets } from '../rate-limit';
import type { SecretStore } from '../secret-store';
import { KeyedMutex, auditScope, checkOperator, reasonOf } from './util';

/** What an audited operation names before it knows its outcome. */
export type AuditBase = Pick<AuditInput, 'event' | 'action' | 'operator'>;

export interface CoreInit {
  readonly dataDir: string;
  readonly db: Database.Database;
  readonly store: SecretStore;
  readonly kek: KekProvider;
  readonly ownsKek: boolean;
  readonly signing: SigningKey;
  readonly now: () => number;
  readonly operator: string;
  readonly limiter: TokenBuckets | undefined;
}

export class AgentCore {
  readonly dataDir: string;
  readonly db: Database.Database;
  readonly store: SecretStore;
  readonly kek: KekProvider;
  readonly signing: SigningKey;
  readonly now: () => number;
  /** Serialises operations on one node (`node:<key>/<node>`) or one session (`session:<id>`). */
  readonly locks = new KeyedMutex();
  readonly #ownsKek: boolean;
  readonly #operator: string;
  readonly #limiter: TokenBuckets | undefined;
  #closed = false;
  readonly #statements = new Map<string, Database.Statement>();

  constructor(init: CoreInit) {
    this.dataDir = init.dataDir;
    this.db = init.db;
    this.store = init.store;
    this.kek = init.kek;
    this.#ownsKek = init.ownsKek;
    this.signing = init.signing;
    this.now = init.now;
    this.#operator = init.operator;
    this.#limiter = init.limiter;
    // Signed audit checkpoints by interval and on sensitive events (agent/audit/checkpoint.ts).
    attachCheckpoints(this.db, { signing: this.signing, now: this.now, verify: nodeVerifier });
  }

  /**
   * The prepared statement for a fixed SQL text, compiled once per open database and reused (issue
   * 10: compiling costs about 75 µs a query against 20 µs for a cached one). For constant SQL only
   * (or SQL built from a closed set of names), so the cache stays bounded; never for a statement
   * that is `iterate()`d while another call may use it.
   */
  stmt(sql: string): Database.Statement {
    let s = this.#statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  /** The operator an entry is written for: the call's, checked, or the agent's default. */
  op(ctx: OpContext): string {
    return ctx.operator === undefined ? this.#operator : checkOperator(ctx.operator);
  }

  audit(input: AuditInput): void {
    appendAudit(this.db, { ...input, operator: input.operator ?? this.#operator }, this.now());
  }

  /** Runs an operation; a failure is recorded in the audit log (outside the failed transaction). */
  async audited<T>(base: AuditBase, fn: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new AgentError('FAILED_PRECONDITION', 'The agent was closed.');
    try {
      return await fn();
    } catch (error) {
      try {
        this.audit({ ...base, result: isCodedError(error) ? 'refused' : 'failed', reason: reasonOf(error), ...auditScope(error) });
      } catch {
        // The original error matters more than a failed audit write (e.g. the database is gone).
      }
      throw error;
    }
  }

  /** Spends one recovery call of `key`'s budget, or throws RATE_LIMITED (agent/rate-limit.ts). */
  rateLimit(key: string): void {
    this.#limiter?.spend(key);
  }

  /**
   * After a secret column was erased (secure_delete zeroes the page in the main file),
   * checkpoints and truncates the write-ahead log, which would otherwise still hold the old page
   * image until a later checkpoint.
   */
  flushWal(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    detachCheckpoints(this.db);
    this.db.close();
    wipe(this.signing.seed);
    if (this.#ownsKek) this.kek.close();
  }
}

/** A capability module: the agent's context, and the surfaces of the other modules it calls. */
export abstract class Capability<Peers> {
  protected readonly core: AgentCore;
  protected readonly peers: Peers;

  constructor(core: AgentCore, peers: Peers) {
    this.core = core;
    this.peers = peers;
  }

  /** The agent's clock in ms (the injected one in tests), for readers such as the metrics. */
  nowMs(): number {
    return this.core.now();
  }
}
