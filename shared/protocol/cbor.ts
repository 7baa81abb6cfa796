/**
 * Canonical CBOR (RFC 8949 §4.2.1, "core deterministic encoding") for every Custos message.
 *
 * Why CBOR rather than RFC 8785 JSON (docs/protocol.md §2): byte strings are native (no base64
 * growth, which matters for QR codes), integers have one shortest form, and decoding can be made
 * strict. Decoding here is stricter than the RFC requires: only bytes that are exactly the
 * canonical encoding of the value they decode to are accepted (what re-encoding and comparing would
 * accept; cbor-check.ts checks it in one pass over the bytes, before decoding), so there is exactly
 * one accepted encoding of every message and a signature can never be "moved" onto an equivalent
 * but different byte string.
 */
import { decode, encode } from 'cborg';
import { CustosError } from '../errors';
import { canonicalProblem, MAX_DEPTH } from './cbor-check';

/** The largest message Custos will decode (an ECDSA envelope is about 4 KB). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

/** Values that canonical encoding supports: no floats, no undefined, no tags. */
export type CborValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | readonly CborValue[]
  | { readonly [key: string]: CborValue };

export function encodeCanonical(value: unknown): Uint8Array {
  try {
    assertEncodable(value, 0);
    return encode(value, ENCODE_OPTIONS);
  } catch (error) {
    if (error instanceof CustosError) throw error;
    throw new CustosError('INVALID_PARAMETERS', 'The value cannot be encoded as canonical CBOR.', { cause: error });
  }
}

/**
 * Decodes canonical CBOR. Anything that is not exactly the canonical encoding of a value (trailing
 * bytes, indefinite lengths, non-shortest integers, unsorted or duplicate map keys, floats, tags)
 * is refused with MALFORMED.
 */
export function decodeCanonical(bytes: unknown, what = 'message'): unknown {
  if (!(bytes instanceof Uint8Array)) {
    throw new CustosError('MALFORMED', `The ${what} must be binary data.`);
  }
  if (bytes.length === 0) throw new CustosError('MALFORMED', `The ${what} is empty.`);
  if (bytes.length > MAX_MESSAGE_BYTES) {
    throw new CustosError('TOO_LARGE', `The ${what} is ${String(bytes.length)} bytes; at most ${String(MAX_MESSAGE_BYTES)} are accepted.`);
  }
  // The canonical-form check first (it reads the bytes and makes nothing): a refused input is never decoded.
  const problem = canonicalProblem(bytes);
  if (problem === 'invalid') throw new CustosError('MALFORMED', `The ${what} is not valid CBOR: it is damaged or is not a Custos file.`);
  if (problem === 'feature') throw new CustosError('MALFORMED', `The ${what} uses CBOR features Custos does not accept.`);
  if (problem === 'form') throw new CustosError('MALFORMED', `The ${what} is not in canonical form: it was altered or written by an incompatible tool.`);
  try {
    return decode(bytes, DECODE_OPTIONS);
  } catch (error) {
    throw new CustosError('MALFORMED', `The ${what} is not valid CBOR: it is damaged or is not a Custos file.`, { cause: error });
  }
}

/**
 * cborg's options for encoding: its defaults, whose map sorter orders keys by encoded length, then
 * bytewise (RFC 7049's "length-first"). For text keys, the only keys a plain object has (and
 * assertEncodable lets through nothing else), that is the same order as RFC 8949's bytewise order
 * of the encoded keys: a text key's head is 0x60 + its UTF-8 length below 24, else 0x78..0x7b and
 * the length big-endian, so a shorter key's encoding always sorts first and keys of one length
 * sort by their bytes. The bytes are therefore exactly `rfc8949EncodeOptions`' (the property tests
 * in test/protocol/cbor-check.test.ts and properties.test.ts compare them), without its sorter's
 * cost: it encodes both keys anew, into fresh buffers, at every comparison (80 µs of an audit
 * entry's 125 µs; issue 10).
 */
const ENCODE_OPTIONS = Object.freeze({});

/** cborg's options for decoding: as strict as it gets (canonicalProblem has refused the rest before). */
export const DECODE_OPTIONS = Object.freeze({
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowInfinity: false,
  allowNaN: false,
  allowBigInt: true,
  rejectDuplicateMapKeys: true,
  useMaps: false,
  tags: [],
});

/** In a `u` regular expression, \p{Cs} matches only surrogates that are not part of a pair. */
const LONE_SURROGATE = /\p{Cs}/u;

function assertEncodable(value: unknown, depth: number): void {
  if (depth > MAX_DEPTH) throw new CustosError('MALFORMED', 'The data is nested too deeply.');
  switch (typeof value) {
    case 'string':
      // A lone UTF-16 surrogate has no UTF-8 encoding: the encoder would silently write U+FFFD, so
      // the signed bytes would say something other than the text the caller gave.
      if (LONE_SURROGATE.test(value)) throw new CustosError('MALFORMED', 'Text must be valid Unicode; this text contains a lone surrogate code unit.');
      // A decoder drops a leading byte order mark, so decodeCanonical refuses such text as not
      // canonical (cbor-check.ts): refuse it here too, so nothing is signed that no reader accepts.
      if (value.charCodeAt(0) === 0xfeff) throw new CustosError('MALFORMED', 'Text must not start with a byte order mark (U+FEFF), as text pasted from some Windows files does; remove it and try again.');
      return;
    case 'boolean':
    case 'bigint':
      return;
    case 'number':
      if (!Number.isSafeInteger(value)) throw new CustosError('MALFORMED', 'Only whole numbers are allowed; floating-point values are not.');
      return;
    case 'object':
      if (value === null || value instanceof Uint8Array) return;
      if (Array.isArray(value)) {
        for (const v of value as unknown[]) assertEncodable(v, depth + 1);
        return;
      }
      if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) {
        throw new CustosError('MALFORMED', 'Only plain maps can be encoded.');
      }
      for (const [k, v] of Object.entries(value)) {
        assertEncodable(k, depth + 1);
        if (v === undefined) throw new CustosError('MALFORMED', 'Undefined values cannot be encoded; omit the field instead.');
        assertEncodable(v, depth + 1);
      }
      return;
    default:
      throw new CustosError('MALFORMED', `A ${typeof value} cannot be encoded.`);
  }
}
