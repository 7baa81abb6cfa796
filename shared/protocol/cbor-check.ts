/**
 * The canonical-form check of decodeCanonical (cbor.ts) as one pass over the bytes, allocating
 * nothing (issue 10: re-encoding every decoded value to compare it with its input was about half
 * of the garbage a 10,000-envelope import made).
 *
 * It accepts exactly the byte strings that cborg decodes (with cbor.ts's options) to a value that
 * re-encodes, with cborg's RFC 8949 deterministic options, to the same bytes; the property test in
 * test/protocol/cbor-check.test.ts compares it with that encode-and-compare on random and mutated
 * inputs. What that means, item by item:
 *
 *   - every head in its shortest form (a value or length below 24 in the initial byte, else in 1,
 *     2, 4 or 8 bytes only when it does not fit the shorter one); definite lengths only;
 *   - unsigned and negative integers of any size up to 64 bits (the larger ones decode to bigint);
 *   - byte strings; text strings that are well-formed UTF-8 (Unicode Table 3-7: no overlong forms,
 *     no surrogates, nothing above U+10FFFF) and do not start with U+FEFF (the decoder drops a
 *     leading byte order mark, so its re-encoding would be shorter);
 *   - arrays; maps whose keys are text strings in strictly increasing bytewise order of their
 *     encodings (so no duplicate key);
 *   - false, true and null; no undefined, no other simple value, no float, no tag, no break;
 *   - at most MAX_DEPTH levels below the top item, and nothing after it.
 */

/** How deep items may nest below the top one (the same limit as encodeCanonical's). */
export const MAX_DEPTH = 16;

/** Why bytes are not canonical: not CBOR cbor.ts decodes; a feature Custos does not accept; not the one canonical encoding. */
export type CanonicalProblem = 'invalid' | 'feature' | 'form';

const INVALID = -1;
const FEATURE = -2;
const FORM = -3;

/** undefined when `bytes` is exactly one canonical CBOR item, else what is wrong. */
export function canonicalProblem(bytes: Uint8Array): CanonicalProblem | undefined {
  const end = item(bytes, 0, 0);
  if (end === bytes.length) return undefined;
  if (end >= 0) return 'invalid'; // trailing bytes
  return end === FEATURE ? 'feature' : end === FORM ? 'form' : 'invalid';
}

/** The argument of the head read last (a module variable, so no object is made per item). */
let arg = 0;

/** Reads the head at `pos` into `arg`: the position after it, or INVALID (truncated, not shortest, reserved, indefinite). */
function head(b: Uint8Array, pos: number): number {
  const ai = (b[pos] as number) & 31;
  if (ai < 24) {
    arg = ai;
    return pos + 1;
  }
  switch (ai) {
    case 24:
      if (pos + 2 > b.length) return INVALID;
      arg = b[pos + 1] as number;
      return arg < 24 ? INVALID : pos + 2;
    case 25:
      if (pos + 3 > b.length) return INVALID;
      arg = ((b[pos + 1] as number) << 8) | (b[pos + 2] as number);
      return arg < 0x100 ? INVALID : pos + 3;
    case 26:
      if (pos + 5 > b.length) return INVALID;
      arg = (b[pos + 1] as number) * 0x1000000 + (((b[pos + 2] as number) << 16) | ((b[pos + 3] as number) << 8) | (b[pos + 4] as number));
      return arg < 0x10000 ? INVALID : pos + 5;
    case 27: {
      if (pos + 9 > b.length) return INVALID;
      const hi = (b[pos + 1] as number) * 0x1000000 + (((b[pos + 2] as number) << 16) | ((b[pos + 3] as number) << 8) | (b[pos + 4] as number));
      if (hi === 0) return INVALID;
      // Exact only up to 2^53; beyond that only ever compared with a buffer length, which it exceeds.
      arg = hi * 0x100000000 + (b[pos + 5] as number) * 0x1000000 + (((b[pos + 6] as number) << 16) | ((b[pos + 7] as number) << 8) | (b[pos + 8] as number));
      return pos + 9;
    }
    default:
      // 28–30 are reserved; 31 is an indefinite length or a break.
      return INVALID;
  }
}

/** Checks the item at `pos`: the position after it, or a negative problem code. */
function item(b: Uint8Array, pos: number, depth: number): number {
  if (depth > MAX_DEPTH) return FEATURE;
  if (pos >= b.length) return INVALID;
  const initial = b[pos] as number;
  const major = initial >> 5;
  if (major === 7) {
    const ai = initial & 31;
    if (ai >= 20 && ai <= 22) return pos + 1; // false, true, null
    if (ai >= 25 && ai <= 27) return FEATURE; // floats
    return INVALID; // undefined, other simple values, reserved, break
  }
  let p = head(b, pos);
  if (p < 0) return p;
  const n = arg;
  switch (major) {
    case 0:
    case 1:
      return p;
    case 2:
      return n > b.length - p ? INVALID : p + n;
    case 3:
      if (n > b.length - p) return INVALID;
      return utf8Ok(b, p, p + n) ? p + n : FORM;
    case 4:
      for (let i = 0; i < n; i++) {
        p = item(b, p, depth + 1);
        if (p < 0) return p;
      }
      return p;
    case 5: {
      let prevStart = -1;
      let prevEnd = -1;
      for (let i = 0; i < n; i++) {
        const keyStart = p;
        if (keyStart >= b.length) return INVALID;
        p = item(b, p, depth + 1);
        if (p < 0) return p;
        if ((b[keyStart] as number) >> 5 !== 3) return INVALID; // the decoder takes text keys only
        if (prevStart >= 0) {
          const order = compareSpans(b, prevStart, prevEnd, keyStart, p);
          if (order === 0) return INVALID; // a repeated key
          if (order > 0) return FORM;
        }
        prevStart = keyStart;
        prevEnd = p;
        p = item(b, p, depth + 1);
        if (p < 0) return p;
      }
      return p;
    }
    default:
      return INVALID; // a tag (major 6): none is accepted
  }
}

/** Bytewise order of b[s1, e1) and b[s2, e2); a proper prefix sorts first. */
function compareSpans(b: Uint8Array, s1: number, e1: number, s2: number, e2: number): number {
  const n = Math.min(e1 - s1, e2 - s2);
  for (let i = 0; i < n; i++) {
    const d = (b[s1 + i] as number) - (b[s2 + i] as number);
    if (d !== 0) return d;
  }
  return e1 - s1 - (e2 - s2);
}

/** Well-formed UTF-8 (Unicode Table 3-7) that does not start with a byte order mark (EF BB BF). */
function utf8Ok(b: Uint8Array, start: number, end: number): boolean {
  if (end - start >= 3 && b[start] === 0xef && b[start + 1] === 0xbb && b[start + 2] === 0xbf) return false;
  let i = start;
  while (i < end) {
    const c = b[i] as number;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return false;
    if (i + need >= end) return false;
    const second = b[i + 1] as number;
    if (second < lo || second > hi) return false;
    for (let k = 2; k <= need; k++) {
      const x = b[i + k] as number;
      if (x < 0x80 || x > 0xbf) return false;
    }
    i += need + 1;
  }
  return true;
}
