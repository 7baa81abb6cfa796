/**
 * Coded-error helpers shared by the agent (agent/errors.ts) and the custodian app
 * (main/services/errors.ts): one copy of "is this a coded refusal, what is its code, what may cross
 * a process boundary". Each side binds them to its own code union and its own sentence for an
 * internal failure with {@link codedErrorHelpers}.
 *
 * A coded error is any {@link CodedError} (shared/errors.ts): CustosError, the agent's AgentError,
 * the app's ServiceError, and the {@link FileError} that node/ itself throws. Anything else becomes a
 * generic INTERNAL error at the boundary: its message could contain paths or values, so it is never
 * sent, only logged on this machine.
 */
import { CodedError, type CustosError, type ErrorCode, type ErrorDetails } from '../shared/errors';

/**
 * The codes node/ itself refuses with. NOT_FOUND is in both sides' code sets; CONFLICT and
 * PERMISSION_DENIED are agent codes (only the agent asks for `noOverwrite`, `ensureDir` or checks
 * private files), IO_FAILED is an app code (only the app reads with `readIfExists`); a helper's
 * doc names the code it may throw.
 */
export type FileErrorCode = 'CONFLICT' | 'IO_FAILED' | 'NOT_FOUND' | 'PERMISSION_DENIED';

/**
 * A refusal by a node/ file helper: a file that must not be overwritten exists (CONFLICT), a file
 * that could not be read (IO_FAILED), a secret file that is missing (NOT_FOUND) or readable by
 * others (PERMISSION_DENIED).
 */
export class FileError extends CodedError<FileErrorCode> {
  override readonly name = 'FileError';
}

export interface PublicError<C extends string = string> {
  readonly code: C;
  readonly message: string;
  readonly details: ErrorDetails;
}

/** The constructor of one side's own coded error class (AgentError, ServiceError). */
export type CodedErrorClass<Own extends CodedError> = new (code: Own['code'], message: string, options?: { details?: ErrorDetails; cause?: unknown }) => Own;

export interface CodedErrorHelpers<Own extends CodedError> {
  /** True for a coded error: what may be shown to a caller as is. */
  readonly isCodedError: (value: unknown) => value is Own | CustosError;
  /** The code of a coded error, or INTERNAL for anything else. */
  readonly codeOf: (error: unknown) => Own['code'] | ErrorCode | 'INTERNAL';
  /** What may cross a process or network boundary: never the cause, never an uncoded message. */
  readonly toPublicError: (error: unknown) => PublicError<Own['code'] | ErrorCode | 'INTERNAL'>;
  /** True for the side's own class (with that code, when one is given). */
  readonly isOwn: (value: unknown, code?: Own['code']) => value is Own;
  /** Runs `fn`; anything it throws that is not already coded becomes `code` with `message` (the cause kept for the log). */
  readonly guard: <T>(code: Own['code'], message: string, fn: () => T) => T;
  /** The async twin of `guard`. */
  readonly guardAsync: <T>(code: Own['code'], message: string, fn: () => Promise<T>) => Promise<T>;
}

/**
 * The helpers for one side, bound to its own error class `own` (which, with CustosError, makes its
 * code union) and to `internalMessage`, the sentence an uncoded failure becomes ("…; the details
 * are in its log."). At run time every CodedError counts as coded, so a node/ {@link FileError}
 * (whose codes are in the side's set, see {@link FileErrorCode}) passes through as the refusal it is.
 */
export function codedErrorHelpers<Own extends CodedError>(own: CodedErrorClass<Own>, internalMessage: string): CodedErrorHelpers<Own> {
  const isCodedError = (value: unknown): value is Own | CustosError => value instanceof CodedError;
  const wrap = (code: Own['code'], message: string, error: unknown): unknown => (isCodedError(error) ? error : new own(code, message, { cause: error }));
  return {
    isCodedError,
    codeOf: (error) => (isCodedError(error) ? error.code : 'INTERNAL'),
    toPublicError: (error) => (isCodedError(error) ? error.toJSON() : { code: 'INTERNAL', message: internalMessage, details: {} }),
    isOwn: (value, code): value is Own => value instanceof own && (code === undefined || value.code === code),
    guard: (code, message, fn) => {
      try {
        return fn();
      } catch (error) {
        throw wrap(code, message, error);
      }
    },
    guardAsync: async (code, message, fn) => {
      try {
        return await fn();
      } catch (error) {
        throw wrap(code, message, error);
      }
    },
  };
}
