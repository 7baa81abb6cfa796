/**
 * Checks for identifiers that arrive from outside (RPC, CLI) before they name anything on disk or
 * in the database. key_id and node_id follow the protocol's `identifier` rule (letters, digits and
 * `. _ : -`, starting with a letter or digit, at most 128): no separators, no dot-only names, no
 * traversal. A node_id may not end in `.keydata`, or its `<node_id>.enc` would be another node's
 * `<node_id>.keydata.enc`. Ids that are bytes on the wire (set_id, session_id) are lower-case hex.
 */
import { CustosError } from '../shared/errors';
import { identifier } from '../shared/protocol/schema';

export function checkIdentifier(value: unknown, what: string): string {
  const r = identifier.safeParse(value);
  if (!r.success) {
    throw new CustosError('INVALID_PARAMETERS', `The ${what} must be 1 to 128 letters, digits or . _ : - starting with a letter or digit.`, {
      details: { field: what },
    });
  }
  return r.data;
}

export const checkKeyId = (value: unknown): string => checkIdentifier(value, 'key_id');
export const checkIncidentId = (value: unknown): string => checkIdentifier(value, 'incident_id');

export function checkNodeId(value: unknown): string {
  const id = checkIdentifier(value, 'node_id');
  if (id.toLowerCase().endsWith('.keydata')) {
    throw new CustosError('INVALID_PARAMETERS', 'A node_id may not end in ".keydata" (it would clash with the keydata file names).', {
      details: { field: 'node_id' },
    });
  }
  return id;
}

function checkHex(value: unknown, bytes: number, what: string): string {
  if (typeof value !== 'string' || !new RegExp(`^[0-9a-fA-F]{${String(bytes * 2)}}$`).test(value)) {
    throw new CustosError('INVALID_PARAMETERS', `The ${what} must be ${String(bytes * 2)} hexadecimal digits.`, { details: { field: what } });
  }
  return value.toLowerCase();
}

export const checkSetId = (value: unknown): string => checkHex(value, 16, 'set_id');
export const checkSessionId = (value: unknown): string => checkHex(value, 16, 'session_id');
export const checkFingerprint = (value: unknown): string => checkHex(value, 32, 'fingerprint');
export const checkDeletionId = (value: unknown): string => checkHex(value, 16, 'deletion_id');
export const checkChallengeId = (value: unknown): string => checkHex(value, 16, 'challenge_id');

export function checkShareIndex(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 255) {
    throw new CustosError('INVALID_PARAMETERS', 'A share index must be a whole number from 1 to 255.', { details: { field: 'share_index' } });
  }
  return value;
}

export function checkBytes(value: unknown, what: string, max = 1024 * 1024): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length === 0) {
    throw new CustosError('INVALID_PARAMETERS', `The ${what} must be non-empty binary data.`, { details: { field: what } });
  }
  if (value.length > max) {
    throw new CustosError('TOO_LARGE', `The ${what} is ${String(value.length)} bytes; at most ${String(max)} are accepted.`, { details: { field: what } });
  }
  return value;
}
