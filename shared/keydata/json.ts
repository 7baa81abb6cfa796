/**
 * Lossless JSON for tss-lib keydata files (RFC 8259 grammar; Go `encoding/json` output form).
 *
 * tss-lib writes `*big.Int` values as bare decimal JSON numbers of up to ~2500 bits, which
 * `JSON.parse` silently rounds. This module reads such files without loss and writes them back the
 * way Go's `json.Marshal` does:
 *
 * - Reader: a strict RFC 8259 tokenizer. Integer literals become `bigint`; objects become `Map`s that
 *   keep their key order; duplicate keys, fractions and exponents (never written by tss-lib), `-0`,
 *   leading zeros, unpaired surrogates, a byte-order mark and anything after the value are refused.
 *   Input size, nesting depth and integer length are capped. Every refusal is a
 *   `CustosError('MALFORMED')` naming line, column and offset, never quoting the input (it may hold
 *   secret numbers).
 * - Writer: Go's compact `json.Marshal` form: no whitespace, keys in the order given, strings escaped
 *   as `encoding/json` does since Go 1.22 (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other controls
 *   as `\u00XX` in lower-case hex, and HTML-safe `<`, `>`, `&`, U+2028, U+2029 as `\u003c`,
 *   `\u003e`, `\u0026`, `\u2028`, `\u2029`).
 */
import { CustosError, guard } from '../errors';
import { fromUtf8, utf8 } from '../bytes';

/** A JSON value as read without loss: integers are bigint, objects are ordered Maps. */
export type JsonValue = null | boolean | string | bigint | readonly JsonValue[] | JsonObject;
/** A JSON object in its key order. */
export type JsonObject = ReadonlyMap<string, JsonValue>;

export function isJsonObject(value: JsonValue): value is JsonObject {
  return value instanceof Map;
}

export interface JsonLimits {
  /** Largest accepted input, in bytes (UTF-16 code units for string input). */
  readonly maxBytes: number;
  /** Deepest accepted nesting of arrays and objects. */
  readonly maxDepth: number;
  /** Longest accepted integer literal, in decimal digits. */
  readonly maxIntegerDigits: number;
}

/** Generous for tss-lib files (a 256-party ECDSA keydata is under 1 MB; the deepest nesting is 4). */
export const DEFAULT_JSON_LIMITS: JsonLimits = Object.freeze({
  maxBytes: 8 * 1024 * 1024,
  maxDepth: 64,
  maxIntegerDigits: 2500,
});

const LIMIT_CEILING = { maxBytes: 256 * 1024 * 1024, maxDepth: 10_000, maxIntegerDigits: 100_000 };

function resolveLimits(limits: Partial<JsonLimits> | undefined): JsonLimits {
  if (limits === undefined) return DEFAULT_JSON_LIMITS;
  const given: unknown = limits; // callers from plain JavaScript may pass anything
  if (typeof given !== 'object' || given === null) {
    throw new CustosError('INVALID_PARAMETERS', 'JSON limits must be an object.');
  }
  const out = { ...DEFAULT_JSON_LIMITS };
  for (const key of ['maxBytes', 'maxDepth', 'maxIntegerDigits'] as const) {
    const v: unknown = limits[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > LIMIT_CEILING[key]) {
      throw new CustosError('INVALID_PARAMETERS', `JSON limit ${key} must be an integer from 1 to ${LIMIT_CEILING[key]}.`);
    }
    out[key] = v;
  }
  return out;
}

const Ch = {
  Tab: 0x09,
  Lf: 0x0a,
  Cr: 0x0d,
  Space: 0x20,
  Quote: 0x22,
  Plus: 0x2b,
  Comma: 0x2c,
  Minus: 0x2d,
  Dot: 0x2e,
  Zero: 0x30,
  Nine: 0x39,
  Colon: 0x3a,
  UpperE: 0x45,
  LBracket: 0x5b,
  Backslash: 0x5c,
  RBracket: 0x5d,
  LowerE: 0x65,
  LBrace: 0x7b,
  RBrace: 0x7d,
} as const;

const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

class Parser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly limits: JsonLimits,
  ) {}

  parseDocument(): JsonValue {
    this.skipWhitespace();
    const value = this.parseValue(0);
    this.skipWhitespace();
    if (this.pos !== this.text.length) this.fail('unexpected data after the JSON value');
    return value;
  }

  private fail(what: string, at: number = this.pos): never {
    let line = 1;
    let lineStart = 0;
    const end = Math.min(at, this.text.length);
    for (let i = 0; i < end; i++) {
      if (this.text.charCodeAt(i) === Ch.Lf) {
        line++;
        lineStart = i + 1;
      }
    }
    const column = end - lineStart + 1;
    throw new CustosError('MALFORMED', `Invalid JSON at line ${line}, column ${column} (offset ${end}): ${what}.`, {
      details: { offset: end, line, column },
    });
  }

  private code(): number {
    // NaN past the end: compares unequal to everything, so callers report "unexpected end".
    return this.text.charCodeAt(this.pos);
  }

  private skipWhitespace(): void {
    for (;;) {
      const c = this.code();
      if (c === Ch.Space || c === Ch.Lf || c === Ch.Cr || c === Ch.Tab) this.pos++;
      else return;
    }
  }

  private describeHere(): string {
    if (this.pos >= this.text.length) return 'unexpected end of input';
    const c = this.code();
    if (c < 0x20 || c > 0x7e) return `unexpected character U+${c.toString(16).padStart(4, '0').toUpperCase()}`;
    return `unexpected character '${String.fromCharCode(c)}'`;
  }

  private parseValue(depth: number): JsonValue {
    const c = this.code();
    if (c === Ch.LBrace) return this.parseObject(depth + 1);
    if (c === Ch.LBracket) return this.parseArray(depth + 1);
    if (c === Ch.Quote) return this.parseString();
    if (c === Ch.Minus || (c >= Ch.Zero && c <= Ch.Nine)) return this.parseNumber();
    if (this.text.startsWith('true', this.pos)) {
      this.pos += 4;
      return true;
    }
    if (this.text.startsWith('false', this.pos)) {
      this.pos += 5;
      return false;
    }
    if (this.text.startsWith('null', this.pos)) {
      this.pos += 4;
      return null;
    }
    return this.fail(`${this.describeHere()}; expected a JSON value`);
  }

  private enter(depth: number): void {
    if (depth > this.limits.maxDepth) this.fail(`nesting deeper than ${this.limits.maxDepth} levels`);
  }

  private parseObject(depth: number): JsonObject {
    this.enter(depth);
    this.pos++; // {
    const out = new Map<string, JsonValue>();
    this.skipWhitespace();
    if (this.code() === Ch.RBrace) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.code() !== Ch.Quote) this.fail(`${this.describeHere()}; expected a quoted object key`);
      const keyAt = this.pos;
      const key = this.parseString();
      if (out.has(key)) this.fail('duplicate object key', keyAt);
      this.skipWhitespace();
      if (this.code() !== Ch.Colon) this.fail(`${this.describeHere()}; expected ':'`);
      this.pos++;
      this.skipWhitespace();
      out.set(key, this.parseValue(depth));
      this.skipWhitespace();
      const c = this.code();
      this.pos++;
      if (c === Ch.RBrace) return out;
      if (c !== Ch.Comma) {
        this.pos--;
        this.fail(`${this.describeHere()}; expected ',' or '}'`);
      }
    }
  }

  private parseArray(depth: number): JsonValue[] {
    this.enter(depth);
    this.pos++; // [
    const out: JsonValue[] = [];
    this.skipWhitespace();
    if (this.code() === Ch.RBracket) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWhitespace();
      out.push(this.parseValue(depth));
      this.skipWhitespace();
      const c = this.code();
      this.pos++;
      if (c === Ch.RBracket) return out;
      if (c !== Ch.Comma) {
        this.pos--;
        this.fail(`${this.describeHere()}; expected ',' or ']'`);
      }
    }
  }

  private digits(): number {
    const start = this.pos;
    for (;;) {
      const c = this.code();
      if (c >= Ch.Zero && c <= Ch.Nine) this.pos++;
      else return this.pos - start;
    }
  }

  private parseNumber(): bigint {
    const start = this.pos;
    const negative = this.code() === Ch.Minus;
    if (negative) this.pos++;
    const first = this.code();
    if (!(first >= Ch.Zero && first <= Ch.Nine)) this.fail(`${this.describeHere()}; expected a digit`);
    const intDigits = this.digits();
    if (first === Ch.Zero && intDigits > 1) this.fail('number with a leading zero', start);
    let integer = true;
    if (this.code() === Ch.Dot) {
      this.pos++;
      if (this.digits() === 0) this.fail(`${this.describeHere()}; expected a digit after '.'`);
      integer = false;
    }
    const e = this.code();
    if (e === Ch.LowerE || e === Ch.UpperE) {
      this.pos++;
      const s = this.code();
      if (s === Ch.Plus || s === Ch.Minus) this.pos++;
      if (this.digits() === 0) this.fail(`${this.describeHere()}; expected a digit in the exponent`);
      integer = false;
    }
    if (!integer) this.fail('only integer numbers are allowed (tss-lib writes big integers as plain decimal)', start);
    if (intDigits > this.limits.maxIntegerDigits) {
      this.fail(`integer longer than ${this.limits.maxIntegerDigits} digits`, start);
    }
    if (negative && first === Ch.Zero) this.fail('negative zero', start);
    return BigInt(this.text.slice(start, this.pos));
  }

  private hex4(): number {
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const c = this.code();
      let d: number;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
      else return this.fail(`${this.describeHere()}; expected 4 hexadecimal digits after \\u`);
      v = v * 16 + d;
      this.pos++;
    }
    return v;
  }

  private parseString(): string {
    const open = this.pos;
    this.pos++; // "
    let out = '';
    let runStart = this.pos;
    for (;;) {
      if (this.pos >= this.text.length) this.fail('unterminated string', open);
      const c = this.code();
      if (c === Ch.Quote) {
        out += this.text.slice(runStart, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) this.fail('control character inside a string (it must be escaped)');
      if (c >= 0xd800 && c <= 0xdfff) {
        // Only reachable with string input: bytes were already checked as UTF-8.
        const next = this.text.charCodeAt(this.pos + 1);
        if (c >= 0xdc00 || !(next >= 0xdc00 && next <= 0xdfff)) this.fail('unpaired surrogate inside a string');
        this.pos += 2;
        continue;
      }
      if (c !== Ch.Backslash) {
        this.pos++;
        continue;
      }
      out += this.text.slice(runStart, this.pos);
      const escAt = this.pos;
      this.pos++;
      const e = this.text.charAt(this.pos);
      if (e === 'u') {
        this.pos++;
        const unit = this.hex4();
        if (unit >= 0xdc00 && unit <= 0xdfff) this.fail('unpaired low surrogate escape', escAt);
        if (unit >= 0xd800 && unit <= 0xdbff) {
          if (!this.text.startsWith('\\u', this.pos)) this.fail('unpaired high surrogate escape', escAt);
          this.pos += 2;
          const low = this.hex4();
          if (!(low >= 0xdc00 && low <= 0xdfff)) this.fail('unpaired high surrogate escape', escAt);
          out += String.fromCharCode(unit, low);
        } else {
          out += String.fromCharCode(unit);
        }
      } else {
        const decoded = ESCAPES[e];
        if (decoded === undefined) this.fail(`invalid escape sequence in a string`, escAt);
        out += decoded;
        this.pos++;
      }
      runStart = this.pos;
    }
  }
}

/**
 * Parses JSON text (UTF-8 bytes or a string) without losing big integers.
 * Throws `CustosError('MALFORMED')` on anything that is not strict JSON within the limits.
 */
export function parseJson(input: Uint8Array | string, limits?: Partial<JsonLimits>): JsonValue {
  return guard('MALFORMED', 'The JSON could not be read.', () => {
    const lim = resolveLimits(limits);
    let text: string;
    if (input instanceof Uint8Array) {
      if (input.length > lim.maxBytes) {
        throw new CustosError('MALFORMED', `The JSON input is ${input.length} bytes; at most ${lim.maxBytes} are accepted.`);
      }
      if (input[0] === 0xef && input[1] === 0xbb && input[2] === 0xbf) {
        throw new CustosError('MALFORMED', 'The JSON input starts with a UTF-8 byte-order mark, which JSON does not allow.');
      }
      text = fromUtf8(input);
    } else if (typeof input === 'string') {
      if (input.length > lim.maxBytes) {
        throw new CustosError('MALFORMED', `The JSON input is ${input.length} characters; at most ${lim.maxBytes} are accepted.`);
      }
      if (input.charCodeAt(0) === 0xfeff) {
        throw new CustosError('MALFORMED', 'The JSON input starts with a byte-order mark, which JSON does not allow.');
      }
      text = input;
    } else {
      throw new CustosError('INVALID_PARAMETERS', 'parseJson expects bytes (Uint8Array) or a string.');
    }
    return new Parser(text, lim).parseDocument();
  });
}

const HEX = '0123456789abcdef';

/** Escapes a string exactly as Go's `encoding/json` (with its default HTML escaping) does. */
function goQuote(s: string): string {
  let out = '"';
  let runStart = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c < 0x20) {
      if (c === 0x08) esc = '\\b';
      else if (c === 0x0c) esc = '\\f';
      else if (c === 0x0a) esc = '\\n';
      else if (c === 0x0d) esc = '\\r';
      else if (c === 0x09) esc = '\\t';
      else esc = `\\u00${HEX.charAt(c >> 4)}${HEX.charAt(c & 0xf)}`;
    } else if (c === 0x22) esc = '\\"';
    else if (c === 0x5c) esc = '\\\\';
    else if (c === 0x3c) esc = '\\u003c';
    else if (c === 0x3e) esc = '\\u003e';
    else if (c === 0x26) esc = '\\u0026';
    else if (c === 0x2028) esc = '\\u2028';
    else if (c === 0x2029) esc = '\\u2029';
    else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c >= 0xdc00 || !(next >= 0xdc00 && next <= 0xdfff)) {
        throw new CustosError('INVALID_PARAMETERS', `A string to write as JSON has an unpaired surrogate at index ${i}.`);
      }
      i++;
    }
    if (esc !== undefined) {
      out += s.slice(runStart, i) + esc;
      runStart = i + 1;
    }
  }
  return out + s.slice(runStart) + '"';
}

const MAX_WRITE_DEPTH = 1000;

function writeValue(value: unknown, depth: number, parts: string[]): void {
  if (depth > MAX_WRITE_DEPTH) {
    throw new CustosError('INVALID_PARAMETERS', `The value to write as JSON nests deeper than ${MAX_WRITE_DEPTH} levels (or is cyclic).`);
  }
  if (value === null) parts.push('null');
  else if (value === true) parts.push('true');
  else if (value === false) parts.push('false');
  else if (typeof value === 'bigint') parts.push(value.toString(10));
  else if (typeof value === 'string') parts.push(goQuote(value));
  else if (Array.isArray(value)) {
    parts.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) parts.push(',');
      writeValue(value[i], depth + 1, parts);
    }
    parts.push(']');
  } else if (value instanceof Map) {
    parts.push('{');
    let first = true;
    for (const [k, v] of value as Map<unknown, unknown>) {
      if (typeof k !== 'string') throw new CustosError('INVALID_PARAMETERS', 'JSON object keys must be strings.');
      if (!first) parts.push(',');
      first = false;
      parts.push(goQuote(k), ':');
      writeValue(v, depth + 1, parts);
    }
    parts.push('}');
  } else {
    const what = typeof value === 'number' ? 'a number (use bigint for integers)' : typeof value;
    throw new CustosError('INVALID_PARAMETERS', `Cannot write ${what} as lossless JSON; expected null, boolean, string, bigint, array or Map.`);
  }
}

/** Writes a value in Go's compact `json.Marshal` form (keys in the Map's order). */
export function writeJson(value: JsonValue): string {
  return guard('INVALID_PARAMETERS', 'The value could not be written as JSON.', () => {
    const parts: string[] = [];
    writeValue(value, 0, parts);
    return parts.join('');
  });
}

/** {@link writeJson}, as UTF-8 bytes. */
export function writeJsonBytes(value: JsonValue): Uint8Array {
  return utf8(writeJson(value));
}

/** Builds a JSON object from `[key, value]` pairs in the given order; refuses duplicate keys. */
export function jsonObject(entries: readonly (readonly [string, JsonValue])[]): JsonObject {
  return guard('INVALID_PARAMETERS', 'The JSON object could not be built.', () => {
    const out = new Map<string, JsonValue>();
    for (const [k, v] of entries) {
      if (out.has(k)) throw new CustosError('INVALID_PARAMETERS', `Duplicate JSON object key "${k}".`);
      out.set(k, v);
    }
    return out;
  });
}
