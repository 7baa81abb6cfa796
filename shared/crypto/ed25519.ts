/**
 * Ed25519 (RFC 8032) for every Custos signature: one place where signing and verifying happen, so a
 * Node process can install node:crypto's implementation (about 10× faster) for both, and everything
 * else (frames, possession proofs, the vault's state) goes through it.
 *
 * The defaults are @noble/ed25519, which runs everywhere (shared/ stays pure: no `node:*` here).
 * A replacement must keep noble's behaviour exactly:
 * - a verifier accepts exactly what @noble/ed25519 accepts with `zip215: false` (node/ed25519.ts
 *   pre-checks keys with noble and falls back to it; tested against crafted disagreements);
 * - a signer returns the same 64 bytes (Ed25519 signing is deterministic, so any correct
 *   implementation does; node/ed25519-sign.ts is tested byte for byte against noble).
 */
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';

ed.hashes.sha512 = sha512;

export type Verifier = (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;
/** Signs `message` with the 32-byte RFC 8032 private key `seed`; returns the 64-byte signature. */
export type Signer = (message: Uint8Array, seed: Uint8Array) => Uint8Array;

export const nobleVerify: Verifier = (signature, message, publicKey) => {
  try {
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
};

export const nobleSign: Signer = (message, seed) => ed.sign(message, seed);

let verifier: Verifier = nobleVerify;
let signer: Signer = nobleSign;

/** Installs a verifier for every signature this process checks (null: back to noble). */
export function setVerifier(v: Verifier | null): void {
  verifier = v ?? nobleVerify;
}

/** Installs a signer for every signature this process makes (null: back to noble). */
export function setSigner(s: Signer | null): void {
  signer = s ?? nobleSign;
}

export function ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  return verifier(signature, message, publicKey);
}

export function ed25519Sign(message: Uint8Array, seed: Uint8Array): Uint8Array {
  return signer(message, seed);
}

export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  return ed.getPublicKey(seed);
}

export function ed25519Keygen(): { secretKey: Uint8Array; publicKey: Uint8Array } {
  return ed.keygen();
}
