/**
 * From the core's coded errors to gRPC status codes, in one table (issue 3, "Interfaces":
 * "Internal causes are logged, never sent").
 *
 * A coded error (CustosError from shared/errors.ts, AgentError from agent/errors.ts) crosses the
 * wire as its status code, its message, and its code twice: as a typed `CustosErrorInfo` error
 * detail (proto/infra/v1/errors.proto) and in the `custos-error-code` metadata entry;
 * its `cause` and stack only go to the injected logger. Anything else is a bug: the client gets
 * INTERNAL with a generic sentence and a reference that finds the log entry.
 */
import { randomBytes } from 'node:crypto';
import { Code, ConnectError } from '@connectrpc/connect';
import { CustosErrorInfoSchema } from '../../proto/gen/infra/v1/errors_pb';
import type { CustosError } from '../../shared/errors';
import { isCodedError, type AgentError, type AnyErrorCode } from '../errors';
import type { RpcLogger } from './log';

/** Response metadata entry (a trailer for gRPC) carrying the core's error code. */
export const ERROR_CODE_METADATA = 'custos-error-code';

/**
 * The one table. Rule: bad data supplied by the caller is INVALID_ARGUMENT; a request that cannot
 * succeed in the current state is FAILED_PRECONDITION; a duplicate is ALREADY_EXISTS; a stored
 * file that no longer authenticates is DATA_LOSS. Typed as a full Record: a new code in
 * shared/errors.ts or agent/errors.ts does not compile until it is mapped here.
 */
export const STATUS_OF: Readonly<Record<AnyErrorCode, Code>> = {
  // agent/errors.ts
  NOT_FOUND: Code.NotFound,
  CORRUPT_FILE: Code.DataLoss,
  UNAUTHENTICATED: Code.Unauthenticated,
  PERMISSION_DENIED: Code.PermissionDenied,
  RATE_LIMITED: Code.ResourceExhausted,
  CONFLICT: Code.AlreadyExists,
  FAILED_PRECONDITION: Code.FailedPrecondition,
  ENVELOPE_MISMATCH: Code.FailedPrecondition,
  COOLING_OFF: Code.FailedPrecondition,
  DRILL_REQUIRED: Code.FailedPrecondition,
  RECEIPTS_REQUIRED: Code.FailedPrecondition,
  KEK_UNAVAILABLE: Code.Unavailable,
  KEK_RETIRED: Code.FailedPrecondition,
  INTERNAL: Code.Internal,
  // shared/errors.ts
  MALFORMED: Code.InvalidArgument,
  VERSION_UNSUPPORTED: Code.InvalidArgument,
  WRONG_TYPE: Code.InvalidArgument,
  SIGNATURE_INVALID: Code.InvalidArgument,
  UNTRUSTED_SIGNER: Code.PermissionDenied,
  WRONG_RECIPIENT: Code.FailedPrecondition,
  EXPIRED: Code.FailedPrecondition,
  NOT_YET_VALID: Code.FailedPrecondition,
  SET_MISMATCH: Code.FailedPrecondition,
  SESSION_MISMATCH: Code.FailedPrecondition,
  SHARE_COMMITMENT_MISMATCH: Code.InvalidArgument,
  SECRET_COMMITMENT_MISMATCH: Code.FailedPrecondition,
  BELOW_THRESHOLD: Code.FailedPrecondition,
  DUPLICATE_SHARE: Code.AlreadyExists,
  DUPLICATE_APPROVER: Code.AlreadyExists,
  APPROVAL_REQUIRED: Code.FailedPrecondition,
  INVALID_PARAMETERS: Code.InvalidArgument,
  DECRYPT_FAILED: Code.InvalidArgument,
  FRAME_MISMATCH: Code.InvalidArgument,
  INCOMPLETE: Code.InvalidArgument,
  TOO_LARGE: Code.InvalidArgument,
  KEYDATA_INVALID: Code.InvalidArgument,
  SELF_CHECK_FAILED: Code.FailedPrecondition,
};

/** An error the core raised on purpose: a code and a message safe to show. */
export type CodedError = AgentError | CustosError;

export function asCodedError(error: unknown): CodedError | undefined {
  return isCodedError(error) ? error : undefined;
}

/** The gRPC code for a core error code; undefined when the table does not know it. */
export function grpcCodeFor(code: string): Code | undefined {
  return Object.hasOwn(STATUS_OF, code) ? STATUS_OF[code as AnyErrorCode] : undefined;
}

/** Errors this layer built on purpose; only these ConnectErrors are passed through unchanged. */
const ours = new WeakSet<ConnectError>();

/**
 * Every refusal this layer sends: status, message, and the reason code as metadata and as a
 * `CustosErrorInfo` detail (with the `custos-field` and `retry-after` metadata it is given).
 */
export function rpcError(code: Code, message: string, reason: string, metadata?: Record<string, string>): ConnectError {
  const retryAfter = Number(metadata?.['retry-after'] ?? 0);
  const info = { code: reason, field: metadata?.['custos-field'] ?? '', retryAfterSeconds: Number.isSafeInteger(retryAfter) && retryAfter > 0 ? retryAfter : 0 };
  const e = new ConnectError(message, code, { [ERROR_CODE_METADATA]: reason, ...metadata }, [{ desc: CustosErrorInfoSchema, value: info }]);
  ours.add(e);
  return e;
}

/** The reason code of an error built by this layer (its `custos-error-code`), if any. */
export function reasonOf(error: ConnectError): string | undefined {
  return error.metadata.get(ERROR_CODE_METADATA) ?? undefined;
}

export const INTERNAL_MESSAGE = "The agent could not process this request because of an internal error; the agent's log has the details";

/**
 * Turns anything thrown below the RPC layer into what may be sent: a coded error keeps its
 * message; anything else becomes INTERNAL with a generic sentence. Causes go to the log only.
 */
export function toConnectError(error: unknown, method: string, logger: RpcLogger): ConnectError {
  if (error instanceof ConnectError && ours.has(error)) return error;
  const coded = asCodedError(error);
  if (coded) {
    const mapped = grpcCodeFor(coded.code);
    if (mapped === undefined) logger.warn('rpc: unmapped error code, sent as UNKNOWN', { method, code: coded.code });
    logCause(coded, method, logger);
    const retryAfter = coded.details['retryAfterSeconds'];
    return rpcError(mapped ?? Code.Unknown, coded.message, coded.code, typeof retryAfter === 'number' ? { 'retry-after': String(retryAfter) } : undefined);
  }
  // A ConnectError from elsewhere (a nested client, a library) is not trusted either: its message
  // may carry internals. Cancellation and deadlines keep their code and a fixed sentence.
  if (error instanceof ConnectError && (error.code === Code.Canceled || error.code === Code.DeadlineExceeded)) {
    return rpcError(error.code, error.code === Code.Canceled ? 'The call was cancelled.' : 'The call ran out of time.', error.code === Code.Canceled ? 'CANCELLED' : 'DEADLINE_EXCEEDED');
  }
  const ref = randomBytes(6).toString('hex');
  logger.error('rpc: unexpected error', { method, ref, error: describeError(error) });
  return rpcError(Code.Internal, `${INTERNAL_MESSAGE} (reference ${ref}).`, 'INTERNAL');
}

/** Logs the cause of a coded refusal, which stays on this machine. */
export function logCause(coded: CodedError, method: string, logger: RpcLogger): void {
  if (coded.cause !== undefined) logger.warn('rpc: refusal with a cause', { method, code: coded.code, message: coded.message, cause: describeError(coded.cause) });
}

/** A loggable description of any thrown value, following `cause` chains. */
export function describeError(error: unknown, depth = 0): unknown {
  if (depth > 5) return '(cause chain truncated)';
  if (error instanceof Error) {
    const out: Record<string, unknown> = { name: error.name, message: error.message };
    const code = (error as Error & { code?: unknown }).code;
    if (code !== undefined) out['code'] = code;
    if (error.stack) out['stack'] = error.stack;
    if (error.cause !== undefined) out['cause'] = describeError(error.cause, depth + 1);
    return out;
  }
  try {
    return String(error);
  } catch {
    return '(unprintable value)';
  }
}
