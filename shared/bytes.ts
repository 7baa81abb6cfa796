/**
 * Byte helpers used by every other module: checked conversions, constant-time comparison, wiping.
 * Pure: no Node, no DOM.
 */
import { bytesToHex, hexToBytes as nobleHexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { CustosError } from './errors';

export function assertBytes(value: unknown, what: string, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new CustosError('INVALID_PARAMETERS', `${what} must be bytes (Uint8Array); got ${describe(value)}.`);
  }
  if (length !== undefined && value.length !== length) {
    throw new CustosError('INVALID_PARAMETERS', `${what} must be ${String(length)} bytes long; got ${String(value.length)}.`);
  }
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Uint8Array) return `${String(value.length)} bytes`;
  if (Array.isArray(value)) return `an array of ${String(value.length)}`;
  return typeof value;
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Compares two byte strings in time that depends only on their lengths (the lengths of what we
 * compare, hashes and keys, are public).
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** Overwrites a buffer that held key material. JavaScript cannot promise more than this. */
export function wipe(...buffers: readonly (Uint8Array | undefined)[]): void {
  for (const b of buffers) b?.fill(0);
}

export const toHex = (bytes: Uint8Array): string => bytesToHex(bytes);

export function fromHex(hex: string, what = 'hex string'): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/i.test(hex)) {
    throw new CustosError('MALFORMED', `${what} must be an even number of hexadecimal digits.`);
  }
  return nobleHexToBytes(hex.toLowerCase());
}

export const utf8 = (text: string): Uint8Array => utf8ToBytes(text);

export function fromUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    throw new CustosError('MALFORMED', 'The text is not valid UTF-8.', { cause: error });
  }
}

const B64URL = /^[A-Za-z0-9_-]*$/;

export function toBase64Url(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64Url(text: string, what = 'base64url text'): Uint8Array {
  if (!B64URL.test(text) || text.length % 4 === 1) {
    throw new CustosError('MALFORMED', `${what} is not valid base64url.`);
  }
  const padded = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  const bin = atob(padded);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  if (toBase64Url(out) !== text) throw new CustosError('MALFORMED', `${what} is not in canonical base64url form.`);
  return out;
}

/** Random bytes from the platform CSPRNG (Web Crypto: present in browsers, Electron and Node ≥ 19). */
export function randomBytes(length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0 || length > 65536) {
    throw new CustosError('INVALID_PARAMETERS', `randomBytes length must be 0..65536; got ${String(length)}.`);
  }
  return crypto.getRandomValues(new Uint8Array(length));
}
