/**
 * One error type for everything Custos refuses (docs/protocol.md, "Errors").
 *
 * Every refusal carries a stable `code` that programs switch on and a `message` a person can act
 * on. A parser in `shared/` never throws anything but a `CustosError` on bad input. Messages and
 * `details` never contain secret material: they may name an index, a field, a fingerprint or a
 * count, never a share, a key or a passphrase.
 */

export const ERROR_CODES = [
  'MALFORMED',
  'VERSION_UNSUPPORTED',
  'WRONG_TYPE',
  'SIGNATURE_INVALID',
  'UNTRUSTED_SIGNER',
  'WRONG_RECIPIENT',
  'EXPIRED',
  'NOT_YET_VALID',
  'SET_MISMATCH',
  'SESSION_MISMATCH',
  'SHARE_COMMITMENT_MISMATCH',
  'SECRET_COMMITMENT_MISMATCH',
  'BELOW_THRESHOLD',
  'DUPLICATE_SHARE',
  'DUPLICATE_APPROVER',
  'APPROVAL_REQUIRED',
  'INVALID_PARAMETERS',
  'DECRYPT_FAILED',
  'FRAME_MISMATCH',
  'INCOMPLETE',
  'TOO_LARGE',
  'KEYDATA_INVALID',
  'SELF_CHECK_FAILED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Non-secret facts that help a person or a program act on the error. */
export type ErrorDetails = Readonly<Record<string, string | number | boolean | readonly (string | number)[]>>;

/**
 * The base of every coded error: CustosError here, and the agent's AgentError and the app's
 * ServiceError, which add their own codes. A stable `code`, a sentence a person can act on, and
 * non-secret `details`; the `cause` is kept for logs on the same machine and never serialised.
 */
export abstract class CodedError<C extends string = string> extends Error {
  readonly code: C;
  readonly details: ErrorDetails;

  constructor(code: C, message: string, options: { details?: ErrorDetails; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  /** What may cross a process or network boundary: code, message and details, never the cause. */
  toJSON(): { code: C; message: string; details: ErrorDetails } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export class CustosError extends CodedError<ErrorCode> {
  override readonly name = 'CustosError';
}

export function isCustosError(value: unknown, code?: ErrorCode): value is CustosError {
  return value instanceof CustosError && (code === undefined || value.code === code);
}

/**
 * Runs `fn` and turns anything it throws that is not already a CustosError into `code` with
 * `message`. Parsers use it so a bug or a library's exception on hostile input surfaces as a
 * coded refusal, never as an uncaught TypeError.
 */
export function guard<T>(code: ErrorCode, message: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof CustosError) throw error;
    throw new CustosError(code, message, { cause: error });
  }
}

/** The async twin of {@link guard}. */
export async function guardAsync<T>(code: ErrorCode, message: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof CustosError) throw error;
    throw new CustosError(code, message, { cause: error });
  }
}
