/**
 * Bearer-token authentication (issue 3, "Interfaces": every call needs
 * `authorization: Bearer <token>` from the token file, else UNAUTHENTICATED).
 *
 * The presented token and the expected one are both hashed with SHA-256 and the digests compared
 * with `timingSafeEqual`, so neither the comparison time nor the token lengths leak.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createContextKey } from '@connectrpc/connect';
import type { AuthFailureReason } from './log';

/** Shortest token accepted: `init` writes 32 random bytes; this refuses an empty or toy file. */
export const MIN_TOKEN_LENGTH = 16;
const MAX_HEADER_LENGTH = 4096;

export type AuthResult = { readonly ok: true; readonly operator: string; readonly key: string } | { readonly ok: false; readonly reason: AuthFailureReason };

export type TokenCheck = (authorization: string | null) => AuthResult;

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Builds the check for one token (the token file's content, surrounding whitespace removed).
 * `operator` identifies the token in audit entries without revealing it; `key` is the rate
 * limiter's bucket.
 */
export function createTokenCheck(token: string): TokenCheck {
  const expected = token.trim();
  if (expected.length < MIN_TOKEN_LENGTH) {
    throw new RangeError(`The API token must be at least ${String(MIN_TOKEN_LENGTH)} characters, got ${String(expected.length)}.`);
  }
  if (!/^[\x21-\x7e]+$/.test(expected)) throw new RangeError('The API token must be printable ASCII without spaces.');
  const digest = sha256(expected);
  const id = digest.toString('hex');
  const operator = `rpc:${id.slice(0, 8)}`;
  return (authorization) => {
    if (authorization === null || authorization.trim() === '') return { ok: false, reason: 'missing' };
    if (authorization.length > MAX_HEADER_LENGTH) return { ok: false, reason: 'malformed' };
    const match = /^\s*Bearer +(\S+)\s*$/i.exec(authorization);
    if (!match?.[1]) return { ok: false, reason: 'malformed' };
    if (!timingSafeEqual(sha256(match[1]), digest)) return { ok: false, reason: 'wrong' };
    return { ok: true, operator, key: id };
  };
}

/** The authenticated caller's operator id, set by the RPC interceptor for the handlers. */
export const operatorKey = createContextKey<string>('rpc:unauthenticated', { description: 'custos rpc operator' });
