/**
 * Small pure helpers every capability module of the agent uses: time in seconds, digests, frame
 * peeking for audit entries and record lookup, error text for audit reasons, the keyed mutex that
 * serialises the operations on one node or one session.
 */
import { userInfo } from 'node:os';
import { toHex } from '../../shared/bytes';
import { fileHash } from '../../shared/crypto/hash';
import { CustosError } from '../../shared/errors';
import type { SelfCheckResult } from '../../shared/keydata';
import { decodeCanonical, label as labelSchema } from '../../shared/protocol';
import type { AuditInput } from '../audit/log';
import { isCodedError } from '../errors';

/** Unix seconds of a millisecond time. */
export const sec = (ms: number): number => Math.floor(ms / 1000);
export const sha256Hex = (bytes: Uint8Array): string => toHex(fileHash(bytes));
/** A plain Uint8Array copy of a BLOB (better-sqlite3 returns Buffers). */
export const blob = (b: Uint8Array): Uint8Array => new Uint8Array(b);

export type Mode = 'mixed' | 'external-only';

export function checkMode(mode: unknown): Mode {
  if (mode !== 'mixed' && mode !== 'external-only') throw new CustosError('INVALID_PARAMETERS', 'The recovery mode is "mixed" or "external-only".', { details: { field: 'mode' } });
  return mode;
}

export function defaultOperator(): string {
  try {
    return userInfo().username || 'local';
  } catch {
    return 'local';
  }
}

export function checkOperator(value: unknown): string {
  const r = labelSchema.safeParse(value);
  if (!r.success) throw new CustosError('INVALID_PARAMETERS', 'The operator name must be 1 to 200 characters without control characters.');
  return r.data;
}

/** The signature (hex) of a Custos frame, for the audit log; undefined if it cannot be read. */
export function frameSignature(bytes: Uint8Array): string | undefined {
  try {
    const frame = decodeCanonical(bytes);
    const s = typeof frame === 'object' && frame !== null ? (frame as { s?: unknown }).s : undefined;
    return s instanceof Uint8Array ? toHex(s) : undefined;
  } catch {
    return undefined;
  }
}

/** The body of a Custos frame WITHOUT verifying it: only to find which record to verify it against. */
export function peekBody(bytes: Uint8Array, what: string): Record<string, unknown> {
  const frame = decodeCanonical(bytes, what);
  const b = typeof frame === 'object' && frame !== null ? (frame as { b?: unknown }).b : undefined;
  if (!(b instanceof Uint8Array)) throw new CustosError('MALFORMED', `The ${what} is not a Custos message.`);
  const body = decodeCanonical(b, `${what} body`);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new CustosError('MALFORMED', `The ${what} body is not a map.`);
  return body as Record<string, unknown>;
}

export function peekShareIndex(bytes: unknown): number | undefined {
  if (!(bytes instanceof Uint8Array)) return undefined;
  try {
    const index = peekBody(bytes, 'recovery export').share_index;
    return typeof index === 'number' && Number.isInteger(index) && index >= 1 && index <= 255 ? index : undefined;
  } catch {
    return undefined;
  }
}

export function reasonOf(error: unknown): string {
  return isCodedError(error) ? `${error.code}: ${error.message}` : 'INTERNAL: an unexpected error (see the agent log)';
}

export function messageOf(error: unknown): string {
  return isCodedError(error) ? error.message : 'An unexpected error; see the agent log.';
}

export function selfCheckLines(r: SelfCheckResult): { name: string; ok: boolean; detail?: string }[] {
  return r.checks.map((c) => (c.detail === undefined ? { name: c.name, ok: c.ok } : { name: c.name, ok: c.ok, detail: c.detail }));
}

/** Key and node named in an error's details, for the audit entry of a refusal. */
export function auditScope(error: unknown): Pick<AuditInput, 'keyId' | 'nodeId' | 'shareIndex'> {
  if (!isCodedError(error)) return {};
  const { keyId, nodeId, shareIndex } = error.details;
  return {
    ...(typeof keyId === 'string' ? { keyId } : {}),
    ...(typeof nodeId === 'string' ? { nodeId } : {}),
    ...(typeof shareIndex === 'number' ? { shareIndex } : {}),
  };
}

/** Runs async operations one after the other per key (a node, a session). */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    let release: () => void = () => undefined;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    const tail = prev.then(() => mine);
    this.#tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}

/** The key, node, set and epoch of a record, as the audit log and the api views name them. */
export function setScope(r: { readonly key_id: string; readonly node_id: string; readonly set_id: string; readonly epoch: number }): { keyId: string; nodeId: string; setId: string; epoch: number } {
  return { keyId: r.key_id, nodeId: r.node_id, setId: r.set_id, epoch: r.epoch };
}
