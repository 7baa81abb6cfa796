/**
 * The agent's own refusals, for what is not a protocol error (shared/errors.ts covers those): a
 * missing record, a damaged file on disk, a bad token, a busy or wrongly ordered operation.
 *
 * Like CustosError, an AgentError carries a stable `code`, a sentence a person can act on, and
 * non-secret `details`; its cause stays on this machine (toJSON never includes it). The RPC layer
 * maps codes to gRPC status codes in one table (agent/rpc/errors.ts STATUS_OF).
 */
import { CodedError, type ErrorCode } from '../shared/errors';
import { codedErrorHelpers, type PublicError as NodePublicError } from '../node/errors';

export const AGENT_ERROR_CODES = [
  /** No such key, node, set, share, custodian, approver or session. */
  'NOT_FOUND',
  /** A stored file failed authentication (damaged, truncated, or another file put in its place). */
  'CORRUPT_FILE',
  /** Missing or wrong API token. */
  'UNAUTHENTICATED',
  /** A file's permissions are too open (e.g. a KEK readable by group or others). */
  'PERMISSION_DENIED',
  /** Too many recovery calls in a short time. */
  'RATE_LIMITED',
  /** The thing exists already, or would overwrite something that must not be overwritten. */
  'CONFLICT',
  /** The operation is not allowed in the current state (no backup set yet, session already ended…). */
  'FAILED_PRECONDITION',
  /** A receipt names an envelope other than the one the agent sent for that share. */
  'ENVELOPE_MISMATCH',
  /** A hard delete asked for before the cooling-off period of a soft delete ended (rollback is still possible). */
  'COOLING_OFF',
  /** Zero retention without a passed external-only recovery drill of that same backup set. */
  'DRILL_REQUIRED',
  /** Zero retention while some external share of the set has no accepting receipt from its custodian. */
  'RECEIPTS_REQUIRED',
  /**
   * The key-encryption key cannot be used now: its HSM module, token, PIN or key is missing or
   * refused, or the token went away mid-run (details.reason says which). Nothing was written.
   */
  'KEK_UNAVAILABLE',
  /** A sealed file names a key-encryption key retired by a rotation (a copy from before it). */
  'KEK_RETIRED',
  /** A bug or an unexpected environment failure; the cause is logged locally only. */
  'INTERNAL',
] as const;

export type AgentErrorCode = (typeof AGENT_ERROR_CODES)[number];
export type AnyErrorCode = ErrorCode | AgentErrorCode;

export class AgentError extends CodedError<AgentErrorCode> {
  override readonly name = 'AgentError';
}

export type PublicError = NodePublicError<AnyErrorCode>;

/**
 * isCodedError (what may be shown to a caller as is), codeOf (INTERNAL for anything uncoded),
 * toPublicError (what may cross a process or network boundary: anything uncoded becomes a generic
 * INTERNAL error, its message could contain paths or values and is never sent), isAgentError, and
 * guardAgent (anything uncoded that `fn` throws becomes `code` with `message`). One copy in
 * node/errors.ts, shared with the app.
 */
export const {
  isCodedError,
  codeOf,
  toPublicError,
  isOwn: isAgentError,
  guard: guardAgent,
} = codedErrorHelpers(AgentError, 'The agent failed with an internal error; the details are in its log.');
