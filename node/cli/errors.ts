/**
 * The CLIs' own refusals (wrong usage, unreadable input files, a missing confirmation, an id
 * prefix that names nothing or too much). The domain's refusals stay CustosError / AgentError /
 * ServiceError; every one of them is a CodedError, which is what node/cli/runner.ts prints.
 */
import { CodedError, type ErrorDetails } from '../../shared/errors';

export const CLI_ERROR_CODES = ['USAGE', 'IO_FAILED', 'CONFIRMATION_REQUIRED', 'CODE_MISMATCH', 'NOT_FOUND', 'AMBIGUOUS'] as const;
export type CliCode = (typeof CLI_ERROR_CODES)[number];

export class CliError extends CodedError<CliCode> {
  override readonly name = 'CliError';
}

/** Wrong usage: exit status 2 in every Custos CLI. */
export function usage(message: string, details?: ErrorDetails): CliError {
  return new CliError('USAGE', message, details === undefined ? {} : { details });
}
