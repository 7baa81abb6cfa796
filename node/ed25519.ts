/**
 * Ed25519 verification through node:crypto (OpenSSL), about 12× faster than @noble/ed25519, with
 * exactly noble's accept set (shared/protocol/frame.ts `setVerifier`).
 *
 * The two differ on purpose-built inputs, measured in test/node/ed25519.test.ts:
 * - OpenSSL accepts small-order and non-canonically encoded public keys; noble's strict mode
 *   (`zip215: false`) refuses them. So the public key is first checked with noble's own decoder
 *   (once per key, cached): small-order or non-canonical → refused.
 * - OpenSSL verifies cofactorless (it recomputes R and compares bytes); noble's strict mode uses the
 *   cofactored equation. A signature whose R carries a small-order component (only its signer can
 *   make one) passes noble and fails OpenSSL. So when OpenSSL says no, noble decides. Honest
 *   signatures never reach that path, and invalid ones (rare) cost one noble verification.
 * Result: accept(node verifier) = accept(noble strict), with OpenSSL's speed on the common path.
 */
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { setVerifier, type Verifier } from '../shared/protocol/frame';

ed.hashes.sha512 = sha512;

/** DER SubjectPublicKeyInfo prefix for an Ed25519 key (RFC 8410): SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING }. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

const nobleStrict: Verifier = (signature, message, publicKey) => {
  try {
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
};

const MAX_CACHED_KEYS = 4096;
/** hex(public key) → its KeyObject, or null when noble's strict decoder refuses the key. */
const keys = new Map<string, KeyObject | null>();

function keyObject(publicKey: Uint8Array): KeyObject | null {
  const id = Buffer.from(publicKey).toString('hex');
  const cached = keys.get(id);
  if (cached !== undefined) return cached;
  let result: KeyObject | null = null;
  try {
    const point = ed.Point.fromBytes(publicKey, false);
    if (!point.isSmallOrder()) {
      result = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
    }
  } catch {
    result = null;
  }
  if (keys.size >= MAX_CACHED_KEYS) keys.clear();
  keys.set(id, result);
  return result;
}

export const nodeVerifier: Verifier = (signature, message, publicKey) => {
  if (!(signature instanceof Uint8Array) || !(publicKey instanceof Uint8Array) || !(message instanceof Uint8Array)) return false;
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  const key = keyObject(publicKey);
  if (key === null) return false;
  let ok: boolean;
  try {
    ok = verify(null, message, key, signature);
  } catch {
    ok = false;
  }
  return ok || nobleStrict(signature, message, publicKey);
};

/** Installs the node:crypto verifier for every protocol message this process opens. */
export function installNodeVerifier(): void {
  setVerifier(nodeVerifier);
}
