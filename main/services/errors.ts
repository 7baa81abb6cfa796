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
import { CodedError, type ErrorCode } from '../../shared/errors';
import { codedErrorHelpers, type PublicError as NodePublicError } from '../../node/errors';
import type { ServiceErrorCode } from '../../shared/service-errors';

// The codes live in shared/ so that the IPC contract (shared/ipc/contract.ts) can name them.
export { SERVICE_ERROR_CODES, type ServiceErrorCode } from '../../shared/service-errors';

export type AnyErrorCode = ErrorCode | ServiceErrorCode;

export class ServiceError extends CodedError<ServiceErrorCode> {
  override readonly name = 'ServiceError';
}

export type PublicError = NodePublicError<AnyErrorCode>;

/**
 * isCodedError (what may be shown to a person as is), codeOf (INTERNAL for anything uncoded),
 * toPublicError (what may cross a process boundary, IPC or CLI --json: never the cause, never an
 * uncoded message), isServiceError, and guardService (anything uncoded that `fn` throws becomes
 * `code` with `message`). One copy in node/errors.ts, shared with the agent.
 */
export const {
  isCodedError,
  codeOf,
  toPublicError,
  isOwn: isServiceError,
  guardAsync: guardService,
} = codedErrorHelpers(ServiceError, 'Custos failed with an internal error; the details are in its log.');
