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
import { CodedError, type ErrorDetails } from '../shared/errors';

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

export interface CodedErrorHelpers<E extends CodedError> {
  /** True for a coded error: what may be shown to a caller as is. */
  readonly isCodedError: (value: unknown) => value is E;
  /** The code of a coded error, or INTERNAL for anything else. */
  readonly codeOf: (error: unknown) => E['code'] | 'INTERNAL';
  /** What may cross a process or network boundary: never the cause, never an uncoded message. */
  readonly toPublicError: (error: unknown) => PublicError<E['code'] | 'INTERNAL'>;
}

/**
 * The three helpers for one side. `E` is that side's union of error classes (CustosError plus its
 * own); `internalMessage` is the sentence an uncoded failure becomes ("…; the details are in its
 * log."). At run time every CodedError counts, so a node/ {@link FileError} (whose codes are in the
 * side's set, see {@link FileErrorCode}) passes through as the coded refusal it is.
 */
export function codedErrorHelpers<E extends CodedError>(internalMessage: string): CodedErrorHelpers<E> {
  const isCodedError = (value: unknown): value is E => value instanceof CodedError;
  return {
    isCodedError,
    codeOf: (error) => (isCodedError(error) ? error.code : 'INTERNAL'),
    toPublicError: (error) => (isCodedError(error) ? error.toJSON() : { code: 'INTERNAL', message: internalMessage, details: {} }),
  };
}
