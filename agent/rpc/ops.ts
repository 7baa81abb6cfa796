/**
 * What the RPC surface needs from the agent (issue 3, "Interfaces"): a narrow view of the core's
 * operations, in the transport-neutral types of agent/api.ts. The handlers (./handlers.ts) call
 * only this; the core's `Agent` (agent/service.ts) is adapted to it in ./server.ts.
 *
 * Contract for implementers:
 * - Refusals are thrown as coded errors: `CustosError` (shared/errors.ts) or `AgentError`
 *   (agent/errors.ts). An unknown key, node, set or session is an AgentError with code NOT_FOUND.
 *   Messages must be safe to show to the caller; causes stay in `cause` and are only logged.
 * - Anything else thrown is a bug: the caller gets INTERNAL with a generic sentence.
 * - Times in the api types are Unix seconds; durations milliseconds (agent/api.ts).
 * - Arguments arrive already validated (identifiers, hex ids, sizes); ops still own every check
 *   that needs state (the key exists, the share index is external, the session is open...).
 * - Methods may be synchronous or asynchronous.
 */
import type { BackupStatus, CompleteOptions, RecoveryOutcome, ServerShareRecord, SessionView, ShareStatus, SubmitResult } from '../api';

export type { CompleteOptions };

export type Awaitable<T> = T | Promise<T>;

/** Who is calling, for the audit log, and a signal that fires when the call is abandoned. */
export interface OpsContext {
  /** "rpc:" and the first 8 hex digits of the SHA-256 of the bearer token used. */
  readonly operator: string;
  readonly signal: AbortSignal;
}

/** One external share's sealed envelope, handed out for delivery. */
export interface ShareDelivery {
  /** The signed, sealed envelope file, exactly as a custodian receives it. */
  readonly envelope: Uint8Array;
  /** Its status after this delivery (normally `delivered`; `envelopeSha256` is the file's hash). */
  readonly status: ShareStatus;
}

export interface AgentOps {
  /** The node's current backup set. NOT_FOUND for an unknown key or node, or no backup yet. */
  getBackupStatus(keyId: string, nodeId: string, ctx: OpsContext): Awaitable<BackupStatus>;

  /** Server-held share records (never secrets) of the node's backup sets. */
  listBackupShares(keyId: string, nodeId: string, ctx: OpsContext): Awaitable<readonly ServerShareRecord[]>;

  /** Seals (or re-reads) the envelope of external share `shareIndex` and marks it delivered. */
  requestShareDelivery(keyId: string, nodeId: string, shareIndex: number, ctx: OpsContext): Awaitable<ShareDelivery>;

  /** Verifies a custodian's signed receipt and records confirmed or rejected. */
  confirmShareDelivery(receipt: Uint8Array, ctx: OpsContext): Awaitable<ShareStatus>;

  /** Delivery status of every external share of a set (`setId` hex; absent: the current set). */
  queryShareStatus(keyId: string, nodeId: string, setId: string | undefined, ctx: OpsContext): Awaitable<readonly ShareStatus[]>;

  /** A recovery session by id (32 hex digits). NOT_FOUND when there is none. */
  getSession(sessionId: string, ctx: OpsContext): Awaitable<SessionView>;

  /**
   * The one session of this key and node that is still awaiting approvals or collecting, if any.
   * Throws FAILED_PRECONDITION if there are several, so the caller names one.
   */
  findOpenSession(keyId: string, nodeId: string, ctx: OpsContext): Awaitable<SessionView | undefined>;

  /**
   * Verifies and keeps recovery export files for a session. Each bad file is named in `refused`
   * while the good ones are kept; a refusal of the whole call (session expired, not approved) is
   * thrown.
   */
  submitExports(sessionId: string, files: readonly Uint8Array[], ctx: OpsContext): Awaitable<SubmitResult>;

  /**
   * Combines, checks the commitment, regenerates and self-checks the keydata, and writes back the
   * share and keydata (not for a drill). A refusal (BELOW_THRESHOLD, SELF_CHECK_FAILED, EXPIRED...)
   * is thrown and changes nothing already stored.
   */
  completeRecovery(sessionId: string, options: CompleteOptions, ctx: OpsContext): Awaitable<RecoveryOutcome>;
}
