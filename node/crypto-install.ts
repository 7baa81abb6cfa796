/**
 * node:crypto (OpenSSL) for the primitives shared/ runs hot in Node processes (the app's main
 * process, the CLIs, the agent, the drill, the benches), all installed by the one call
 * `installNodeCrypto`; the renderer keeps @noble's. Each is the same function as its @noble
 * counterpart:
 * - Ed25519 verification and signing (node/ed25519.ts, node/ed25519-sign.ts; their tests);
 * - SHA-256 for shared/crypto/hash.ts (`setSha256`): an import hashes every envelope three times;
 *   noble's took 67 µs per 4 KB envelope, OpenSSL's 5 µs;
 * - ChaCha20-Poly1305 sealing for shared/crypto/seal.ts (`setChachaSeal`): the age payloads of the
 *   vault's records (a save after a 1,000-envelope import seals about 5 MB).
 * The last two are checked in test/node/crypto-install.test.ts.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { setSha256, type Sha256 } from '../shared/crypto/hash';
import { setChachaSeal, type ChachaSeal } from '../shared/crypto/seal';
import { installNodeVerifier } from './ed25519';
import { installNodeSigner } from './ed25519-sign';

export const nodeSha256: Sha256 = (bytes) => {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('SHA-256 takes bytes.');
  // A plain Uint8Array copy of the digest, never a Buffer (callers compare and encode it as bytes).
  return new Uint8Array(createHash('sha256').update(bytes).digest());
};

export const nodeChachaSeal: ChachaSeal = (key, nonce, plaintext) => {
  if (key.length !== 32 || nonce.length !== 12) throw new TypeError('ChaCha20-Poly1305 takes a 32-byte key and a 12-byte nonce.');
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  const body = c.update(plaintext);
  const tail = c.final();
  const tag = c.getAuthTag();
  const out = new Uint8Array(body.length + tail.length + 16);
  out.set(body, 0);
  out.set(tail, body.length);
  out.set(tag, body.length + tail.length);
  return out;
};

export function installNodeCrypto(): void {
  installNodeVerifier();
  installNodeSigner();
  setSha256(nodeSha256);
  setChachaSeal(nodeChachaSeal);
}
