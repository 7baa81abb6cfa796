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
import { digestOf, TOKEN_PATTERN, type Scope, type TokenRecord } from '../token/store';

/** Shortest token accepted: `init` writes 32 random bytes; this refuses an empty or toy file. */
export const MIN_TOKEN_LENGTH = 16;
const MAX_HEADER_LENGTH = 4096;

export type AuthResult =
  | { readonly ok: true; readonly operator: string; readonly key: string; readonly scopes: readonly Scope[] }
  | { readonly ok: false; readonly reason: AuthFailureReason; readonly operator?: string };

/** The operator the data directory's original api.token acts as (an admin token). */
export const LEGACY_OPERATOR = 'api-token';

export type TokenCheck = (authorization: string | null) => AuthResult;

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Builds the check for the data directory's token (the token file's content, surrounding
 * whitespace removed; an `admin` token of operator "api-token") and, when given, the per-operator
 * tokens of agent/token/store.ts (read at each call, so a revocation applies at once). `operator`
 * is recorded in audit entries; `key` is the rate limiter's bucket (one per token).
 */
export function createTokenCheck(token: string, tokens?: () => readonly TokenRecord[]): TokenCheck {
  const expected = token.trim();
  if (expected.length < MIN_TOKEN_LENGTH) {
    throw new RangeError(`The API token must be at least ${String(MIN_TOKEN_LENGTH)} characters, got ${String(expected.length)}.`);
  }
  if (!/^[\x21-\x7e]+$/.test(expected)) throw new RangeError('The API token must be printable ASCII without spaces.');
  const digest = sha256(expected);
  const id = digest.toString('hex');
  const legacy = { ok: true, operator: LEGACY_OPERATOR, key: id, scopes: ['admin'] } as const;
  return (authorization) => {
    if (authorization === null || authorization.trim() === '') return { ok: false, reason: 'missing' };
    if (authorization.length > MAX_HEADER_LENGTH) return { ok: false, reason: 'malformed' };
    const match = /^\s*Bearer +(\S+)\s*$/i.exec(authorization);
    if (!match?.[1]) return { ok: false, reason: 'malformed' };
    const presented = match[1];
    const scoped = tokens ? TOKEN_PATTERN.exec(presented) : null;
    if (tokens && scoped) {
      const rec = tokens().find((t) => t.id === scoped[1]);
      if (!rec || !timingSafeEqual(digestOf(presented), Buffer.from(rec.sha256, 'hex'))) return { ok: false, reason: 'wrong' };
      // the secret matched: the revoked token's operator is known (for the audit entry of the refusal)
      if (rec.revokedAt !== null) return { ok: false, reason: 'revoked', operator: rec.operator };
      return { ok: true, operator: rec.operator, key: rec.id, scopes: rec.scopes };
    }
    if (!timingSafeEqual(sha256(presented), digest)) return { ok: false, reason: 'wrong' };
    return legacy;
  };
}

/** The authenticated caller's operator id, set by the RPC interceptor for the handlers. */
export const operatorKey = createContextKey<string>('rpc:unauthenticated', { description: 'custos rpc operator' });

/** The caller's IP address (no port), set by the server adapter (./server.ts) for audit entries of refused calls. */
export const peerKey = createContextKey<string | undefined>(undefined, { description: 'custos rpc peer address' });
