/**
 * Hashes with domain separation (docs/protocol.md §3.2). Every hash Custos computes over structured
 * input is `SHA-256(label || 0x00 || len(part1) || part1 || ...)`, with `label` =
 * "custos/v1/<purpose>" and each part prefixed by its 4-byte big-endian length, so that no two
 * purposes and no two ways of splitting the same bytes into parts can collide.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { assertBytes, concatBytes, utf8 } from '../bytes';
import { CustosError } from '../errors';

export const LABEL_PREFIX = 'custos/v1/';

/** A SHA-256 implementation: the bytes in, the 32-byte digest out (a fresh array). */
export type Sha256 = (bytes: Uint8Array) => Uint8Array;

let sha256Impl: Sha256 = sha256;

/**
 * Node processes (the app's main process, the CLIs, the agent) install node:crypto's SHA-256
 * (OpenSSL, node/crypto-install.ts), several times faster than @noble/hashes' on envelope-sized input
 * (issue 10: an import hashes every envelope three times); the renderer keeps noble's. Both compute
 * the same function, checked against each other and the FIPS 180-2 vectors in test/node/crypto-install.test.ts.
 */
export function setSha256(implementation: Sha256): void {
  sha256Impl = implementation;
}

export type HashPart = Uint8Array | string | number;

function encodePart(part: HashPart): Uint8Array {
  let bytes: Uint8Array;
  if (typeof part === 'string') bytes = utf8(part);
  else if (typeof part === 'number') {
    if (!Number.isSafeInteger(part) || part < 0) throw new CustosError('INVALID_PARAMETERS', `A hashed number must be a non-negative integer; got ${String(part)}.`);
    bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(part));
  } else {
    assertBytes(part, 'hash input');
    bytes = part;
  }
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, bytes.length);
  return concatBytes(len, bytes);
}

export function domainLabel(purpose: string): Uint8Array {
  if (!/^[a-z0-9][a-z0-9/-]*$/.test(purpose)) throw new CustosError('INVALID_PARAMETERS', `Bad hash purpose "${purpose}".`);
  return concatBytes(utf8(LABEL_PREFIX + purpose), new Uint8Array([0]));
}

/** SHA-256 over a purpose label and length-prefixed parts. */
export function taggedHash(purpose: string, ...parts: readonly HashPart[]): Uint8Array {
  return sha256Impl(concatBytes(domainLabel(purpose), ...parts.map(encodePart)));
}

/** Plain SHA-256 of a whole file, so anyone can recompute it with `sha256sum`. */
export function fileHash(bytes: Uint8Array): Uint8Array {
  assertBytes(bytes, 'file');
  return sha256Impl(bytes);
}
