import { describe, expect, it } from 'vitest';
import {
  decodePublicContext,
  decodeSecretRecord,
  encodePublicContext,
  encodeSecretRecord,
  parseKeydata,
  publicContextFromPeer,
  publicContextHash,
  regenerateKeydata,
  splitKeydata,
  writeKeydata,
  type EcdsaKeydata,
  type EcdsaSecretRecord,
  type Keydata,
} from '../../shared/keydata';
import { ALL_FIXTURES, PARTIES, SCHEMES, expectCustosError, fixtureBytes, fixtureText, stripJsonWhitespace, text, utf8 } from './fixtures';

const load = (scheme: 'ecdsa' | 'eddsa', party: number): Keydata => parseKeydata(fixtureBytes(scheme, party));
const compact = (scheme: 'ecdsa' | 'eddsa', party: number): string => stripJsonWhitespace(fixtureText(scheme, party));
const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

describe('split → encode → decode → regenerate', () => {
  it.each(ALL_FIXTURES)('$scheme party $party: byte-identical', ({ scheme, party }) => {
    const { secret, context } = splitKeydata(load(scheme, party));
    expect(secret.index).toBe(party);
    const record = encodeSecretRecord(secret);
    const ctxBytes = encodePublicContext(context);
    const rebuilt = regenerateKeydata(decodeSecretRecord(record), decodePublicContext(ctxBytes));
    expect(text(writeKeydata(rebuilt))).toBe(compact(scheme, party));
    expect(decodeSecretRecord(record)).toEqual(secret);
    expect(encodeSecretRecord(decodeSecretRecord(record))).toEqual(record);
  });

  it('keeps the secret record small: 36–37 bytes for EdDSA, about 555 for ECDSA', () => {
    const sizes = SCHEMES.map((scheme) => PARTIES.map((party) => encodeSecretRecord(splitKeydata(load(scheme, party)).secret).length));
    expect(sizes).toEqual([
      [554, 555, 555],
      [36, 36, 37],
    ]);
  });

  it('lays the record out as documented (version, curve, then length-prefixed minimal integers)', () => {
    const k = load('eddsa', 1); // Xi of this party has 246 bits: 31 bytes
    const record = encodeSecretRecord(splitKeydata(k).secret);
    const xi = k.Xi.toString(16).padStart(62, '0');
    expect(xi).toHaveLength(62);
    expect(hex(record)).toBe(`0102` + `0101` + `1f${xi}`);
    const ecdsa = load('ecdsa', 0) as EcdsaKeydata;
    const r = encodeSecretRecord(splitKeydata(ecdsa).secret);
    expect(r[0]).toBe(1);
    expect(r[1]).toBe(1);
    expect(r[2]).toBe(0); // index 0 is the empty integer
    expect(r[3]).toBe(32); // Xi
    expect(hex(r.subarray(36, 38))).toBe('8001'); // 128 bytes as LEB128
    expect(hex(r.subarray(38, 38 + 128))).toBe(ecdsa.PaillierSK.P.toString(16));
  });

  it('gives every party of a key the same public context and hash', () => {
    for (const scheme of SCHEMES) {
      const encodings = PARTIES.map((p) => hex(encodePublicContext(splitKeydata(load(scheme, p)).context)));
      const hashes = PARTIES.map((p) => hex(publicContextHash(splitKeydata(load(scheme, p)).context)));
      expect(new Set(encodings).size).toBe(1);
      expect(new Set(hashes).size).toBe(1);
      expect(hashes[0]).toHaveLength(64);
    }
    expect(hex(publicContextHash(splitKeydata(load('ecdsa', 0)).context))).not.toBe(
      hex(publicContextHash(splitKeydata(load('eddsa', 0)).context)),
    );
  });

  it('refuses to split a file whose derivable values are inconsistent, naming the field', () => {
    const k = load('ecdsa', 0) as EcdsaKeydata;
    const error = expectCustosError(() => splitKeydata({ ...k, Beta: k.Beta + 1n }), 'KEYDATA_INVALID');
    expect(error.message).toContain('Beta');
    expectCustosError(() => splitKeydata({ ...k, PaillierSK: { ...k.PaillierSK, PhiN: 1n } }), 'KEYDATA_INVALID');
    expectCustosError(() => splitKeydata({ ...k, Xi: k.Xi + 1n }), 'KEYDATA_INVALID');
    expectCustosError(() => splitKeydata({ ...k, ShareID: 1n }), 'KEYDATA_INVALID');
  });
});

describe('regenerate from a peer', () => {
  it.each(ALL_FIXTURES)('$scheme party $party: rebuilt from every other party’s file', ({ scheme, party }) => {
    const { secret } = splitKeydata(load(scheme, party));
    const mine = load(scheme, party);
    for (const peer of PARTIES.filter((p) => p !== party)) {
      const byIndex = publicContextFromPeer(load(scheme, peer), party);
      const byShareId = publicContextFromPeer(load(scheme, peer), mine.ShareID);
      expect(text(writeKeydata(regenerateKeydata(secret, byIndex)))).toBe(compact(scheme, party));
      expect(text(writeKeydata(regenerateKeydata(secret, byShareId)))).toBe(compact(scheme, party));
    }
  });

  it('refuses an own party that is not in the peer’s key', () => {
    const peer = load('eddsa', 1);
    expectCustosError(() => publicContextFromPeer(peer, 5), 'INVALID_PARAMETERS');
    expectCustosError(() => publicContextFromPeer(peer, -1), 'INVALID_PARAMETERS');
    expectCustosError(() => publicContextFromPeer(peer, 1.5), 'INVALID_PARAMETERS');
    expectCustosError(() => publicContextFromPeer(peer, 12345n), 'KEYDATA_INVALID');
    expectCustosError(() => publicContextFromPeer(peer, '0' as unknown as number), 'INVALID_PARAMETERS');
  });

  it('refuses a secret record that does not belong to the context', () => {
    const ecdsa0 = splitKeydata(load('ecdsa', 0));
    const ecdsa1 = splitKeydata(load('ecdsa', 1));
    const eddsa0 = splitKeydata(load('eddsa', 0));
    // Party 0's secrets claiming to be party 1.
    expectCustosError(() => regenerateKeydata({ ...ecdsa0.secret, index: 1 }, ecdsa0.context), 'KEYDATA_INVALID');
    expectCustosError(() => regenerateKeydata({ ...eddsa0.secret, index: 1 }, eddsa0.context), 'KEYDATA_INVALID');
    expectCustosError(() => regenerateKeydata({ ...eddsa0.secret, index: 7 }, eddsa0.context), 'KEYDATA_INVALID');
    expectCustosError(() => regenerateKeydata(eddsa0.secret, ecdsa0.context), 'KEYDATA_INVALID');
    // Right Xi, wrong pre-params (party 1's), caught by the divisibility and H2 checks.
    const s1 = ecdsa1.secret as EcdsaSecretRecord;
    const s0 = ecdsa0.secret as EcdsaSecretRecord;
    expectCustosError(() => regenerateKeydata({ ...s0, paillierP: s1.paillierP }, ecdsa0.context), 'KEYDATA_INVALID');
    expectCustosError(() => regenerateKeydata({ ...s0, p: s1.p }, ecdsa0.context), 'KEYDATA_INVALID');
    expectCustosError(() => regenerateKeydata({ ...s0, alpha: s0.alpha + 1n }, ecdsa0.context), 'KEYDATA_INVALID');
    expectCustosError(() => regenerateKeydata({ ...s0, xi: 0n }, ecdsa0.context), 'INVALID_PARAMETERS');
  });
});

describe('decodeSecretRecord', () => {
  const record = (scheme: 'ecdsa' | 'eddsa', party = 1): Uint8Array => encodeSecretRecord(splitKeydata(load(scheme, party)).secret);

  it('refuses trailing bytes and every truncation', () => {
    for (const scheme of SCHEMES) {
      const r = record(scheme);
      expectCustosError(() => decodeSecretRecord(new Uint8Array([...r, 0])), 'MALFORMED');
      for (let cut = 0; cut < r.length; cut++) {
        expectCustosError(() => decodeSecretRecord(r.subarray(0, cut)), 'MALFORMED');
      }
    }
  });

  it('refuses unknown versions and curves', () => {
    const r = record('eddsa');
    for (const version of [0, 2, 255]) {
      expectCustosError(() => decodeSecretRecord(new Uint8Array([version, ...r.subarray(1)])), 'VERSION_UNSUPPORTED');
    }
    for (const curve of [0, 3, 255]) {
      expectCustosError(() => decodeSecretRecord(new Uint8Array([1, curve, ...r.subarray(2)])), 'MALFORMED');
    }
    // An ECDSA record relabelled as EdDSA has trailing fields.
    const e = record('ecdsa');
    expectCustosError(() => decodeSecretRecord(new Uint8Array([1, 2, ...e.subarray(2)])), 'MALFORMED');
  });

  it('refuses non-minimal integers and lengths, oversized and out-of-range fields', () => {
    const r = record('eddsa', 2); // 01 02 | 01 02 | 20 <32 bytes Xi>
    expect(Array.from(r.subarray(0, 5))).toEqual([1, 2, 1, 2, 32]);
    const xi = r.subarray(5);
    // Leading zero byte in Xi.
    expectCustosError(() => decodeSecretRecord(new Uint8Array([1, 2, 1, 2, 33, 0, ...xi])), 'MALFORMED');
    // Index 0 written as one zero byte instead of the empty integer.
    expectCustosError(() => decodeSecretRecord(new Uint8Array([1, 2, 1, 0, 32, ...xi])), 'MALFORMED');
    expect(decodeSecretRecord(new Uint8Array([1, 2, 0, 32, ...xi]))).toMatchObject({ curve: 'ed25519', index: 0 });
    // Length 32 written in two LEB128 bytes (0xa0 0x00).
    expectCustosError(() => decodeSecretRecord(new Uint8Array([1, 2, 1, 2, 0xa0, 0x00, ...xi])), 'MALFORMED');
    // Xi of 33 bytes.
    expectCustosError(() => decodeSecretRecord(new Uint8Array([1, 2, 1, 2, 33, 1, ...xi])), 'MALFORMED');
    // Xi = 0 (empty integer) is out of range.
    expectCustosError(() => decodeSecretRecord(new Uint8Array([1, 2, 1, 2, 0])), 'MALFORMED');
    // Index of two bytes.
    expectCustosError(() => decodeSecretRecord(new Uint8Array([1, 2, 2, 2, 0, 32, ...xi])), 'MALFORMED');
    expect(decodeSecretRecord(new Uint8Array([1, 2, 1, 2, 32, ...xi]))).toMatchObject({ curve: 'ed25519', index: 2 });
  });

  it('refuses non-bytes', () => {
    expectCustosError(() => decodeSecretRecord([1, 2] as unknown as Uint8Array), 'INVALID_PARAMETERS');
    expectCustosError(() => encodeSecretRecord({ curve: 'ed25519', index: -1, xi: 1n }), 'INVALID_PARAMETERS');
    expectCustosError(() => encodeSecretRecord({ curve: 'ed25519', index: 0, xi: 1n << 256n }), 'INVALID_PARAMETERS');
  });
});

describe('decodePublicContext', () => {
  const ctx = splitKeydata(load('eddsa', 0)).context;
  const bytes = encodePublicContext(ctx);

  it('reads its canonical encoding', () => {
    expect(text(bytes).startsWith('{"Custos":"keydata-public-context/v1","Curve":"ed25519","Ks":[')).toBe(true);
    expect(decodePublicContext(bytes)).toEqual(ctx);
  });

  it('refuses non-canonical, foreign and future encodings', () => {
    const t = text(bytes);
    expectCustosError(() => decodePublicContext(utf8(t.replace('{', '{ '))), 'MALFORMED');
    expectCustosError(() => decodePublicContext(utf8(t.replace('"Ks":[', '"Ks": ['))), 'MALFORMED');
    expectCustosError(() => decodePublicContext(utf8(t.replace('"Curve":"ed25519"', '"Curve":"secp256k1"'))), 'MALFORMED');
    expectCustosError(() => decodePublicContext(utf8(`${t.slice(0, -1)},"Extra":1}`)), 'MALFORMED');
    expectCustosError(() => decodePublicContext(utf8(t.replace('/v1', '/v2'))), 'VERSION_UNSUPPORTED');
    expectCustosError(() => decodePublicContext(fixtureBytes('eddsa', 0)), 'MALFORMED');
    const [, ks, rest] = /^(\{"Custos":"[^"]*","Curve":"ed25519",)(.*)$/.exec(t) ?? [];
    expect(ks).toBeDefined();
    expectCustosError(() => decodePublicContext(utf8(`{"Curve":"ed25519","Custos":"keydata-public-context/v1",${rest ?? ''}`)), 'MALFORMED');
  });
});
