// The node:crypto signer (node/ed25519-sign.ts) returns exactly noble's signature (Ed25519 is
// deterministic), and everything that signs in shared/ goes through the installed signer and
// verifier (frames, possession proofs), so installing node:crypto changes speed, never bytes.
import { randomBytes } from 'node:crypto';
import * as ed from '@noble/ed25519';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeSigner, installNodeSigner } from '../../node/ed25519-sign';
import { ed25519Sign, nobleSign, setSigner, setVerifier } from '../../shared/crypto/ed25519';
import { possessionPublicKey, provePossession, verifyPossession } from '../../shared/crypto/possession';
import { generateSigningKey, signBytes, verifyBytes } from '../../shared/protocol/frame';
import { Decrypter } from 'age-encryption';
import { AgeResealer, ageOpener, generateAgeKeyPair, openSealed, sealTo } from '../../shared/crypto/seal';
import { codeOf } from './helpers';

afterEach(() => {
  setSigner(null);
  setVerifier(null);
});

describe('node:crypto Ed25519 signer', () => {
  it('gives noble\'s exact signature for random keys and messages of every size', () => {
    for (let i = 0; i < 200; i++) {
      const seed = new Uint8Array(randomBytes(32));
      const msg = new Uint8Array(randomBytes(i * 37));
      expect(Buffer.from(nodeSigner(msg, seed)).toString('hex'), `case ${String(i)}`).toBe(Buffer.from(ed.sign(msg, seed)).toString('hex'));
    }
  });

  it('refuses a seed that is not 32 bytes, and does not change the seed', () => {
    expect(() => nodeSigner(new Uint8Array(1), new Uint8Array(31))).toThrow(/32 bytes/);
    const seed = new Uint8Array(randomBytes(32));
    const copy = Uint8Array.from(seed);
    nodeSigner(new Uint8Array(5), seed);
    expect(seed).toEqual(copy);
  });

  it('is what frames and possession proofs use once installed (counted), with the same bytes', () => {
    const key = generateSigningKey();
    const body = new Uint8Array(randomBytes(300));
    const before = signBytes('receipt', body, key);
    let calls = 0;
    setSigner((m, s) => {
      calls++;
      return nodeSigner(m, s);
    });
    expect(signBytes('receipt', body, key)).toEqual(before);
    const binding = { setId: new Uint8Array(randomBytes(16)), epoch: 1 };
    const share = new Uint8Array(randomBytes(33));
    const challenge = new Uint8Array(randomBytes(32));
    const proof = provePossession(challenge, binding, 2, share);
    expect(calls).toBe(2);
    let verified = 0;
    setVerifier((sig, m, k) => {
      verified++;
      return ed.verify(sig, m, k, { zip215: false });
    });
    expect(verifyPossession(proof, challenge, binding, 2, possessionPublicKey(binding, 2, share))).toBe(true);
    expect(verifyBytes('receipt', body, before, key.publicKey)).toBe(true);
    expect(verified).toBe(2);
    installNodeSigner();
    expect(ed25519Sign(body, key.seed)).toEqual(nobleSign(body, key.seed));
  });
});

describe('age opener: one imported identity for many files', () => {
  it('opens what openSealed opens, and refuses the same way', async () => {
    const me = await generateAgeKeyPair();
    const other = await generateAgeKeyPair();
    const opener = await ageOpener(me.identity);
    for (let i = 0; i < 5; i++) {
      const plain = new Uint8Array(randomBytes(i * 1000));
      const sealed = await sealTo(me.recipient, plain);
      expect(await opener.open(sealed)).toEqual(plain);
      expect(await openSealed(opener, sealed)).toEqual(plain);
    }
    const notMine = await sealTo(other.recipient, new Uint8Array(10));
    expect(await codeOf(() => opener.open(notMine))).toBe('DECRYPT_FAILED');
    expect(await codeOf(() => openSealed(me.identity, notMine))).toBe('DECRYPT_FAILED');
    expect(await codeOf(() => opener.open(new Uint8Array(10)))).toBe('MALFORMED');
    expect(await codeOf(() => ageOpener('AGE-SECRET-KEY-1NOTAKEY'))).toBe('INVALID_PARAMETERS');
  });

  it('a resealer writes standard age files under one header, each with its own nonce, of every size', async () => {
    const me = await generateAgeKeyPair();
    const r = await AgeResealer.forRecipient(me.recipient);
    const typage = new Decrypter();
    typage.addIdentity(me.identity);
    const seen = new Set<string>();
    for (const size of [0, 1, 1000, 65536, 65537, 200_000]) {
      const plain = new Uint8Array(randomBytes(size));
      const a = r.seal(plain);
      const b = r.seal(plain);
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
      expect(await openSealed(me.identity, a)).toEqual(plain);
      expect(await typage.decrypt(b, 'uint8array')).toEqual(plain);
      seen.add(Buffer.from(a.subarray(0, a.length - plain.length - 16 * Math.ceil(Math.max(1, size) / 65536) - 16)).toString('hex'));
    }
    // One header for all of them.
    expect(seen.size).toBe(1);
    // Another identity cannot open them; a flipped byte is refused.
    const other = await generateAgeKeyPair();
    const sealed = r.seal(new Uint8Array(10));
    expect(await codeOf(() => openSealed(other.identity, sealed))).toBe('DECRYPT_FAILED');
    sealed[sealed.length - 3]! ^= 1;
    expect(await codeOf(() => openSealed(me.identity, sealed))).toBe('DECRYPT_FAILED');
    r.wipe();
  });
});
