// node:crypto's Ed25519 verifier agrees with @noble/ed25519 (strict, zip215: false) on valid and
// invalid signatures, including the inputs where raw OpenSSL and noble differ: small-order and
// non-canonical public keys (OpenSSL accepts, noble refuses) and a signature whose R carries a
// small-order component (noble's cofactored check accepts, OpenSSL's cofactorless check refuses).
import { createPublicKey, verify } from 'node:crypto';
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { concatBytes, randomBytes } from '../../shared/bytes';
import { decodeCanonical, encodeCanonical } from '../../shared/protocol/cbor';
import { setVerifier } from '../../shared/protocol/frame';
import { openAgentCard } from '../../shared/protocol/identity';
import { installNodeVerifier, nodeVerifier } from '../../node/ed25519';
import { makeAgent } from '../custodian/helpers';

ed.hashes.sha512 = sha512;

const noble = (sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): boolean => {
  try {
    return ed.verify(sig, msg, pk, { zip215: false });
  } catch {
    return false;
  }
};
const rawOpenSsl = (sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): boolean => {
  try {
    return verify(null, msg, createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pk]), format: 'der', type: 'spki' }), sig);
  } catch {
    return false;
  }
};

const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const le = (n: bigint): Uint8Array => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(n & 255n);
    n >>= 8n;
  }
  return out;
};
const fromLe = (b: Uint8Array): bigint => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n);
const modL = (n: bigint): bigint => ((n % L) + L) % L;

afterEach(() => {
  setVerifier(null);
});

describe('node:crypto Ed25519 verifier', () => {
  it('agrees with noble on valid signatures and on every single-bit change (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.nat(), fc.constantFrom('sig', 'msg', 'key', 'none'), (msg, bit, where) => {
        const { secretKey, publicKey } = ed.keygen();
        const sig = ed.sign(msg, secretKey);
        const s = Uint8Array.from(sig);
        const m = Uint8Array.from(msg);
        const k = Uint8Array.from(publicKey);
        if (where === 'sig') s[bit % 64]! ^= 1 << bit % 8;
        if (where === 'msg' && m.length > 0) m[bit % m.length]! ^= 1 << bit % 8;
        if (where === 'key') k[bit % 32]! ^= 1 << bit % 8;
        const expected = noble(s, m, k);
        expect(nodeVerifier(s, m, k)).toBe(expected);
        if (where === 'none' || (where === 'msg' && m.length === 0)) expect(expected).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees where raw OpenSSL and noble differ', () => {
    const msg = new Uint8Array([1, 2, 3]);
    const { secretKey, publicKey } = ed.keygen();
    const sig = ed.sign(msg, secretKey);

    // s + L (non-reduced scalar): both refuse.
    const sPlusL = concatBytes(sig.subarray(0, 32), le(fromLe(sig.subarray(32)) + L));
    expect([noble(sPlusL, msg, publicKey), rawOpenSsl(sPlusL, msg, publicKey), nodeVerifier(sPlusL, msg, publicKey)]).toEqual([false, false, false]);

    // The identity point as public key, R = identity, s = 0: OpenSSL accepts, noble (and we) refuse.
    const identity = new Uint8Array(32);
    identity[0] = 1;
    const trivial = new Uint8Array(64);
    trivial[0] = 1;
    expect(rawOpenSsl(trivial, msg, identity)).toBe(true);
    expect(noble(trivial, msg, identity)).toBe(false);
    expect(nodeVerifier(trivial, msg, identity)).toBe(false);

    // A non-canonical encoding of the identity (y = p + 1): same.
    const nonCanonical = new Uint8Array(32).fill(0xff);
    nonCanonical[0] = 0xee;
    nonCanonical[31] = 0x7f;
    expect(rawOpenSsl(trivial, msg, nonCanonical)).toBe(true);
    expect(nodeVerifier(trivial, msg, nonCanonical)).toBe(false);

    // R with a small-order component, made by the key holder: R' = rB + T, s = r + H(R'‖A‖M)·a.
    const { scalar } = ed.utils.getExtendedPublicKey(secretKey);
    const torsion = ed.Point.fromBytes(Buffer.from('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', 'hex'), false);
    expect(torsion.isSmallOrder()).toBe(true);
    const r = modL(fromLe(randomBytes(32)));
    const R = ed.Point.BASE.multiply(r).add(torsion).toBytes();
    const k = modL(fromLe(sha512(concatBytes(R, publicKey, msg))));
    const mixed = concatBytes(R, le(modL(r + k * scalar)));
    expect(noble(mixed, msg, publicKey)).toBe(true);
    expect(rawOpenSsl(mixed, msg, publicKey)).toBe(false);
    expect(nodeVerifier(mixed, msg, publicKey)).toBe(true);

    // Wrong lengths.
    expect(nodeVerifier(sig.subarray(1), msg, publicKey)).toBe(false);
    expect(nodeVerifier(sig, msg, publicKey.subarray(1))).toBe(false);
  });

  it('is what protocol messages are opened with once installed', () => {
    const agent = makeAgent();
    installNodeVerifier();
    expect(openAgentCard(agent.card).body.name).toBe('agent node-1');
    const frame = decodeCanonical(agent.card) as { s: Uint8Array };
    frame.s[10]! ^= 1;
    expect(() => openAgentCard(encodeCanonical(frame))).toThrow(/signature/);
  });
});
