/**
 * The recovery agent (issue 3; seeds "混合模式 SSS 备份与恢复方案" and its SOP): one data directory,
 * one `Agent` object with every operation, transport-neutral. The CLI and the RPC handlers call
 * this and nothing else.
 *
 * Data directory:
 *   kek.key                                   0600  local key-encryption key (default KEK provider)
 *   api.token                                 0600  bearer token for the RPC server
 *   agent-card.cbor                           0644  the agent's self-signed card (public)
 *   agent/identity.enc                        0600  the agent's Ed25519 seed, KEK-sealed
 *   custos-agent.db (+ -wal, -shm)            0600  records and the audit log (agent/db.ts)
 *   keys/<key_id>/<node_id>.enc               0600  the node's secret record (the seeds' MPC share)
 *   keys/<key_id>/<node_id>.keydata.enc       0600  the node's tss-lib LocalPartySaveData
 *   backup/<key_id>/<node_id>/<set_id>/<i>.enc 0600 server-retained backup shares
 * Directories are 0700. Sealed file format: agent/secret-store.ts.
 *
 * Every operation validates what it is given before touching anything, writes secret files
 * atomically, changes records in one transaction together with its audit entry, and writes an
 * audit entry for a refusal too. A failure never overwrites a good file.
 */
import { readFileSync } from 'node:fs';
import { randomBytes as nodeRandomBytes, timingSafeEqual } from 'node:crypto';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { constantTimeEqual, fromHex, fromUtf8, toBase64Url, toHex, utf8, wipe } from '../shared/bytes';
import { fileHash } from '../shared/crypto/hash';
import { assertAgeIdentity, generateAgeKeyPair } from '../shared/crypto/seal';
import { checkShamirParams, checkShare, combineShares, type ProvidedShare } from '../shared/crypto/shamir';
import { CustosError } from '../shared/errors';
import {
  assertSelfCheck,
  decodePublicContext,
  decodeSecretRecord,
  encodePublicContext,
  encodeSecretRecord,
  parseKeydata,
  publicContextFromPeer,
  publicContextHash,
  regenerateKeydata,
  selfCheck,
  splitKeydata,
  writeKeydata,
  type PublicContext,
  type SelfCheckResult,
} from '../shared/keydata';
import {
  MIN_APPROVALS,
  combineExpectation,
  createAgentIdentity,
  createBackup,
  decodeCanonical,
  encodeCanonical,
  makeAgentCard,
  makeRecoveryRequest,
  makeSupersede,
  manifestHash,
  manifestShare,
  openAgentCard,
  openApproval,
  openApproverCard,
  openCustodianCard,
  openManifest,
  openReceipt,
  openRecoveryExport,
  openRecoveryRequest,
  parseWith,
  receiptSchema,
  sessionDetailsSchema,
  signingKeyFromSeed,
  label as labelSchema,
  type Manifest,
  type OpenedRecoveryRequest,
  type RegisteredCustodian,
  type SessionDetails,
  type SigningKey,
} from '../shared/protocol';
import type {
  ApproverRecord,
  BackupOptions,
  BackupParams,
  BackupResult,
  BackupStatus,
  CompleteOptions,
  CustodianRecord,
  CustodianRole,
  DrillInput,
  DrillRecord,
  FileState,
  ImportResult,
  InitResult,
  InspectReport,
  NodeRecord,
  OpContext,
  OpenSessionInput,
  OpenedSession,
  RecoveryOutcome,
  ServerShareRecord,
  ServerShareSelector,
  SessionView,
  ShareRef,
  ShareStatus,
  SubmitResult,
} from './api';
import { CUSTODIAN_ROLES } from './api';
import { appendAudit, exportAuditJsonl, listAudit, verifyAudit, type AuditInput, type AuditRecord, type AuditVerification } from './audit';
import {
  inTransaction,
  openDatabase,
  type ApprovalRow,
  type ApproverRow,
  type BackupSetRow,
  type CustodianRow,
  type DeliveryRow,
  type DrillRow,
  type ExportRow,
  type NodeRow,
  type RetainedShareRow,
  type SessionRow,
} from './db';
import { AgentError, codeOf, isCodedError } from './errors';
import { ensureDir, exists, removeFileDurable, writeFileAtomic } from './fs-atomic';
import { checkBytes, checkFingerprint, checkIncidentId, checkKeyId, checkNodeId, checkSessionId, checkSetId, checkShareIndex } from './ids';
import { LocalFileKek, assertPrivateFile, type KekProvider } from './kek';
import { UR_TYPES, qrPngFrames } from './qr-files';
import { DEFAULT_RECOVERY_RATE_LIMIT, TokenBucket, type RateLimit } from './rate-limit';
import { SecretStore } from './secret-store';
import type Database from 'better-sqlite3';

export const CARD_FILE = 'agent-card.cbor';
export const TOKEN_FILE = 'api.token';
export const DEFAULT_PARAMS: BackupParams = { threshold: 3, total: 5, retain: 2 };
/** Seeds: soft delete → cooling-off period (7 days) → hard delete, rollback allowed meanwhile. */
export const DEFAULT_DELETION_COOLDOWN_MS = 7 * 24 * 3600 * 1000;
const DEFAULT_SESSION_TTL_S = 24 * 3600;
const MAX_SESSION_TTL_S = 7 * 24 * 3600;
const MIN_SESSION_TTL_S = 60;
const MAX_KEYDATA_BYTES = 1024 * 1024;

export interface AgentOptions {
  /** Milliseconds since the Unix epoch (default Date.now); tests pass a controllable clock. */
  readonly now?: () => number;
  /** Default: the local key file `<data>/kek.key` (LocalFileKek). */
  readonly kek?: KekProvider;
  /** Default operator name for the audit log (default: the OS user name). */
  readonly operator?: string;
  /** Token bucket for the recovery operations; false turns it off. */
  readonly recoveryRateLimit?: RateLimit | false;
  /** Soft-deleted server shares can be purged after this long (default 7 days). */
  readonly deletionCooldownMs?: number;
}

export interface InitOptions {
  /** The name on the agent card (default "custos-agent"). */
  readonly name?: string;
  readonly now?: () => number;
  readonly kek?: KekProvider;
  readonly operator?: string;
}

type Mode = 'mixed' | 'external-only';
const TERMINAL: readonly SessionRow['state'][] = ['completed', 'failed', 'expired', 'cancelled'];

const sec = (ms: number): number => Math.floor(ms / 1000);
const sha256Hex = (bytes: Uint8Array): string => toHex(fileHash(bytes));
/** A plain Uint8Array copy of a BLOB (better-sqlite3 returns Buffers). */
const blob = (b: Uint8Array): Uint8Array => new Uint8Array(b);

function defaultOperator(): string {
  try {
    return userInfo().username || 'local';
  } catch {
    return 'local';
  }
}

function checkOperator(value: unknown): string {
  const r = labelSchema.safeParse(value);
  if (!r.success) throw new CustosError('INVALID_PARAMETERS', 'The operator name must be 1 to 200 characters without control characters.');
  return r.data;
}

/** The signature (hex) of a Custos frame, for the audit log; undefined if it cannot be read. */
function frameSignature(bytes: Uint8Array): string | undefined {
  try {
    const frame = decodeCanonical(bytes);
    const s = typeof frame === 'object' && frame !== null ? (frame as { s?: unknown }).s : undefined;
    return s instanceof Uint8Array ? toHex(s) : undefined;
  } catch {
    return undefined;
  }
}

/** The body of a Custos frame WITHOUT verifying it: only to find which record to verify it against. */
function peekBody(bytes: Uint8Array, what: string): Record<string, unknown> {
  const frame = decodeCanonical(bytes, what);
  const b = typeof frame === 'object' && frame !== null ? (frame as { b?: unknown }).b : undefined;
  if (!(b instanceof Uint8Array)) throw new CustosError('MALFORMED', `The ${what} is not a Custos message.`);
  const body = decodeCanonical(b, `${what} body`);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new CustosError('MALFORMED', `The ${what} body is not a map.`);
  return body as Record<string, unknown>;
}

function peekShareIndex(bytes: unknown): number | undefined {
  if (!(bytes instanceof Uint8Array)) return undefined;
  try {
    const index = peekBody(bytes, 'recovery export').share_index;
    return typeof index === 'number' && Number.isInteger(index) && index >= 1 && index <= 255 ? index : undefined;
  } catch {
    return undefined;
  }
}

function reasonOf(error: unknown): string {
  return isCodedError(error) ? `${error.code}: ${error.message}` : 'INTERNAL: an unexpected error (see the agent log)';
}

function messageOf(error: unknown): string {
  return isCodedError(error) ? error.message : 'An unexpected error; see the agent log.';
}

function selfCheckLines(r: SelfCheckResult): { name: string; ok: boolean; detail?: string }[] {
  return r.checks.map((c) => (c.detail === undefined ? { name: c.name, ok: c.ok } : { name: c.name, ok: c.ok, detail: c.detail }));
}

class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    let release: () => void = () => undefined;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    const tail = prev.then(() => mine);
    this.#tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}

/** Reads `<data>/api.token` (refusing a file readable by group or others): for clients. */
export function readApiToken(dataDir: string): string {
  const path = join(resolve(dataDir), TOKEN_FILE);
  assertPrivateFile(path, TOKEN_FILE);
  return readFileSync(path, 'utf8').trim();
}

export class Agent {
  readonly dataDir: string;
  readonly #db: Database.Database;
  readonly #store: SecretStore;
  readonly #kek: KekProvider;
  readonly #ownsKek: boolean;
  readonly #signing: SigningKey;
  readonly #card: Uint8Array;
  readonly #fingerprint: string;
  readonly #code: string;
  readonly #token: Uint8Array;
  readonly #now: () => number;
  readonly #operator: string;
  readonly #limiter: TokenBucket | undefined;
  readonly #cooldownMs: number;
  readonly #locks = new KeyedMutex();
  readonly #manifests = new Map<string, Manifest>();
  #closed = false;

  private constructor(init: {
    dataDir: string;
    db: Database.Database;
    kek: KekProvider;
    ownsKek: boolean;
    signing: SigningKey;
    card: Uint8Array;
    fingerprint: string;
    code: string;
    token: Uint8Array;
    options: AgentOptions;
  }) {
    this.dataDir = init.dataDir;
    this.#db = init.db;
    this.#kek = init.kek;
    this.#ownsKek = init.ownsKek;
    this.#store = new SecretStore(init.dataDir, init.kek);
    this.#signing = init.signing;
    this.#card = init.card;
    this.#fingerprint = init.fingerprint;
    this.#code = init.code;
    this.#token = init.token;
    this.#now = init.options.now ?? Date.now;
    this.#operator = init.options.operator === undefined ? defaultOperator() : checkOperator(init.options.operator);
    const limit = init.options.recoveryRateLimit ?? DEFAULT_RECOVERY_RATE_LIMIT;
    this.#limiter = limit === false ? undefined : new TokenBucket(limit, this.#now);
    this.#cooldownMs = init.options.deletionCooldownMs ?? DEFAULT_DELETION_COOLDOWN_MS;
  }

  // ───────────────────────────── lifecycle ─────────────────────────────

  /**
   * Creates a new data directory: KEK (unless a provider is given), agent identity (Ed25519 seed,
   * KEK-sealed), agent card, API token (0600) and the database. Refuses (CONFLICT) a directory that
   * already holds an agent.
   */
  static async init(dataDir: string, options: InitOptions = {}): Promise<InitResult> {
    const dir = resolve(dataDir);
    const now = options.now ?? Date.now;
    for (const f of ['kek.key', 'custos-agent.db', CARD_FILE, TOKEN_FILE, 'agent']) {
      if (exists(join(dir, f))) throw new AgentError('CONFLICT', `${dir} already holds an agent (${f} exists); refusing to initialise over it.`);
    }
    ensureDir(dir, 0o700);
    const kek = options.kek ?? LocalFileKek.create(dir);
    const db = openDatabase(dir, { create: true });
    try {
      const store = new SecretStore(dir, kek);
      const identity = createAgentIdentity(options.name ?? 'custos-agent');
      await store.write({ kind: 'agent-identity' }, identity.signing.seed, { noOverwrite: true });
      const card = makeAgentCard(identity, sec(now()));
      writeFileAtomic(join(dir, CARD_FILE), card, { mode: 0o644, noOverwrite: true });
      const token = toBase64Url(new Uint8Array(nodeRandomBytes(32)));
      writeFileAtomic(join(dir, TOKEN_FILE), utf8(token), { mode: 0o600, noOverwrite: true });
      const opened = openAgentCard(card);
      const fingerprint = toHex(opened.fingerprint);
      wipe(identity.signing.seed);
      inTransaction(db, () => {
        const set = db.prepare('INSERT INTO meta (name, value) VALUES (?, ?)');
        set.run('agent_fingerprint', fingerprint);
        set.run('agent_sign_key', toHex(opened.body.sign_key));
        set.run('kek_id', kek.id);
        set.run('created_at', String(now()));
        appendAudit(
          db,
          {
            event: 'init',
            action: 'data-directory',
            result: 'ok',
            operator: options.operator === undefined ? defaultOperator() : checkOperator(options.operator),
            target: `agent:${fingerprint}`,
            details: { name: opened.body.name, kek_id: kek.id, code: opened.code },
          },
          now(),
        );
      });
      return { dataDir: dir, fingerprint, code: opened.code, cardFile: join(dir, CARD_FILE), tokenFile: join(dir, TOKEN_FILE), kekId: kek.id };
    } finally {
      db.close();
      if (options.kek === undefined) kek.close();
    }
  }

  /** Opens an initialised data directory (checks the KEK and token file permissions, the identity). */
  static async open(dataDir: string, options: AgentOptions = {}): Promise<Agent> {
    const dir = resolve(dataDir);
    if (!exists(dir)) throw new AgentError('NOT_FOUND', `The agent data directory ${dir} does not exist; run init first.`);
    const kek = options.kek ?? LocalFileKek.open(dir);
    let db: Database.Database | undefined;
    try {
      const tokenPath = join(dir, TOKEN_FILE);
      assertPrivateFile(tokenPath, TOKEN_FILE);
      const token = utf8(readFileSync(tokenPath, 'utf8').trim());
      db = openDatabase(dir);
      const store = new SecretStore(dir, kek);
      const seed = await store.read({ kind: 'agent-identity' });
      const signing = signingKeyFromSeed(seed);
      wipe(seed);
      let card: Uint8Array;
      try {
        card = new Uint8Array(readFileSync(join(dir, CARD_FILE)));
      } catch (error) {
        throw new AgentError('NOT_FOUND', `The agent card ${CARD_FILE} is missing.`, { cause: error });
      }
      const opened = openAgentCard(card);
      if (!constantTimeEqual(opened.body.sign_key, signing.publicKey)) {
        throw new AgentError('CORRUPT_FILE', `${CARD_FILE} does not belong to this agent's identity.`);
      }
      const fingerprint = toHex(opened.fingerprint);
      const recorded = db.prepare("SELECT value FROM meta WHERE name = 'agent_fingerprint'").get() as { value: string } | undefined;
      if (recorded?.value !== fingerprint) throw new AgentError('CORRUPT_FILE', 'The database belongs to another agent identity.');
      return new Agent({ dataDir: dir, db, kek, ownsKek: options.kek === undefined, signing, card, fingerprint, code: opened.code, token, options });
    } catch (error) {
      db?.close();
      if (options.kek === undefined) kek.close();
      throw error;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
    wipe(this.#signing.seed);
    if (this.#ownsKek) this.#kek.close();
  }

  /** The agent's self-signed card (what custodians pin). */
  get card(): Uint8Array {
    return Uint8Array.from(this.#card);
  }

  get publicKey(): Uint8Array {
    return Uint8Array.from(this.#signing.publicKey);
  }

  get fingerprint(): string {
    return this.#fingerprint;
  }

  /** The 24-digit comparison code of the agent's fingerprint. */
  get code(): string {
    return this.#code;
  }

  get kekId(): string {
    return this.#kek.id;
  }

  /** Checks a presented API token in constant time; UNAUTHENTICATED otherwise. */
  checkToken(presented: unknown): void {
    const given = typeof presented === 'string' ? utf8(presented) : new Uint8Array(0);
    const ok = given.length === this.#token.length && timingSafeEqual(given, this.#token);
    if (!ok) throw new AgentError('UNAUTHENTICATED', 'A valid API token is required (authorization: Bearer <token from api.token>).');
  }

  // ───────────────────────────── registries ─────────────────────────────

  async addCustodian(cardBytes: Uint8Array, label: string, role: CustodianRole, ctx: OpContext = {}): Promise<CustodianRecord> {
    return this.#audited({ event: 'register', action: 'custodian-add', operator: this.#op(ctx) }, () => {
      checkBytes(cardBytes, 'enrollment card', 4096);
      const cleanLabel = labelSchema.safeParse(label);
      if (!cleanLabel.success) throw new CustosError('INVALID_PARAMETERS', 'The custodian label must be 1 to 200 characters without control characters.');
      if (!CUSTODIAN_ROLES.includes(role)) {
        throw new CustosError('INVALID_PARAMETERS', `The role must be one of ${CUSTODIAN_ROLES.join(', ')}.`, { details: { field: 'role' } });
      }
      const card = openCustodianCard(cardBytes);
      const fp = toHex(card.fingerprint);
      const now = this.#now();
      return Promise.resolve(
        inTransaction(this.#db, () => {
          const existing = this.#db.prepare('SELECT fingerprint FROM custodians WHERE fingerprint = ? OR sign_key = ? OR age_recipient = ?').get(fp, card.body.sign_key, card.body.age_recipient);
          if (existing !== undefined) {
            throw new AgentError('CONFLICT', `This custodian (or one with the same keys) is already registered (${card.code}).`, { details: { fingerprint: fp } });
          }
          this.#db
            .prepare(
              'INSERT INTO custodians (fingerprint, code, card, card_name, sign_key, age_recipient, label, role, enabled, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)',
            )
            .run(fp, card.code, cardBytes, card.body.name, card.body.sign_key, card.body.age_recipient, cleanLabel.data, role, now);
          this.#audit({ event: 'register', action: 'custodian-add', result: 'ok', operator: this.#op(ctx), target: `custodian:${fp}`, signature: frameSignature(cardBytes), details: { label: cleanLabel.data, role, code: card.code, card_name: card.body.name } });
          return this.#custodianRecord(this.#custodianRow(fp));
        }),
      );
    });
  }

  listCustodians(): CustodianRecord[] {
    return (this.#db.prepare('SELECT * FROM custodians ORDER BY added_at, fingerprint').all() as CustodianRow[]).map((r) => this.#custodianRecord(r));
  }

  async disableCustodian(fingerprint: string, ctx: OpContext = {}): Promise<CustodianRecord> {
    return this.#audited({ event: 'register', action: 'custodian-disable', operator: this.#op(ctx) }, () => {
      const fp = checkFingerprint(fingerprint);
      return Promise.resolve(
        inTransaction(this.#db, () => {
          this.#custodianRow(fp);
          this.#db.prepare('UPDATE custodians SET enabled = 0, disabled_at = COALESCE(disabled_at, ?) WHERE fingerprint = ?').run(this.#now(), fp);
          this.#audit({ event: 'register', action: 'custodian-disable', result: 'ok', operator: this.#op(ctx), target: `custodian:${fp}` });
          return this.#custodianRecord(this.#custodianRow(fp));
        }),
      );
    });
  }

  async addApprover(cardBytes: Uint8Array, ctx: OpContext = {}): Promise<ApproverRecord> {
    return this.#audited({ event: 'register', action: 'approver-add', operator: this.#op(ctx) }, () => {
      checkBytes(cardBytes, 'approver card', 4096);
      const card = openApproverCard(cardBytes);
      const fp = toHex(card.fingerprint);
      const now = this.#now();
      return Promise.resolve(
        inTransaction(this.#db, () => {
          if (this.#db.prepare('SELECT fingerprint FROM approvers WHERE fingerprint = ?').get(fp) !== undefined) {
            throw new AgentError('CONFLICT', `This approver is already registered (${card.code}).`, { details: { fingerprint: fp } });
          }
          this.#db
            .prepare('INSERT INTO approvers (fingerprint, code, card, name, sign_key, enabled, added_at) VALUES (?, ?, ?, ?, ?, 1, ?)')
            .run(fp, card.code, cardBytes, card.body.name, card.body.sign_key, now);
          this.#audit({ event: 'register', action: 'approver-add', result: 'ok', operator: this.#op(ctx), target: `approver:${fp}`, approver: card.body.name, signature: frameSignature(cardBytes), details: { code: card.code } });
          return this.#approverRecord(this.#approverRow(fp));
        }),
      );
    });
  }

  listApprovers(): ApproverRecord[] {
    return (this.#db.prepare('SELECT * FROM approvers ORDER BY added_at, fingerprint').all() as ApproverRow[]).map((r) => this.#approverRecord(r));
  }

  async disableApprover(fingerprint: string, ctx: OpContext = {}): Promise<ApproverRecord> {
    return this.#audited({ event: 'register', action: 'approver-disable', operator: this.#op(ctx) }, () => {
      const fp = checkFingerprint(fingerprint);
      return Promise.resolve(
        inTransaction(this.#db, () => {
          this.#approverRow(fp);
          this.#db.prepare('UPDATE approvers SET enabled = 0, disabled_at = COALESCE(disabled_at, ?) WHERE fingerprint = ?').run(this.#now(), fp);
          this.#audit({ event: 'register', action: 'approver-disable', result: 'ok', operator: this.#op(ctx), target: `approver:${fp}` });
          return this.#approverRecord(this.#approverRow(fp));
        }),
      );
    });
  }

  // ───────────────────────────── key shares ─────────────────────────────

  /**
   * Imports a node's tss-lib keydata: parse (lossless), self-check, split into the secret record
   * and the public context (verified to rebuild the file byte for byte), then store
   * `<node_id>.enc` and `<node_id>.keydata.enc` encrypted and the public context in the database.
   */
  async importKeyshare(keyId: string, nodeId: string, keydataBytes: Uint8Array, ctx: OpContext = {}): Promise<ImportResult> {
    const base = { event: 'import', action: 'keyshare', operator: this.#op(ctx) } as const;
    return this.#audited(base, async () => {
      const k = checkKeyId(keyId);
      const n = checkNodeId(nodeId);
      checkBytes(keydataBytes, 'keydata file', MAX_KEYDATA_BYTES);
      return this.#locks.run(`node:${k}/${n}`, async () => {
        if (this.#nodeRowOrUndefined(k, n) !== undefined) {
          throw new AgentError('CONFLICT', `Key ${k} node ${n} is imported already; its stored share is kept.`, { details: { keyId: k, nodeId: n } });
        }
        const shareRef = { kind: 'share', keyId: k, nodeId: n } as const;
        const keydataRef = { kind: 'keydata', keyId: k, nodeId: n } as const;
        if (this.#store.exists(shareRef) || this.#store.exists(keydataRef)) {
          throw new AgentError('CONFLICT', `Files for key ${k} node ${n} exist without a record; move them away before importing.`, { details: { keyId: k, nodeId: n } });
        }
        const keydata = parseKeydata(keydataBytes);
        const check = assertSelfCheck(keydata);
        const { secret, context } = splitKeydata(keydata);
        const record = encodeSecretRecord(secret);
        const compact = writeKeydata(keydata);
        const ctxBytes = encodePublicContext(context);
        const ctxHash = publicContextHash(context);
        const keydataSha = fileHash(compact);
        const written: string[] = [];
        try {
          written.push(await this.#store.write(shareRef, record, { noOverwrite: true }));
          written.push(await this.#store.write(keydataRef, compact, { noOverwrite: true }));
          const now = this.#now();
          inTransaction(this.#db, () => {
            this.#db
              .prepare(
                'INSERT INTO nodes (key_id, node_id, curve, party_index, parties, public_context, public_context_hash, keydata_sha256, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
              )
              .run(k, n, keydata.curve, secret.index, context.Ks.length, ctxBytes, ctxHash, keydataSha, now);
            this.#audit({
              ...base,
              result: 'ok',
              keyId: k,
              nodeId: n,
              target: 'server',
              details: { curve: keydata.curve, party_index: secret.index, parties: context.Ks.length, public_context_hash: toHex(ctxHash), keydata_sha256: toHex(keydataSha) },
            });
          });
        } catch (error) {
          for (const p of written) removeFileDurable(p);
          throw error;
        } finally {
          wipe(record, compact);
        }
        return {
          keyId: k,
          nodeId: n,
          curve: keydata.curve,
          partyIndex: secret.index,
          parties: context.Ks.length,
          publicContextHash: toHex(ctxHash),
          keydataSha256: toHex(keydataSha),
          selfCheck: selfCheckLines(check),
        };
      });
    });
  }

  listNodes(): NodeRecord[] {
    const rows = this.#db.prepare('SELECT * FROM nodes ORDER BY key_id, node_id').all() as NodeRow[];
    return rows.map((r) => {
      const active = this.#activeSetOrUndefined(r.key_id, r.node_id);
      return {
        keyId: r.key_id,
        nodeId: r.node_id,
        curve: r.curve,
        partyIndex: r.party_index,
        parties: r.parties,
        publicContextHash: toHex(r.public_context_hash),
        keydataSha256: toHex(r.keydata_sha256),
        importedAt: sec(r.imported_at),
        ...(r.restored_at === null ? {} : { restoredAt: sec(r.restored_at) }),
        ...(active === undefined ? {} : { activeSet: { setId: active.set_id, epoch: active.epoch } }),
      };
    });
  }

  /**
   * Decrypts and returns the node's stored keydata (tss-lib compact JSON), after checking it is the
   * file that was imported or recovered. For the node itself, drills and byte comparisons.
   */
  async exportKeydata(keyId: string, nodeId: string, ctx: OpContext = {}): Promise<Uint8Array> {
    const base = { event: 'inspect', action: 'keydata-export', operator: this.#op(ctx) } as const;
    return this.#audited(base, async () => {
      const k = checkKeyId(keyId);
      const n = checkNodeId(nodeId);
      const node = this.#nodeRow(k, n);
      const bytes = await this.#store.read({ kind: 'keydata', keyId: k, nodeId: n });
      if (!constantTimeEqual(fileHash(bytes), node.keydata_sha256)) {
        throw new AgentError('CORRUPT_FILE', `The stored keydata of key ${k} node ${n} is not the file that was imported.`, { details: { keyId: k, nodeId: n } });
      }
      this.#audit({ ...base, result: 'ok', keyId: k, nodeId: n, target: 'server', details: { keydata_sha256: toHex(node.keydata_sha256) } });
      return bytes;
    });
  }

  /** Checks a node's stored files without revealing anything (seeds SOP §4.3). */
  async inspectNode(keyId: string, nodeId: string, ctx: OpContext = {}): Promise<InspectReport> {
    const base = { event: 'inspect', action: 'node-files', operator: this.#op(ctx) } as const;
    return this.#audited(base, async () => {
      const k = checkKeyId(keyId);
      const n = checkNodeId(nodeId);
      const node = this.#nodeRow(k, n);
      const state = (e: unknown): FileState => (codeOf(e) === 'NOT_FOUND' ? 'missing' : 'corrupt');
      let shareFile: FileState = 'ok';
      let keydataFile: FileState = 'ok';
      let record: Uint8Array | undefined;
      let keydata: Uint8Array | undefined;
      try {
        record = await this.#store.read({ kind: 'share', keyId: k, nodeId: n });
        decodeSecretRecord(record);
      } catch (e) {
        shareFile = state(e);
      }
      try {
        keydata = await this.#store.read({ kind: 'keydata', keyId: k, nodeId: n });
        if (!constantTimeEqual(fileHash(keydata), node.keydata_sha256)) keydataFile = 'corrupt';
      } catch (e) {
        keydataFile = state(e);
      }
      let consistent = false;
      let lines: { name: string; ok: boolean; detail?: string }[] = [];
      try {
        if (keydataFile === 'ok' && keydata !== undefined) {
          lines = selfCheckLines(selfCheck(parseKeydata(keydata)));
        }
        if (shareFile === 'ok' && keydataFile === 'ok' && record !== undefined && keydata !== undefined) {
          const rebuilt = writeKeydata(regenerateKeydata(decodeSecretRecord(record), decodePublicContext(blob(node.public_context))));
          consistent = constantTimeEqual(rebuilt, keydata);
          wipe(rebuilt);
        }
      } catch {
        consistent = false;
      } finally {
        wipe(record, keydata);
      }
      const ok = shareFile === 'ok' && keydataFile === 'ok' && consistent && lines.every((l) => l.ok);
      this.#audit({
        ...base,
        result: ok ? 'ok' : 'failed',
        keyId: k,
        nodeId: n,
        target: 'server',
        ...(ok ? {} : { reason: `share file ${shareFile}, keydata file ${keydataFile}, consistent ${String(consistent)}` }),
      });
      return { keyId: k, nodeId: n, shareFile, keydataFile, consistent, selfCheck: lines, ok };
    });
  }

  // ───────────────────────────── backup ─────────────────────────────

  /**
   * Creates a backup set (seeds §生成与分发流程): splits the node's secret record, keeps `retain`
   * shares encrypted on the server, seals one envelope per custodian (in the order given: share
   * retain+1 goes to the first), signs the manifest, and writes the envelopes (and their QR frame
   * PNGs) and the manifest to `outDir`. The previous active set, if any, is superseded and a signed
   * supersede notice is written for each of its custodians.
   */
  async backup(keyId: string, nodeId: string, params: Partial<BackupParams>, custodianFingerprints: readonly string[], outDir: string, options: BackupOptions = {}): Promise<BackupResult> {
    const base = { event: 'generate', action: 'backup-set', operator: this.#op(options) } as const;
    return this.#audited(base, async () => {
      const k = checkKeyId(keyId);
      const n = checkNodeId(nodeId);
      const threshold = params.threshold ?? DEFAULT_PARAMS.threshold;
      const total = params.total ?? DEFAULT_PARAMS.total;
      const retain = params.retain ?? DEFAULT_PARAMS.retain;
      checkShamirParams({ threshold, total }, retain);
      const list: unknown = custodianFingerprints;
      if (!Array.isArray(list)) throw new CustosError('INVALID_PARAMETERS', 'Custodians must be a list of fingerprints.');
      const fps = custodianFingerprints.map((f) => checkFingerprint(f));
      if (fps.length !== total - retain) {
        throw new CustosError(
          'INVALID_PARAMETERS',
          `${String(total - retain)} shares go to custodians (total ${String(total)} − retained ${String(retain)}) but ${String(fps.length)} custodian(s) were named; name exactly one per external share.`,
          { details: { expected: total - retain, got: fps.length } },
        );
      }
      if (new Set(fps).size !== fps.length) {
        throw new CustosError('INVALID_PARAMETERS', 'Each external share must go to a different custodian; the same custodian is named twice.');
      }
      const custodians = fps.map((fp) => {
        const row = this.#custodianRow(fp);
        if (row.enabled !== 1) throw new AgentError('FAILED_PRECONDITION', `Custodian ${row.label} (${row.code}) is disabled.`, { details: { fingerprint: fp } });
        return row;
      });
      if (options.envelopeTtlSeconds !== undefined && (!Number.isInteger(options.envelopeTtlSeconds) || options.envelopeTtlSeconds < 3600)) {
        throw new CustosError('INVALID_PARAMETERS', 'An envelope lifetime must be whole seconds, at least 3600.');
      }
      const out = resolve(outDir);
      return this.#locks.run(`node:${k}/${n}`, async () => {
        const node = this.#nodeRow(k, n);
        const record = await this.#store.read({ kind: 'share', keyId: k, nodeId: n });
        try {
          // The record must still rebuild the imported keydata: never back up the wrong secret.
          let rebuilt: Uint8Array;
          try {
            rebuilt = writeKeydata(regenerateKeydata(decodeSecretRecord(record), decodePublicContext(blob(node.public_context))));
          } catch (error) {
            throw new AgentError('CORRUPT_FILE', `The stored share of key ${k} node ${n} does not rebuild its keydata; it was not backed up.`, { cause: error });
          }
          const matches = constantTimeEqual(fileHash(rebuilt), node.keydata_sha256);
          wipe(rebuilt);
          if (!matches) throw new AgentError('CORRUPT_FILE', `The stored share of key ${k} node ${n} does not rebuild the imported keydata; it was not backed up.`);

          const nowMs = this.#now();
          const now = sec(nowMs);
          const maxEpoch = (this.#db.prepare('SELECT MAX(epoch) AS e FROM backup_sets WHERE key_id = ? AND node_id = ?').get(k, n) as { e: number | null }).e ?? 0;
          const epoch = maxEpoch + 1;
          const setIdBytes = new Uint8Array(nodeRandomBytes(16));
          const setId = toHex(setIdBytes);
          const created = await createBackup(
            {
              keyId: k,
              nodeId: n,
              curve: node.curve,
              secret: record,
              publicContextHash: blob(node.public_context_hash),
              threshold,
              total,
              retain,
              custodians: custodians.map((c) => ({ fingerprint: fromHex(c.fingerprint), ageRecipient: c.age_recipient })),
              setId: setIdBytes,
              epoch,
              now,
              ...(options.envelopeTtlSeconds === undefined ? {} : { envelopeNotAfter: now + options.envelopeTtlSeconds }),
            },
            this.#signing,
          );
          const previous = this.#activeSetOrUndefined(k, n);
          const stem = `${k}_${n}_e${String(epoch)}`;
          const manifestFile = join(out, `${stem}.manifest.cbor`);
          const envelopeFiles = created.envelopes.map((e) => join(out, `${stem}_share${String(e.shareIndex)}.envelope.cbor`));
          const prevDeliveries = previous === undefined ? [] : (this.#db.prepare('SELECT * FROM deliveries WHERE set_id = ? ORDER BY share_index').all(previous.set_id) as DeliveryRow[]);
          const noticeFiles = previous === undefined ? [] : prevDeliveries.map((d) => join(out, `${k}_${n}_e${String(previous.epoch)}_share${String(d.share_index)}.supersede.cbor`));
          for (const f of [manifestFile, ...envelopeFiles, ...noticeFiles]) {
            if (exists(f)) throw new AgentError('CONFLICT', `${f} exists already; choose an empty output directory.`);
          }

          const written: string[] = [];
          const qrFrames: string[][] = [];
          try {
            for (const r of created.retained) {
              written.push(await this.#store.write({ kind: 'retained-share', keyId: k, nodeId: n, setId, index: r.index }, r.share, { noOverwrite: true }));
            }
            ensureDir(out, 0o700);
            writeFileAtomic(manifestFile, created.manifestBytes, { mode: 0o644, noOverwrite: true });
            written.push(manifestFile);
            for (const [i, e] of created.envelopes.entries()) {
              const file = envelopeFiles[i] ?? '';
              writeFileAtomic(file, e.bytes, { mode: 0o600, noOverwrite: true });
              written.push(file);
              const frames: string[] = [];
              if (options.qr !== false) {
                const pngs = await qrPngFrames(e.bytes, UR_TYPES.envelope);
                for (const [j, png] of pngs.entries()) {
                  const pngFile = join(out, `${stem}_share${String(e.shareIndex)}.envelope.qr${String(j + 1).padStart(3, '0')}.png`);
                  writeFileAtomic(pngFile, png, { mode: 0o600, noOverwrite: true });
                  written.push(pngFile);
                  frames.push(pngFile);
                }
              }
              qrFrames.push(frames);
            }
            const notices: { custodian: string; shareIndex: number; file: string }[] = [];
            if (previous !== undefined) {
              for (const [i, d] of prevDeliveries.entries()) {
                const notice = makeSupersede(
                  {
                    key_id: k,
                    node_id: n,
                    old_set_id: fromHex(previous.set_id),
                    old_epoch: previous.epoch,
                    new_set_id: setIdBytes,
                    new_epoch: epoch,
                    new_manifest_hash: manifestHash(created.manifestBytes),
                    recipient: fromHex(d.custodian),
                    destroy_after: now + sec(this.#cooldownMs),
                    created_at: now,
                  },
                  this.#signing,
                );
                const file = noticeFiles[i] ?? '';
                writeFileAtomic(file, notice, { mode: 0o644, noOverwrite: true });
                written.push(file);
                notices.push({ custodian: d.custodian, shareIndex: d.share_index, file });
              }
            }
            const manifestSha = sha256Hex(created.manifestBytes);
            const result: BackupResult = {
              keyId: k,
              nodeId: n,
              setId,
              epoch,
              threshold,
              total,
              retainedIndexes: created.retained.map((r) => r.index),
              envelopes: created.envelopes.map((e, i) => ({
                shareIndex: e.shareIndex,
                custodian: toHex(e.custodian.fingerprint),
                file: envelopeFiles[i] ?? '',
                sha256: sha256Hex(e.bytes),
                qrFrames: qrFrames[i] ?? [],
              })),
              manifestFile,
              manifestSha256: manifestSha,
              ...(previous === undefined ? {} : { superseded: { setId: previous.set_id, epoch: previous.epoch, notices } }),
            };
            inTransaction(this.#db, () => {
              if (previous !== undefined) {
                this.#db.prepare("UPDATE backup_sets SET state = 'superseded', superseded_at = ? WHERE set_id = ?").run(nowMs, previous.set_id);
              }
              this.#db
                .prepare(
                  "INSERT INTO backup_sets (set_id, key_id, node_id, epoch, threshold, total, retain, manifest, manifest_sha256, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?)",
                )
                .run(setId, k, n, epoch, threshold, total, retain, created.manifestBytes, manifestSha, nowMs);
              const addRetained = this.#db.prepare("INSERT INTO retained_shares (set_id, share_index, commitment, state, created_at) VALUES (?, ?, ?, 'held', ?)");
              for (const r of created.retained) {
                addRetained.run(setId, r.index, manifestShare(created.manifest, r.index).commitment, nowMs);
              }
              const addDelivery = this.#db.prepare(
                "INSERT INTO deliveries (set_id, share_index, custodian, envelope, envelope_sha256, envelope_file, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
              );
              for (const [i, e] of created.envelopes.entries()) {
                addDelivery.run(setId, e.shareIndex, toHex(e.custodian.fingerprint), e.bytes, sha256Hex(e.bytes), envelopeFiles[i] ?? null, nowMs, nowMs);
              }
              const common = { keyId: k, nodeId: n, setId, epoch, operator: this.#op(options) };
              this.#audit({
                ...base,
                ...common,
                result: 'ok',
                signature: frameSignature(created.manifestBytes),
                target: 'manifest',
                details: {
                  threshold,
                  total,
                  retain,
                  manifest_sha256: manifestSha,
                  ...(previous === undefined ? {} : { supersedes_set_id: previous.set_id, supersedes_epoch: previous.epoch }),
                },
              });
              for (const r of created.retained) {
                this.#audit({ event: 'generate', action: 'share-retained', result: 'ok', ...common, shareIndex: r.index, target: 'server' });
              }
              for (const [i, e] of created.envelopes.entries()) {
                const c = custodians[i];
                this.#audit({
                  event: 'generate',
                  action: 'share-envelope',
                  result: 'ok',
                  ...common,
                  shareIndex: e.shareIndex,
                  envelopeSha256: sha256Hex(e.bytes),
                  signature: frameSignature(e.bytes),
                  target: `custodian:${toHex(e.custodian.fingerprint)} (${c?.label ?? '?'})`,
                });
              }
            });
            return result;
          } catch (error) {
            for (const p of written) removeFileDurable(p);
            throw error;
          } finally {
            for (const r of created.retained) wipe(r.share);
          }
        } finally {
          wipe(record);
        }
      });
    });
  }

  /** The signed manifest of a node's set (default: the active one). */
  getManifest(keyId: string, nodeId: string, setId?: string): Uint8Array {
    const set = this.#setFor(checkKeyId(keyId), checkNodeId(nodeId), setId);
    return blob(set.manifest);
  }

  // ───────────────────────────── delivery ─────────────────────────────

  /** RequestShareDelivery: hands out a share's signed envelope and marks it delivered. */
  async requestShareDelivery(ref: ShareRef, ctx: OpContext = {}): Promise<{ envelope: Uint8Array; status: ShareStatus }> {
    const base = { event: 'deliver', action: 'envelope', operator: this.#op(ctx) } as const;
    return this.#audited(base, () => {
      const k = checkKeyId(ref.keyId);
      const n = checkNodeId(ref.nodeId);
      const index = checkShareIndex(ref.shareIndex);
      const set = this.#setFor(k, n, ref.setId);
      return Promise.resolve(
        inTransaction(this.#db, () => {
          const d = this.#deliveryRow(set, index);
          const now = this.#now();
          if (d.status === 'pending') {
            this.#db.prepare("UPDATE deliveries SET status = 'delivered', delivered_at = ?, updated_at = ? WHERE set_id = ? AND share_index = ?").run(now, now, set.set_id, index);
          }
          const custodian = this.#custodianRow(d.custodian);
          this.#audit({
            ...base,
            result: 'ok',
            keyId: k,
            nodeId: n,
            setId: set.set_id,
            epoch: set.epoch,
            shareIndex: index,
            envelopeSha256: d.envelope_sha256,
            signature: frameSignature(d.envelope),
            target: `custodian:${d.custodian} (${custodian.label})`,
            details: { status: d.status === 'pending' ? 'delivered' : d.status },
          });
          return { envelope: blob(d.envelope), status: this.#shareStatus(set, this.#deliveryRow(set, index)) };
        }),
      );
    });
  }

  /**
   * ConfirmShareDelivery: accepts a receipt only when it is signed by the registered custodian the
   * share was addressed to and names the exact envelope the agent issued for that share.
   */
  async confirmShareDelivery(receiptBytes: Uint8Array, ctx: OpContext = {}): Promise<ShareStatus> {
    const base = { event: 'confirm', action: 'receipt', operator: this.#op(ctx) } as const;
    return this.#audited(base, () => {
      checkBytes(receiptBytes, 'receipt', 8192);
      const claimed = parseWith(receiptSchema, peekBody(receiptBytes, 'delivery receipt'), 'delivery receipt');
      const setId = toHex(claimed.set_id);
      const set = this.#db.prepare('SELECT * FROM backup_sets WHERE set_id = ?').get(setId) as BackupSetRow | undefined;
      if (set === undefined) throw new AgentError('NOT_FOUND', 'The receipt is for a backup set this agent does not know.', { details: { setId } });
      const d = this.#deliveryRow(set, claimed.share_index);
      const custodian = this.#custodianRow(d.custodian);
      const receipt = openReceipt(receiptBytes, blob(custodian.sign_key)).body;
      if (custodian.enabled !== 1) {
        throw new AgentError('FAILED_PRECONDITION', `Custodian ${custodian.label} is disabled; their receipt is not accepted.`, { details: { fingerprint: custodian.fingerprint } });
      }
      if (receipt.key_id !== set.key_id || receipt.node_id !== set.node_id || receipt.epoch !== set.epoch) {
        throw new CustosError('SET_MISMATCH', `The receipt for share ${String(receipt.share_index)} names another key, node or epoch than its backup set.`, {
          details: { shareIndex: receipt.share_index },
        });
      }
      if (toHex(receipt.envelope_hash) !== d.envelope_sha256) {
        throw new AgentError('ENVELOPE_MISMATCH', `The receipt for share ${String(receipt.share_index)} is for a different envelope than the one issued for that share.`, {
          details: { shareIndex: receipt.share_index },
        });
      }
      const now = this.#now();
      const status = receipt.status === 'accepted' ? 'confirmed' : 'rejected';
      return Promise.resolve(
        inTransaction(this.#db, () => {
          this.#db
            .prepare('UPDATE deliveries SET status = ?, reason = ?, note = ?, receipt = ?, confirmed_at = ?, updated_at = ?, delivered_at = COALESCE(delivered_at, ?) WHERE set_id = ? AND share_index = ?')
            .run(status, receipt.reason ?? null, receipt.note ?? null, receiptBytes, now, now, now, set.set_id, receipt.share_index);
          this.#audit({
            ...base,
            result: 'ok',
            keyId: set.key_id,
            nodeId: set.node_id,
            setId: set.set_id,
            epoch: set.epoch,
            shareIndex: receipt.share_index,
            envelopeSha256: d.envelope_sha256,
            signature: frameSignature(receiptBytes),
            target: `custodian:${custodian.fingerprint} (${custodian.label})`,
            details: { status, ...(receipt.reason === undefined ? {} : { custodian_reason: receipt.reason }), received_at: receipt.received_at },
          });
          return this.#shareStatus(set, this.#deliveryRow(set, receipt.share_index));
        }),
      );
    });
  }

  /** QueryShareStatus: every external share of a node's set (default active), or one of them. */
  queryShareStatus(query: { keyId: string; nodeId: string; setId?: string; shareIndex?: number }): ShareStatus[] {
    const k = checkKeyId(query.keyId);
    const n = checkNodeId(query.nodeId);
    const set = this.#setFor(k, n, query.setId);
    if (query.shareIndex !== undefined) return [this.#shareStatus(set, this.#deliveryRow(set, checkShareIndex(query.shareIndex)))];
    const rows = this.#db.prepare('SELECT * FROM deliveries WHERE set_id = ? ORDER BY share_index').all(set.set_id) as DeliveryRow[];
    return rows.map((d) => this.#shareStatus(set, d));
  }

  // ───────────────────────────── status ─────────────────────────────

  getBackupStatus(keyId: string, nodeId: string): BackupStatus {
    const k = checkKeyId(keyId);
    const n = checkNodeId(nodeId);
    const node = this.#nodeRow(k, n);
    const set = this.#activeSetOrUndefined(k, n);
    if (set === undefined) throw new AgentError('NOT_FOUND', `Key ${k} node ${n} has no backup set yet.`, { details: { keyId: k, nodeId: n } });
    const held = (this.#db.prepare("SELECT COUNT(*) AS c FROM retained_shares WHERE set_id = ? AND state = 'held'").get(set.set_id) as { c: number }).c;
    const counts = this.#db
      .prepare("SELECT SUM(status IN ('delivered', 'confirmed')) AS delivered, SUM(status = 'confirmed') AS confirmed FROM deliveries WHERE set_id = ?")
      .get(set.set_id) as { delivered: number | null; confirmed: number | null };
    const confirmed = counts.confirmed ?? 0;
    const lastDrill = this.#lastDrill(k, n);
    return {
      keyId: k,
      nodeId: n,
      setId: set.set_id,
      epoch: set.epoch,
      curve: node.curve,
      threshold: set.threshold,
      total: set.total,
      retain: set.retain,
      serverSharesHeld: held,
      externalDelivered: counts.delivered ?? 0,
      externalConfirmed: confirmed,
      recoverable: held + confirmed >= set.threshold,
      externalOnlyRecoverable: confirmed >= set.threshold,
      ...(lastDrill === undefined ? {} : { lastDrill }),
    };
  }

  /** ListBackupShares: the server-held share records of every set of a node, never their secrets. */
  listBackupShares(keyId: string, nodeId: string): ServerShareRecord[] {
    const k = checkKeyId(keyId);
    const n = checkNodeId(nodeId);
    this.#nodeRow(k, n);
    const rows = this.#db
      .prepare(
        'SELECT r.*, s.key_id, s.node_id, s.epoch, s.state AS set_state FROM retained_shares r JOIN backup_sets s ON s.set_id = r.set_id WHERE s.key_id = ? AND s.node_id = ? ORDER BY s.epoch DESC, r.share_index',
      )
      .all(k, n) as (RetainedShareRow & { key_id: string; node_id: string; epoch: number; set_state: 'active' | 'superseded' })[];
    return rows.map((r) => this.#serverShare(r));
  }

  async recordDrill(input: DrillInput, ctx: OpContext = {}): Promise<DrillRecord> {
    const base = { event: 'drill', action: 'record', operator: this.#op(ctx) } as const;
    return this.#audited(base, () => {
      const k = checkKeyId(input.keyId);
      const n = checkNodeId(input.nodeId);
      this.#nodeRow(k, n);
      const mode = this.#checkMode(input.mode);
      if (!Number.isSafeInteger(input.durationMs) || input.durationMs < 0) throw new CustosError('INVALID_PARAMETERS', 'A drill duration is whole milliseconds, not negative.');
      const setId = input.setId === undefined ? undefined : checkSetId(input.setId);
      const sessionId = input.sessionId === undefined ? undefined : checkSessionId(input.sessionId);
      if (input.note !== undefined && !labelSchema.safeParse(input.note).success) throw new CustosError('INVALID_PARAMETERS', 'A drill note is 1 to 200 characters without control characters.');
      return Promise.resolve(
        inTransaction(this.#db, () => {
          this.#insertDrill({ keyId: k, nodeId: n, mode, ok: input.ok, durationMs: input.durationMs, setId, sessionId, note: input.note });
          this.#audit({ ...base, result: input.ok ? 'ok' : 'failed', keyId: k, nodeId: n, setId, details: { mode, duration_ms: input.durationMs, ...(input.note === undefined ? {} : { note: input.note }) } });
          const last = this.#lastDrill(k, n);
          if (last === undefined) throw new AgentError('INTERNAL', 'The drill was not recorded.');
          return last;
        }),
      );
    });
  }

  // ───────────────────────────── deletion (soft → cool-off → hard, rollback) ─────────────────────────────

  /** Marks server-held shares for deletion (seeds 软删除). They are no longer used for recovery. */
  async softDeleteServerShares(sel: ServerShareSelector, ctx: OpContext = {}): Promise<ServerShareRecord[]> {
    return this.#changeServerShares(sel, ctx, 'delete', 'soft-delete', 'held', (set, index, now) => {
      this.#db.prepare("UPDATE retained_shares SET state = 'soft-deleted', soft_deleted_at = ? WHERE set_id = ? AND share_index = ?").run(now, set.set_id, index);
    });
  }

  /** Restores soft-deleted shares during the cooling-off period (seeds 回滚). */
  async rollbackServerShares(sel: ServerShareSelector, ctx: OpContext = {}): Promise<ServerShareRecord[]> {
    return this.#changeServerShares(sel, ctx, 'rollback', 'restore', 'soft-deleted', (set, index) => {
      this.#db.prepare("UPDATE retained_shares SET state = 'held', soft_deleted_at = NULL WHERE set_id = ? AND share_index = ?").run(set.set_id, index);
    });
  }

  /**
   * Hard-deletes soft-deleted shares after the cooling-off period. For the active set (zero
   * retention) the SOP's preconditions apply too: every external share confirmed by its custodian
   * and a successful external-only drill of this set.
   */
  async purgeServerShares(sel: ServerShareSelector, ctx: OpContext = {}): Promise<ServerShareRecord[]> {
    return this.#changeServerShares(sel, ctx, 'delete', 'hard-delete', 'soft-deleted', (set, index, now, row) => {
      const since = row.soft_deleted_at ?? now;
      if (now - since < this.#cooldownMs) {
        const hours = Math.ceil((this.#cooldownMs - (now - since)) / 3_600_000);
        throw new AgentError('FAILED_PRECONDITION', `Share ${String(index)} is in its cooling-off period for another ${String(hours)} hour(s); it can still be rolled back.`, {
          details: { shareIndex: index },
        });
      }
      if (set.state === 'active') {
        const confirmed = (this.#db.prepare("SELECT COUNT(*) AS c FROM deliveries WHERE set_id = ? AND status = 'confirmed'").get(set.set_id) as { c: number }).c;
        const externals = set.total - set.retain;
        if (confirmed < externals) {
          throw new AgentError('FAILED_PRECONDITION', `Only ${String(confirmed)} of ${String(externals)} external shares are confirmed; zero retention needs every receipt.`);
        }
        const drill = this.#db.prepare("SELECT id FROM drills WHERE set_id = ? AND mode = 'external-only' AND ok = 1 LIMIT 1").get(set.set_id);
        if (drill === undefined) {
          throw new AgentError('FAILED_PRECONDITION', 'Zero retention needs a successful external-only recovery drill of this backup set first.');
        }
      }
      this.#store.remove({ kind: 'retained-share', keyId: set.key_id, nodeId: set.node_id, setId: set.set_id, index });
      this.#db.prepare("UPDATE retained_shares SET state = 'deleted', deleted_at = ? WHERE set_id = ? AND share_index = ?").run(now, set.set_id, index);
    });
  }

  // ───────────────────────────── recovery ─────────────────────────────

  /**
   * Opens a recovery session for an incident (seeds SOP §5): it needs two approvals, signed by
   * distinct registered approvers over the returned details, before it issues its request.
   */
  async openSession(input: OpenSessionInput, ctx: OpContext = {}): Promise<OpenedSession> {
    const base = { event: 'recover', action: 'session-open', operator: this.#op(ctx) } as const;
    this.#rateLimit('recovery');
    return this.#audited(base, async () => {
      const incident = checkIncidentId(input.incidentId);
      const k = checkKeyId(input.keyId);
      const n = checkNodeId(input.nodeId);
      const mode = this.#checkMode(input.mode);
      const ttl = input.ttlSeconds ?? DEFAULT_SESSION_TTL_S;
      if (!Number.isInteger(ttl) || ttl < MIN_SESSION_TTL_S || ttl > MAX_SESSION_TTL_S) {
        throw new CustosError('INVALID_PARAMETERS', `A session lifetime is ${String(MIN_SESSION_TTL_S)} to ${String(MAX_SESSION_TTL_S)} seconds.`, { details: { field: 'ttlSeconds' } });
      }
      this.expireSessions();
      this.#nodeRow(k, n);
      const set = this.#setFor(k, n, input.setId);
      if (mode === 'mixed' && this.#heldIndexes(set.set_id).length === 0) {
        throw new AgentError('FAILED_PRECONDITION', 'This backup set has no server-held shares left; open an external-only session.');
      }
      const nowMs = this.#now();
      const sessionIdBytes = new Uint8Array(nodeRandomBytes(16));
      const sessionId = toHex(sessionIdBytes);
      const details: SessionDetails = parseWith(
        sessionDetailsSchema,
        { session_id: sessionIdBytes, incident_id: incident, key_id: k, node_id: n, set_id: fromHex(set.set_id), epoch: set.epoch, mode, not_after: sec(nowMs) + ttl },
        'session details',
      );
      const detailsCbor = encodeCanonical(details);
      const age = await generateAgeKeyPair();
      const sealed = await this.#store.seal({ kind: 'session-identity', sessionId }, utf8(age.identity));
      inTransaction(this.#db, () => {
        this.#db
          .prepare(
            "INSERT INTO recovery_sessions (session_id, incident_id, key_id, node_id, set_id, epoch, mode, not_after, details, state, recipient, identity_sealed, operator, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'awaiting-approvals', ?, ?, ?, ?)",
          )
          .run(sessionId, incident, k, n, set.set_id, set.epoch, mode, details.not_after, detailsCbor, age.recipient, sealed, this.#op(ctx), nowMs);
        this.#audit({ ...base, result: 'ok', keyId: k, nodeId: n, setId: set.set_id, epoch: set.epoch, target: `session:${sessionId}`, details: { incident_id: incident, mode, not_after: details.not_after } });
      });
      return { session: this.getSession(sessionId), details, detailsCbor };
    });
  }

  getSession(sessionId: string): SessionView {
    return this.#view(this.#sessionRow(checkSessionId(sessionId)));
  }

  /** The details approvers sign over, as the object and as canonical CBOR (for a file). */
  sessionDetails(sessionId: string): { details: SessionDetails; detailsCbor: Uint8Array } {
    const row = this.#sessionRow(checkSessionId(sessionId));
    return { details: this.#details(row), detailsCbor: blob(row.details) };
  }

  listSessions(filter: { keyId?: string; nodeId?: string } = {}): SessionView[] {
    this.expireSessions();
    const k = filter.keyId === undefined ? null : checkKeyId(filter.keyId);
    const n = filter.nodeId === undefined ? null : checkNodeId(filter.nodeId);
    const rows = this.#db
      .prepare('SELECT * FROM recovery_sessions WHERE (? IS NULL OR key_id = ?) AND (? IS NULL OR node_id = ?) ORDER BY created_at DESC')
      .all(k, k, n, n) as SessionRow[];
    return rows.map((r) => this.#view(r));
  }

  /**
   * The one session of a key and node that is still open (awaiting approvals or collecting), or
   * undefined; CONFLICT when there are several (name one by id then).
   */
  findOpenSession(keyId: string, nodeId: string): SessionView | undefined {
    const k = checkKeyId(keyId);
    const n = checkNodeId(nodeId);
    this.expireSessions();
    const rows = this.#db
      .prepare("SELECT * FROM recovery_sessions WHERE key_id = ? AND node_id = ? AND state IN ('awaiting-approvals', 'collecting') ORDER BY created_at")
      .all(k, n) as SessionRow[];
    if (rows.length > 1) {
      throw new AgentError('CONFLICT', `Key ${k} node ${n} has ${String(rows.length)} open recovery sessions; name the session id.`, { details: { keyId: k, nodeId: n, open: rows.length } });
    }
    const row = rows[0];
    return row === undefined ? undefined : this.#view(row);
  }

  /** Records one approval: a registered, enabled approver's signature over this session's details. */
  async addApproval(sessionId: string, approvalBytes: Uint8Array, ctx: OpContext = {}): Promise<SessionView> {
    const base = { event: 'recover', action: 'approval-add', operator: this.#op(ctx) } as const;
    this.#rateLimit('recovery');
    return this.#audited(base, () => {
      const sid = checkSessionId(sessionId);
      checkBytes(approvalBytes, 'approval', 4096);
      return this.#locks.run(`session:${sid}`, () => {
        const row = this.#liveSession(sid);
        if (row.request !== null) throw new AgentError('FAILED_PRECONDITION', 'The recovery request was issued already; approvals are closed for this session.');
        const details = this.#details(row);
        const opened = openApproval(approvalBytes, details, this.#enabledApprovers().map((a) => blob(a.sign_key)));
        const fp = toHex(opened.fingerprint);
        const approver = this.#approverRow(fp);
        return Promise.resolve(
          inTransaction(this.#db, () => {
            if (this.#db.prepare('SELECT approver FROM approvals WHERE session_id = ? AND approver = ?').get(sid, fp) !== undefined) {
              throw new CustosError('DUPLICATE_APPROVER', `${approver.name} has approved this session already; a second approval must come from a different person.`, {
                details: { approver: fp },
              });
            }
            this.#db
              .prepare('INSERT INTO approvals (session_id, approver, approval, approver_name, approved_at, added_at) VALUES (?, ?, ?, ?, ?, ?)')
              .run(sid, fp, approvalBytes, opened.body.approver_name, opened.body.approved_at, this.#now());
            this.#audit({
              ...base,
              result: 'ok',
              keyId: row.key_id,
              nodeId: row.node_id,
              setId: row.set_id,
              epoch: row.epoch,
              approver: `${approver.name} (${fp})`,
              signature: frameSignature(approvalBytes),
              target: `session:${sid}`,
            });
            return this.#view(this.#sessionRow(sid));
          }),
        );
      });
    });
  }

  /**
   * Issues the signed recovery request (at least two approvals by distinct enabled approvers).
   * Asking again returns the same request.
   */
  async recoveryRequest(sessionId: string, ctx: OpContext = {}): Promise<Uint8Array> {
    const base = { event: 'recover', action: 'request-issue', operator: this.#op(ctx) } as const;
    this.#rateLimit('recovery');
    return this.#audited(base, () => {
      const sid = checkSessionId(sessionId);
      return this.#locks.run(`session:${sid}`, () => {
        const row = this.#liveSession(sid);
        if (row.request !== null) return Promise.resolve(blob(row.request));
        const approvals = this.#validApprovals(sid);
        if (approvals.length < MIN_APPROVALS) {
          throw new CustosError('APPROVAL_REQUIRED', `${String(approvals.length)} approval(s) of the ${String(MIN_APPROVALS)} required from different registered approvers.`, {
            details: { have: approvals.length, need: MIN_APPROVALS },
          });
        }
        const set = this.#setRowById(row.set_id);
        const request = makeRecoveryRequest(
          { session: this.#details(row), approvals: approvals.map((a) => blob(a.approval)), recipient: row.recipient, manifest: blob(set.manifest), created_at: sec(this.#now()) },
          this.#signing,
        );
        const opened = openRecoveryRequest(request, this.#signing.publicKey, sec(this.#now()), this.#enabledApprovers().map((a) => blob(a.sign_key)));
        return Promise.resolve(
          inTransaction(this.#db, () => {
            this.#db.prepare("UPDATE recovery_sessions SET request = ?, request_sha256 = ?, state = 'collecting' WHERE session_id = ?").run(request, toHex(opened.hash), sid);
            this.#audit({
              ...base,
              result: 'ok',
              keyId: row.key_id,
              nodeId: row.node_id,
              setId: row.set_id,
              epoch: row.epoch,
              signature: frameSignature(request),
              approver: approvals.map((a) => `${a.approver_name} (${a.approver})`).join('; '),
              target: `session:${sid}`,
              details: { request_sha256: toHex(opened.hash) },
            });
            return request;
          }),
        );
      });
    });
  }

  /**
   * Takes custodians' recovery exports. Each is verified (registered custodian's signature, session
   * and request binding, key/node/set/epoch, the manifest assigns the index to that custodian,
   * decryption with the session key, the share commitment). A bad one is refused and named; the
   * good ones are kept.
   */
  async submitExports(sessionId: string, exportsBytes: readonly Uint8Array[], ctx: OpContext = {}): Promise<SubmitResult> {
    const base = { event: 'recover', action: 'export-submit', operator: this.#op(ctx) } as const;
    this.#rateLimit('recovery');
    return this.#audited(base, () => {
      const sid = checkSessionId(sessionId);
      const list: unknown = exportsBytes;
      if (!Array.isArray(list) || exportsBytes.length === 0 || exportsBytes.length > 255) {
        throw new CustosError('INVALID_PARAMETERS', 'Submit 1 to 255 recovery exports at a time.');
      }
      return this.#locks.run(`session:${sid}`, async () => {
        const row = this.#liveSession(sid);
        const req = this.#openRequest(row);
        const identity = await this.#sessionIdentity(row);
        const custodians = this.#registeredCustodians();
        const accepted: number[] = [];
        const refused: { shareIndex?: number; code: string; message: string }[] = [];
        for (const bytes of exportsBytes) {
          const claimed = peekShareIndex(bytes);
          try {
            checkBytes(bytes, 'recovery export', 128 * 1024);
            const opened = await openRecoveryExport(bytes, req, custodians, identity);
            wipe(opened.share);
            const index = opened.shareIndex;
            const custodian = this.#custodianBySignKey(opened.export.signer);
            const digest = sha256Hex(bytes);
            inTransaction(this.#db, () => {
              const existing = this.#db.prepare('SELECT export_sha256 FROM submitted_exports WHERE session_id = ? AND share_index = ?').get(sid, index) as { export_sha256: string } | undefined;
              if (existing !== undefined) {
                if (existing.export_sha256 === digest) return;
                throw new CustosError('DUPLICATE_SHARE', `Share ${String(index)} was already received for this session.`, { details: { shareIndex: index } });
              }
              this.#db
                .prepare('INSERT INTO submitted_exports (session_id, share_index, custodian, export, export_sha256, submitted_at) VALUES (?, ?, ?, ?, ?, ?)')
                .run(sid, index, custodian.fingerprint, bytes, digest, this.#now());
              this.#audit({
                ...base,
                result: 'ok',
                keyId: row.key_id,
                nodeId: row.node_id,
                setId: row.set_id,
                epoch: row.epoch,
                shareIndex: index,
                signature: frameSignature(bytes),
                target: `custodian:${custodian.fingerprint} (${custodian.label})`,
                details: { session_id: sid, export_sha256: digest },
              });
            });
            accepted.push(index);
          } catch (error) {
            const detail = isCodedError(error) ? error.details['shareIndex'] : undefined;
            const shareIndex = typeof detail === 'number' ? detail : claimed;
            refused.push({ ...(shareIndex === undefined ? {} : { shareIndex }), code: codeOf(error), message: messageOf(error) });
            this.#audit({
              ...base,
              result: isCodedError(error) ? 'refused' : 'failed',
              keyId: row.key_id,
              nodeId: row.node_id,
              setId: row.set_id,
              epoch: row.epoch,
              ...(shareIndex === undefined ? {} : { shareIndex }),
              reason: reasonOf(error),
              target: `session:${sid}`,
            });
          }
        }
        return { accepted, refused, session: this.#view(this.#sessionRow(sid)) };
      });
    });
  }

  /**
   * RecoverMPCShare (seeds §恢复流程 A–D and the keydata regeneration): threshold check, combine
   * (server-held shares only in mixed mode), secret commitment, rebuild the keydata from the
   * recovered record and the public context (stored, or a peer's), self-check, byte comparison with
   * the imported keydata, and only then atomic writes of `<node_id>.enc` and
   * `<node_id>.keydata.enc`. The session key is destroyed on success. A failure writes nothing and
   * leaves the session open for more shares until it expires or is cancelled.
   */
  async completeRecovery(sessionId: string, options: CompleteOptions = {}, ctx: OpContext = {}): Promise<RecoveryOutcome> {
    const drill = options.drill === true;
    const base = { event: drill ? 'drill' : 'recover', action: drill ? 'session-drill' : 'session-complete', operator: this.#op(ctx) } as const;
    this.#rateLimit('recovery');
    const started = this.#now();
    return this.#audited(base, () => {
      const sid = checkSessionId(sessionId);
      if (options.peerKeydata !== undefined) checkBytes(options.peerKeydata, 'peer keydata file', MAX_KEYDATA_BYTES);
      return this.#locks.run(`session:${sid}`, async () => {
        const row = this.#liveSession(sid);
        return this.#locks.run(`node:${row.key_id}/${row.node_id}`, async () => {
          try {
            return await this.#complete(row, options, drill, started, base);
          } catch (error) {
            // A drill that fails is recorded; one refused only because it is not ready yet is not.
            const notReady = ['BELOW_THRESHOLD', 'APPROVAL_REQUIRED', 'FAILED_PRECONDITION', 'RATE_LIMITED'];
            if (drill && !notReady.includes(codeOf(error))) {
              inTransaction(this.#db, () => {
                this.#insertDrill({ keyId: row.key_id, nodeId: row.node_id, mode: row.mode, ok: false, durationMs: this.#now() - started, setId: row.set_id, sessionId: sid, note: undefined });
              });
            }
            throw error;
          }
        });
      });
    });
  }

  async #complete(row: SessionRow, options: CompleteOptions, drill: boolean, started: number, base: Pick<AuditInput, 'event' | 'action' | 'operator'>): Promise<RecoveryOutcome> {
    const sid = row.session_id;
    const req = this.#openRequest(row);
    const node = this.#nodeRow(row.key_id, row.node_id);
    const manifest = req.manifest.body;
    const expectation = combineExpectation(manifest);
    const skipped: { shareIndex: number; code: string; message: string }[] = [];
    const provided: (ProvidedShare & { source: 'server' | 'external' })[] = [];
    let secret: Uint8Array | undefined;
    try {
      const identity = await this.#sessionIdentity(row);
      const custodians = this.#registeredCustodians();
      const exportsRows = this.#db.prepare('SELECT * FROM submitted_exports WHERE session_id = ? ORDER BY share_index').all(sid) as ExportRow[];
      for (const e of exportsRows) {
        try {
          const opened = await openRecoveryExport(blob(e.export), req, custodians, identity);
          provided.push({ index: opened.shareIndex, share: opened.share, setId: manifest.set_id, epoch: manifest.epoch, source: 'external' });
        } catch (error) {
          skipped.push({ shareIndex: e.share_index, code: codeOf(error), message: messageOf(error) });
        }
      }
      if (row.mode === 'mixed') {
        for (const index of this.#heldIndexes(row.set_id)) {
          try {
            const share = await this.#store.read({ kind: 'retained-share', keyId: row.key_id, nodeId: row.node_id, setId: row.set_id, index });
            const s = { index, share, setId: manifest.set_id, epoch: manifest.epoch };
            checkShare(expectation, s);
            provided.push({ ...s, source: 'server' });
          } catch (error) {
            skipped.push({ shareIndex: index, code: codeOf(error), message: messageOf(error) });
          }
        }
      }
      secret = await combineShares(expectation, provided);
      const chosen = [...provided].sort((a, b) => a.index - b.index).slice(0, manifest.threshold);
      const record = decodeSecretRecord(secret);

      let contextSource: 'stored' | 'peer' = 'stored';
      let context: PublicContext;
      if (options.peerKeydata !== undefined) {
        const peer = parseKeydata(options.peerKeydata);
        try {
          assertSelfCheck(peer);
        } catch (error) {
          throw new CustosError('KEYDATA_INVALID', `The peer's keydata file fails its own self-check; it cannot provide the public context. ${messageOf(error)}`, { cause: error });
        }
        context = publicContextFromPeer(peer, record.index);
        contextSource = 'peer';
        if (!constantTimeEqual(publicContextHash(context), manifest.public_context_hash)) {
          throw new CustosError('KEYDATA_INVALID', "The peer's keydata is for another key: its public context does not match this backup set's manifest.", {
            details: { field: 'public_context_hash' },
          });
        }
      } else {
        context = decodePublicContext(blob(node.public_context));
        if (!constantTimeEqual(publicContextHash(context), manifest.public_context_hash)) {
          throw new AgentError('CORRUPT_FILE', "The stored public context does not match the backup set's manifest; provide a peer's keydata file.");
        }
      }
      const regenerated = regenerateKeydata(record, context);
      const check = assertSelfCheck(regenerated);
      const keydataBytes = writeKeydata(regenerated);
      const keydataSha = fileHash(keydataBytes);
      const lines = selfCheckLines(check);
      const same = constantTimeEqual(keydataSha, node.keydata_sha256);
      lines.push(same ? { name: 'matchesImported', ok: true } : { name: 'matchesImported', ok: false, detail: 'the rebuilt keydata differs from the imported one' });
      if (!same) {
        wipe(keydataBytes);
        throw new CustosError('SELF_CHECK_FAILED', 'The rebuilt keydata differs from the keydata this node imported; nothing was written.', { details: { failed: ['matchesImported'] } });
      }

      if (!drill) {
        const shareRef = { kind: 'share', keyId: row.key_id, nodeId: row.node_id } as const;
        const keydataRef = { kind: 'keydata', keyId: row.key_id, nodeId: row.node_id } as const;
        // Seal both first: a KEK failure then writes neither file.
        const sealedShare = await this.#store.seal(shareRef, secret);
        const sealedKeydata = await this.#store.seal(keydataRef, keydataBytes);
        const dir = join(this.dataDir, 'keys', row.key_id);
        ensureDir(join(this.dataDir, 'keys'), 0o700);
        ensureDir(dir, 0o700);
        writeFileAtomic(this.#store.pathOf(shareRef), sealedShare, { mode: 0o600 });
        writeFileAtomic(this.#store.pathOf(keydataRef), sealedKeydata, { mode: 0o600 });
        const back = await this.#store.read(keydataRef);
        const ok = constantTimeEqual(back, keydataBytes);
        wipe(back);
        if (!ok) throw new AgentError('INTERNAL', 'The keydata read back after writing differs from what was written.');
      }
      wipe(keydataBytes);

      const nowMs = this.#now();
      const durationMs = nowMs - started;
      const sharesUsed = { server: chosen.filter((s) => s.source === 'server').length, external: chosen.filter((s) => s.source === 'external').length };
      inTransaction(this.#db, () => {
        this.#db
          .prepare("UPDATE recovery_sessions SET state = 'completed', identity_sealed = NULL, ended_at = ?, outcome = ? WHERE session_id = ?")
          .run(nowMs, drill ? 'drill-ok' : 'recovered', sid);
        if (!drill) this.#db.prepare('UPDATE nodes SET restored_at = ? WHERE key_id = ? AND node_id = ?').run(nowMs, row.key_id, row.node_id);
        if (drill) this.#insertDrill({ keyId: row.key_id, nodeId: row.node_id, mode: row.mode, ok: true, durationMs, setId: row.set_id, sessionId: sid, note: undefined });
        this.#audit({
          ...base,
          result: 'ok',
          keyId: row.key_id,
          nodeId: row.node_id,
          setId: row.set_id,
          epoch: row.epoch,
          target: drill ? 'drill (nothing written)' : 'server: <node_id>.enc and <node_id>.keydata.enc',
          approver: this.#validApprovals(sid)
            .map((a) => `${a.approver_name} (${a.approver})`)
            .join('; '),
          details: {
            session_id: sid,
            incident_id: row.incident_id,
            mode: row.mode,
            shares_server: sharesUsed.server,
            shares_external: sharesUsed.external,
            indexes: chosen.map((s) => s.index),
            context_source: contextSource,
            keydata_sha256: toHex(keydataSha),
            duration_ms: durationMs,
          },
        });
      });
      return {
        success: true,
        session: this.#view(this.#sessionRow(sid)),
        sharesUsed,
        indexesUsed: chosen.map((s) => s.index),
        keydataSha256: toHex(keydataSha),
        selfCheck: lines,
        contextSource,
        written: !drill,
        skipped,
        durationMs,
      };
    } finally {
      wipe(secret);
      for (const p of provided) wipe(p.share);
    }
  }

  /** Ends a session without recovering; its key is destroyed. */
  async cancelSession(sessionId: string, ctx: OpContext = {}): Promise<SessionView> {
    const base = { event: 'recover', action: 'session-cancel', operator: this.#op(ctx) } as const;
    return this.#audited(base, () => {
      const sid = checkSessionId(sessionId);
      return this.#locks.run(`session:${sid}`, () => {
        const row = this.#liveSession(sid);
        inTransaction(this.#db, () => {
          this.#db.prepare("UPDATE recovery_sessions SET state = 'cancelled', identity_sealed = NULL, ended_at = ?, outcome = 'cancelled' WHERE session_id = ?").run(this.#now(), sid);
          this.#audit({ ...base, result: 'ok', keyId: row.key_id, nodeId: row.node_id, setId: row.set_id, epoch: row.epoch, target: `session:${sid}` });
        });
        return Promise.resolve(this.getSession(sid));
      });
    });
  }

  /** Marks every session past its expiry as expired and destroys its key; returns how many. */
  expireSessions(): number {
    const nowMs = this.#now();
    const due = this.#db
      .prepare("SELECT * FROM recovery_sessions WHERE state IN ('awaiting-approvals', 'collecting') AND not_after * 1000 < ?")
      .all(nowMs) as SessionRow[];
    for (const row of due) this.#expire(row);
    return due.length;
  }

  // ───────────────────────────── audit ─────────────────────────────

  verifyAudit(): AuditVerification {
    return verifyAudit(this.#db);
  }

  auditEntries(options: { fromSeq?: number; limit?: number } = {}): AuditRecord[] {
    return listAudit(this.#db, options);
  }

  exportAudit(): string {
    return exportAuditJsonl(this.#db);
  }

  // ───────────────────────────── internals ─────────────────────────────

  #op(ctx: OpContext): string {
    return ctx.operator === undefined ? this.#operator : checkOperator(ctx.operator);
  }

  #audit(input: AuditInput): void {
    appendAudit(this.#db, { ...input, operator: input.operator ?? this.#operator }, this.#now());
  }

  /** Runs an operation; a failure is recorded in the audit log (outside the failed transaction). */
  async #audited<T>(base: Pick<AuditInput, 'event' | 'action' | 'operator'>, fn: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new AgentError('FAILED_PRECONDITION', 'The agent was closed.');
    try {
      return await fn();
    } catch (error) {
      try {
        this.#audit({ ...base, result: isCodedError(error) ? 'refused' : 'failed', reason: reasonOf(error), ...auditScope(error) });
      } catch {
        // The original error matters more than a failed audit write (e.g. the database is gone).
      }
      throw error;
    }
  }

  #rateLimit(what: string): void {
    this.#limiter?.take(what);
  }

  #checkMode(mode: unknown): Mode {
    if (mode !== 'mixed' && mode !== 'external-only') throw new CustosError('INVALID_PARAMETERS', 'The recovery mode is "mixed" or "external-only".', { details: { field: 'mode' } });
    return mode;
  }

  #nodeRowOrUndefined(k: string, n: string): NodeRow | undefined {
    return this.#db.prepare('SELECT * FROM nodes WHERE key_id = ? AND node_id = ?').get(k, n) as NodeRow | undefined;
  }

  #nodeRow(k: string, n: string): NodeRow {
    const row = this.#nodeRowOrUndefined(k, n);
    if (row === undefined) throw new AgentError('NOT_FOUND', `Key ${k} node ${n} is not known to this agent; import its keydata first.`, { details: { keyId: k, nodeId: n } });
    return row;
  }

  #activeSetOrUndefined(k: string, n: string): BackupSetRow | undefined {
    return this.#db.prepare("SELECT * FROM backup_sets WHERE key_id = ? AND node_id = ? AND state = 'active'").get(k, n) as BackupSetRow | undefined;
  }

  #setRowById(setId: string): BackupSetRow {
    const row = this.#db.prepare('SELECT * FROM backup_sets WHERE set_id = ?').get(setId) as BackupSetRow | undefined;
    if (row === undefined) throw new AgentError('NOT_FOUND', 'No such backup set.', { details: { setId } });
    return row;
  }

  /** A node's set by id, or its active set. */
  #setFor(k: string, n: string, setId: string | undefined): BackupSetRow {
    this.#nodeRow(k, n);
    if (setId !== undefined) {
      const row = this.#setRowById(checkSetId(setId));
      if (row.key_id !== k || row.node_id !== n) throw new AgentError('NOT_FOUND', `Backup set ${row.set_id} is not a set of key ${k} node ${n}.`, { details: { setId: row.set_id } });
      return row;
    }
    const active = this.#activeSetOrUndefined(k, n);
    if (active === undefined) throw new AgentError('NOT_FOUND', `Key ${k} node ${n} has no backup set yet; run a backup first.`, { details: { keyId: k, nodeId: n } });
    return active;
  }

  #manifest(set: BackupSetRow): Manifest {
    let m = this.#manifests.get(set.set_id);
    if (m === undefined) {
      m = openManifest(blob(set.manifest), this.#signing.publicKey).body;
      this.#manifests.set(set.set_id, m);
    }
    return m;
  }

  #deliveryRow(set: BackupSetRow, index: number): DeliveryRow {
    const d = this.#db.prepare('SELECT * FROM deliveries WHERE set_id = ? AND share_index = ?').get(set.set_id, index) as DeliveryRow | undefined;
    if (d === undefined) {
      throw new AgentError('NOT_FOUND', `Share ${String(index)} of backup set epoch ${String(set.epoch)} is not an external share.`, { details: { shareIndex: index } });
    }
    return d;
  }

  #shareStatus(set: BackupSetRow, d: DeliveryRow): ShareStatus {
    return {
      keyId: set.key_id,
      nodeId: set.node_id,
      setId: set.set_id,
      epoch: set.epoch,
      shareIndex: d.share_index,
      custodian: d.custodian,
      status: d.status,
      envelopeSha256: d.envelope_sha256,
      ...(d.reason === null ? {} : { reason: d.note === null ? d.reason : `${d.reason}: ${d.note}` }),
      updatedAt: sec(d.updated_at),
    };
  }

  #custodianRow(fp: string): CustodianRow {
    const row = this.#db.prepare('SELECT * FROM custodians WHERE fingerprint = ?').get(fp) as CustodianRow | undefined;
    if (row === undefined) throw new AgentError('NOT_FOUND', 'No custodian with this fingerprint is registered.', { details: { fingerprint: fp } });
    return row;
  }

  #custodianBySignKey(key: Uint8Array): CustodianRow {
    const row = this.#db.prepare('SELECT * FROM custodians WHERE sign_key = ?').get(key) as CustodianRow | undefined;
    if (row === undefined) throw new CustosError('UNTRUSTED_SIGNER', 'The signer is not a registered custodian.');
    return row;
  }

  #custodianRecord(r: CustodianRow): CustodianRecord {
    return { fingerprint: r.fingerprint, code: r.code, label: r.label, role: r.role, enabled: r.enabled === 1, addedAt: sec(r.added_at), cardName: r.card_name, ageRecipient: r.age_recipient };
  }

  #registeredCustodians(): RegisteredCustodian[] {
    const rows = this.#db.prepare('SELECT sign_key, age_recipient FROM custodians WHERE enabled = 1').all() as Pick<CustodianRow, 'sign_key' | 'age_recipient'>[];
    return rows.map((r) => ({ signKey: blob(r.sign_key), ageRecipient: r.age_recipient }));
  }

  #approverRow(fp: string): ApproverRow {
    const row = this.#db.prepare('SELECT * FROM approvers WHERE fingerprint = ?').get(fp) as ApproverRow | undefined;
    if (row === undefined) throw new AgentError('NOT_FOUND', 'No approver with this fingerprint is registered.', { details: { fingerprint: fp } });
    return row;
  }

  #approverRecord(r: ApproverRow): ApproverRecord {
    return { fingerprint: r.fingerprint, code: r.code, name: r.name, enabled: r.enabled === 1, addedAt: sec(r.added_at) };
  }

  #enabledApprovers(): ApproverRow[] {
    return this.#db.prepare('SELECT * FROM approvers WHERE enabled = 1').all() as ApproverRow[];
  }

  /** The session's approvals whose approver is still registered and enabled. */
  #validApprovals(sid: string): ApprovalRow[] {
    return this.#db
      .prepare('SELECT a.* FROM approvals a JOIN approvers p ON p.fingerprint = a.approver WHERE a.session_id = ? AND p.enabled = 1 ORDER BY a.added_at, a.approver')
      .all(sid) as ApprovalRow[];
  }

  #heldIndexes(setId: string): number[] {
    return (this.#db.prepare("SELECT share_index FROM retained_shares WHERE set_id = ? AND state = 'held' ORDER BY share_index").all(setId) as { share_index: number }[]).map(
      (r) => r.share_index,
    );
  }

  #sessionRow(sid: string): SessionRow {
    const row = this.#db.prepare('SELECT * FROM recovery_sessions WHERE session_id = ?').get(sid) as SessionRow | undefined;
    if (row === undefined) throw new AgentError('NOT_FOUND', 'No recovery session with this id.', { details: { sessionId: sid } });
    return row;
  }

  /** A session that may still be worked on; expires it (and throws EXPIRED) when its time is up. */
  #liveSession(sid: string): SessionRow {
    const row = this.#sessionRow(sid);
    if (row.state === 'expired') {
      throw new CustosError('EXPIRED', 'This recovery session has expired and its key was destroyed; open a new session.', { details: { sessionId: sid } });
    }
    if (TERMINAL.includes(row.state)) {
      throw new AgentError('FAILED_PRECONDITION', `This recovery session has ended (${row.state}); open a new session.`, { details: { sessionId: sid, state: row.state } });
    }
    if (this.#now() > row.not_after * 1000) {
      this.#expire(row);
      throw new CustosError('EXPIRED', 'This recovery session has expired and its key was destroyed; open a new session.', { details: { sessionId: sid, notAfter: row.not_after } });
    }
    return row;
  }

  #expire(row: SessionRow): void {
    inTransaction(this.#db, () => {
      const changed = this.#db
        .prepare("UPDATE recovery_sessions SET state = 'expired', identity_sealed = NULL, ended_at = ?, outcome = 'expired' WHERE session_id = ? AND state IN ('awaiting-approvals', 'collecting')")
        .run(this.#now(), row.session_id).changes;
      if (changed > 0) {
        this.#audit({ event: 'recover', action: 'session-expire', result: 'ok', keyId: row.key_id, nodeId: row.node_id, setId: row.set_id, epoch: row.epoch, target: `session:${row.session_id}`, operator: 'agent' });
      }
    });
  }

  #details(row: SessionRow): SessionDetails {
    return parseWith(sessionDetailsSchema, decodeCanonical(blob(row.details), 'session details'), 'session details');
  }

  /** The verified recovery request of a live session (approvals and request checked). */
  #openRequest(row: SessionRow): OpenedRecoveryRequest {
    const approvals = this.#validApprovals(row.session_id);
    if (approvals.length < MIN_APPROVALS) {
      throw new CustosError('APPROVAL_REQUIRED', `${String(approvals.length)} approval(s) of the ${String(MIN_APPROVALS)} required from different registered approvers.`, {
        details: { have: approvals.length, need: MIN_APPROVALS },
      });
    }
    if (row.request === null) throw new AgentError('FAILED_PRECONDITION', 'Issue the recovery request first; custodians export against it.');
    return openRecoveryRequest(blob(row.request), this.#signing.publicKey, sec(this.#now()), this.#enabledApprovers().map((a) => blob(a.sign_key)));
  }

  async #sessionIdentity(row: SessionRow): Promise<string> {
    if (row.identity_sealed === null) throw new AgentError('FAILED_PRECONDITION', 'This session\'s key was destroyed.');
    const plain = await this.#store.open({ kind: 'session-identity', sessionId: row.session_id }, blob(row.identity_sealed));
    try {
      const identity = fromUtf8(plain);
      assertAgeIdentity(identity);
      return identity;
    } finally {
      wipe(plain);
    }
  }

  #view(row: SessionRow): SessionView {
    const set = this.#setRowById(row.set_id);
    const m = this.#manifest(set);
    const approvals = (
      this.#db
        .prepare('SELECT a.approver, p.name, a.added_at FROM approvals a JOIN approvers p ON p.fingerprint = a.approver WHERE a.session_id = ? ORDER BY a.added_at, a.approver')
        .all(row.session_id) as { approver: string; name: string; added_at: number }[]
    ).map((a) => ({ approver: a.approver, name: a.name, at: sec(a.added_at) }));
    const received = (this.#db.prepare('SELECT share_index FROM submitted_exports WHERE session_id = ? ORDER BY share_index').all(row.session_id) as { share_index: number }[]).map(
      (r) => r.share_index,
    );
    const external = m.shares.filter((s) => s.custodian !== null).map((s) => s.index);
    const live = !TERMINAL.includes(row.state);
    return {
      sessionId: row.session_id,
      incidentId: row.incident_id,
      keyId: row.key_id,
      nodeId: row.node_id,
      setId: row.set_id,
      epoch: row.epoch,
      mode: row.mode,
      state: row.state,
      notAfter: row.not_after,
      approvals,
      threshold: set.threshold,
      received,
      missing: external.filter((i) => !received.includes(i)),
      serverAvailable: row.mode === 'mixed' && live ? this.#heldIndexes(row.set_id) : [],
      requestIssued: row.request !== null,
      createdAt: sec(row.created_at),
      ...(row.ended_at === null ? {} : { endedAt: sec(row.ended_at) }),
    };
  }

  #serverShare(r: RetainedShareRow & { key_id: string; node_id: string; epoch: number; set_state: 'active' | 'superseded' }): ServerShareRecord {
    return {
      keyId: r.key_id,
      nodeId: r.node_id,
      setId: r.set_id,
      epoch: r.epoch,
      shareIndex: r.share_index,
      commitment: toHex(r.commitment),
      state: r.state,
      createdAt: sec(r.created_at),
      setState: r.set_state,
      ...(r.soft_deleted_at === null ? {} : { softDeletedAt: sec(r.soft_deleted_at) }),
      ...(r.deleted_at === null ? {} : { deletedAt: sec(r.deleted_at) }),
    };
  }

  async #changeServerShares(
    sel: ServerShareSelector,
    ctx: OpContext,
    event: 'delete' | 'rollback',
    action: string,
    from: RetainedShareRow['state'],
    apply: (set: BackupSetRow, index: number, now: number, row: RetainedShareRow) => void,
  ): Promise<ServerShareRecord[]> {
    const base = { event, action, operator: this.#op(ctx) } as const;
    return this.#audited(base, () => {
      const k = checkKeyId(sel.keyId);
      const n = checkNodeId(sel.nodeId);
      const set = this.#setFor(k, n, sel.setId);
      const all = this.#db.prepare('SELECT * FROM retained_shares WHERE set_id = ? ORDER BY share_index').all(set.set_id) as RetainedShareRow[];
      let targets: RetainedShareRow[];
      if (sel.indexes === undefined) {
        targets = all.filter((r) => r.state === from);
      } else {
        targets = sel.indexes.map((i) => {
          const index = checkShareIndex(i);
          const r = all.find((x) => x.share_index === index);
          if (r === undefined) throw new AgentError('NOT_FOUND', `Share ${String(index)} is not a server-held share of this set.`, { details: { shareIndex: index } });
          if (r.state !== from) throw new AgentError('FAILED_PRECONDITION', `Share ${String(index)} is ${r.state}, not ${from}.`, { details: { shareIndex: index } });
          return r;
        });
      }
      if (targets.length === 0) throw new AgentError('FAILED_PRECONDITION', `No server-held share of this set is ${from}.`);
      return this.#locks.run(`node:${k}/${n}`, () => {
        const now = this.#now();
        for (const r of targets) {
          inTransaction(this.#db, () => {
            apply(set, r.share_index, now, r);
            this.#audit({ ...base, result: 'ok', keyId: k, nodeId: n, setId: set.set_id, epoch: set.epoch, shareIndex: r.share_index, target: 'server' });
          });
        }
        return Promise.resolve(this.listBackupShares(k, n).filter((s) => s.setId === set.set_id && targets.some((t) => t.share_index === s.shareIndex)));
      });
    });
  }

  #insertDrill(d: { keyId: string; nodeId: string; mode: Mode; ok: boolean; durationMs: number; setId: string | undefined; sessionId: string | undefined; note: string | undefined }): void {
    this.#db
      .prepare('INSERT INTO drills (key_id, node_id, set_id, mode, ok, duration_ms, session_id, note, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(d.keyId, d.nodeId, d.setId ?? null, d.mode, d.ok ? 1 : 0, d.durationMs, d.sessionId ?? null, d.note ?? null, this.#now());
  }

  #lastDrill(k: string, n: string): DrillRecord | undefined {
    const d = this.#db.prepare('SELECT * FROM drills WHERE key_id = ? AND node_id = ? ORDER BY at DESC, id DESC LIMIT 1').get(k, n) as DrillRow | undefined;
    if (d === undefined) return undefined;
    return {
      at: sec(d.at),
      ok: d.ok === 1,
      mode: d.mode,
      durationMs: d.duration_ms,
      ...(d.set_id === null ? {} : { setId: d.set_id }),
      ...(d.session_id === null ? {} : { sessionId: d.session_id }),
      ...(d.note === null ? {} : { note: d.note }),
    };
  }
}

/** Key and node named in an error's details, for the audit entry of a refusal. */
function auditScope(error: unknown): Pick<AuditInput, 'keyId' | 'nodeId' | 'shareIndex'> {
  if (!isCodedError(error)) return {};
  const { keyId, nodeId, shareIndex } = error.details;
  return {
    ...(typeof keyId === 'string' ? { keyId } : {}),
    ...(typeof nodeId === 'string' ? { nodeId } : {}),
    ...(typeof shareIndex === 'number' ? { shareIndex } : {}),
  };
}
