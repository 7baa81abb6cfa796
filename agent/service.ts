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
  deletionDetailsSchema,
  encodeCanonical,
  makeAgentCard,
  makeChallenge,
  makeRecoveryRequest,
  makeSupersede,
  manifestHash,
  manifestShare,
  openAgentCard,
  openApproval,
  openApproverCard,
  openChallenge,
  openCustodianCard,
  openDeletionApproval,
  openManifest,
  openReceipt,
  openRecoveryExport,
  openRecoveryRequest,
  parseWith,
  receiptSchema,
  sessionDetailsSchema,
  signingKeyFromSeed,
  verifyAttestation,
  label as labelSchema,
  type DeletionDetails,
  type DeletionPurpose,
  type InventoryItem,
  type Manifest,
  type OpenedRecoveryRequest,
  type RegisteredCustodian,
  type SessionDetails,
  type SigningKey,
} from '../shared/protocol';
import type {
  AgentSettings,
  ApproverRecord,
  AttestationResult,
  BackupOptions,
  BackupParams,
  BackupResult,
  BackupStatus,
  CompleteOptions,
  CustodianInventory,
  CustodianRecord,
  CustodianRole,
  DeletionView,
  DrillInput,
  DrillRecord,
  FileState,
  ImportResult,
  InitResult,
  InspectReport,
  InventoryItemRef,
  InventoryShare,
  InventoryStatus,
  InventorySummary,
  InventoryVerdict,
  IssuedChallenge,
  NodeRecord,
  OpContext,
  OpenSessionInput,
  OpenedSession,
  OverdueCustodian,
  OverdueReason,
  PurgeResult,
  RecoveryOutcome,
  RequestDeletionOptions,
  RequestedDeletion,
  ServerShareRecord,
  ServerShareSelector,
  SessionView,
  ShareRef,
  ShareStatus,
  SubmitResult,
} from './api';
import { CUSTODIAN_ROLES } from './api';
import { appendAudit, exportAuditJsonl, listAudit, verifyAudit, type AuditInput, type AuditRecord, type AuditVerification } from './audit/log';
import {
  inTransaction,
  openDatabase,
  type ApprovalRow,
  type ApproverRow,
  type BackupSetRow,
  type ChallengeRow,
  type CustodianRow,
  type DeletionApprovalRow,
  type DeletionRow,
  type DeliveryRow,
  type DrillRow,
  type ExportRow,
  type NodeRow,
  type RetainedShareRow,
  type SessionRow,
} from './db';
import { AgentError, codeOf, isCodedError } from './errors';
import { ensureDir, existsSync as exists, removeFileDurable, writeFileAtomicSync as writeFileAtomic } from '../node/fs-atomic';
import {
  checkBytes,
  checkDeletionId,
  checkFingerprint,
  checkIncidentId,
  checkKeyId,
  checkNodeId,
  checkSessionId,
  checkSetId,
  checkShareIndex,
} from './ids';
import { LocalFileKek, assertPrivateFile, type KekProvider } from './kek/file';
import { UR_TYPES, qrPngFrames } from '../node/qr-files';
import { DEFAULT_RECOVERY_RATE_LIMIT, TokenBucket, type RateLimit } from './rate-limit';
import { SecretStore } from './secret-store';
import type Database from 'better-sqlite3';

export const CARD_FILE = 'agent-card.cbor';
export const TOKEN_FILE = 'api.token';
export const DEFAULT_PARAMS: BackupParams = { threshold: 3, total: 5, retain: 2 };
/** Seeds: soft delete → cooling-off period (7 days) → hard delete, rollback allowed meanwhile. */
export const DEFAULT_DELETION_COOLDOWN_MS = 7 * 24 * 3600 * 1000;
/** A custodian whose last proof of possession is older than this is overdue (quarterly, as the SOP's drills). */
export const DEFAULT_INVENTORY_MAX_AGE_MS = 90 * 24 * 3600 * 1000;
/** How long an inventory challenge can be answered. */
export const DEFAULT_CHALLENGE_TTL_S = 7 * 24 * 3600;
/** How long after the cooling-off period a deletion's approvals stay valid. */
const DEFAULT_DELETION_TTL_S = 7 * 24 * 3600;
const MAX_DELETION_TTL_S = 30 * 24 * 3600;
/** Bounds of the settings (seconds). */
const SETTING_BOUNDS = {
  deletionCoolingSeconds: [3600, 365 * 24 * 3600],
  inventoryMaxAgeSeconds: [24 * 3600, 3 * 365 * 24 * 3600],
  inventoryChallengeTtlSeconds: [300, 90 * 24 * 3600],
} as const satisfies Record<keyof AgentSettings, readonly [number, number]>;
const SETTING_META: Record<keyof AgentSettings, string> = {
  deletionCoolingSeconds: 'deletion_cooling_s',
  inventoryMaxAgeSeconds: 'inventory_max_age_s',
  inventoryChallengeTtlSeconds: 'inventory_challenge_ttl_s',
};
const MAX_CHALLENGE_ITEMS = 20_000;
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
  /**
   * Soft-deleted server shares can be purged after this long. Overrides the stored setting
   * (`updateSettings`, default 7 days); for tests and embedding.
   */
  readonly deletionCooldownMs?: number;
  /** A proof of possession older than this makes its custodian overdue. Overrides the stored setting (default 90 days). */
  readonly inventoryMaxAgeMs?: number;
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
  readonly #cooldownOverrideMs: number | undefined;
  readonly #maxAgeOverrideMs: number | undefined;
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
    this.#cooldownOverrideMs = init.options.deletionCooldownMs;
    this.#maxAgeOverrideMs = init.options.inventoryMaxAgeMs;
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
          // SOP §4.5: the old set goes through the cooling-off period, then deletion. Its retained
          // shares are soft-deleted with the rotation (rollback stays possible), like the custodians'.
          const prevHeld = previous === undefined ? [] : this.#heldIndexes(previous.set_id);
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
                    destroy_after: now + sec(this.#cooldownMs()),
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
              ...(previous === undefined ? {} : { superseded: { setId: previous.set_id, epoch: previous.epoch, notices, retainedSoftDeleted: prevHeld } }),
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
              if (previous !== undefined) {
                for (const [i, d] of prevDeliveries.entries()) {
                  this.#audit({
                    event: 'generate',
                    action: 'supersede-notice',
                    result: 'ok',
                    keyId: k,
                    nodeId: n,
                    setId: previous.set_id,
                    epoch: previous.epoch,
                    shareIndex: d.share_index,
                    operator: this.#op(options),
                    target: `custodian:${d.custodian}`,
                    details: { new_set_id: setId, new_epoch: epoch, file: noticeFiles[i] ?? '' },
                  });
                }
                const soft = this.#db.prepare("UPDATE retained_shares SET state = 'soft-deleted', soft_deleted_at = ? WHERE set_id = ? AND share_index = ? AND state = 'held'");
                for (const index of prevHeld) {
                  soft.run(nowMs, previous.set_id, index);
                  this.#audit({
                    event: 'delete',
                    action: 'soft-delete',
                    result: 'ok',
                    keyId: k,
                    nodeId: n,
                    setId: previous.set_id,
                    epoch: previous.epoch,
                    shareIndex: index,
                    operator: this.#op(options),
                    target: 'server',
                    details: { reason: 'superseded', new_set_id: setId, new_epoch: epoch },
                  });
                }
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
      if (d.receipt !== null) {
        // Receipts are not secret: an old one replayed must not undo a newer answer.
        const stored = blob(d.receipt);
        if (constantTimeEqual(stored, receiptBytes)) return Promise.resolve(this.#shareStatus(set, d));
        const previous = parseWith(receiptSchema, peekBody(stored, 'delivery receipt'), 'delivery receipt');
        if (receipt.received_at < previous.received_at) {
          throw new AgentError(
            'CONFLICT',
            `This receipt for share ${String(receipt.share_index)} is older than the one already recorded (${previous.status}); it was not applied. Ask the custodian for a fresh receipt.`,
            { details: { shareIndex: receipt.share_index } },
          );
        }
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
    const softDeleted = (this.#db.prepare("SELECT COUNT(*) AS c FROM retained_shares WHERE set_id = ? AND state = 'soft-deleted'").get(set.set_id) as { c: number }).c;
    const zeroRetention = this.#serverSharesOfNode(k, n) === 0;
    const lastDeleted = zeroRetention
      ? (this.#db.prepare('SELECT MAX(r.deleted_at) AS at FROM retained_shares r JOIN backup_sets s ON s.set_id = r.set_id WHERE s.key_id = ? AND s.node_id = ?').get(k, n) as { at: number | null }).at
      : null;
    const inv = this.#inventoryOf(set);
    const lastProven = inv.shares.reduce<number | undefined>((m, s) => (s.lastProvenAt === undefined ? m : Math.max(m ?? 0, s.lastProvenAt)), undefined);
    const inventory: InventorySummary = {
      externalAttested: inv.externalAttested,
      externalFailed: inv.externalFailed,
      recoverable: inv.recoverable,
      overdueCustodians: inv.overdueCustodians.map((o) => o.custodian).filter((c, i, all) => all.indexOf(c) === i),
      ...(lastProven === undefined ? {} : { lastAttestedAt: lastProven }),
    };
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
      serverSharesSoftDeleted: softDeleted,
      zeroRetention,
      ...(lastDeleted === null ? {} : { zeroRetentionSince: sec(lastDeleted) }),
      inventory,
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
  //
  // Seeds SOP §6: soft delete (the shares are no longer used for recovery), a cooling-off period
  // (default 7 days, `updateSettings`), rollback meanwhile, then a hard delete that needs two
  // distinct registered approvers' signed approvals (`deletion-approval`, docs/protocol.md §4.11)
  // over the deletion's details. Zero retention (the last server shares of the active set) also
  // needs every external share confirmed and a passed external-only drill of that same set.

  /** Marks server-held shares for deletion (seeds 软删除). They are no longer used for recovery. */
  async softDeleteServerShares(sel: ServerShareSelector, ctx: OpContext = {}): Promise<ServerShareRecord[]> {
    return this.#changeServerShares(sel, ctx, 'delete', 'soft-delete', 'held', (set, index, now) => {
      this.#db.prepare("UPDATE retained_shares SET state = 'soft-deleted', soft_deleted_at = ? WHERE set_id = ? AND share_index = ?").run(now, set.set_id, index);
    });
  }

  /**
   * Restores soft-deleted shares (seeds 回滚), during the cooling-off period or after it, as long as
   * they were not hard-deleted. A deletion still open for any of them is cancelled.
   */
  async rollbackServerShares(sel: ServerShareSelector, ctx: OpContext = {}): Promise<ServerShareRecord[]> {
    return this.#changeServerShares(sel, ctx, 'rollback', 'restore', 'soft-deleted', (set, index) => {
      this.#db.prepare("UPDATE retained_shares SET state = 'held', soft_deleted_at = NULL WHERE set_id = ? AND share_index = ?").run(set.set_id, index);
      for (const d of this.#liveDeletions(set.set_id)) {
        if (!this.#deletionIndexes(d).includes(index)) continue;
        this.#db.prepare("UPDATE deletions SET state = 'cancelled', ended_at = ?, outcome = 'rolled-back' WHERE deletion_id = ?").run(this.#now(), d.deletion_id);
        this.#audit({
          event: 'rollback',
          action: 'deletion-cancel',
          result: 'ok',
          keyId: d.key_id,
          nodeId: d.node_id,
          setId: d.set_id,
          epoch: d.epoch,
          shareIndex: index,
          operator: this.#op(ctx),
          target: `deletion:${d.deletion_id}`,
          details: { reason: `share ${String(index)} was rolled back` },
        });
      }
    });
  }

  /**
   * Asks for the hard deletion of soft-deleted server shares (default: every soft-deleted share of
   * the selected set). Returns the details two distinct registered approvers sign over with their
   * own keys (`approver sign`), then `approveDeletion` takes each signature and `purgeServerShares`
   * runs it after the cooling-off period. Nothing is destroyed here.
   */
  async requestDeletion(sel: ServerShareSelector, options: RequestDeletionOptions = {}): Promise<RequestedDeletion> {
    const base = { event: 'delete', action: 'deletion-request', operator: this.#op(options) } as const;
    return this.#audited(base, () => {
      const k = checkKeyId(sel.keyId);
      const n = checkNodeId(sel.nodeId);
      const ttl = options.ttlSeconds ?? DEFAULT_DELETION_TTL_S;
      if (!Number.isInteger(ttl) || ttl < 3600 || ttl > MAX_DELETION_TTL_S) {
        throw new CustosError('INVALID_PARAMETERS', `A deletion's approvals stay valid 3600 to ${String(MAX_DELETION_TTL_S)} seconds after the cooling-off period.`, { details: { field: 'ttlSeconds' } });
      }
      const set = this.#setFor(k, n, sel.setId);
      return this.#locks.run(`node:${k}/${n}`, () => {
        const all = this.#db.prepare('SELECT * FROM retained_shares WHERE set_id = ? ORDER BY share_index').all(set.set_id) as RetainedShareRow[];
        let targets: RetainedShareRow[];
        if (sel.indexes === undefined) {
          targets = all.filter((r) => r.state === 'soft-deleted');
          if (targets.length === 0) {
            throw new AgentError('FAILED_PRECONDITION', `No server share of backup set epoch ${String(set.epoch)} is soft-deleted; soft-delete them first (delete soft), then ask for the hard delete.`, {
              details: { keyId: k, nodeId: n },
            });
          }
        } else {
          const wanted = [...new Set(sel.indexes.map((i) => checkShareIndex(i)))].sort((a, b) => a - b);
          if (wanted.length === 0) throw new CustosError('INVALID_PARAMETERS', 'Name at least one share index.');
          targets = wanted.map((index) => {
            const r = all.find((x) => x.share_index === index);
            if (r === undefined) throw new AgentError('NOT_FOUND', `Share ${String(index)} is not a server-held share of this set.`, { details: { shareIndex: index } });
            if (r.state !== 'soft-deleted') {
              throw new AgentError('FAILED_PRECONDITION', `Share ${String(index)} is ${r.state}; only a soft-deleted share can be hard-deleted (delete soft first).`, { details: { shareIndex: index } });
            }
            return r;
          });
        }
        const indexes = targets.map((r) => r.share_index);
        for (const d of this.#liveDeletions(set.set_id)) {
          const overlap = this.#deletionIndexes(d).filter((i) => indexes.includes(i));
          if (overlap.length > 0) {
            throw new AgentError('CONFLICT', `Deletion ${d.deletion_id} is already open for share(s) ${overlap.join(', ')}; approve or cancel that one.`, {
              details: { deletionId: d.deletion_id },
            });
          }
        }
        const remaining = all.filter((r) => r.state !== 'deleted' && !indexes.includes(r.share_index));
        const purpose: DeletionPurpose = set.state === 'superseded' ? 'superseded-set' : remaining.length === 0 ? 'zero-retention' : 'reduce-retention';
        const nowMs = this.#now();
        const cooling = this.#cooldownMs();
        const coolingEndsAt = Math.max(...targets.map((r) => Math.ceil(((r.soft_deleted_at ?? nowMs) + cooling) / 1000)));
        const deletionIdBytes = new Uint8Array(nodeRandomBytes(16));
        const deletionId = toHex(deletionIdBytes);
        const details: DeletionDetails = parseWith(
          deletionDetailsSchema,
          {
            deletion_id: deletionIdBytes,
            key_id: k,
            node_id: n,
            set_id: fromHex(set.set_id),
            epoch: set.epoch,
            share_indexes: indexes,
            purpose,
            cooling_ends_at: coolingEndsAt,
            not_after: Math.max(coolingEndsAt, sec(nowMs)) + ttl,
          },
          'deletion details',
        );
        const detailsCbor = encodeCanonical(details);
        inTransaction(this.#db, () => {
          this.#db
            .prepare(
              "INSERT INTO deletions (deletion_id, set_id, key_id, node_id, epoch, share_indexes, purpose, details, cooling_ends_at, not_after, state, operator, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'awaiting-approvals', ?, ?)",
            )
            .run(deletionId, set.set_id, k, n, set.epoch, JSON.stringify(indexes), purpose, detailsCbor, coolingEndsAt, details.not_after, this.#op(options), nowMs);
          this.#audit({
            ...base,
            result: 'ok',
            keyId: k,
            nodeId: n,
            setId: set.set_id,
            epoch: set.epoch,
            target: `deletion:${deletionId}`,
            details: { share_indexes: indexes, purpose, cooling_ends_at: coolingEndsAt, not_after: details.not_after },
          });
        });
        return Promise.resolve({ deletion: this.getDeletion(deletionId), details, detailsCbor });
      });
    });
  }

  getDeletion(deletionId: string): DeletionView {
    return this.#deletionView(this.#deletionRow(checkDeletionId(deletionId)));
  }

  /** The details approvers sign over, as the object and as canonical CBOR (for a file). */
  deletionDetails(deletionId: string): { details: DeletionDetails; detailsCbor: Uint8Array } {
    const row = this.#deletionRow(checkDeletionId(deletionId));
    return { details: this.#deletionDetailsOf(row), detailsCbor: blob(row.details) };
  }

  listDeletions(filter: { keyId?: string; nodeId?: string } = {}): DeletionView[] {
    this.#expireDeletions();
    const k = filter.keyId === undefined ? null : checkKeyId(filter.keyId);
    const n = filter.nodeId === undefined ? null : checkNodeId(filter.nodeId);
    const rows = this.#db
      .prepare('SELECT * FROM deletions WHERE (? IS NULL OR key_id = ?) AND (? IS NULL OR node_id = ?) ORDER BY created_at DESC, deletion_id')
      .all(k, k, n, n) as DeletionRow[];
    return rows.map((r) => this.#deletionView(r));
  }

  /** Records one approval of a deletion: a registered, enabled approver's signature over its details. */
  async approveDeletion(deletionId: string, approvalBytes: Uint8Array, ctx: OpContext = {}): Promise<DeletionView> {
    const base = { event: 'delete', action: 'approval-add', operator: this.#op(ctx) } as const;
    return this.#audited(base, () => {
      const did = checkDeletionId(deletionId);
      checkBytes(approvalBytes, 'deletion approval', 4096);
      const row = this.#liveDeletion(did);
      const opened = openDeletionApproval(approvalBytes, this.#deletionDetailsOf(row), this.#enabledApprovers().map((a) => blob(a.sign_key)));
      const fp = toHex(opened.fingerprint);
      const approver = this.#approverRow(fp);
      return Promise.resolve(
        inTransaction(this.#db, () => {
          if (this.#db.prepare('SELECT approver FROM deletion_approvals WHERE deletion_id = ? AND approver = ?').get(did, fp) !== undefined) {
            throw new CustosError('DUPLICATE_APPROVER', `${approver.name} has approved this deletion already; the second approval must come from a different person.`, {
              details: { approver: fp },
            });
          }
          this.#db
            .prepare('INSERT INTO deletion_approvals (deletion_id, approver, approval, approver_name, approved_at, added_at) VALUES (?, ?, ?, ?, ?, ?)')
            .run(did, fp, approvalBytes, opened.body.approver_name, opened.body.approved_at, this.#now());
          if (this.#validDeletionApprovals(did).length >= MIN_APPROVALS) {
            this.#db.prepare("UPDATE deletions SET state = 'approved' WHERE deletion_id = ? AND state = 'awaiting-approvals'").run(did);
          }
          this.#audit({
            ...base,
            result: 'ok',
            keyId: row.key_id,
            nodeId: row.node_id,
            setId: row.set_id,
            epoch: row.epoch,
            approver: `${approver.name} (${fp})`,
            signature: frameSignature(approvalBytes),
            target: `deletion:${did}`,
            details: { share_indexes: this.#deletionIndexes(row), purpose: row.purpose },
          });
          return this.#deletionView(this.#deletionRow(did));
        }),
      );
    });
  }

  /** Cancels an open deletion; its shares stay soft-deleted (roll them back to keep them). */
  async cancelDeletion(deletionId: string, ctx: OpContext = {}): Promise<DeletionView> {
    const base = { event: 'rollback', action: 'deletion-cancel', operator: this.#op(ctx) } as const;
    return this.#audited(base, () => {
      const did = checkDeletionId(deletionId);
      const row = this.#liveDeletion(did);
      inTransaction(this.#db, () => {
        this.#db.prepare("UPDATE deletions SET state = 'cancelled', ended_at = ?, outcome = 'cancelled' WHERE deletion_id = ?").run(this.#now(), did);
        this.#audit({ ...base, result: 'ok', keyId: row.key_id, nodeId: row.node_id, setId: row.set_id, epoch: row.epoch, target: `deletion:${did}` });
      });
      return Promise.resolve(this.getDeletion(did));
    });
  }

  /**
   * Hard-deletes the shares of an approved deletion (seeds 硬删除): refused while the cooling-off
   * period runs (COOLING_OFF), without two valid approvals by distinct registered approvers
   * (APPROVAL_REQUIRED), and, for the active set, unless every external share is confirmed
   * (RECEIPTS_REQUIRED) and an external-only drill of this same set passed on this agent
   * (DRILL_REQUIRED). Every destroyed share is audited with the operator and both approvers; a
   * deletion that leaves the server with no share of the node is recorded as zero retention.
   */
  async purgeServerShares(deletionId: string, ctx: OpContext = {}): Promise<PurgeResult> {
    const base = { event: 'delete', action: 'hard-delete', operator: this.#op(ctx) } as const;
    return this.#audited(base, () => {
      const did = checkDeletionId(deletionId);
      const first = this.#deletionRow(did);
      return this.#locks.run(`node:${first.key_id}/${first.node_id}`, () => {
        const row = this.#liveDeletion(did);
        const [blocker] = this.#deletionBlockers(row);
        if (blocker !== undefined) throw blocker;
        const set = this.#setRowById(row.set_id);
        const approvals = this.#validDeletionApprovals(did);
        const approverText = approvals.map((a) => `${a.approver_name} (${a.approver})`).join('; ');
        const indexes = this.#deletionIndexes(row);
        for (const index of indexes) {
          this.#store.remove({ kind: 'retained-share', keyId: set.key_id, nodeId: set.node_id, setId: set.set_id, index });
          inTransaction(this.#db, () => {
            this.#db.prepare("UPDATE retained_shares SET state = 'deleted', deleted_at = ? WHERE set_id = ? AND share_index = ?").run(this.#now(), set.set_id, index);
            this.#audit({
              ...base,
              result: 'ok',
              keyId: set.key_id,
              nodeId: set.node_id,
              setId: set.set_id,
              epoch: set.epoch,
              shareIndex: index,
              approver: approverText,
              target: 'server',
              details: { deletion_id: did, purpose: row.purpose },
            });
          });
        }
        const zeroRetention = this.#serverSharesOfNode(set.key_id, set.node_id) === 0;
        inTransaction(this.#db, () => {
          this.#db.prepare("UPDATE deletions SET state = 'completed', ended_at = ?, outcome = 'deleted' WHERE deletion_id = ?").run(this.#now(), did);
          if (zeroRetention) {
            // Seeds SOP §6 零保留确认: the record compliance files.
            this.#audit({
              event: 'delete',
              action: 'zero-retention',
              result: 'ok',
              keyId: set.key_id,
              nodeId: set.node_id,
              setId: set.set_id,
              epoch: set.epoch,
              operator: this.#op(ctx),
              approver: approverText,
              target: 'server',
              details: { deletion_id: did, drill_session_id: this.#externalOnlyDrill(set.set_id) ?? null },
            });
          }
        });
        const shares = this.listBackupShares(set.key_id, set.node_id).filter((s) => s.setId === set.set_id && indexes.includes(s.shareIndex));
        return Promise.resolve({ deletion: this.getDeletion(did), shares, zeroRetention });
      });
    });
  }

  // ───────────────────────────── settings ─────────────────────────────

  getSettings(): AgentSettings {
    const stored = (name: keyof AgentSettings, fallback: number): number => {
      const row = this.#db.prepare('SELECT value FROM meta WHERE name = ?').get(SETTING_META[name]) as { value: string } | undefined;
      const v = row === undefined ? NaN : Number(row.value);
      return Number.isSafeInteger(v) && v > 0 ? v : fallback;
    };
    return {
      deletionCoolingSeconds: this.#cooldownOverrideMs === undefined ? stored('deletionCoolingSeconds', sec(DEFAULT_DELETION_COOLDOWN_MS)) : sec(this.#cooldownOverrideMs),
      inventoryMaxAgeSeconds: this.#maxAgeOverrideMs === undefined ? stored('inventoryMaxAgeSeconds', sec(DEFAULT_INVENTORY_MAX_AGE_MS)) : sec(this.#maxAgeOverrideMs),
      inventoryChallengeTtlSeconds: stored('inventoryChallengeTtlSeconds', DEFAULT_CHALLENGE_TTL_S),
    };
  }

  /** Changes settings (whole seconds within bounds); audited as `configure` with the old and new values. */
  async updateSettings(patch: Partial<AgentSettings>, ctx: OpContext = {}): Promise<AgentSettings> {
    const base = { event: 'configure', action: 'settings', operator: this.#op(ctx) } as const;
    return this.#audited(base, () => {
      const entries = Object.entries(patch as Record<string, unknown>).filter(([, v]) => v !== undefined);
      if (entries.length === 0) throw new CustosError('INVALID_PARAMETERS', 'Name at least one setting to change.');
      const known = (name: string): name is keyof AgentSettings => Object.hasOwn(SETTING_BOUNDS, name);
      for (const [name, value] of entries) {
        if (!known(name)) throw new CustosError('INVALID_PARAMETERS', `There is no setting "${name}".`);
        const bounds = SETTING_BOUNDS[name];
        if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < bounds[0] || value > bounds[1]) {
          throw new CustosError('INVALID_PARAMETERS', `${name} is whole seconds from ${String(bounds[0])} to ${String(bounds[1])}.`, { details: { field: name } });
        }
      }
      const before = this.getSettings();
      return Promise.resolve(
        inTransaction(this.#db, () => {
          const set = this.#db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value');
          for (const [name, value] of entries) if (known(name)) set.run(SETTING_META[name], String(value));
          const after = this.getSettings();
          this.#audit({ ...base, result: 'ok', target: 'agent', details: { before: { ...before }, after: { ...after } } });
          return after;
        }),
      );
    });
  }

  // ───────────────────────────── inventory (seeds SOP §4.3 盘点) ─────────────────────────────
  //
  // The agent signs a challenge per custodian listing the shares it should hold (delivered or
  // confirmed shares of active sets) with a fresh nonce; the custodian answers with an attestation
  // that proves possession of each share with the share's possession key (docs/protocol.md §4.9),
  // checked against the possession keys in the agent's own signed manifests. The verdicts and the
  // last proof of each share are kept; a custodian is overdue when a challenge expires unanswered or
  // its last proof is older than the maximum age.

  /** Signs and stores an inventory challenge for one custodian; returns the file to send them. */
  async issueInventoryChallenge(custodianFingerprint: string, options: OpContext & { ttlSeconds?: number } = {}): Promise<IssuedChallenge> {
    const base = { event: 'inspect', action: 'inventory-challenge', operator: this.#op(options) } as const;
    return this.#audited(base, () => {
      const fp = checkFingerprint(custodianFingerprint);
      const ttl = options.ttlSeconds ?? this.getSettings().inventoryChallengeTtlSeconds;
      const [minTtl, maxTtl] = SETTING_BOUNDS.inventoryChallengeTtlSeconds;
      if (!Number.isInteger(ttl) || ttl < minTtl || ttl > maxTtl) {
        throw new CustosError('INVALID_PARAMETERS', `A challenge can be answered for ${String(minTtl)} to ${String(maxTtl)} seconds.`, { details: { field: 'ttlSeconds' } });
      }
      const custodian = this.#custodianRow(fp);
      if (custodian.enabled !== 1) throw new AgentError('FAILED_PRECONDITION', `Custodian ${custodian.label} (${custodian.code}) is disabled.`, { details: { fingerprint: fp } });
      const rows = this.#db
        .prepare(
          "SELECT s.key_id, s.node_id, s.set_id, s.epoch, d.share_index FROM deliveries d JOIN backup_sets s ON s.set_id = d.set_id WHERE d.custodian = ? AND s.state = 'active' AND d.status IN ('delivered', 'confirmed') ORDER BY s.key_id, s.node_id, d.share_index",
        )
        .all(fp) as { key_id: string; node_id: string; set_id: string; epoch: number; share_index: number }[];
      if (rows.length === 0) {
        throw new AgentError('FAILED_PRECONDITION', `Custodian ${custodian.label} holds no delivered share of a current backup set; there is nothing to take stock of.`, { details: { fingerprint: fp } });
      }
      if (rows.length > MAX_CHALLENGE_ITEMS) {
        throw new AgentError('FAILED_PRECONDITION', `Custodian ${custodian.label} holds ${String(rows.length)} shares; one challenge lists at most ${String(MAX_CHALLENGE_ITEMS)}.`);
      }
      const nowMs = this.#now();
      const idBytes = new Uint8Array(nodeRandomBytes(16));
      const challengeId = toHex(idBytes);
      const items: InventoryItem[] = rows.map((r) => ({ key_id: r.key_id, node_id: r.node_id, set_id: fromHex(r.set_id), epoch: r.epoch, share_index: r.share_index }));
      const notAfter = sec(nowMs) + ttl;
      const bytes = makeChallenge(
        { challenge_id: idBytes, nonce: new Uint8Array(nodeRandomBytes(32)), custodian: fromHex(fp), items, created_at: sec(nowMs), not_after: notAfter },
        this.#signing,
      );
      const digest = sha256Hex(bytes);
      inTransaction(this.#db, () => {
        this.#db
          .prepare('INSERT INTO inventory_challenges (challenge_id, custodian, challenge, challenge_sha256, items, not_after, operator, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
          .run(challengeId, fp, bytes, digest, rows.length, notAfter, this.#op(options), nowMs);
        const add = this.#db.prepare('INSERT INTO inventory_items (challenge_id, set_id, share_index) VALUES (?, ?, ?)');
        for (const r of rows) add.run(challengeId, r.set_id, r.share_index);
        this.#audit({
          ...base,
          result: 'ok',
          signature: frameSignature(bytes),
          target: `custodian:${fp} (${custodian.label})`,
          details: { challenge_id: challengeId, items: rows.length, not_after: notAfter, challenge_sha256: digest },
        });
      });
      return Promise.resolve({
        challengeId,
        custodian: fp,
        items: rows.map((r) => ({ keyId: r.key_id, nodeId: r.node_id, setId: r.set_id, epoch: r.epoch, shareIndex: r.share_index })),
        createdAt: sec(nowMs),
        notAfter,
        challenge: bytes,
        sha256: digest,
      });
    });
  }

  /**
   * Takes a custodian's attestation for one of the agent's challenges: the registered custodian's
   * signature, the challenge hash, and every possession proof against the manifest's possession
   * key. A bad proof or a share reported missing is recorded as such (the attestation itself is
   * accepted); an attestation after the challenge expired, for another challenge, or not signed by
   * the challenged custodian is refused and changes nothing.
   */
  async submitInventoryAttestation(attestationBytes: Uint8Array, ctx: OpContext = {}): Promise<AttestationResult> {
    const base = { event: 'inspect', action: 'inventory-attestation', operator: this.#op(ctx) } as const;
    return this.#audited(base, () => {
      checkBytes(attestationBytes, 'inventory attestation', 1024 * 1024);
      const claimed = peekBody(attestationBytes, 'inventory attestation')['challenge_id'];
      if (!(claimed instanceof Uint8Array) || claimed.length !== 16) throw new CustosError('MALFORMED', 'The inventory attestation does not name a challenge.', { details: { field: 'challenge_id' } });
      const cid = toHex(claimed);
      const row = this.#db.prepare('SELECT * FROM inventory_challenges WHERE challenge_id = ?').get(cid) as ChallengeRow | undefined;
      if (row === undefined) throw new AgentError('NOT_FOUND', 'The attestation answers a challenge this agent did not issue.', { details: { challengeId: cid } });
      const custodian = this.#custodianRow(row.custodian);
      const digest = sha256Hex(attestationBytes);
      if (row.attestation !== null) {
        if (sha256Hex(blob(row.attestation)) === digest) return Promise.resolve(this.#attestationResult(row));
        throw new AgentError('CONFLICT', `Challenge ${cid} was answered already; issue a new challenge for a new attestation.`, { details: { challengeId: cid } });
      }
      const nowMs = this.#now();
      if (nowMs > row.not_after * 1000) {
        throw new CustosError('EXPIRED', `Challenge ${cid} expired at ${new Date(row.not_after * 1000).toISOString()} before this attestation arrived; ${custodian.label} is overdue. Issue a new challenge.`, {
          details: { challengeId: cid, notAfter: row.not_after },
        });
      }
      const challenge = openChallenge(blob(row.challenge), this.#signing.publicKey, fromHex(row.custodian), row.not_after);
      const possessionKeyOf = (item: InventoryItem): Uint8Array | undefined => {
        const set = this.#db.prepare('SELECT * FROM backup_sets WHERE set_id = ?').get(toHex(item.set_id)) as BackupSetRow | undefined;
        if (set?.key_id !== item.key_id || set.node_id !== item.node_id || set.epoch !== item.epoch) return undefined;
        const share = this.#manifest(set).shares[item.share_index - 1];
        return share?.custodian !== null && share !== undefined && toHex(share.custodian) === row.custodian ? share.possession_key : undefined;
      };
      const { verdicts } = verifyAttestation(attestationBytes, { bytes: challenge.bytes, body: challenge.body }, blob(custodian.sign_key), possessionKeyOf);
      const count = (r: InventoryVerdict): number => verdicts.filter((v) => v.result === r).length;
      return Promise.resolve(
        inTransaction(this.#db, () => {
          this.#db
            .prepare('UPDATE inventory_challenges SET attestation = ?, answered_at = ?, proven = ?, missing = ?, bad_proof = ?, not_answered = ? WHERE challenge_id = ?')
            .run(attestationBytes, nowMs, count('proven'), count('missing'), count('bad-proof'), count('not-answered'), cid);
          const setItem = this.#db.prepare('UPDATE inventory_items SET result = ? WHERE challenge_id = ? AND set_id = ? AND share_index = ?');
          const proven = this.#db.prepare("UPDATE deliveries SET last_proven_at = ?, inventory_result = 'proven', inventory_at = ? WHERE set_id = ? AND share_index = ? AND custodian = ?");
          const other = this.#db.prepare('UPDATE deliveries SET inventory_result = ?, inventory_at = ? WHERE set_id = ? AND share_index = ? AND custodian = ?');
          for (const v of verdicts) {
            const setId = toHex(v.set_id);
            setItem.run(v.result, cid, setId, v.share_index);
            if (v.result === 'proven') proven.run(nowMs, nowMs, setId, v.share_index, row.custodian);
            else {
              other.run(v.result, nowMs, setId, v.share_index, row.custodian);
              this.#audit({
                event: 'inspect',
                action: 'inventory-item',
                result: 'failed',
                keyId: v.key_id,
                nodeId: v.node_id,
                setId,
                epoch: v.epoch,
                shareIndex: v.share_index,
                operator: this.#op(ctx),
                target: `custodian:${row.custodian} (${custodian.label})`,
                reason: {
                  missing: 'the custodian reports this share missing',
                  'bad-proof': 'SIGNATURE_INVALID: the proof of possession does not verify against the manifest',
                  'not-answered': 'the attestation leaves this share out',
                }[v.result],
                details: { challenge_id: cid, verdict: v.result },
              });
            }
          }
          const allProven = verdicts.every((v) => v.result === 'proven');
          this.#audit({
            ...base,
            result: allProven ? 'ok' : 'failed',
            signature: frameSignature(attestationBytes),
            target: `custodian:${row.custodian} (${custodian.label})`,
            ...(allProven ? {} : { reason: `${String(verdicts.length - count('proven'))} of ${String(verdicts.length)} share(s) not proven` }),
            details: { challenge_id: cid, proven: count('proven'), missing: count('missing'), bad_proof: count('bad-proof'), not_answered: count('not-answered'), attestation_sha256: digest },
          });
          return this.#attestationResult(this.#db.prepare('SELECT * FROM inventory_challenges WHERE challenge_id = ?').get(cid) as ChallengeRow);
        }),
      );
    });
  }

  /** The inventory of a key and node's active set: per share and per custodian (seeds SOP §4.3, §9). */
  inventoryStatus(keyId: string, nodeId: string): InventoryStatus {
    const k = checkKeyId(keyId);
    const n = checkNodeId(nodeId);
    this.#nodeRow(k, n);
    const set = this.#activeSetOrUndefined(k, n);
    if (set === undefined) throw new AgentError('NOT_FOUND', `Key ${k} node ${n} has no backup set yet.`, { details: { keyId: k, nodeId: n } });
    return this.#inventoryOf(set);
  }

  /** Every custodian's inventory across the active sets, for `inventory status` without a node. */
  inventoryCustodians(): CustodianInventory[] {
    const nowMs = this.#now();
    const maxAge = this.#maxAgeMs();
    return this.listCustodians().map((c) => {
      const rows = this.#db
        .prepare("SELECT d.* FROM deliveries d JOIN backup_sets s ON s.set_id = d.set_id WHERE d.custodian = ? AND s.state = 'active' AND d.status IN ('delivered', 'confirmed')")
        .all(c.fingerprint) as DeliveryRow[];
      let overdue: OverdueReason | undefined;
      let attested = 0;
      let lastProven: number | undefined;
      for (const d of rows) {
        const o = this.#overdueOf(d, nowMs, maxAge);
        if (o !== undefined && overdue !== 'challenge-unanswered') overdue = o.reason;
        if (this.#attested(d, nowMs, maxAge)) attested++;
        if (d.last_proven_at !== null) lastProven = Math.max(lastProven ?? 0, d.last_proven_at);
      }
      const last = this.#db.prepare('SELECT * FROM inventory_challenges WHERE custodian = ? ORDER BY created_at DESC, challenge_id LIMIT 1').get(c.fingerprint) as ChallengeRow | undefined;
      return {
        custodian: c.fingerprint,
        label: c.label,
        enabled: c.enabled,
        sharesExpected: rows.length,
        sharesAttested: attested,
        ...(last === undefined
          ? {}
          : {
              lastChallenge: {
                challengeId: last.challenge_id,
                createdAt: sec(last.created_at),
                notAfter: last.not_after,
                ...(last.answered_at === null ? {} : { answeredAt: sec(last.answered_at) }),
                state: last.answered_at !== null ? ('answered' as const) : nowMs > last.not_after * 1000 ? ('expired' as const) : ('open' as const),
              },
            }),
        ...(lastProven === undefined ? {} : { lastProvenAt: sec(lastProven) }),
        ...(overdue === undefined ? {} : { overdue }),
      };
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
      this.#flushDestroyedKeys();
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
        this.#flushDestroyedKeys();
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
    let changed = 0;
    inTransaction(this.#db, () => {
      changed = this.#db
        .prepare("UPDATE recovery_sessions SET state = 'expired', identity_sealed = NULL, ended_at = ?, outcome = 'expired' WHERE session_id = ? AND state IN ('awaiting-approvals', 'collecting')")
        .run(this.#now(), row.session_id).changes;
      if (changed > 0) {
        this.#audit({ event: 'recover', action: 'session-expire', result: 'ok', keyId: row.key_id, nodeId: row.node_id, setId: row.set_id, epoch: row.epoch, target: `session:${row.session_id}`, operator: 'agent' });
      }
    });
    if (changed > 0) this.#flushDestroyedKeys();
  }

  /**
   * After a session's sealed key was erased (identity_sealed = NULL; secure_delete zeroes the page in
   * the main file), checkpoint and truncate the write-ahead log, which would otherwise still hold
   * the old page image until a later checkpoint.
   */
  #flushDestroyedKeys(): void {
    this.#db.pragma('wal_checkpoint(TRUNCATE)');
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

  #cooldownMs(): number {
    return this.#cooldownOverrideMs ?? this.getSettings().deletionCoolingSeconds * 1000;
  }

  #maxAgeMs(): number {
    return this.#maxAgeOverrideMs ?? this.getSettings().inventoryMaxAgeSeconds * 1000;
  }

  /** Server shares (held or soft-deleted) of a key and node, across every backup set. */
  #serverSharesOfNode(k: string, n: string): number {
    return (
      this.#db
        .prepare("SELECT COUNT(*) AS c FROM retained_shares r JOIN backup_sets s ON s.set_id = r.set_id WHERE s.key_id = ? AND s.node_id = ? AND r.state IN ('held', 'soft-deleted')")
        .get(k, n) as { c: number }
    ).c;
  }

  /**
   * A completed external-only session of this set on this agent (a drill, or a real recovery): the
   * evidence zero retention needs. A drill only recorded by hand (`recordDrill`) does not count.
   */
  #externalOnlyDrill(setId: string): string | undefined {
    const row = this.#db
      .prepare("SELECT session_id FROM recovery_sessions WHERE set_id = ? AND mode = 'external-only' AND state = 'completed' AND outcome IN ('drill-ok', 'recovered') ORDER BY ended_at DESC LIMIT 1")
      .get(setId) as { session_id: string } | undefined;
    return row?.session_id;
  }

  #deletionRow(did: string): DeletionRow {
    const row = this.#db.prepare('SELECT * FROM deletions WHERE deletion_id = ?').get(did) as DeletionRow | undefined;
    if (row === undefined) throw new AgentError('NOT_FOUND', 'No deletion with this id.', { details: { deletionId: did } });
    return row;
  }

  #deletionIndexes(row: DeletionRow): number[] {
    const parsed: unknown = JSON.parse(row.share_indexes);
    return Array.isArray(parsed) ? parsed.filter((x): x is number => typeof x === 'number') : [];
  }

  #deletionDetailsOf(row: DeletionRow): DeletionDetails {
    return parseWith(deletionDetailsSchema, decodeCanonical(blob(row.details), 'deletion details'), 'deletion details');
  }

  #liveDeletions(setId: string): DeletionRow[] {
    return this.#db.prepare("SELECT * FROM deletions WHERE set_id = ? AND state IN ('awaiting-approvals', 'approved') ORDER BY created_at").all(setId) as DeletionRow[];
  }

  /** A deletion that may still be approved or run; expires it (and throws EXPIRED) when its time is up. */
  #liveDeletion(did: string): DeletionRow {
    const row = this.#deletionRow(did);
    if (row.state === 'expired') throw new CustosError('EXPIRED', 'This deletion expired before it ran; soft-deleted shares stay as they are. Ask for a new deletion.', { details: { deletionId: did } });
    if (row.state === 'completed' || row.state === 'cancelled') {
      throw new AgentError('FAILED_PRECONDITION', `This deletion has ended (${row.state}).`, { details: { deletionId: did, state: row.state } });
    }
    if (this.#now() > row.not_after * 1000) {
      this.#expireDeletion(row);
      throw new CustosError('EXPIRED', 'This deletion expired before it ran; soft-deleted shares stay as they are. Ask for a new deletion.', { details: { deletionId: did, notAfter: row.not_after } });
    }
    return row;
  }

  #expireDeletions(): void {
    const due = this.#db.prepare("SELECT * FROM deletions WHERE state IN ('awaiting-approvals', 'approved') AND not_after * 1000 < ?").all(this.#now()) as DeletionRow[];
    for (const row of due) this.#expireDeletion(row);
  }

  #expireDeletion(row: DeletionRow): void {
    inTransaction(this.#db, () => {
      const changed = this.#db
        .prepare("UPDATE deletions SET state = 'expired', ended_at = ?, outcome = 'expired' WHERE deletion_id = ? AND state IN ('awaiting-approvals', 'approved')")
        .run(this.#now(), row.deletion_id).changes;
      if (changed > 0) {
        this.#audit({ event: 'delete', action: 'deletion-expire', result: 'ok', keyId: row.key_id, nodeId: row.node_id, setId: row.set_id, epoch: row.epoch, target: `deletion:${row.deletion_id}`, operator: 'agent' });
      }
    });
  }

  /** The deletion's approvals whose approver is still registered and enabled. */
  #validDeletionApprovals(did: string): DeletionApprovalRow[] {
    return this.#db
      .prepare('SELECT a.* FROM deletion_approvals a JOIN approvers p ON p.fingerprint = a.approver WHERE a.deletion_id = ? AND p.enabled = 1 ORDER BY a.added_at, a.approver')
      .all(did) as DeletionApprovalRow[];
  }

  /** What a hard delete of this deletion would be refused with now, in the order it is checked. */
  #deletionBlockers(row: DeletionRow): (AgentError | CustosError)[] {
    const out: (AgentError | CustosError)[] = [];
    const nowMs = this.#now();
    const did = row.deletion_id;
    if (nowMs > row.not_after * 1000) out.push(new CustosError('EXPIRED', 'This deletion expired before it ran; ask for a new deletion.', { details: { deletionId: did } }));
    const indexes = this.#deletionIndexes(row);
    const shares = this.#db.prepare('SELECT * FROM retained_shares WHERE set_id = ?').all(row.set_id) as RetainedShareRow[];
    const targets = indexes.map((i) => shares.find((r) => r.share_index === i));
    const notSoft = indexes.filter((_, j) => targets[j]?.state !== 'soft-deleted');
    if (notSoft.length > 0) {
      out.push(new AgentError('FAILED_PRECONDITION', `Share(s) ${notSoft.join(', ')} are no longer soft-deleted; this deletion cannot run.`, { details: { deletionId: did } }));
    }
    const cooling = this.#cooldownMs();
    const until = Math.max(row.cooling_ends_at * 1000, ...targets.map((r) => (r?.soft_deleted_at ?? nowMs) + cooling));
    if (nowMs < until) {
      const hours = Math.ceil((until - nowMs) / 3_600_000);
      out.push(
        new AgentError(
          'COOLING_OFF',
          `Share(s) ${indexes.join(', ')} are in their cooling-off period until ${new Date(until).toISOString().replace('.000Z', 'Z')} (another ${String(hours)} hour(s)); they can still be rolled back and cannot be destroyed before then.`,
          { details: { deletionId: did, coolingEndsAt: sec(until) } },
        ),
      );
    }
    const approvals = this.#validDeletionApprovals(did).length;
    if (approvals < MIN_APPROVALS) {
      out.push(
        new CustosError('APPROVAL_REQUIRED', `${String(approvals)} approval(s) of the ${String(MIN_APPROVALS)} a hard delete needs from different registered approvers.`, {
          details: { deletionId: did, have: approvals, need: MIN_APPROVALS },
        }),
      );
    }
    const set = this.#setRowById(row.set_id);
    if (set.state === 'active') {
      const confirmed = (this.#db.prepare("SELECT COUNT(*) AS c FROM deliveries WHERE set_id = ? AND status = 'confirmed'").get(set.set_id) as { c: number }).c;
      const externals = set.total - set.retain;
      if (confirmed < externals) {
        out.push(
          new AgentError('RECEIPTS_REQUIRED', `Only ${String(confirmed)} of the ${String(externals)} external shares of this set are confirmed by their custodians; deleting server shares of the current set needs every receipt.`, {
            details: { deletionId: did, confirmed, externals },
          }),
        );
      }
      if (this.#externalOnlyDrill(set.set_id) === undefined) {
        out.push(
          new AgentError(
            'DRILL_REQUIRED',
            `Zero retention needs a passed external-only recovery drill of this same backup set (epoch ${String(set.epoch)}) on this agent first: open an external-only session for it and complete it with --drill. A drill of another set, or one only recorded by hand, does not count.`,
            { details: { deletionId: did, setId: set.set_id } },
          ),
        );
      }
    }
    return out;
  }

  #deletionView(row: DeletionRow): DeletionView {
    const approvals = (
      this.#db
        .prepare('SELECT a.approver, p.name, a.added_at FROM deletion_approvals a JOIN approvers p ON p.fingerprint = a.approver WHERE a.deletion_id = ? ORDER BY a.added_at, a.approver')
        .all(row.deletion_id) as { approver: string; name: string; added_at: number }[]
    ).map((a) => ({ approver: a.approver, name: a.name, at: sec(a.added_at) }));
    const live = row.state === 'awaiting-approvals' || row.state === 'approved';
    return {
      deletionId: row.deletion_id,
      keyId: row.key_id,
      nodeId: row.node_id,
      setId: row.set_id,
      epoch: row.epoch,
      shareIndexes: this.#deletionIndexes(row),
      purpose: row.purpose,
      state: row.state,
      coolingEndsAt: row.cooling_ends_at,
      notAfter: row.not_after,
      approvals,
      operator: row.operator,
      createdAt: sec(row.created_at),
      ...(row.ended_at === null ? {} : { endedAt: sec(row.ended_at) }),
      blockers: live ? this.#deletionBlockers(row).map((e) => ({ code: e.code, message: e.message })) : [],
    };
  }

  #attested(d: DeliveryRow, nowMs: number, maxAge: number): boolean {
    return d.last_proven_at !== null && d.inventory_result === 'proven' && nowMs - d.last_proven_at <= maxAge;
  }

  /** Why the custodian of a delivered share is overdue, if it is (see OverdueCustodian). */
  #overdueOf(d: DeliveryRow, nowMs: number, maxAge: number): { reason: OverdueReason; since: number; challengeId?: string } | undefined {
    const latest = this.#db
      .prepare(
        'SELECT c.challenge_id, c.not_after, c.answered_at, i.result FROM inventory_items i JOIN inventory_challenges c ON c.challenge_id = i.challenge_id WHERE i.set_id = ? AND i.share_index = ? AND c.custodian = ? ORDER BY c.created_at DESC, c.challenge_id LIMIT 1',
      )
      .get(d.set_id, d.share_index, d.custodian) as { challenge_id: string; not_after: number; answered_at: number | null; result: string | null } | undefined;
    if (latest !== undefined) {
      if (latest.answered_at === null && nowMs > latest.not_after * 1000) return { reason: 'challenge-unanswered', since: latest.not_after, challengeId: latest.challenge_id };
      if (latest.answered_at !== null && latest.result === 'not-answered') return { reason: 'challenge-unanswered', since: sec(latest.answered_at), challengeId: latest.challenge_id };
    }
    const ref = d.last_proven_at ?? d.confirmed_at ?? d.delivered_at ?? d.created_at;
    if (nowMs - ref > maxAge) return { reason: 'attestation-stale', since: sec(ref + maxAge) };
    return undefined;
  }

  #inventoryOf(set: BackupSetRow): InventoryStatus {
    const nowMs = this.#now();
    const maxAge = this.#maxAgeMs();
    const deliveries = this.#db.prepare('SELECT * FROM deliveries WHERE set_id = ? ORDER BY share_index').all(set.set_id) as DeliveryRow[];
    const labels = new Map((this.#db.prepare('SELECT fingerprint, label FROM custodians').all() as { fingerprint: string; label: string }[]).map((c) => [c.fingerprint, c.label]));
    const overdue: OverdueCustodian[] = [];
    const shares: InventoryShare[] = deliveries.map((d) => {
      const holds = d.status === 'delivered' || d.status === 'confirmed';
      const o = holds ? this.#overdueOf(d, nowMs, maxAge) : undefined;
      const label = labels.get(d.custodian) ?? '?';
      if (o !== undefined) {
        const existing = overdue.find((x) => x.custodian === d.custodian && x.reason === o.reason);
        if (existing === undefined) overdue.push({ custodian: d.custodian, label, reason: o.reason, since: o.since, shareIndexes: [d.share_index], ...(o.challengeId === undefined ? {} : { challengeId: o.challengeId }) });
        else overdue.splice(overdue.indexOf(existing), 1, { ...existing, since: Math.min(existing.since, o.since), shareIndexes: [...existing.shareIndexes, d.share_index] });
      }
      return {
        shareIndex: d.share_index,
        custodian: d.custodian,
        label,
        delivery: d.status,
        ...(d.last_proven_at === null ? {} : { lastProvenAt: sec(d.last_proven_at) }),
        ...(d.inventory_result === null ? {} : { lastResult: d.inventory_result }),
        ...(d.inventory_at === null ? {} : { lastCheckedAt: sec(d.inventory_at) }),
        attested: holds && this.#attested(d, nowMs, maxAge),
        ...(o === undefined ? {} : { overdue: o.reason }),
      };
    });
    const held = this.#heldIndexes(set.set_id).length;
    const attested = shares.filter((s) => s.attested).length;
    return {
      keyId: set.key_id,
      nodeId: set.node_id,
      setId: set.set_id,
      epoch: set.epoch,
      threshold: set.threshold,
      serverSharesHeld: held,
      externalDelivered: deliveries.filter((d) => d.status === 'delivered' || d.status === 'confirmed').length,
      externalConfirmed: deliveries.filter((d) => d.status === 'confirmed').length,
      externalAttested: attested,
      externalFailed: shares.filter((s) => s.lastResult === 'missing' || s.lastResult === 'bad-proof').length,
      recoverable: held + attested >= set.threshold,
      overdueCustodians: overdue,
      shares,
      maxAgeSeconds: sec(maxAge),
    };
  }

  #attestationResult(row: ChallengeRow): AttestationResult {
    const items = this.#db
      .prepare('SELECT i.set_id, i.share_index, i.result, s.key_id, s.node_id, s.epoch FROM inventory_items i JOIN backup_sets s ON s.set_id = i.set_id WHERE i.challenge_id = ? ORDER BY s.key_id, s.node_id, i.share_index')
      .all(row.challenge_id) as { set_id: string; share_index: number; result: InventoryVerdict | null; key_id: string; node_id: string; epoch: number }[];
    return {
      challengeId: row.challenge_id,
      custodian: row.custodian,
      answeredAt: sec(row.answered_at ?? this.#now()),
      items: items.map((i): InventoryItemRef & { result: InventoryVerdict } => ({ keyId: i.key_id, nodeId: i.node_id, setId: i.set_id, epoch: i.epoch, shareIndex: i.share_index, result: i.result ?? 'not-answered' })),
      proven: row.proven ?? 0,
      missing: row.missing ?? 0,
      badProof: row.bad_proof ?? 0,
      notAnswered: row.not_answered ?? 0,
    };
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
