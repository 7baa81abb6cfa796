/**
 * The secret record: what only this node holds of a tss-lib keydata, in the small canonical binary
 * form that gets Shamir-split. Everything else in the file is either public (the public context,
 * identical at every party) or exactly derivable from this record plus that context, and is rebuilt
 * by `regenerateKeydata` (byte-identical; `splitKeydata` verifies it before handing a record out).
 *
 * Binary format, version 1 (all integers unsigned, big-endian, minimal: no leading 0x00 byte, and
 * zero is the empty string):
 *
 *   offset 0  version  1 byte   0x01
 *   offset 1  curve    1 byte   0x01 = secp256k1 (tss-lib ECDSA), 0x02 = ed25519 (tss-lib EdDSA)
 *   then fields, each   len ‖ bytes   where len is an unsigned LEB128 varint in minimal form
 *                                      (1 byte below 128, else 2 bytes)
 *     both curves:  index  own position in Ks (ShareID = Ks[index])         ≤ 1 byte
 *                   Xi     own secret share                                ≤ 32 bytes
 *     ECDSA only:   PaillierSK.P   one Paillier prime (Q = N / P, N public) ≤ 512 bytes
 *                   P              one Sophie Germain prime of NTildei      ≤ 512 bytes
 *                                  (Q from NTildei = (2P+1)(2Q+1), NTildei public)
 *                   Alpha          log of H2i to base H1i (Beta = Alpha⁻¹ mod P·Q) ≤ 1024 bytes
 *
 * Nothing may follow the last field. Decoding refuses unknown versions, unknown curves, truncation,
 * trailing bytes, non-minimal lengths and integers, and out-of-range values.
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { z } from 'zod';
import { CustosError, guard, type ErrorCode } from '../errors';
import { describe, wipe } from '../bytes';
import { MAX_PARTIES, uint, zodFailure } from './model';

export const SECRET_RECORD_VERSION = 1;

export interface EcdsaSecretRecord {
  readonly curve: 'secp256k1';
  /** Own position in `Ks`. */
  readonly index: number;
  readonly xi: bigint;
  /** `PaillierSK.P` (the first Paillier prime as stored in the file). */
  readonly paillierP: bigint;
  /** The outer `P` of the pre-params (NTildei = (2P+1)(2Q+1)). */
  readonly p: bigint;
  readonly alpha: bigint;
}

export interface EddsaSecretRecord {
  readonly curve: 'ed25519';
  readonly index: number;
  readonly xi: bigint;
}

export type SecretRecord = EcdsaSecretRecord | EddsaSecretRecord;

const CURVE_BYTE = { secp256k1: 0x01, ed25519: 0x02 } as const;

/** Field order and the most bytes each may take. */
const ECDSA_LAYOUT = [
  ['index', 1],
  ['xi', 32],
  ['paillierP', 512],
  ['p', 512],
  ['alpha', 1024],
] as const;
const EDDSA_LAYOUT = [
  ['index', 1],
  ['xi', 32],
] as const;

const index = z.number().int({ error: 'expected an integer' }).min(0).max(MAX_PARTIES - 1);
const positive = (bits: number) => uint(bits).min(1n, { error: 'expected a positive integer' });
const primeish = uint(4096).min(2n, { error: 'expected an integer above 1' });

const ecdsaSchema: z.ZodType<EcdsaSecretRecord> = z.strictObject({
  curve: z.literal('secp256k1'),
  index,
  xi: positive(256),
  paillierP: primeish,
  p: primeish,
  alpha: positive(8192),
});
const eddsaSchema: z.ZodType<EddsaSecretRecord> = z.strictObject({
  curve: z.literal('ed25519'),
  index,
  xi: positive(256),
});

/** Checks a SecretRecord object's shape and ranges; throws `code` (INVALID_PARAMETERS by default). */
export function validateSecretRecord(value: unknown, code: 'INVALID_PARAMETERS' | 'MALFORMED' = 'INVALID_PARAMETERS'): SecretRecord {
  return guard(code, 'The secret record is not valid.', () => {
    if (typeof value !== 'object' || value === null) {
      throw new CustosError(code, `A secret record must be an object; got ${describe(value)}.`);
    }
    const curve = (value as { curve?: unknown }).curve;
    const schema = curve === 'secp256k1' ? ecdsaSchema : curve === 'ed25519' ? eddsaSchema : undefined;
    if (schema === undefined) throw new CustosError(code, 'A secret record must have curve "secp256k1" or "ed25519".');
    const result = schema.safeParse(value);
    if (!result.success) throw zodFailure(code, 'The secret record is not valid', result.error);
    return result.data;
  });
}

function toMinimalBytes(x: bigint): Uint8Array {
  if (x === 0n) return new Uint8Array(0);
  const hex = x.toString(16);
  return hexToBytes(hex.length % 2 === 0 ? hex : `0${hex}`);
}

/** Encodes a secret record in its canonical binary form (see the module header). */
export function encodeSecretRecord(record: SecretRecord): Uint8Array {
  return guard('INVALID_PARAMETERS', 'The secret record could not be encoded.', () => {
    const r = validateSecretRecord(record);
    const values = r as unknown as Readonly<Record<string, bigint | number>>;
    const layout = r.curve === 'secp256k1' ? ECDSA_LAYOUT : EDDSA_LAYOUT;
    const parts: Uint8Array[] = [];
    let length = 2;
    for (const [name] of layout) {
      const v = values[name];
      const bytes = toMinimalBytes(BigInt(v ?? 0));
      parts.push(bytes);
      length += (bytes.length < 0x80 ? 1 : 2) + bytes.length;
    }
    const out = new Uint8Array(length);
    out[0] = SECRET_RECORD_VERSION;
    out[1] = CURVE_BYTE[r.curve];
    let at = 2;
    for (const bytes of parts) {
      if (bytes.length < 0x80) {
        out[at++] = bytes.length;
      } else {
        out[at++] = 0x80 | (bytes.length & 0x7f);
        out[at++] = bytes.length >> 7;
      }
      out.set(bytes, at);
      at += bytes.length;
    }
    wipe(...parts);
    return out;
  });
}

function malformed(message: string, offset: number, code: ErrorCode = 'MALFORMED'): CustosError {
  return new CustosError(code, `Secret record: ${message} (at byte ${offset}).`, { details: { offset } });
}

/** Decodes and checks a secret record (see the module header for everything it refuses). */
export function decodeSecretRecord(bytes: Uint8Array): SecretRecord {
  return guard('MALFORMED', 'The secret record could not be decoded.', () => {
    if (!(bytes instanceof Uint8Array)) {
      throw new CustosError('INVALID_PARAMETERS', `decodeSecretRecord expects bytes (Uint8Array); got ${describe(bytes)}.`);
    }
    if (bytes.length < 2) throw malformed(`too short (${bytes.length} bytes)`, bytes.length);
    const version = bytes[0];
    if (version !== SECRET_RECORD_VERSION) {
      throw malformed(`version ${String(version)} is not supported (this build reads version ${SECRET_RECORD_VERSION})`, 0, 'VERSION_UNSUPPORTED');
    }
    const curveByte = bytes[1];
    const curve = curveByte === CURVE_BYTE.secp256k1 ? 'secp256k1' : curveByte === CURVE_BYTE.ed25519 ? 'ed25519' : undefined;
    if (curve === undefined) throw malformed(`unknown curve byte ${String(curveByte)}`, 1);
    const layout = curve === 'secp256k1' ? ECDSA_LAYOUT : EDDSA_LAYOUT;
    const out: Record<string, bigint | number | string> = { curve };
    let at = 2;
    for (const [name, maxLength] of layout) {
      const lenAt = at;
      const b0 = bytes[at++];
      if (b0 === undefined) throw malformed(`truncated before field ${name}`, lenAt);
      let len = b0;
      if (b0 & 0x80) {
        const b1 = bytes[at++];
        if (b1 === undefined) throw malformed(`truncated in the length of field ${name}`, lenAt);
        if (b1 === 0 || b1 & 0x80) throw malformed(`non-minimal or oversized length of field ${name}`, lenAt);
        len = (b0 & 0x7f) | (b1 << 7);
      }
      if (len > maxLength) throw malformed(`field ${name} is ${len} bytes; at most ${maxLength} are allowed`, lenAt);
      if (at + len > bytes.length) throw malformed(`truncated in field ${name}`, at);
      if (len > 0 && bytes[at] === 0) throw malformed(`field ${name} has a leading zero byte (non-minimal integer)`, at);
      const value = len === 0 ? 0n : BigInt(`0x${bytesToHex(bytes.subarray(at, at + len))}`);
      out[name] = name === 'index' ? Number(value) : value;
      at += len;
    }
    if (at !== bytes.length) throw malformed(`${bytes.length - at} trailing bytes after the last field`, at);
    return validateSecretRecord(out, 'MALFORMED');
  });
}
