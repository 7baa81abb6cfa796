// identity.age's Ed25519 public key is derived with node:crypto at unlock (vault-identity.ts
// signingKeyOf: noble's first getPublicKey in a process stalled the unlock for 90–120 ms). It must be
// exactly noble's (RFC 8032 §5.1.5) for every seed, and a wrong length is refused.
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../shared/bytes';
import { signingKeyFromSeed } from '../../shared/protocol/frame';
import { signingKeyOf } from '../../main/services/vault-identity';

describe('vault identity: the Ed25519 public key through node:crypto', () => {
  it('gives the same public key as @noble/ed25519 (RFC 8032 test 1 and 200 random seeds)', () => {
    // RFC 8032 §7.1 TEST 1.
    const rfc = signingKeyOf(new Uint8Array(Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex')));
    expect(Buffer.from(rfc.publicKey).toString('hex')).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    for (let i = 0; i < 200; i++) {
      const seed = randomBytes(32);
      const ours = signingKeyOf(seed);
      expect(ours.publicKey).toEqual(signingKeyFromSeed(seed).publicKey);
      expect(ours.seed).toEqual(seed);
      expect(ours.seed).not.toBe(seed);
    }
  });

  it('refuses a seed that is not 32 bytes', () => {
    expect(() => signingKeyOf(new Uint8Array(31))).toThrow();
    expect(() => signingKeyOf(new Uint8Array(33))).toThrow();
  });
});
