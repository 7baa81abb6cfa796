/**
 * Ed25519 signing through node:crypto (OpenSSL), about 10× faster than @noble/ed25519
 * (shared/crypto/ed25519.ts `setSigner`). Ed25519 signatures are deterministic (RFC 8032 §5.1.6),
 * so OpenSSL and noble return the same 64 bytes for the same key and message; test/node/
 * ed25519-sign.test.ts checks that byte for byte.
 *
 * The private key object is made per signature from the seed (PKCS#8, RFC 8410) and not cached:
 * a cache would keep the custodian's key alive after the vault locks and wipes its seed.
 */
import { createPrivateKey, sign } from 'node:crypto';
import { setSigner, type Signer } from '../shared/crypto/ed25519';

/** DER PrivateKeyInfo prefix for an Ed25519 seed (RFC 8410): SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING (32) } }. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export const nodeSigner: Signer = (message, seed) => {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new TypeError(`An Ed25519 seed is 32 bytes; got ${seed instanceof Uint8Array ? String(seed.length) : typeof seed}.`);
  if (!(message instanceof Uint8Array)) throw new TypeError('The message to sign must be bytes.');
  const der = Buffer.concat([PKCS8_PREFIX, seed]);
  try {
    const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    const sig = sign(null, message, key);
    return new Uint8Array(sig.buffer, sig.byteOffset, sig.length);
  } finally {
    der.fill(0);
  }
};

/** Installs the node:crypto signer for every signature this process makes. */
export function installNodeSigner(): void {
  setSigner(nodeSigner);
}
