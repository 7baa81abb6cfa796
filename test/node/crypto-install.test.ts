// node:crypto's SHA-256 and ChaCha20-Poly1305 (node/crypto-install.ts) are the same functions as
// @noble's (the renderer's): SHA-256 on the FIPS 180-2 vectors and on random input, ChaCha20-Poly1305
// on random keys, nonces and plaintexts across the age chunk size; once installed, taggedHash and
// fileHash give what they gave, and age files sealed by AgeResealer open with typage and the `age` CLI.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../shared/bytes';
import { fileHash, setSha256, taggedHash } from '../../shared/crypto/hash';
import { AgeResealer, generateAgeKeyPair, openSealed, setChachaSeal } from '../../shared/crypto/seal';
import { installNodeCrypto, nodeChachaSeal, nodeSha256 } from '../../node/crypto-install';

const nobleSeal = (key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Uint8Array => chacha20poly1305(key, nonce).encrypt(plaintext);
const hasAgeCli = spawnSync('age', ['--version'], { encoding: 'utf8' }).status === 0;

afterEach(() => {
  setSha256(sha256);
  setChachaSeal(nobleSeal);
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

  it('installed, taggedHash and fileHash keep their values', () => {
    const input = utf8('custos');
    const before = [toHex(taggedHash('audit-entry', input, 'x', 7)), toHex(fileHash(input))];
    installNodeCrypto();
    expect(fileHash(input)).not.toBeInstanceOf(Buffer);
    expect([toHex(taggedHash('audit-entry', input, 'x', 7)), toHex(fileHash(input))]).toEqual(before);
    // And the installed one is the one used: a different implementation changes the result.
    setSha256(() => new Uint8Array(32));
    expect(toHex(fileHash(input))).toBe('00'.repeat(32));
  });
});

describe('node:crypto ChaCha20-Poly1305 sealing', () => {
  it('equals noble on random keys, nonces and plaintexts (empty, short, around 64 KiB)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.oneof(
          { weight: 6, arbitrary: fc.uint8Array({ maxLength: 200 }) },
          { weight: 1, arbitrary: fc.integer({ min: 65536 - 3, max: 65536 + 3 }).map((n) => new Uint8Array(n).map((_, i) => (i * 31) & 255)) },
        ),
        (key, nonce, plaintext) => {
          const got = nodeChachaSeal(key, nonce, plaintext);
          expect(Object.getPrototypeOf(got)).toBe(Uint8Array.prototype);
          expect(toHex(got)).toBe(toHex(nobleSeal(key, nonce, plaintext)));
          expect(chacha20poly1305(key, nonce).decrypt(got)).toEqual(plaintext);
        },
      ),
      { numRuns: 140 },
    );
  });

  it('refuses a key or nonce of the wrong size', () => {
    expect(() => nodeChachaSeal(new Uint8Array(31), new Uint8Array(12), new Uint8Array(1))).toThrow(/32-byte key/);
    expect(() => nodeChachaSeal(new Uint8Array(32), new Uint8Array(8), new Uint8Array(1))).toThrow(/12-byte nonce/);
  });

  it('installed, AgeResealer writes age files that typage and the age CLI open', async () => {
    installNodeCrypto();
    const me = await generateAgeKeyPair();
    const r = await AgeResealer.forRecipient(me.recipient);
    const plain = new Uint8Array(3 * 65536 + 100).map((_, i) => (i * 7) & 255);
    const files = [r.seal(plain), await r.sealPieces([plain.subarray(0, 70000), plain.subarray(70000)], () => Promise.resolve())];
    for (const f of files) expect(await openSealed(me.identity, f, 'record')).toEqual(plain);
    if (!hasAgeCli) return; // .ci/run installs age; a developer machine without it still runs the typage check above
    const dir = mkdtempSync(join(tmpdir(), 'custos-chacha-'));
    try {
      writeFileSync(join(dir, 'id.txt'), `${me.identity}\n`);
      for (const [i, f] of files.entries()) {
        writeFileSync(join(dir, `f${String(i)}.age`), f);
        const out = spawnSync('age', ['-d', '-i', join(dir, 'id.txt'), join(dir, `f${String(i)}.age`)]);
        expect(out.status).toBe(0);
        expect(new Uint8Array(out.stdout)).toEqual(plain);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
