/**
 * The custodian app's own refusals, for what is not a protocol error (shared/errors.ts covers
 * those): a locked vault, a wrong passphrase, a duplicate or conflicting envelope, a missing
 * record, a damaged file on disk.
 *
 * Like CustosError, a ServiceError carries a stable `code` that programs switch on, an English
 * `message` a person can act on, and non-secret `details`; its `cause` stays on this machine
 * (toJSON never includes it). Every code has a sentence in English and Simplified Chinese in
 * `messages.ts`, which the renderer reuses.
 */
import { CustosError, type ErrorCode, type ErrorDetails } from '../../shared/errors';

export const SERVICE_ERROR_CODES = [
  /** `vault create` on a folder that already holds a vault. */
  'VAULT_EXISTS',
  /** No vault in that folder, or its creation never finished. */
  'VAULT_NOT_FOUND',
  /** A vault file failed authentication or does not parse, and no previous generation helped. */
  'VAULT_CORRUPT',
  /** The operation needs the vault unlocked. */
  'VAULT_LOCKED',
  'WRONG_PASSPHRASE',
  /** The new passphrase is too short. */
  'WEAK_PASSPHRASE',
  /** A scrypt work factor below the production floor was asked for without the explicit test opt-in. */
  'WEAK_KDF',
  /** No agent card is pinned yet: envelopes, requests and notices cannot be checked. */
  'NOT_PINNED',
  /** Another agent key is pinned already: a new key only comes through a signed replacement notice. */
  'AGENT_ALREADY_PINNED',
  /** The comparison code typed in does not match the card's. */
  'CODE_MISMATCH',
  /** This exact envelope (same file hash) is in the vault already. */
  'DUPLICATE_ENVELOPE',
  /** Another active backup set for the same key and node is held (not superseded). */
  'CONFLICTING_SET',
  /** The envelope belongs to a backup set the agent said was superseded. */
  'SET_SUPERSEDED',
  /** The envelope's share was held before and has been destroyed (hard-deleted). */
  'ALREADY_DESTROYED',
  /** No share, refusal or record with that id. */
  'NOT_FOUND',
  /** An id prefix matches more than one record. */
  'AMBIGUOUS_ID',
  /** The record is not in a state that allows this (e.g. rolling back what is not deleted). */
  'INVALID_STATE',
  /** A deliberate confirmation was required and not given, or was for other details. */
  'CONFIRMATION_REQUIRED',
  /** The recovery request or challenge names a share this vault does not hold. */
  'NO_MATCHING_SHARE',
  /** The settings file or a settings value is not valid. */
  'SETTINGS_INVALID',
  /** Reading or writing a file failed (disk full, permissions, missing folder). */
  'IO_FAILED',
  /** A command was called the wrong way (CLI). */
  'USAGE',
  /** A bug or an unexpected environment failure; the cause is logged locally only. */
  'INTERNAL',
] as const;

export type ServiceErrorCode = (typeof SERVICE_ERROR_CODES)[number];
export type AnyErrorCode = ErrorCode | ServiceErrorCode;

export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  readonly code: ServiceErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ServiceErrorCode, message: string, options: { details?: ErrorDetails; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? {};
  }

  toJSON(): PublicError {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export interface PublicError {
  readonly code: AnyErrorCode;
  readonly message: string;
  readonly details: ErrorDetails;
}

export function isServiceError(value: unknown, code?: ServiceErrorCode): value is ServiceError {
  return value instanceof ServiceError && (code === undefined || value.code === code);
}

/** True for the two coded error types: what may be shown to a person as is. */
export function isCodedError(value: unknown): value is ServiceError | CustosError {
  return value instanceof ServiceError || value instanceof CustosError;
}

export function codeOf(error: unknown): AnyErrorCode {
  return isCodedError(error) ? error.code : 'INTERNAL';
}

/** What may cross a process boundary (IPC, CLI --json): never the cause, never an uncoded message. */
export function toPublicError(error: unknown): PublicError {
  if (isCodedError(error)) return error.toJSON();
  return { code: 'INTERNAL', message: 'Custos failed with an internal error; the details are in its log.', details: {} };
}

/** Runs `fn`; anything it throws that is not already coded becomes `code` with `message`. */
export async function guardService<T>(code: ServiceErrorCode, message: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (isCodedError(error)) throw error;
    throw new ServiceError(code, message, { cause: error });
  }
}
