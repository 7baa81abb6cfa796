/**
 * (A little over 500 lines: it is only types, the one contract both the CLI and the RPC layer
 * implement against; splitting it by capability would scatter that contract.)
 *
 * The agent's operations as one transport-neutral interface. The CLI (agent/cli.ts) and the RPC
 * handlers (agent/rpc/) both call this; neither knows about the other. Implemented by
 * agent/service.ts (`Agent`). Errors are CustosError (shared/errors.ts) or AgentError
 * (agent/errors.ts) with a code; the RPC layer maps codes to gRPC status codes and never sends
 * causes.
 *
 * Byte fields are Uint8Array; ids that are bytes on the wire (set_id, session_id) are hex strings
 * here, because they are also what operators type. Times (`...At`, `at`, `notAfter`) are Unix
 * seconds, the protocol's unit; durations are milliseconds (`durationMs`).
 *
 * Fields marked "(Agent always sets it)" were added after the first version of these types; they
 * are optional so other implementations of the older shape still type-check.
 */
import type { SessionDetails } from '../shared/protocol/approval';
import type { DeletionDetails, DeletionPurpose } from '../shared/protocol/deletion-approval';
import type { Curve, RecoveryMode } from '../shared/protocol/schema';

export type CustodianRole = 'security-team' | 'independent-custodian' | 'cold-storage';

export const CUSTODIAN_ROLES: readonly CustodianRole[] = ['security-team', 'independent-custodian', 'cold-storage'];

/** Who performed an operation, for the audit log (seeds SOP §7 "操作者"). */
export interface OpContext {
  readonly operator?: string;
}

export interface CustodianRecord {
  readonly fingerprint: string; // hex
  readonly code: string; // 24-digit comparison code
  readonly label: string;
  readonly role: CustodianRole;
  readonly enabled: boolean;
  readonly addedAt: number;
  /** The name on the custodian's own (self-signed) enrollment card. */
  readonly cardName: string;
  readonly ageRecipient: string;
}

export interface ApproverRecord {
  readonly fingerprint: string;
  readonly code: string;
  readonly name: string;
  readonly enabled: boolean;
  readonly addedAt: number;
}

export interface BackupParams {
  readonly threshold: number; // default 3
  readonly total: number; // default 5
  readonly retain: number; // default 2
}

export interface BackupOptions extends OpContext {
  /** Also write each envelope as QR frame PNGs (default true). */
  readonly qr?: boolean;
  /** Envelopes expire this many seconds after creation (default: no expiry). */
  readonly envelopeTtlSeconds?: number;
  /**
   * Why the previous active set is replaced, when it is more than a rotation: `reshared` (a tss-lib
   * resharing replaced the node's keydata, so the old set is stale; ImportKeyshare sets it). The
   * old set gets the stale status and its custodians' supersede notices say so.
   */
  readonly staleReason?: 'reshared';
}

export interface BackupResult {
  readonly keyId: string;
  readonly nodeId: string;
  readonly setId: string;
  readonly epoch: number;
  readonly threshold: number;
  readonly total: number;
  readonly retainedIndexes: readonly number[];
  /** `file` is the envelope's path; `qrFrames` the paths of its QR frame PNGs, in frame order. */
  readonly envelopes: readonly { readonly shareIndex: number; readonly custodian: string; readonly file: string; readonly sha256: string; readonly qrFrames: readonly string[] }[];
  readonly manifestFile: string;
  readonly manifestSha256: string;
  /**
   * The set this one replaced, if any, with one signed supersede notice file per custodian of it,
   * and the old set's server shares that were soft-deleted with the rotation (cooling off; they can
   * be rolled back, and are hard-deleted with a `superseded-set` deletion).
   */
  readonly superseded?: {
    readonly setId: string;
    readonly epoch: number;
    readonly notices: readonly { readonly custodian: string; readonly shareIndex: number; readonly file: string }[];
    readonly retainedSoftDeleted?: readonly number[];
  };
}

export interface ImportResult {
  readonly keyId: string;
  readonly nodeId: string;
  readonly curve: Curve;
  /** This node's position in the key's party list (tss-lib Ks). */
  readonly partyIndex: number;
  readonly parties: number;
  /** tss-lib threshold t (t+1 parties sign), derived from the public data (agent/keyshare/key-view.ts). */
  readonly tssThreshold?: number;
  /** Hex SHA-256 of the group public key's standard encoding (docs/metrics.md, "Key-level view"). */
  readonly groupKeyFingerprint?: string;
  readonly publicContextHash: string;
  /** SHA-256 of the keydata in tss-lib's compact form: what a recovery must reproduce exactly. */
  readonly keydataSha256: string;
  readonly selfCheck: readonly SelfCheckLine[];
}

export interface SelfCheckLine {
  readonly name: string;
  readonly ok: boolean;
  readonly detail?: string;
}

export interface NodeRecord {
  readonly keyId: string;
  readonly nodeId: string;
  readonly curve: Curve;
  readonly partyIndex: number;
  readonly parties: number;
  /** tss-lib threshold t; absent when it could not be derived from the stored public context. */
  readonly tssThreshold?: number;
  readonly groupKeyFingerprint?: string;
  readonly publicContextHash: string;
  readonly keydataSha256: string;
  readonly importedAt: number;
  readonly restoredAt?: number;
  readonly activeSet?: { readonly setId: string; readonly epoch: number };
}

/** The result of checking a node's stored files (seeds SOP §4.3 巡检). Never contains secrets. */
export interface InspectReport {
  readonly keyId: string;
  readonly nodeId: string;
  readonly shareFile: FileState;
  readonly keydataFile: FileState;
  /** The secret record and the stored public context rebuild exactly the stored keydata. */
  readonly consistent: boolean;
  readonly selfCheck: readonly SelfCheckLine[];
  readonly ok: boolean;
}

export type FileState = 'ok' | 'missing' | 'corrupt';

export interface ShareRef {
  readonly keyId: string;
  readonly nodeId: string;
  readonly shareIndex: number;
  /** Default: the node's active backup set. */
  readonly setId?: string;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'confirmed' | 'rejected';

export interface ShareStatus {
  readonly keyId: string;
  readonly nodeId: string;
  readonly setId: string;
  readonly epoch: number;
  readonly shareIndex: number;
  readonly custodian: string; // fingerprint hex
  readonly status: DeliveryStatus;
  readonly envelopeSha256: string;
  readonly reason?: string;
  readonly updatedAt: number;
}

export interface BackupStatus {
  readonly keyId: string;
  readonly nodeId: string;
  readonly setId: string;
  readonly epoch: number;
  readonly curve: Curve;
  readonly threshold: number;
  readonly total: number;
  readonly serverSharesHeld: number;
  readonly externalDelivered: number;
  readonly externalConfirmed: number;
  /** serverSharesHeld + externalConfirmed reach the threshold. */
  readonly recoverable: boolean;
  /** Shares the set gave the server to keep. (Agent always sets it.) */
  readonly retain?: number;
  /** externalConfirmed alone reaches the threshold, what zero retention needs. (Agent always sets it.) */
  readonly externalOnlyRecoverable?: boolean;
  readonly lastDrill?: DrillRecord;
  /** Server shares of the active set that are soft-deleted (cooling off, can be rolled back). (Agent always sets it.) */
  readonly serverSharesSoftDeleted?: number;
  /**
   * The server holds no share of this key and node any more, of any backup set (none held, none
   * soft-deleted): the SOP's zero retention. (Agent always sets it.)
   */
  readonly zeroRetention?: boolean;
  /** When the last retained share of the node was hard-deleted, if zeroRetention came from deletion. */
  readonly zeroRetentionSince?: number;
  /** The inventory of the active set's external shares (see InventoryStatus). (Agent always sets it.) */
  readonly inventory?: InventorySummary;
  /** Earlier sets made stale by a resharing (agent/keyshare/from-node.ts), newest first. (Agent always sets it.) */
  readonly staleSetIds?: readonly string[];
  /**
   * The key-level view (issue 11 §3): tss-lib threshold t of the key (t+1 parties sign), its party
   * count and group public key fingerprint, so that the statuses of every node of a key, from every
   * agent, can be put together ("fewer than t+1 nodes recoverable"). tssThreshold and
   * groupKeyFingerprint are absent only when they could not be derived from the stored public context.
   */
  readonly tssThreshold?: number;
  readonly parties?: number;
  readonly groupKeyFingerprint?: string;
}

/** What GetBackupStatus says about the inventory (seeds SOP §4.3 盘点); `inventory status` has the details. */
export interface InventorySummary {
  /** External shares whose custodian proved possession within the configured maximum age. */
  readonly externalAttested: number;
  /** External shares whose custodian's latest attestation said missing or carried a bad proof. */
  readonly externalFailed: number;
  /** serverSharesHeld + externalAttested reach the threshold: recoverable from what was proven lately. */
  readonly recoverable: boolean;
  /** Fingerprints of the custodians of this set that are overdue (see OverdueCustodian). */
  readonly overdueCustodians: readonly string[];
  /** The most recent proof of possession of any external share, if any. */
  readonly lastAttestedAt?: number;
}

export interface DrillRecord {
  readonly at: number;
  readonly ok: boolean;
  readonly mode: RecoveryMode;
  readonly durationMs: number;
  readonly setId?: string;
  readonly sessionId?: string;
  readonly note?: string;
}

export interface DrillInput {
  readonly keyId: string;
  readonly nodeId: string;
  readonly mode: RecoveryMode;
  readonly ok: boolean;
  readonly durationMs: number;
  readonly setId?: string;
  readonly sessionId?: string;
  readonly note?: string;
}

export interface ServerShareRecord {
  readonly keyId: string;
  readonly nodeId: string;
  readonly setId: string;
  readonly epoch: number;
  readonly shareIndex: number;
  readonly commitment: string; // hex
  readonly state: 'held' | 'soft-deleted' | 'deleted';
  readonly createdAt: number;
  /** (Agent always sets it.) */
  readonly setState?: 'active' | 'superseded';
  readonly softDeletedAt?: number;
  readonly deletedAt?: number;
}

// ───────────────────────────── deletion (issue 5) ─────────────────────────────

export type DeletionState = 'awaiting-approvals' | 'approved' | 'completed' | 'cancelled' | 'expired';

/**
 * A hard deletion of soft-deleted server shares: created with `requestDeletion`, approved by two
 * distinct registered approvers (signed `deletion-approval` messages over `details`), executed by
 * `purgeServerShares` once the cooling-off period is over.
 */
export interface DeletionView {
  readonly deletionId: string;
  readonly keyId: string;
  readonly nodeId: string;
  readonly setId: string;
  readonly epoch: number;
  readonly shareIndexes: readonly number[];
  readonly purpose: DeletionPurpose;
  readonly state: DeletionState;
  /** The earliest moment the hard delete may run (end of the cooling-off period). */
  readonly coolingEndsAt: number;
  /** Approvals and the hard delete are accepted until then. */
  readonly notAfter: number;
  readonly approvals: readonly { readonly approver: string; readonly name: string; readonly at: number }[];
  /** Who asked for it (audit log operator). */
  readonly operator: string;
  readonly createdAt: number;
  readonly endedAt?: number;
  /**
   * For a deletion still open: what the hard delete would be refused with now, in the order it is
   * checked (e.g. COOLING_OFF, APPROVAL_REQUIRED, RECEIPTS_REQUIRED, DRILL_REQUIRED). Empty: it can run.
   */
  readonly blockers: readonly { readonly code: string; readonly message: string }[];
}

export interface RequestDeletionOptions extends OpContext {
  /** How long after the cooling-off period ends the approvals stay valid (3600 .. 30 days; default 7 days). */
  readonly ttlSeconds?: number;
}

/** A new deletion and the details approvers sign over (as the object and as canonical CBOR). */
export interface RequestedDeletion {
  readonly deletion: DeletionView;
  readonly details: DeletionDetails;
  readonly detailsCbor: Uint8Array;
}

export interface PurgeResult {
  readonly deletion: DeletionView;
  readonly shares: readonly ServerShareRecord[];
  /** After this deletion the server holds no share of the key and node (any set). */
  readonly zeroRetention: boolean;
}

/** Operator-changeable settings, kept in the database (changes are audited as `configure`). */
export interface AgentSettings {
  /** Soft-deleted server shares can be hard-deleted only after this long (default 7 days). */
  readonly deletionCoolingSeconds: number;
  /** A custodian whose proof of possession of a share is older than this is overdue (default 90 days). */
  readonly inventoryMaxAgeSeconds: number;
  /** How long an inventory challenge can be answered (default 7 days). */
  readonly inventoryChallengeTtlSeconds: number;
}

// ───────────────────────────── inventory (issue 5) ─────────────────────────────

export type InventoryVerdict = 'proven' | 'missing' | 'bad-proof' | 'not-answered';

export interface InventoryItemRef {
  readonly keyId: string;
  readonly nodeId: string;
  readonly setId: string;
  readonly epoch: number;
  readonly shareIndex: number;
}

export interface IssuedChallenge {
  readonly challengeId: string;
  readonly custodian: string;
  readonly items: readonly InventoryItemRef[];
  readonly createdAt: number;
  readonly notAfter: number;
  /** The signed inventory-challenge file, for the custodian. */
  readonly challenge: Uint8Array;
  readonly sha256: string;
}

export interface AttestationResult {
  readonly challengeId: string;
  readonly custodian: string;
  readonly answeredAt: number;
  readonly items: readonly (InventoryItemRef & { readonly result: InventoryVerdict })[];
  readonly proven: number;
  readonly missing: number;
  readonly badProof: number;
  readonly notAnswered: number;
}

export interface InventoryShare {
  readonly shareIndex: number;
  readonly custodian: string;
  readonly label: string;
  readonly delivery: DeliveryStatus;
  /** The last proof of possession. */
  readonly lastProvenAt?: number;
  /** The latest inventory verdict and when it was recorded. */
  readonly lastResult?: InventoryVerdict;
  readonly lastCheckedAt?: number;
  /** Proven within the maximum age, and no later verdict says otherwise. */
  readonly attested: boolean;
  readonly overdue?: OverdueReason;
}

export type OverdueReason = 'challenge-unanswered' | 'attestation-stale';

/**
 * A custodian the inventory has not heard from in time: the latest challenge that named one of its
 * shares expired unanswered (or its answer left the share out), or the last proof of possession of
 * a share (or, never proven, its delivery) is older than the maximum age.
 */
export interface OverdueCustodian {
  readonly custodian: string;
  readonly label: string;
  readonly reason: OverdueReason;
  /** Since when it is overdue. */
  readonly since: number;
  readonly shareIndexes: readonly number[];
  readonly challengeId?: string;
}

/** The inventory of one key and node's active set (seeds SOP §4.3, §9). */
export interface InventoryStatus {
  readonly keyId: string;
  readonly nodeId: string;
  readonly setId: string;
  readonly epoch: number;
  readonly threshold: number;
  readonly serverSharesHeld: number;
  readonly externalDelivered: number;
  readonly externalConfirmed: number;
  readonly externalAttested: number;
  readonly externalFailed: number;
  /** serverSharesHeld + externalAttested reach the threshold. */
  readonly recoverable: boolean;
  readonly overdueCustodians: readonly OverdueCustodian[];
  readonly shares: readonly InventoryShare[];
  readonly maxAgeSeconds: number;
}

/** One custodian's inventory across every active set. */
export interface CustodianInventory {
  readonly custodian: string;
  readonly label: string;
  readonly enabled: boolean;
  /** Delivered or confirmed shares of active sets the custodian should hold. */
  readonly sharesExpected: number;
  readonly sharesAttested: number;
  readonly lastChallenge?: {
    readonly challengeId: string;
    readonly createdAt: number;
    readonly notAfter: number;
    readonly answeredAt?: number;
    /** answered; open (can still be answered); expired (unanswered past notAfter). */
    readonly state: 'answered' | 'open' | 'expired';
  };
  readonly lastProvenAt?: number;
  readonly overdue?: OverdueReason;
}

/** Which server-held shares a delete / rollback / purge applies to. */
export interface ServerShareSelector {
  readonly keyId: string;
  readonly nodeId: string;
  /** Default: the active set. */
  readonly setId?: string;
  /** Default: every retained share of the set. */
  readonly indexes?: readonly number[];
}

export type SessionState = 'awaiting-approvals' | 'collecting' | 'completed' | 'failed' | 'expired' | 'cancelled';

export interface SessionView {
  readonly sessionId: string;
  readonly incidentId: string;
  /** The free-text incident title of the session details (issue 13), when it has one. */
  readonly incidentTitle?: string;
  readonly keyId: string;
  readonly nodeId: string;
  readonly setId: string;
  readonly epoch: number;
  readonly mode: RecoveryMode;
  readonly state: SessionState;
  readonly notAfter: number;
  readonly approvals: readonly { readonly approver: string; readonly name: string; readonly at: number }[];
  readonly threshold: number;
  readonly received: readonly number[]; // share indexes accepted so far
  readonly missing: readonly number[]; // external indexes not yet received
  /** Mixed mode: the server-held shares completion will use; empty in external-only mode. (Agent always sets it.) */
  readonly serverAvailable?: readonly number[];
  /** (Agent always sets it.) */
  readonly requestIssued?: boolean;
  /** (Agent always sets it.) */
  readonly createdAt?: number;
  readonly endedAt?: number;
}

export interface OpenSessionInput {
  readonly incidentId: string;
  /** A free-text title in any script (docs/protocol.md §4.5): normalised to NFC and trimmed, then 1..200 characters. */
  readonly incidentTitle?: string;
  readonly keyId: string;
  readonly nodeId: string;
  readonly mode: RecoveryMode;
  /** How long approvals and exports are accepted (60 s .. 7 days; default 24 h). */
  readonly ttlSeconds?: number;
  /** Default: the node's active backup set. */
  readonly setId?: string;
}

/** A new session and the details approvers sign over (as the object and as canonical CBOR). */
export interface OpenedSession {
  readonly session: SessionView;
  readonly details: SessionDetails;
  readonly detailsCbor: Uint8Array;
}

export interface CompleteOptions {
  /**
   * The keydata file of another party of the same key, when this server lost everything: its
   * public context is used (after its own self-check, and only if it hashes to the manifest's
   * public_context_hash).
   */
  readonly peerKeydata?: Uint8Array;
  /** A drill: verify and regenerate everything, write nothing, record a drill. */
  readonly drill?: boolean;
}

export interface SubmitResult {
  readonly accepted: readonly number[];
  readonly refused: readonly { readonly shareIndex?: number; readonly code: string; readonly message: string }[];
  readonly session: SessionView;
}

export interface RecoveryOutcome {
  readonly success: boolean;
  readonly session: SessionView;
  readonly sharesUsed: { readonly server: number; readonly external: number };
  readonly keydataSha256: string;
  readonly selfCheck: readonly SelfCheckLine[];
  /** The share indexes combined, lowest first. (Agent always sets it, and the fields below.) */
  readonly indexesUsed?: readonly number[];
  /** Where the public context came from. */
  readonly contextSource?: 'stored' | 'peer';
  /** False for a drill: nothing was written. */
  readonly written?: boolean;
  /** Shares set aside at completion (e.g. a damaged retained share file), with why. */
  readonly skipped?: readonly { readonly shareIndex: number; readonly code: string; readonly message: string }[];
  readonly durationMs?: number;
  /** On success (issue 12): the regenerated keydata's group public key, compressed, hex (shared/keydata/group-key.ts). */
  readonly groupPublicKey?: string;
}

export interface InitResult {
  readonly dataDir: string;
  readonly fingerprint: string;
  readonly code: string;
  readonly cardFile: string;
  readonly tokenFile: string;
  readonly kekId: string;
}
