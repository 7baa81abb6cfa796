// node:crypto's SHA-256 (node/sha256.ts) is the same function as @noble/hashes' (the renderer's),
// on the FIPS 180-2 vectors and on random input of every length around the 64-byte block; once
// installed, taggedHash and fileHash give what they gave with noble's, and plain Uint8Arrays.
import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../shared/bytes';
import { fileHash, setSha256, sha256Digest, taggedHash } from '../../shared/crypto/hash';
import { installNodeSha256, nodeSha256 } from '../../node/sha256';

afterEach(() => {
  setSha256(sha256);
});

describe('node:crypto SHA-256', () => {
  it('gives the FIPS 180-2 digests', () => {
    expect(toHex(nodeSha256(utf8('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(toHex(nodeSha256(new Uint8Array(0)))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(toHex(nodeSha256(utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  it('equals noble on random input, lengths 0–300 and envelope-sized, and returns a fresh plain Uint8Array', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ minLength: 3000, maxLength: 6000 })), (bytes) => {
        const d = nodeSha256(bytes);
        expect(Object.getPrototypeOf(d)).toBe(Uint8Array.prototype);
        expect(d).toHaveLength(32);
        expect(toHex(d)).toBe(toHex(sha256(bytes)));
      }),
      { numRuns: 500 },
    );
    const a = nodeSha256(utf8('x'));
    a.fill(0);
    expect(toHex(nodeSha256(utf8('x')))).toBe(toHex(sha256(utf8('x'))));
  });

  it('installed, taggedHash, fileHash and sha256Digest keep their values', () => {
    const input = utf8('custos');
    const before = [toHex(taggedHash('audit-entry', input, 'x', 7)), toHex(fileHash(input)), toHex(sha256Digest(input))];
    installNodeSha256();
    expect(sha256Digest(input)).not.toBeInstanceOf(Buffer);
    expect([toHex(taggedHash('audit-entry', input, 'x', 7)), toHex(fileHash(input)), toHex(sha256Digest(input))]).toEqual(before);
    // And the installed one is the one used: a different implementation changes the result.
    setSha256(() => new Uint8Array(32));
    expect(toHex(fileHash(input))).toBe('00'.repeat(32));
  });
});
