/**
 * SHA-256 through node:crypto (OpenSSL) for shared/crypto/hash.ts (`setSha256`): the same function
 * as @noble/hashes' (test/node/sha256.test.ts), several times faster on envelope-sized input.
 */
import { createHash } from 'node:crypto';
import { setSha256, type Sha256 } from '../shared/crypto/hash';

export const nodeSha256: Sha256 = (bytes) => {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('SHA-256 takes bytes.');
  // A plain Uint8Array copy of the digest, never a Buffer (callers compare and encode it as bytes).
  return new Uint8Array(createHash('sha256').update(bytes).digest());
};

export function installNodeSha256(): void {
  setSha256(nodeSha256);
}
