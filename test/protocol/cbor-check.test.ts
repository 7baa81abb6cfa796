/**
 * decodeCanonical checks canonical form in one pass over the bytes (shared/protocol/cbor-check.ts)
 * instead of re-encoding the decoded value and comparing (issue 10). The accept set must not move:
 * these properties run both on the same inputs, the old encode-and-compare kept here as the
 * reference, and demand the same verdict, and the same value when both accept.
 *
 * The inputs: values encoded canonically (all accepted), those encodings mutated (a byte changed,
 * inserted, deleted, truncated, appended), the checked-in message vectors mutated the same way,
 * random bytes, and a generator of CBOR items written the way a careless or hostile encoder would
 * (heads longer than needed, indefinite lengths, floats, tags, simple values, maps out of order or
 * with a repeated key, text that is not UTF-8 or starts with a byte order mark, nesting past the
 * limit, trailing bytes).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { decode, encode, rfc8949EncodeOptions } from 'cborg';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../shared/bytes';
import { isCustosError } from '../../shared/errors';
import { canonicalProblem } from '../../shared/protocol/cbor-check';
import { decodeCanonical, encodeCanonical } from '../../shared/protocol/cbor';

const RUNS = 20_000;

// ---- The reference: decodeCanonical as it was before cbor-check.ts (decode, re-encode, compare). ----

const MAX_DEPTH = 16;
const LONE_SURROGATE = /\p{Cs}/u;

function referenceEncodable(value: unknown, depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  switch (typeof value) {
    case 'string':
      return !LONE_SURROGATE.test(value);
    case 'boolean':
    case 'bigint':
      return true;
    case 'number':
      return Number.isSafeInteger(value);
    case 'object':
      if (value === null || value instanceof Uint8Array) return true;
      if (Array.isArray(value)) return (value as unknown[]).every((v) => referenceEncodable(v, depth + 1));
      if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return false;
      return Object.entries(value).every(([k, v]) => referenceEncodable(k, depth + 1) && v !== undefined && referenceEncodable(v, depth + 1));
    default:
      return false;
  }
}

type Verdict = { readonly ok: true; readonly value: unknown } | { readonly ok: false };

function reference(bytes: Uint8Array): Verdict {
  let value: unknown;
  try {
    value = decode(bytes, {
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
  } catch {
    return { ok: false };
  }
  if (!referenceEncodable(value, 0)) return { ok: false };
  let again: Uint8Array;
  try {
    again = encode(value, rfc8949EncodeOptions);
  } catch {
    return { ok: false };
  }
  return toHex(again) === toHex(bytes) ? { ok: true, value } : { ok: false };
}

function subject(bytes: Uint8Array): Verdict {
  try {
    return { ok: true, value: decodeCanonical(bytes) };
  } catch (error) {
    // Every refusal is a coded CustosError (MALFORMED for non-empty input of an accepted size).
    expect(isCustosError(error)).toBe(true);
    expect((error as { code?: unknown }).code).toBe('MALFORMED');
    return { ok: false };
  }
}

function same(bytes: Uint8Array): void {
  if (bytes.length === 0) return; // refused before either check ("is empty")
  const want = reference(bytes);
  const got = subject(bytes);
  if (got.ok !== want.ok) throw new Error(`verdicts differ on ${toHex(bytes)}: reference ${want.ok ? 'accepts' : 'refuses'}`);
  expect(canonicalProblem(bytes) === undefined).toBe(want.ok);
  if (want.ok && got.ok) expect(got.value).toEqual(want.value);
}

// ---- Inputs ----

const text = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom('', 'a', 'b', 'aa', 'v', 't', '\ufeff', '\ufeffx', 'x\ufeff', '__proto__', 'é', '😀', 'x'.repeat(24), 'y'.repeat(300)));

const value = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', maxDepth: 6 },
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.constantFrom(0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, -1, -24, -25, -256, -257, -(2 ** 32), -(2 ** 32) - 1, Number.MIN_SAFE_INTEGER),
    fc.oneof(fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }), fc.bigInt({ min: -(2n ** 64n), max: -(2n ** 53n) })),
    text,
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie('v'), { maxLength: 5 }),
    fc.dictionary(text, tie('v'), { maxKeys: 5, noNullPrototype: true }),
  ),
})).v;

/** The canonical encoding of a value encodeCanonical takes (some, with lone surrogates, it refuses). */
const canonicalBytes = value.chain((v) => {
  try {
    return fc.constant(encodeCanonical(v));
  } catch {
    return fc.constant(Uint8Array.of(0xf6));
  }
});

const concat = (...parts: readonly (Uint8Array | readonly number[])[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** A head for `major` and `n`: the shortest form, or a longer one, or (rarely) reserved/indefinite. */
function headOf(major: number, n: bigint, width: number): Uint8Array {
  const m = major << 5;
  const minimal = n < 24n ? 0 : n < 0x100n ? 1 : n < 0x10000n ? 2 : n < 0x100000000n ? 4 : 8;
  const w = width < 0 ? minimal : Math.max(minimal, [0, 1, 2, 4, 8][width % 5] ?? 0);
  if (w === 0) return Uint8Array.of(m | Number(n));
  const out = new Uint8Array(1 + w);
  out[0] = m | (w === 1 ? 24 : w === 2 ? 25 : w === 4 ? 26 : 27);
  for (let i = 0; i < w; i++) out[w - i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
}

const width = fc.oneof({ weight: 6, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 }) });
const count = fc.oneof(fc.constantFrom(0n, 1n, 23n, 24n, 255n, 256n, 65535n, 65536n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 64n - 1n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));

/** Text bytes: valid UTF-8, or the kinds of invalid UTF-8 a decoder must not paper over. */
const textBytes = fc.oneof(
  text.map((s) => new TextEncoder().encode(s)),
  fc.uint8Array({ maxLength: 8 }),
  fc.constantFrom(
    [0xef, 0xbb, 0xbf],
    [0xef, 0xbb, 0xbf, 0x61],
    [0x61, 0xef, 0xbb, 0xbf],
    [0xc0, 0x80],
    [0xc1, 0xbf],
    [0xc2, 0x80],
    [0xe0, 0x80, 0x80],
    [0xe0, 0xa0, 0x80],
    [0xed, 0xa0, 0x80],
    [0xed, 0x9f, 0xbf],
    [0xee, 0x80, 0x80],
    [0xf0, 0x80, 0x80, 0x80],
    [0xf0, 0x90, 0x80, 0x80],
    [0xf4, 0x8f, 0xbf, 0xbf],
    [0xf4, 0x90, 0x80, 0x80],
    [0xf5, 0x80, 0x80, 0x80],
    [0xe2, 0x82],
    [0xf0, 0x9f, 0x98],
    [0x80],
    [0xff],
    [0xef, 0xbf, 0xbd],
    [0xef, 0xbf, 0xbe],
  ).map((b) => Uint8Array.from(b)),
);

/** Items of the other majors and forms: floats (integral and not), simple values, breaks, reserved heads. */
const oddItem = fc.oneof(
  fc.constantFrom(
    [0xf4],
    [0xf5],
    [0xf6],
    [0xf7],
    [0xf8, 0x14],
    [0xf8, 0x20],
    [0xf0],
    [0xf3],
    [0xff],
    [0xf9, 0x3c, 0x00], // 1.0 as a half
    [0xf9, 0x00, 0x00], // 0.0
    [0xf9, 0x80, 0x00], // -0.0
    [0xf9, 0x3e, 0x00], // 1.5
    [0xf9, 0x7c, 0x00], // Infinity
    [0xf9, 0x7e, 0x00], // NaN
    [0xfa, 0x3f, 0x80, 0x00, 0x00], // 1.0 as a single
    [0xfb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0], // 1.0 as a double
    [0xfb, 0x43, 0x40, 0, 0, 0, 0, 0, 0], // 2^53 as a double
    [0xfc],
    [0xfd],
    [0xfe],
    [0x1c],
    [0x3f],
    [0x5f, 0x41, 0x61, 0xff], // an indefinite byte string
    [0x7f, 0x61, 0x61, 0xff],
    [0x9f, 0x01, 0xff],
    [0xbf, 0x61, 0x61, 0x01, 0xff],
    [0xc0, 0x61, 0x61],
    [0xc2, 0x41, 0x01], // a bignum tag
    [0xd8, 0x20, 0x60],
  ).map((b) => Uint8Array.from(b)),
  fc.uint8Array({ minLength: 1, maxLength: 3 }),
);

const item = fc.letrec<{ item: Uint8Array; key: Uint8Array }>((tie) => ({
  item: fc.oneof(
    { depthSize: 'small', maxDepth: 5 },
    fc.tuple(fc.constantFrom(0, 1), count, width).map(([major, n, w]) => headOf(major, n, w)),
    fc.tuple(fc.uint8Array({ maxLength: 30 }), width).map(([b, w]) => concat(headOf(2, BigInt(b.length), w), b)),
    fc.tuple(textBytes, width).map(([b, w]) => concat(headOf(3, BigInt(b.length), w), b)),
    oddItem,
    // An array, its head sometimes counting one item too many or too few.
    fc.tuple(fc.array(tie('item'), { maxLength: 4 }), width, fc.constantFrom(0, 0, 0, -1, 1)).map(([xs, w, off]) => concat(headOf(4, BigInt(Math.max(0, xs.length + off)), w), ...xs)),
    fc.tuple(fc.array(fc.tuple(tie('key'), tie('item')), { maxLength: 5 }), width, fc.constantFrom('sorted', 'sorted', 'as-made', 'reversed')).map(([pairs, w, order]) => {
      const cmp = (a: Uint8Array, b: Uint8Array): number => toHex(a).localeCompare(toHex(b));
      const ps = order === 'sorted' ? [...pairs].sort((a, b) => cmp(a[0], b[0])) : order === 'reversed' ? [...pairs].sort((a, b) => cmp(b[0], a[0])) : pairs;
      return concat(headOf(5, BigInt(ps.length), w), ...ps.flatMap(([k, v]) => [k, v]));
    }),
    fc.tuple(fc.integer({ min: 0, max: 30 }), tie('item')).map(([tag, x]) => concat(headOf(6, BigInt(tag), -1), x)),
  ),
  // Map keys: mostly a few short texts (so repeats and both orders happen), sometimes anything.
  key: fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom('a', 'b', 'c', 'aa', 'ab', 'k', 'v', 'x'.repeat(24), '\u00e9').map((s) => encode(s)) },
    { weight: 1, arbitrary: fc.tuple(textBytes, width).map(([b, w]) => concat(headOf(3, BigInt(b.length), w), b)) },
    { weight: 1, arbitrary: tie('item') },
  ),
})).item;

/** Nesting around the depth limit: arrays or one-key maps, 14 to 19 levels deep. */
const deep = fc.tuple(fc.integer({ min: 14, max: 19 }), fc.array(fc.boolean(), { minLength: 19, maxLength: 19 }), fc.constantFrom([0x80], [0xa0], [0x01], [0x60], [0x81, 0x01], [0xa1, 0x61, 0x61, 0x01])).map(([levels, maps, inner]) => {
  const parts: number[] = [];
  for (let i = 0; i < levels; i++) parts.push(...(maps[i] === true ? [0xa1, 0x61, 0x6b] : [0x81]));
  return Uint8Array.from([...parts, ...inner]);
});

/** Mutations of well-formed bytes: one byte changed, inserted or removed, cut short, or bytes appended. */
const mutated = (base: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> =>
  fc.tuple(base, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'xor-bit', 'insert', 'delete', 'truncate', 'append')).map(([b, at, x, how]) => {
    if (b.length === 0) return Uint8Array.of(x);
    const i = at % b.length;
    switch (how) {
      case 'set':
        return Uint8Array.from(b, (v, j) => (j === i ? x : v));
      case 'xor-bit':
        return Uint8Array.from(b, (v, j) => (j === i ? v ^ (1 << (x % 8)) : v));
      case 'insert':
        return concat(b.subarray(0, i), [x], b.subarray(i));
      case 'delete':
        return concat(b.subarray(0, i), b.subarray(i + 1));
      case 'truncate':
        return b.slice(0, i);
      default:
        return concat(b, [x]);
    }
  });

const VECTORS = new URL('../vectors/v1/', import.meta.url);
const vectors = readdirSync(VECTORS)
  .filter((f) => f.endsWith('.cbor'))
  .map((f) => new Uint8Array(readFileSync(new URL(f, VECTORS))));

describe('the one-pass canonical check has the accept set of decode, re-encode and compare', () => {
  it('on canonical encodings of random values (all accepted, the same value back)', () => {
    fc.assert(fc.property(canonicalBytes, (b) => { same(b); }), { numRuns: RUNS / 4 });
  });

  it('on those encodings mutated', () => {
    fc.assert(fc.property(mutated(canonicalBytes), (b) => { same(b); }), { numRuns: RUNS });
  });

  it('on the message vectors, as they are and mutated, and on their bodies', () => {
    expect(vectors.length).toBeGreaterThan(10);
    for (const v of vectors) {
      expect(reference(v).ok).toBe(true);
      same(v);
      const frame = decodeCanonical(v) as { b: Uint8Array };
      same(frame.b);
    }
    fc.assert(fc.property(mutated(fc.constantFrom(...vectors)), (b) => { same(b); }), { numRuns: RUNS / 8 });
  });

  it('on items written by a careless or hostile encoder', () => {
    fc.assert(fc.property(item, (b) => { same(b); }), { numRuns: RUNS });
    fc.assert(fc.property(mutated(item), (b) => { same(b); }), { numRuns: RUNS / 2 });
    fc.assert(fc.property(fc.tuple(item, item), ([a, b]) => { same(concat(a, b)); }), { numRuns: RUNS / 4 });
  });

  it('on nesting around the depth limit', () => {
    fc.assert(fc.property(deep, (b) => { same(b); }), { numRuns: 2000 });
  });

  it('on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 24 }), (b) => { same(b); }), { numRuns: RUNS });
  });

  it('the generators reach both verdicts and each kind of refusal', () => {
    const seen = new Set<string>();
    for (const b of fc.sample(fc.oneof(item, deep, mutated(canonicalBytes)), { numRuns: 5000, seed: 10 })) {
      if (b.length > 0) seen.add(canonicalProblem(b) ?? 'accepted');
    }
    expect([...seen].sort()).toEqual(['accepted', 'feature', 'form', 'invalid']);
  });
});

describe('canonicalProblem on hand-picked inputs', () => {
  const cases: [string, string, ReturnType<typeof canonicalProblem>][] = [
    ['an empty map', 'a0', undefined],
    ['a map with sorted keys ("b" before "aa": shorter encodings first)', 'a2616201626161f6', undefined],
    ['the same map with its keys by string order', 'a2626161f6616201', 'form'],
    ['a repeated key', 'a2616101616102', 'invalid'],
    ['24 in two bytes', '1818', undefined],
    ['23 in two bytes', '1817', 'invalid'],
    ['2^32 in eight bytes', '1b0000000100000000', undefined],
    ['2^32-1 in eight bytes', '1b00000000ffffffff', 'invalid'],
    ['-2^64', '3bffffffffffffffff', undefined],
    ['a half-precision 1.0', 'f93c00', 'feature'],
    ['undefined', 'f7', 'invalid'],
    ['a tag', 'c00100', 'invalid'],
    ['an indefinite array', '9f01ff', 'invalid'],
    ['a trailing byte', '0100', 'invalid'],
    ['text opening with a byte order mark', '64efbbbf61', 'form'],
    ['text with a byte order mark inside', '6461efbbbf', undefined],
    ['an encoded surrogate', '63eda080', 'form'],
    ['an overlong NUL', '62c080', 'form'],
    ['a byte string longer than the input', '45010203', 'invalid'],
    ['an integer map key', 'a10101', 'invalid'],
  ];
  for (const [what, hex, want] of cases) {
    it(`${what}: ${want ?? 'accepted'}`, () => {
      const b = Uint8Array.from(Buffer.from(hex, 'hex'));
      expect(canonicalProblem(b)).toBe(want);
      expect(reference(b).ok).toBe(want === undefined);
    });
  }
});
