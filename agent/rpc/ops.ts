/**
 * What the RPC surface calls (issue 3, "Interfaces"; issue 8: handlers call the capability
 * modules, not a copy of them): the module functions of agent/backup/, agent/retention/ and
 * agent/recovery/ themselves, with their own signatures, so a handler is "validate, call,
 * convert". ./agent-ops.ts binds them from an opened `Agent`; tests may hand in a wrapped set.
 *
 * Contract (the modules keep it):
 * - Refusals are thrown as coded errors: `CustosError` (shared/errors.ts) or `AgentError`
 *   (agent/errors.ts). An unknown key, node, set or session is an AgentError with code NOT_FOUND.
 *   Messages are safe to show to the caller; causes stay in `cause` and are only logged.
 * - Anything else thrown is a bug: the caller gets INTERNAL with a generic sentence.
 * - Times in the api types are Unix seconds; durations milliseconds (agent/api.ts).
 * - The operator in the OpContext is the authenticated caller: the operator named by its API token
 *   (agent/token/store.ts; "api-token" for the data directory's api.token), recorded in the audit log.
 * - The recovery calls are rate-limited once, by the RPC interceptor (agent/rate-limit.ts); the
 *   module functions charge nothing.
 */
import type { Backups } from '../backup/backup';
import type { Inventory } from '../inventory/inventory';
import type { Deletions } from '../retention/deletions';
import type { Settings } from '../settings/settings';
import type { Deliveries } from '../backup/delivery';
import type { NodeImports } from '../keyshare/from-node';
import type { Recovery } from '../recovery/recovery';
import type { Sessions } from '../recovery/sessions';
import type { ServerShares } from '../retention/server-shares';

/** A module function, which an implementation may also answer asynchronously. */
export type Op<F extends (...args: never[]) => unknown> = (...args: Parameters<F>) => ReturnType<F> | Promise<Awaited<ReturnType<F>>>;

export interface AgentOps {
  /** The node's current backup set. NOT_FOUND for an unknown key or node, or no backup yet. */
  getBackupStatus: Op<Backups['status']>;
  /** Server-held share records (never secrets) of the node's backup sets. */
  listBackupShares: Op<ServerShares['list']>;
  /** Hands out the envelope of an external share and marks it delivered. */
  requestShareDelivery: Op<Deliveries['request']>;
  /** Verifies a custodian's signed receipt and records confirmed or rejected. */
  confirmShareDelivery: Op<Deliveries['confirm']>;
  /** Delivery status of every external share of a set (default: the current set). */
  queryShareStatus: Op<Deliveries['query']>;
  /** A recovery session by id. NOT_FOUND when there is none. */
  getSession: Op<Sessions['get']>;
  /** The one open session of a key and node, if any; FAILED_PRECONDITION when there are several. */
  findOpenSession: Op<Sessions['findOpen']>;
  /** Verifies and keeps recovery export files; each bad one is named in `refused`. */
  submitExports: Op<Recovery['submit']>;
  /** Combines, checks, regenerates and writes back (or, as a drill, only checks). */
  completeRecovery: Op<Recovery['complete']>;
  /** A keydata from the MPC node after DKG or a resharing, imported and backed up by policy. */
  importKeyshare: Op<NodeImports['importFromNode']>;

  // OperationsService (proto/infra/v1/operations.proto, issue 9 §3): what the agent CLI's
  // delete, session, inventory and settings commands call, the same module methods.
  softDeleteServerShares: Op<ServerShares['softDelete']>;
  rollbackServerShares: Op<ServerShares['rollback']>;
  requestDeletion: Op<Deletions['request']>;
  approveDeletion: Op<Deletions['approve']>;
  purgeServerShares: Op<Deletions['purge']>;
  cancelDeletion: Op<Deletions['cancel']>;
  getDeletion: Op<Deletions['get']>;
  deletionDetails: Op<Deletions['details']>;
  listDeletions: Op<Deletions['list']>;
  openSession: Op<Sessions['open']>;
  approveSession: Op<Sessions['addApproval']>;
  recoveryRequest: Op<Sessions['request']>;
  cancelSession: Op<Sessions['cancel']>;
  sessionDetails: Op<Sessions['details']>;
  listSessions: Op<Sessions['list']>;
  issueInventoryChallenge: Op<Inventory['issueChallenge']>;
  submitInventoryAttestation: Op<Inventory['submitAttestation']>;
  inventoryStatus: Op<Inventory['status']>;
  getSettings: Op<Settings['get']>;
  updateSettings: Op<Settings['update']>;
}
