// Issue 12: the recovered keydata's group public key in the forms a person compares: compressed
// point, for secp256k1 an Ethereum-style address (EIP-55), for ed25519 the base58 key. Checked
// against published vectors, against node:crypto's own point encoding, and on the real tss-lib
// fixtures (all three parties of each key give the same group key; the agent's fingerprint agrees).
import { createPublicKey, createECDH } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { fromHex, toHex } from '../../shared/bytes';
import { RECOVERY_CHECK_NAMES, eip55, groupKeyFromEncoding, groupKeyFromPoint, groupKeyOf, parseKeydata, publicContextOf, recoveryChecks, selfCheck, SELF_CHECK_NAMES } from '../../shared/keydata';
import { groupKeyFingerprint } from '../../agent/keyshare/key-view';
import { fixtureBytes } from './fixtures';

const fixture = (curve: 'ecdsa' | 'eddsa', i: number) => parseKeydata(fixtureBytes(curve, i));

/** Base58 (Bitcoin alphabet) by the textbook big-integer method: an independent check of @scure/base. */
function base58Reference(bytes: Uint8Array): string {
  const A = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
  let n = BigInt(`0x${toHex(bytes) || '0'}`);
  let out = '';
  while (n > 0n) {
    out = A[Number(n % 58n)]! + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = `1${out}`;
  }
  return out;
}

describe('group public key', () => {
  it('secp256k1: the Ethereum address of well-known keys (private key 1 and 2) and the EIP-55 vectors', () => {
    for (const [priv, address] of [
      [1n, '0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf'],
      [2n, '0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF'],
    ] as const) {
      const p = secp256k1.Point.BASE.multiply(priv).toAffine();
      expect(groupKeyFromPoint('secp256k1', { Curve: 'secp256k1', Coords: [p.x, p.y] }).address).toBe(address);
    }
    // EIP-55's own examples.
    for (const a of ['0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359', '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB', '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb']) {
      expect(eip55(fromHex(a.slice(2).toLowerCase()))).toBe(a);
    }
  });

  it('secp256k1: the compressed point is the one node:crypto (OpenSSL) writes for the same key', () => {
    const ecdh = createECDH('secp256k1');
    ecdh.generateKeys();
    const uncompressed = ecdh.getPublicKey();
    const p = secp256k1.Point.fromBytes(uncompressed).toAffine();
    const g = groupKeyFromPoint('secp256k1', { Curve: 'secp256k1', Coords: [p.x, p.y] });
    expect(g.compressed).toBe(ecdh.getPublicKey('hex', 'compressed'));
    expect(groupKeyFromEncoding('secp256k1', g.compressed)).toEqual(g);
  });

  it('ed25519: the RFC 8032 encoding (test 1 of §7.1) and its base58', () => {
    const pub = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
    const g = groupKeyFromEncoding('ed25519', pub);
    expect(g.compressed).toBe(pub);
    expect(g.base58).toBe(base58Reference(fromHex(pub)));
    // node:crypto agrees on the point: its SPKI of the RFC's secret key ends with these bytes.
    const der = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', d: Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex').toString('base64url'), x: Buffer.from(pub, 'hex').toString('base64url') }, format: 'jwk' }).export({ format: 'der', type: 'spki' });
    expect(toHex(der.subarray(-32))).toBe(pub);
    expect(toHex(ed25519.getPublicKey(fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60')))).toBe(pub);
  });

  it('the real tss-lib fixtures: every party gives the same group key, and the agent fingerprint agrees', () => {
    for (const curve of ['ecdsa', 'eddsa'] as const) {
      const keys = [0, 1, 2].map((i) => groupKeyOf(fixture(curve, i)));
      expect(new Set(keys.map((k) => k.compressed)).size).toBe(1);
      const k = keys[0]!;
      const kd = fixture(curve, 0);
      expect(groupKeyOf(publicContextOf(kd))).toEqual(k);
      const point = kd.curve === 'secp256k1' ? kd.ECDSAPub : kd.EDDSAPub;
      expect(k.fingerprint).toBe(groupKeyFingerprint(kd.curve, point));
      if (curve === 'ecdsa') {
        expect(k.compressed).toMatch(/^0[23][0-9a-f]{64}$/);
        expect(k.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
        expect(eip55(fromHex(k.address!.slice(2).toLowerCase()))).toBe(k.address);
        expect(k.base58).toBeUndefined();
      } else {
        expect(k.compressed).toMatch(/^[0-9a-f]{64}$/);
        expect(k.base58).toBe(base58Reference(fromHex(k.compressed)));
        expect(k.address).toBeUndefined();
      }
      console.log(`${curve} fixture group key: ${k.compressed} ${k.address ?? k.base58 ?? ''}`);
    }
  });

  it('refuses a point off the curve, with a coded error', () => {
    expect(() => groupKeyFromPoint('secp256k1', { Curve: 'secp256k1', Coords: [1n, 1n] })).toThrow(expect.objectContaining({ code: 'KEYDATA_INVALID' }));
    expect(() => groupKeyFromEncoding('ed25519', '00'.repeat(31))).toThrow(expect.objectContaining({ code: 'KEYDATA_INVALID' }));
  });

  it('one list of recovery checks: the 16 self-checks and matchesImported, 17 in all', () => {
    expect(RECOVERY_CHECK_NAMES).toHaveLength(SELF_CHECK_NAMES.length + 1);
    const checks = recoveryChecks(selfCheck(fixture('ecdsa', 1)).checks, true);
    expect(checks.map((c) => c.name)).toEqual([...RECOVERY_CHECK_NAMES]);
    expect(checks.every((c) => c.ok)).toBe(true);
    expect(recoveryChecks(checks, false).at(-1)).toEqual({ name: 'matchesImported', ok: false });
    expect(recoveryChecks(checks, false)).toHaveLength(RECOVERY_CHECK_NAMES.length);
  });
});
