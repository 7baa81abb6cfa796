/**
 * Proof of possession of a share without revealing it (docs/protocol.md §4.9, inventory).
 *
 * When the agent splits a secret it derives, for every share, an Ed25519 "possession key":
 *   seed = HKDF-SHA256(ikm = share, salt = set_id, info = "custos/v1/possession-key" || epoch || index)
 * and publishes only its public key in the signed manifest. A custodian who still holds the share
 * derives the same key and signs the agent's fresh challenge with it. The agent verifies against the
 * manifest without ever holding the share again; the signature reveals nothing about the share
 * beyond what the public key already does (HKDF output is pseudorandom).
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { assertBytes, concatBytes, utf8, wipe } from '../bytes';
import { CustosError } from '../errors';
import { ed25519PublicKey, ed25519Sign, ed25519Verify } from './ed25519';
import { taggedHash } from './hash';
import type { SetBinding } from './shamir';

function seedFor(b: SetBinding, index: number, share: Uint8Array): Uint8Array {
  assertBytes(share, 'share');
  assertBytes(b.setId, 'set id', 16);
  if (!Number.isInteger(index) || index < 1 || index > 255) throw new CustosError('INVALID_PARAMETERS', `A share index is 1..255; got ${String(index)}.`);
  const info = concatBytes(utf8('custos/v1/possession-key'), new Uint8Array([0]), u32(b.epoch), new Uint8Array([index]));
  return hkdf(sha256, share, b.setId, info, 32);
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

export function possessionPublicKey(b: SetBinding, index: number, share: Uint8Array): Uint8Array {
  const seed = seedFor(b, index, share);
  try {
    return ed25519PublicKey(seed);
  } finally {
    wipe(seed);
  }
}

const proofMessage = (challengeHash: Uint8Array, b: SetBinding, index: number): Uint8Array =>
  taggedHash('possession-proof', challengeHash, b.setId, b.epoch, index);

export function provePossession(challengeHash: Uint8Array, b: SetBinding, index: number, share: Uint8Array): Uint8Array {
  assertBytes(challengeHash, 'challenge hash', 32);
  const seed = seedFor(b, index, share);
  try {
    return ed25519Sign(proofMessage(challengeHash, b, index), seed);
  } finally {
    wipe(seed);
  }
}

export function verifyPossession(proof: Uint8Array, challengeHash: Uint8Array, b: SetBinding, index: number, publicKey: Uint8Array): boolean {
  if (proof.length !== 64 || publicKey.length !== 32 || challengeHash.length !== 32) return false;
  // Through the installed verifier (node:crypto in a Node process), with noble's accept set.
  return ed25519Verify(proof, proofMessage(challengeHash, b, index), publicKey);
}
