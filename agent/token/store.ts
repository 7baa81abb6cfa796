/**
 * Per-operator API tokens with scopes (issue 9 §3): `<data>/tokens.json` (0600, written
 * atomically) holds, per token, its id, operator, scopes, the SHA-256 of its secret and whether it
 * was revoked. The secret itself (256 random bits) is shown once, to the file `agent token create
 * --out` writes, and stored nowhere: a copy of tokens.json does not let anyone call the agent.
 *
 * A token reads `custos_<id>_<secret>`: the id finds the record, the secret's digest is compared in
 * constant time. The data directory's original api.token keeps working as an `admin` token of the
 * operator "api-token" (./auth.ts), so existing clients need no change.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { writeFileAtomicSync } from '../../node/fs-atomic';
import { assertPrivateFile } from '../../node/private-file';
import { AgentError } from '../errors';

export const TOKENS_FILE = 'tokens.json';
export const SCOPES = ['read', 'deliver', 'recover', 'delete', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

const scope = z.enum(SCOPES);
const operatorName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, 'must be 1-64 letters, digits, or . _ @ - (starting with a letter or digit)');
const tokenId = z.string().regex(/^[0-9a-f]{16}$/);

const record = z.object({
  id: tokenId,
  operator: operatorName,
  scopes: z.array(scope).min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  createdAt: z.number().int().nonnegative(),
  revokedAt: z.number().int().nonnegative().nullable(),
});
export type TokenRecord = z.infer<typeof record>;
const file = z.object({ version: z.literal(1), tokens: z.array(record) });

export const TOKEN_PATTERN = /^custos_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export const digestOf = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();

export const tokensPath = (dataDir: string): string => join(resolve(dataDir), TOKENS_FILE);

/** Every token record; none when the file does not exist yet. CORRUPT_FILE when it does not parse. */
export function readTokens(dataDir: string): TokenRecord[] {
  const path = tokensPath(dataDir);
  if (!existsSync(path)) return [];
  assertPrivateFile(path, TOKENS_FILE);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new AgentError('CORRUPT_FILE', `${TOKENS_FILE} is not valid JSON; restore it from a backup or remove it (every per-operator token is then revoked).`, { cause: error });
  }
  const r = file.safeParse(parsed);
  if (!r.success) throw new AgentError('CORRUPT_FILE', `${TOKENS_FILE} does not have the expected fields; restore it from a backup or remove it (every per-operator token is then revoked).`);
  return r.data.tokens;
}

function writeTokens(dataDir: string, tokens: readonly TokenRecord[]): void {
  writeFileAtomicSync(tokensPath(dataDir), new TextEncoder().encode(`${JSON.stringify({ version: 1, tokens }, null, 2)}\n`), { mode: 0o600 });
}

/** Parses the CLI's `--scope a,b`: MALFORMED-style usage error naming the allowed scopes. */
export function parseScopes(text: string): Scope[] {
  const parts = [...new Set(text.split(',').map((s) => s.trim()).filter((s) => s !== ''))];
  const bad = parts.filter((p) => !scope.safeParse(p).success);
  if (parts.length === 0 || bad.length > 0) {
    throw new AgentError('FAILED_PRECONDITION', `Scopes must be a comma-separated list of ${SCOPES.join(', ')}${bad.length > 0 ? `; not ${bad.join(', ')}` : ''}.`);
  }
  return parts as Scope[];
}

/** Creates a token; returns its record and the secret (to be written to a 0600 file, never logged). */
export function createToken(dataDir: string, operator: string, scopes: readonly Scope[], nowS: number): { record: TokenRecord; token: string } {
  const name = operatorName.safeParse(operator);
  if (!name.success) throw new AgentError('FAILED_PRECONDITION', `The operator name ${name.error.issues[0]?.message ?? 'is invalid'}.`);
  if (name.data === 'api-token') throw new AgentError('CONFLICT', 'The operator name "api-token" is the data directory\'s original token; choose another name.');
  const tokens = readTokens(dataDir);
  const id = randomBytes(8).toString('hex');
  const token = `custos_${id}_${randomBytes(32).toString('base64url')}`;
  const rec: TokenRecord = { id, operator: name.data, scopes: [...new Set(scopes)], sha256: digestOf(token).toString('hex'), createdAt: nowS, revokedAt: null };
  writeTokens(dataDir, [...tokens, rec]);
  return { record: rec, token };
}

/** Revokes a token by id (idempotent for an already revoked one); NOT_FOUND for an unknown id. */
export function revokeToken(dataDir: string, id: string, nowS: number): TokenRecord {
  const tokens = readTokens(dataDir);
  const found = tokens.find((t) => t.id === id);
  if (!found) throw new AgentError('NOT_FOUND', `There is no API token with id ${id}; "agent token list" shows the ids.`);
  if (found.revokedAt !== null) return found;
  const revoked = { ...found, revokedAt: nowS };
  writeTokens(dataDir, tokens.map((t) => (t.id === id ? revoked : t)));
  return revoked;
}

/** Reads tokens.json again only when it changed (size or mtime), so a revocation applies at the next call. */
export function tokenSource(dataDir: string): () => readonly TokenRecord[] {
  let stamp = '';
  let cached: readonly TokenRecord[] = [];
  return () => {
    const path = tokensPath(dataDir);
    let now = 'absent';
    try {
      const st = statSync(path);
      now = `${String(st.size)}:${String(st.mtimeMs)}:${String(st.ino)}`;
    } catch {
      // absent: no per-operator tokens
    }
    if (now !== stamp) {
      cached = now === 'absent' ? [] : readTokens(dataDir);
      stamp = now;
    }
    return cached;
  };
}
