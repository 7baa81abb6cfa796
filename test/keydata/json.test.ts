import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isJsonObject, jsonObject, parseJson, writeJson, type JsonValue } from '../../shared/keydata';
import { expectCustosError, fixtureText, stripJsonWhitespace, utf8 } from './fixtures';

describe('parseJson', () => {
  it('keeps big integers exactly, as bigint', () => {
    const big = '26862170591381186117144639121800907711621441110694985906073099493104224258631997616337459884349048315436649598594766212786190249139720542986841637789367089751';
    const v = parseJson(`[${big}, -${big}, 0, 7]`);
    expect(v).toEqual([BigInt(big), -BigInt(big), 0n, 7n]);
  });

  it('keeps object key order (including integer-like keys) and reads every JSON type', () => {
    const v = parseJson(' {"b":1,"2":true,"a":[null,false,"x"],"1":{}} ');
    if (!isJsonObject(v)) throw new Error('expected an object');
    expect([...v.keys()]).toEqual(['b', '2', 'a', '1']);
    expect(v.get('a')).toEqual([null, false, 'x']);
    expect(writeJson(v)).toBe('{"b":1,"2":true,"a":[null,false,"x"],"1":{}}');
  });

  it('decodes string escapes, including surrogate pairs', () => {
    expect(parseJson(String.raw`"a\"\\\/\b\f\n\r\t\u0041\u00e9\ud83d\ude00"`)).toBe('a"\\/\b\f\n\r\tAé😀');
    expect(parseJson(utf8('"é😀"'))).toBe('é😀');
  });

  it.each([
    ['empty input', ''],
    ['only whitespace', '  \n'],
    ['truncated object', '{"a":1'],
    ['truncated string', '{"a":"xy'],
    ['truncated literal', 'tru'],
    ['trailing comma in object', '{"a":1,}'],
    ['trailing comma in array', '[1,]'],
    ['missing colon', '{"a" 1}'],
    ['unquoted key', '{a:1}'],
    ['single quotes', "{'a':1}"],
    ['duplicate keys', '{"a":1,"a":2}'],
    ['duplicate keys after escapes', '{"a":1,"\\u0061":2}'],
    ['a fraction', '1.5'],
    ['an exponent', '1e3'],
    ['a leading zero', '012'],
    ['negative zero', '-0'],
    ['a plus sign', '+1'],
    ['a bare minus', '-'],
    ['NaN', 'NaN'],
    ['Infinity', 'Infinity'],
    ['a comment', '{"a":1 /* c */}'],
    ['trailing data', '{"a":1} {}'],
    ['a raw control character in a string', '"a\u0001b"'],
    ['a raw newline in a string', '"a\nb"'],
    ['an invalid escape', String.raw`"\x41"`],
    ['a short \\u escape', String.raw`"\u12"`],
    ['an unpaired high surrogate escape', String.raw`"\ud83d"`],
    ['an unpaired low surrogate escape', String.raw`"\ude00"`],
    ['a high surrogate followed by a non-surrogate', String.raw`"\ud83d\u0041"`],
    ['a vertical tab as whitespace', '\u000b1'],
    ['a non-breaking space as whitespace', '\u00a01'],
    ['a byte-order mark', '\ufeff1'],
  ])('refuses %s with MALFORMED', (_name, input) => {
    expectCustosError(() => parseJson(input), 'MALFORMED');
    expectCustosError(() => parseJson(utf8(input)), 'MALFORMED');
  });

  it('refuses raw unpaired surrogates in string input', () => {
    expectCustosError(() => parseJson('"\ud83d"'), 'MALFORMED');
    expectCustosError(() => parseJson('"a\ude00"'), 'MALFORMED');
    expect(parseJson('"\ud83d\ude00"')).toBe('😀');
  });

  it('refuses invalid UTF-8 and a UTF-8 byte-order mark', () => {
    expectCustosError(() => parseJson(new Uint8Array([0x22, 0xff, 0x22])), 'MALFORMED');
    expectCustosError(() => parseJson(new Uint8Array([0x22, 0xed, 0xa0, 0x80, 0x22])), 'MALFORMED'); // CESU surrogate
    expectCustosError(() => parseJson(new Uint8Array([0xef, 0xbb, 0xbf, 0x31])), 'MALFORMED');
  });

  it('reports line and column, and never quotes the input', () => {
    const secret = '123456789012345678901234567890';
    const error = expectCustosError(() => parseJson(`{\n  "Xi": ${secret},\n  "Xi": 1\n}`), 'MALFORMED');
    expect(error.message).toContain('line 3, column 3');
    expect(error.message).toContain('duplicate');
    expect(error.message).not.toContain(secret);
  });

  it('caps nesting depth without overflowing the stack', () => {
    expectCustosError(() => parseJson('['.repeat(100_000)), 'MALFORMED');
    expectCustosError(() => parseJson('{"a":'.repeat(100_000)), 'MALFORMED');
    const error = expectCustosError(() => parseJson('['.repeat(65) + ']'.repeat(65)), 'MALFORMED');
    expect(error.message).toContain('nesting deeper than 64');
    expect(parseJson('['.repeat(64) + ']'.repeat(64))).toBeDefined();
  });

  it('caps input size and integer length', () => {
    expectCustosError(() => parseJson('1'.repeat(2501)), 'MALFORMED');
    expect(parseJson('9'.repeat(2500))).toBe(10n ** 2500n - 1n);
    expectCustosError(() => parseJson('[1, 2, 3]', { maxBytes: 5 }), 'MALFORMED');
    expectCustosError(() => parseJson(utf8('[1, 2, 3]'), { maxBytes: 5 }), 'MALFORMED');
    expectCustosError(() => parseJson('[[1]]', { maxDepth: 1 }), 'MALFORMED');
    expectCustosError(() => parseJson('1', { maxDepth: 0 }), 'INVALID_PARAMETERS');
  });

  it('refuses inputs that are not bytes or a string', () => {
    expectCustosError(() => parseJson(42 as unknown as string), 'INVALID_PARAMETERS');
  });
});

describe('writeJson', () => {
  it("escapes strings exactly as Go's encoding/json (Go ≥ 1.22)", () => {
    // Go: json.Marshal("<a&b>\u2028\u2029\x00\x1f\"\\\b\f\n\r\t\x7f é😀/")
    const input = '<a&b>\u2028\u2029\u0000\u001f"\\\b\f\n\r\t\u007f é😀/';
    expect(writeJson(input)).toBe(String.raw`"\u003ca\u0026b\u003e\u2028\u2029\u0000\u001f\"\\\b\f\n\r\t` + '\u007f é😀/"');
  });

  it('writes the compact form with keys in the given order', () => {
    const v = jsonObject([
      ['Z', 1n],
      ['A', [jsonObject([['N', -2n]]), null, true, 'x']],
    ]);
    expect(writeJson(v)).toBe('{"Z":1,"A":[{"N":-2},null,true,"x"]}');
  });

  it('refuses what JSON cannot carry losslessly', () => {
    expectCustosError(() => writeJson(1.5 as unknown as JsonValue), 'INVALID_PARAMETERS');
    expectCustosError(() => writeJson(1 as unknown as JsonValue), 'INVALID_PARAMETERS');
    expectCustosError(() => writeJson(undefined as unknown as JsonValue), 'INVALID_PARAMETERS');
    expectCustosError(() => writeJson({ a: 1n } as unknown as JsonValue), 'INVALID_PARAMETERS');
    expectCustosError(() => writeJson('\ud800'), 'INVALID_PARAMETERS');
    const cyclic: JsonValue[] = [];
    cyclic.push(cyclic);
    expectCustosError(() => writeJson(cyclic), 'INVALID_PARAMETERS');
    expectCustosError(() => jsonObject([['a', 1n], ['a', 2n]]), 'INVALID_PARAMETERS');
  });

  it('re-minifies the fixtures to the same text as stripping their whitespace', () => {
    for (const scheme of ['ecdsa', 'eddsa'] as const) {
      const original = fixtureText(scheme, 0);
      expect(writeJson(parseJson(original))).toBe(stripJsonWhitespace(original));
    }
  });
});

describe('JSON properties', () => {
  const value: fc.Arbitrary<JsonValue> = fc.letrec<{ v: JsonValue }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constant(null),
      fc.boolean(),
      fc.string({ unit: 'grapheme' }),
      fc.bigInt({ min: -(1n << 2100n), max: 1n << 2100n }),
      fc.array(tie('v'), { maxLength: 4 }),
      fc
        .uniqueArray(fc.tuple(fc.string({ unit: 'binary' }), tie('v')), { maxLength: 4, selector: ([k]) => k })
        .map((entries) => new Map(entries) as JsonValue),
    ),
  })).v;

  it('write then parse gives the same value, and JSON.parse agrees on everything but precision', () => {
    fc.assert(
      fc.property(value, (v) => {
        const written = writeJson(v);
        expect(parseJson(written)).toEqual(v);
        expect(writeJson(parseJson(utf8(written)))).toBe(written);
        expect(() => JSON.parse(written) as unknown).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary text either parses or throws MALFORMED', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (s) => {
        try {
          parseJson(s);
        } catch (error) {
          expectCustosError(() => {
            throw error;
          }, 'MALFORMED');
        }
      }),
      { numRuns: 500 },
    );
  });
});
