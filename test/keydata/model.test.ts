import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isCustosError } from '../../shared/errors';
import { parseKeydata, validateKeydata, writeKeydata, type EcdsaKeydata } from '../../shared/keydata';
import { ALL_FIXTURES, expectCustosError, fixtureBytes, fixtureText, stripJsonWhitespace, text, utf8 } from './fixtures';

/** Edits a fixture's JSON text through JSON.parse (safe: only used for non-numeric edits). */
function editFixture(scheme: 'ecdsa' | 'eddsa', edit: (compact: string) => string): Uint8Array {
  return utf8(edit(stripJsonWhitespace(fixtureText(scheme, 0))));
}

describe('parseKeydata / writeKeydata', () => {
  it.each(ALL_FIXTURES)('$scheme party $party: writes exactly the compact form of the original', ({ scheme, party }) => {
    const k = parseKeydata(fixtureBytes(scheme, party));
    expect(k.curve).toBe(scheme === 'ecdsa' ? 'secp256k1' : 'ed25519');
    expect(text(writeKeydata(k))).toBe(stripJsonWhitespace(fixtureText(scheme, party)));
    // The compact form reads back to the same model and writes the same bytes again.
    expect(parseKeydata(writeKeydata(k))).toEqual(k);
  });

  it('keeps big integers exactly', () => {
    const k = parseKeydata(fixtureBytes('ecdsa', 0)) as EcdsaKeydata;
    expect(k.PaillierSK.N).toBe(k.PaillierSK.P * k.PaillierSK.Q);
    expect(k.PaillierSK.N.toString()).toMatch(/^268621705913811861171446391218009077116214411106949859060730994931042242586319976/);
    expect(k.Ks).toHaveLength(5);
    expect(k.PaillierPKs[0]).toEqual({ N: k.PaillierSK.N });
  });

  it("accepts any key order (as Go does) and writes Go's order", () => {
    const original = stripJsonWhitespace(fixtureText('eddsa', 1));
    const k = parseKeydata(utf8(original));
    const cut = original.indexOf(',"EDDSAPub":');
    const reordered = `{${original.slice(cut + 1, -1)},${original.slice(1, cut)}}`;
    expect(reordered).not.toBe(original);
    expect(text(writeKeydata(parseKeydata(utf8(reordered))))).toBe(original);
    expect(parseKeydata(utf8(reordered))).toEqual(k);
  });

  const invalid: [string, 'ecdsa' | 'eddsa', (s: string) => string][] = [
    ['an unknown field', 'eddsa', (s) => s.replace('{"Xi"', '{"Extra":1,"Xi"')],
    ['a "__proto__" field', 'eddsa', (s) => s.replace('{"Xi"', '{"__proto__":{"Xi":1},"Xi"')],
    ['a "__proto__" field inside a point', 'eddsa', (s) => s.replace('"Curve":"ed25519",', '"__proto__":{"Curve":"ed25519"},')],
    ['a lower-case "curve" field', 'eddsa', (s) => s.replace('{"Xi"', '{"curve":"ed25519","Xi"')],
    ['a missing field', 'eddsa', (s) => s.replace(/"ShareID":\d+,/, '')],
    ['a null field', 'eddsa', (s) => s.replace(/"Xi":\d+/, '"Xi":null')],
    ['a quoted big integer', 'eddsa', (s) => s.replace(/"Xi":(\d+)/, '"Xi":"$1"')],
    ['a negative integer', 'eddsa', (s) => s.replace(/"Xi":(\d+)/, '"Xi":-$1')],
    ['an integer over 256 bits', 'eddsa', (s) => s.replace(/"Xi":(\d+)/, `"Xi":${(1n << 256n).toString()}`)],
    ['a point of the wrong curve', 'eddsa', (s) => s.replace('"Curve":"ed25519"', '"Curve":"secp256k1"')],
    ['a point without Curve', 'eddsa', (s) => s.replace('"Curve":"ed25519",', '')],
    ['a point with three coordinates', 'eddsa', (s) => s.replace(/"Coords":\[(\d+),/, '"Coords":[$1,$1,')],
    ['a BigXj shorter than Ks', 'eddsa', (s) => s.replace(/"BigXj":\[\{[^}]*\},/, '"BigXj":[')],
    ['an empty Ks', 'eddsa', (s) => s.replace(/"Ks":\[[^\]]*\]/, '"Ks":[]')],
    ['both public keys', 'eddsa', (s) => s.replace('"EDDSAPub"', '"ECDSAPub":null,"EDDSAPub"')],
    ['no public key', 'eddsa', (s) => s.replace('"EDDSAPub"', '"Pub"')],
    ['an ECDSA PaillierPKs entry with an extra field', 'ecdsa', (s) => s.replace('"PaillierPKs":[{"N":', '"PaillierPKs":[{"X":1,"N":')],
    ['an ECDSA file with an NTildej too long', 'ecdsa', (s) => s.replace('"NTildej":[', '"NTildej":[1,')],
    ['an ECDSA PaillierSK missing PhiN', 'ecdsa', (s) => s.replace(/"PhiN":\d+,/, '')],
  ];

  it.each(invalid)('refuses %s with KEYDATA_INVALID', (_name, scheme, edit) => {
    const bytes = editFixture(scheme, edit);
    expect(text(bytes)).not.toBe(stripJsonWhitespace(fixtureText(scheme, 0)));
    expectCustosError(() => parseKeydata(bytes), 'KEYDATA_INVALID');
  });

  it('refuses JSON that is not an object, and names the field without its value', () => {
    expectCustosError(() => parseKeydata(utf8('[1,2]')), 'KEYDATA_INVALID');
    const xi = /"Xi":(\d+)/.exec(stripJsonWhitespace(fixtureText('eddsa', 0)))?.[1] ?? '';
    const error = expectCustosError(() => parseKeydata(editFixture('eddsa', (s) => s.replace(/"Xi":(\d+)/, '"Xi":"$1"'))), 'KEYDATA_INVALID');
    expect(error.message).toContain('Xi');
    expect(error.message).not.toContain(xi);
  });

  it('refuses malformed JSON with MALFORMED: truncation, duplicate keys, depth', () => {
    const original = fixtureBytes('ecdsa', 0);
    for (const cut of [0, 1, 100, 5000, original.length - 1]) {
      expectCustosError(() => parseKeydata(original.subarray(0, cut)), 'MALFORMED');
    }
    expectCustosError(() => parseKeydata(editFixture('eddsa', (s) => s.replace('{"Xi"', '{"Xi":1,"Xi"'))), 'MALFORMED');
    expectCustosError(() => parseKeydata(utf8(`{"Xi":${'['.repeat(50_000)}`)), 'MALFORMED');
    expectCustosError(() => parseKeydata('{}' as unknown as Uint8Array), 'INVALID_PARAMETERS');
  });

  it('validateKeydata refuses objects that are not keydata', () => {
    const k = parseKeydata(fixtureBytes('eddsa', 0));
    expectCustosError(() => validateKeydata(null), 'KEYDATA_INVALID');
    expectCustosError(() => validateKeydata({ ...k, curve: 'p256' }), 'KEYDATA_INVALID');
    expectCustosError(() => validateKeydata({ ...k, Xi: 5 }), 'KEYDATA_INVALID');
    expectCustosError(() => writeKeydata({ ...k, Ks: [] }), 'KEYDATA_INVALID');
  });

  it('random byte mutations of a fixture either parse or throw CustosError, never anything else', () => {
    const originals = [fixtureBytes('eddsa', 0), fixtureBytes('ecdsa', 1)];
    const mutation = fc.record({
      which: fc.integer({ min: 0, max: 1 }),
      edits: fc.array(
        fc.record({
          kind: fc.constantFrom('set', 'delete', 'insert'),
          at: fc.nat(),
          byte: fc.constantFrom(0x22, 0x2c, 0x3a, 0x5b, 0x5d, 0x7b, 0x7d, 0x30, 0x39, 0x2d, 0x20, 0x5c, 0x00, 0x80, 0xff, 0x65, 0x2e),
          randomByte: fc.integer({ min: 0, max: 255 }),
          useRandom: fc.boolean(),
          length: fc.integer({ min: 1, max: 40 }),
        }),
        { minLength: 1, maxLength: 4 },
      ),
    });
    let parsed = 0;
    fc.assert(
      fc.property(mutation, ({ which, edits }) => {
        let bytes = Array.from(originals[which] ?? []);
        for (const e of edits) {
          const at = e.at % (bytes.length + 1);
          const b = e.useRandom ? e.randomByte : e.byte;
          if (e.kind === 'set' && at < bytes.length) bytes[at] = b;
          else if (e.kind === 'delete') bytes = [...bytes.slice(0, at), ...bytes.slice(at + e.length)];
          else bytes = [...bytes.slice(0, at), b, ...bytes.slice(at)];
        }
        try {
          const k = parseKeydata(new Uint8Array(bytes));
          parsed++;
          expect(parseKeydata(writeKeydata(k))).toEqual(k);
        } catch (error) {
          if (!isCustosError(error)) throw error;
          expect(['MALFORMED', 'KEYDATA_INVALID']).toContain(error.code);
        }
      }),
      { numRuns: 400 },
    );
    expect(parsed).toBeGreaterThan(0); // some mutations only touch digits or whitespace
  });
});
