/**
 * The recovery agent (issue 3; seeds "混合模式 SSS 备份与恢复方案" and its SOP): one data directory,
 * one `Agent` object with every operation, transport-neutral. `Agent` is a thin facade (issue 8):
 * each capability lives in its own module, which owns its tables, and the facade keeps the one
 * public surface the CLI, the RPC server, the drill and the tests call.
 *
 *   agent/core/       the context every module gets (database, secret store, signing key, clock,
 *                     operator, locks, audited operations, rate limit); init and open
 *   agent/registry/   custodians and approvers
 *   agent/keyshare/   nodes: keydata import, inspect, export, write-back
 *   agent/backup/     backup sets, manifests, rotation; delivery and receipts; status
 *   agent/retention/  server-held shares: soft delete, rollback; deletions, approvals, purge
 *   agent/recovery/   sessions, approvals, exports, completion (recovery or drill), drills
 *   agent/inventory/  challenges, attestations, overdue custodians
 *   agent/settings/   the bounded settings
 *   agent/audit/      the audit log
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
import type { DeletionDetails, SessionDetails } from '../shared/protocol';
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
  ImportResult,
  InitResult,
  InspectReport,
  InventoryStatus,
  IssuedChallenge,
  NodeRecord,
  OpContext,
  OpenSessionInput,
  OpenedSession,
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
import { auditStatus, checkpoint, configureAudit, sinkSettled, type AuditStatus, type CheckpointReason } from './audit/checkpoint';
import { exportAuditJsonl, listAudit, verifyAudit, type AuditInput, type AuditRecord, type AuditVerification } from './audit/log';
import { createToken, revokeToken, type Scope, type TokenRecord } from './token/store';
import { Backups } from './backup/backup';
import { Deliveries } from './backup/delivery';
import type { AgentCore } from './core/context';
import { initDataDir, openDataDir, type CoreOptions, type InitOptions } from './core/lifecycle';
import { Inventory } from './inventory/inventory';
import { NodeImports } from './keyshare/from-node';
import { Keyshares } from './keyshare/keyshare';
import { Drills } from './recovery/drills';
import { Recovery } from './recovery/recovery';
import { Sessions } from './recovery/sessions';
import { Registry } from './registry/registry';
import { Deletions } from './retention/deletions';
import { ServerShares } from './retention/server-shares';
import { Settings } from './settings/settings';

export { CARD_FILE, TOKEN_FILE, readApiToken, type InitOptions } from './core/lifecycle';
export { DEFAULT_PARAMS } from './backup/backup';
export { DEFAULT_CHALLENGE_TTL_S, DEFAULT_DELETION_COOLDOWN_MS, DEFAULT_INVENTORY_MAX_AGE_MS } from './settings/settings';

export interface AgentOptions extends CoreOptions {
  /**
   * Soft-deleted server shares can be purged after this long. Overrides the stored setting
   * (`updateSettings`, default 7 days); for tests and embedding.
   */
  readonly deletionCooldownMs?: number;
  /** A proof of possession older than this makes its custodian overdue. Overrides the stored setting (default 90 days). */
  readonly inventoryMaxAgeMs?: number;
}

/** The agent's capability modules, each the owner of its tables (see the header). */
export interface Capabilities {
  readonly registry: Registry;
  readonly keyshare: Keyshares;
  /** Keydata handed over by the MPC node after DKG or a resharing, backed up by policy (issue 11 §2). */
  readonly nodeImports: NodeImports;
  readonly backup: Backups;
  readonly deliveries: Deliveries;
  readonly shares: ServerShares;
  readonly deletions: Deletions;
  readonly sessions: Sessions;
  readonly recovery: Recovery;
  readonly drills: Drills;
  readonly inventory: Inventory;
  readonly settings: Settings;
}

/** Wires the modules to one another through their public surfaces. */
function wire(core: AgentCore, options: AgentOptions): Capabilities {
  const caps = {} as { -readonly [K in keyof Capabilities]: Capabilities[K] };
  caps.registry = new Registry(core);
  caps.settings = new Settings(core, { deletionCooldownMs: options.deletionCooldownMs, inventoryMaxAgeMs: options.inventoryMaxAgeMs });
  caps.keyshare = new Keyshares(core, caps);
  caps.backup = new Backups(core, caps);
  caps.deliveries = new Deliveries(core, caps);
  caps.shares = new ServerShares(core, caps);
  caps.deletions = new Deletions(core, caps);
  caps.sessions = new Sessions(core, caps);
  caps.recovery = new Recovery(core, caps);
  caps.drills = new Drills(core, caps);
  caps.inventory = new Inventory(core, caps);
  caps.nodeImports = new NodeImports(core, caps);
  return Object.freeze(caps);
}

/** The rate limiter's bucket for calls made in-process (agent/rate-limit.ts). */
const LOCAL_CALLER = 'agent';

export class Agent {
  readonly dataDir: string;
  /** The capability modules, for transports that call them directly (agent/rpc/). */
  readonly capabilities: Capabilities;
  readonly #core: AgentCore;
  readonly #card: Uint8Array;
  readonly #fingerprint: string;
  readonly #code: string;

  private constructor(core: AgentCore, identity: { card: Uint8Array; fingerprint: string; code: string }, options: AgentOptions) {
    this.dataDir = core.dataDir;
    this.#core = core;
    this.#card = identity.card;
    this.#fingerprint = identity.fingerprint;
    this.#code = identity.code;
    this.capabilities = wire(core, options);
  }

  // ───────────────────────────── lifecycle ─────────────────────────────

  /**
   * Creates a new data directory: KEK (unless a provider is given), agent identity (Ed25519 seed,
   * KEK-sealed), agent card, API token (0600) and the database. Refuses (CONFLICT) a directory that
   * already holds an agent.
   */
  static async init(dataDir: string, options: InitOptions = {}): Promise<InitResult> {
    return initDataDir(dataDir, options);
  }

  /** Opens an initialised data directory (checks the KEK and token file permissions, the identity). */
  static async open(dataDir: string, options: AgentOptions = {}): Promise<Agent> {
    const opened = await openDataDir(dataDir, options);
    return new Agent(opened.core, opened, options);
  }

  close(): void {
    this.#core.close();
  }

  /** The agent's self-signed card (what custodians pin). */
  get card(): Uint8Array {
    return Uint8Array.from(this.#card);
  }

  get publicKey(): Uint8Array {
    return Uint8Array.from(this.#core.signing.publicKey);
  }

  get fingerprint(): string {
    return this.#fingerprint;
  }

  /** The 24-digit comparison code of the agent's fingerprint. */
  get code(): string {
    return this.#code;
  }

  get kekId(): string {
    return this.#core.kek.id;
  }

  // ───────────────────────────── registries (agent/registry/) ─────────────────────────────

  addCustodian(cardBytes: Uint8Array, label: string, role: CustodianRole, ctx: OpContext = {}): Promise<CustodianRecord> {
    return this.capabilities.registry.addCustodian(cardBytes, label, role, ctx);
  }

  listCustodians(): CustodianRecord[] {
    return this.capabilities.registry.listCustodians();
  }

  disableCustodian(fingerprint: string, ctx: OpContext = {}): Promise<CustodianRecord> {
    return this.capabilities.registry.disableCustodian(fingerprint, ctx);
  }

  /** After the first two approvers, `approvals` are two other enabled approvers' signed roster changes (H1, issue 9 §1b). */
  addApprover(cardBytes: Uint8Array, ctx: OpContext = {}, approvals: readonly Uint8Array[] = []): Promise<ApproverRecord> {
    return this.capabilities.registry.addApprover(cardBytes, ctx, approvals);
  }

  listApprovers(): ApproverRecord[] {
    return this.capabilities.registry.listApprovers();
  }

  disableApprover(fingerprint: string, ctx: OpContext = {}, approvals: readonly Uint8Array[] = []): Promise<ApproverRecord> {
    return this.capabilities.registry.disableApprover(fingerprint, ctx, approvals);
  }

  /** The agent-signed approver roster as it is now (shared/protocol/roster.ts), and the rule of the next change. */
  approverRoster(): { bytes: Uint8Array; version: number; nextRule: 'setup' | 'quorum' } {
    const r = this.capabilities.registry.roster;
    const signed = r.signed();
    return { bytes: signed.bytes, version: signed.body.version, nextRule: r.nextRule() };
  }

  /** The roster version a roster change must name now (0 before the first approver). */
  approverRosterVersion(): number {
    return this.capabilities.registry.roster.version();
  }

  // ───────────────────────────── key shares (agent/keyshare/) ─────────────────────────────

  importKeyshare(keyId: string, nodeId: string, keydataBytes: Uint8Array, ctx: OpContext = {}): Promise<ImportResult> {
    return this.capabilities.keyshare.import(keyId, nodeId, keydataBytes, ctx);
  }

  listNodes(): NodeRecord[] {
    return this.capabilities.keyshare.list();
  }

  exportKeydata(keyId: string, nodeId: string, ctx: OpContext = {}): Promise<Uint8Array> {
    return this.capabilities.keyshare.exportKeydata(keyId, nodeId, ctx);
  }

  inspectNode(keyId: string, nodeId: string, ctx: OpContext = {}): Promise<InspectReport> {
    return this.capabilities.keyshare.inspect(keyId, nodeId, ctx);
  }

  // ───────────────────────────── backup and delivery (agent/backup/) ─────────────────────────────

  backup(keyId: string, nodeId: string, params: Partial<BackupParams>, custodianFingerprints: readonly string[], outDir: string, options: BackupOptions = {}): Promise<BackupResult> {
    return this.capabilities.backup.create(keyId, nodeId, params, custodianFingerprints, outDir, options);
  }

  getManifest(keyId: string, nodeId: string, setId?: string): Uint8Array {
    return this.capabilities.backup.manifestBytes(keyId, nodeId, setId);
  }

  getBackupStatus(keyId: string, nodeId: string): BackupStatus {
    return this.capabilities.backup.status(keyId, nodeId);
  }

  requestShareDelivery(ref: ShareRef, ctx: OpContext = {}): Promise<{ envelope: Uint8Array; status: ShareStatus }> {
    return this.capabilities.deliveries.request(ref, ctx);
  }

  confirmShareDelivery(receiptBytes: Uint8Array, ctx: OpContext = {}): Promise<ShareStatus> {
    return this.capabilities.deliveries.confirm(receiptBytes, ctx);
  }

  queryShareStatus(query: { keyId: string; nodeId: string; setId?: string; shareIndex?: number }): ShareStatus[] {
    return this.capabilities.deliveries.query(query);
  }

  // ───────────────────────────── retention (agent/retention/) ─────────────────────────────

  listBackupShares(keyId: string, nodeId: string): ServerShareRecord[] {
    return this.capabilities.shares.list(keyId, nodeId);
  }

  softDeleteServerShares(sel: ServerShareSelector, ctx: OpContext = {}): Promise<ServerShareRecord[]> {
    return this.capabilities.shares.softDelete(sel, ctx);
  }

  rollbackServerShares(sel: ServerShareSelector, ctx: OpContext = {}): Promise<ServerShareRecord[]> {
    return this.capabilities.shares.rollback(sel, ctx);
  }

  requestDeletion(sel: ServerShareSelector, options: RequestDeletionOptions = {}): Promise<RequestedDeletion> {
    return this.capabilities.deletions.request(sel, options);
  }

  getDeletion(deletionId: string): DeletionView {
    return this.capabilities.deletions.get(deletionId);
  }

  deletionDetails(deletionId: string): { details: DeletionDetails; detailsCbor: Uint8Array } {
    return this.capabilities.deletions.details(deletionId);
  }

  listDeletions(filter: { keyId?: string; nodeId?: string } = {}): DeletionView[] {
    return this.capabilities.deletions.list(filter);
  }

  approveDeletion(deletionId: string, approvalBytes: Uint8Array, ctx: OpContext = {}): Promise<DeletionView> {
    return this.capabilities.deletions.approve(deletionId, approvalBytes, ctx);
  }

  cancelDeletion(deletionId: string, ctx: OpContext = {}): Promise<DeletionView> {
    return this.capabilities.deletions.cancel(deletionId, ctx);
  }

  purgeServerShares(deletionId: string, ctx: OpContext = {}): Promise<PurgeResult> {
    return this.capabilities.deletions.purge(deletionId, ctx);
  }

  // ───────────────────────────── settings (agent/settings/) ─────────────────────────────

  getSettings(): AgentSettings {
    return this.capabilities.settings.get();
  }

  updateSettings(patch: Partial<AgentSettings>, ctx: OpContext = {}): Promise<AgentSettings> {
    return this.capabilities.settings.update(patch, ctx);
  }

  // ───────────────────────────── inventory (agent/inventory/) ─────────────────────────────

  issueInventoryChallenge(custodianFingerprint: string, options: OpContext & { ttlSeconds?: number } = {}): Promise<IssuedChallenge> {
    return this.capabilities.inventory.issueChallenge(custodianFingerprint, options);
  }

  submitInventoryAttestation(attestationBytes: Uint8Array, ctx: OpContext = {}): Promise<AttestationResult> {
    return this.capabilities.inventory.submitAttestation(attestationBytes, ctx);
  }

  inventoryStatus(keyId: string, nodeId: string): InventoryStatus {
    return this.capabilities.inventory.status(keyId, nodeId);
  }

  inventoryCustodians(): CustodianInventory[] {
    return this.capabilities.inventory.custodians();
  }

  // ───────────────────────────── recovery (agent/recovery/) ─────────────────────────────
  // The recovery operations spend the in-process rate limit when one was configured
  // (AgentOptions.recoveryRateLimit); a refused call is not audited, as it never started.

  async openSession(input: OpenSessionInput, ctx: OpContext = {}): Promise<OpenedSession> {
    this.#core.rateLimit(LOCAL_CALLER);
    return this.capabilities.sessions.open(input, ctx);
  }

  getSession(sessionId: string): SessionView {
    return this.capabilities.sessions.get(sessionId);
  }

  sessionDetails(sessionId: string): { details: SessionDetails; detailsCbor: Uint8Array } {
    return this.capabilities.sessions.details(sessionId);
  }

  listSessions(filter: { keyId?: string; nodeId?: string } = {}): SessionView[] {
    return this.capabilities.sessions.list(filter);
  }

  /** The one open session of a key and node, or undefined; FAILED_PRECONDITION when there are several. */
  findOpenSession(keyId: string, nodeId: string): SessionView | undefined {
    return this.capabilities.sessions.findOpen(keyId, nodeId);
  }

  async addApproval(sessionId: string, approvalBytes: Uint8Array, ctx: OpContext = {}): Promise<SessionView> {
    this.#core.rateLimit(LOCAL_CALLER);
    return this.capabilities.sessions.addApproval(sessionId, approvalBytes, ctx);
  }

  async recoveryRequest(sessionId: string, ctx: OpContext = {}): Promise<Uint8Array> {
    this.#core.rateLimit(LOCAL_CALLER);
    return this.capabilities.sessions.request(sessionId, ctx);
  }

  async submitExports(sessionId: string, exportsBytes: readonly Uint8Array[], ctx: OpContext = {}): Promise<SubmitResult> {
    this.#core.rateLimit(LOCAL_CALLER);
    return this.capabilities.recovery.submit(sessionId, exportsBytes, ctx);
  }

  async completeRecovery(sessionId: string, options: CompleteOptions = {}, ctx: OpContext = {}): Promise<RecoveryOutcome> {
    this.#core.rateLimit(LOCAL_CALLER);
    return this.capabilities.recovery.complete(sessionId, options, ctx);
  }

  cancelSession(sessionId: string, ctx: OpContext = {}): Promise<SessionView> {
    return this.capabilities.sessions.cancel(sessionId, ctx);
  }

  expireSessions(): number {
    return this.capabilities.sessions.expire();
  }

  recordDrill(input: DrillInput, ctx: OpContext = {}): Promise<DrillRecord> {
    return this.capabilities.drills.record(input, ctx);
  }

  // ───────────────────────────── audit (agent/audit/) ─────────────────────────────

  /**
   * Verifies the audit chain against the agent's signed checkpoints (database and sink): every
   * entry, or with `fromCheckpoint` only those after the last valid checkpoint.
   */
  verifyAudit(options: { fromCheckpoint?: boolean } = {}): AuditVerification {
    return verifyAudit(this.#core.db, options);
  }

  /** Signs a checkpoint of the audit chain now (sensitive events make one by themselves). */
  auditCheckpoint(reason: CheckpointReason = 'manual'): { size: number; head: string; at: number } | undefined {
    const cp = checkpoint(this.#core.db, reason);
    return cp === undefined ? undefined : { size: cp.size, head: cp.head, at: cp.at };
  }

  /** The checkpoint policy, the external sink and where they stand. */
  auditStatus(): AuditStatus {
    return auditStatus(this.#core.db);
  }

  /** Changes the checkpoint interval (entries and/or time) and the external sink; audited. */
  configureAudit(change: { every?: number; intervalMs?: number; sink?: string | null }, ctx: OpContext = {}): AuditStatus {
    return configureAudit(this.#core.db, change, this.#core.op(ctx), this.#core.now());
  }

  /** Resolves once the checkpoints handed to a syslog sink were sent (or failed: see auditStatus().sinkError). */
  auditSinkSettled(): Promise<void> {
    return sinkSettled(this.#core.db);
  }

  auditEntries(options: { fromSeq?: number; limit?: number } = {}): AuditRecord[] {
    return listAudit(this.#core.db, options);
  }

  exportAudit(): string {
    return exportAuditJsonl(this.#core.db);
  }

  /**
   * The public audit hook (H3, issue 9 §2): appends one entry for something that happened outside
   * the modules, e.g. a refused RPC call (agent/audit/refusals.ts). The operator defaults to the
   * agent's; the event must be one of the agent's (INTERNAL otherwise).
   */
  recordAudit(input: AuditInput): void {
    this.#core.audit(input);
  }

  // ───────────────────────────── API tokens (agent/token/) ─────────────────────────────

  /** A new per-operator API token (agent/token/store.ts), audited (register/token-create); a refusal is audited too. */
  createApiToken(tokenOperator: string, scopes: readonly Scope[], ctx: OpContext = {}): Promise<{ record: TokenRecord; token: string }> {
    const base = { event: 'register', action: 'token-create', operator: this.#core.op(ctx), target: `api token for operator ${tokenOperator}` } as const;
    return this.#core.audited(base, () => {
      const created = createToken(this.dataDir, tokenOperator, scopes, Math.floor(this.#core.now() / 1000));
      this.#core.audit({ ...base, result: 'ok', target: `api token ${created.record.id}`, details: { token_id: created.record.id, token_operator: created.record.operator, scopes: [...created.record.scopes] } });
      return Promise.resolve(created);
    });
  }

  /** Revokes an API token by id, audited (register/token-revoke); NOT_FOUND (audited) for an unknown id. */
  revokeApiToken(id: string, ctx: OpContext = {}): Promise<TokenRecord> {
    const base = { event: 'register', action: 'token-revoke', operator: this.#core.op(ctx), target: `api token ${id}` } as const;
    return this.#core.audited(base, () => {
      const revoked = revokeToken(this.dataDir, id, Math.floor(this.#core.now() / 1000));
      this.#core.audit({ ...base, result: 'ok', details: { token_id: revoked.id, token_operator: revoked.operator, scopes: [...revoked.scopes] } });
      return Promise.resolve(revoked);
    });
  }
}
