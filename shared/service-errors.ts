/**
 * The custodian app's own refusal codes (main/services/errors.ts has the ServiceError class that
 * carries them; messages.ts has a sentence for each in English and Simplified Chinese).
 *
 * They live here, in pure shared/ code, so the IPC contract (shared/ipc/contract.ts) can name every
 * code the renderer may receive without importing from main/.
 */
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
  /** No agent is linked (Settings: agent URL), or no API token was given for it: nothing was sent. */
  'AGENT_NOT_LINKED',
  /** The linked agent could not be reached (network, TLS, timeout): nothing was changed here. */
  'AGENT_UNREACHABLE',
  /** The linked agent answered with a refusal; `details.agentCode` names the agent's own code. */
  'AGENT_REFUSED',
  /** Issue 13 (H12): the agent refused the API token (UNAUTHENTICATED: not valid or revoked; PERMISSION_DENIED: without the scope the call needs). */
  'AGENT_TOKEN_REJECTED',
  /** Issue 13 (H12): what was given as the agent's API token cannot be one (printable ASCII without spaces, 16 to 4096 characters). */
  'AGENT_TOKEN_INVALID',
  /** An approver of this name is pinned with another key (issue 12: a changed key is never taken silently). */
  'APPROVER_KEY_CHANGED',
  /** Fewer than two approvals of a recovery request verify against pinned approvers, and no override was given. */
  'APPROVERS_UNVERIFIED',
  /** An approver roster not newer than the pinned one (a rollback), or not signed by the pinned agent. */
  'ROSTER_ROLLBACK',
  /** A bug or an unexpected environment failure; the cause is logged locally only. */
  'INTERNAL',
] as const;

export type ServiceErrorCode = (typeof SERVICE_ERROR_CODES)[number];
