/**
 * The deterministic generator behind fountain-code fragment choice (BCR-2020-005 §"Multipart URs",
 * as implemented by the Blockchain Commons reference `xoshiro256.cpp`): xoshiro256** 1.0 (Blackman &
 * Vigna) whose 256-bit state is SHA-256 of a seed, read as four big-endian 64-bit words. Encoder and
 * decoder must draw exactly the same numbers, so the floating-point steps mirror the reference
 * (uint64 → nearest double, divided by 2^64). Not a cryptographic generator and never used as one.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { assertBytes } from '../bytes';
import { CustosError } from '../errors';

const MASK64 = (1n << 64n) - 1n;
const TWO_POW_64 = 2 ** 64;

const rotl = (x: bigint, k: bigint): bigint => ((x << k) | (x >> (64n - k))) & MASK64;

export class Xoshiro256 {
  readonly #s: [bigint, bigint, bigint, bigint] = [0n, 0n, 0n, 0n];

  /** Seeds the state with SHA-256(`seed`). */
  constructor(seed: Uint8Array) {
    assertBytes(seed, 'Xoshiro256 seed');
    const digest = sha256(seed);
    for (let i = 0; i < 4; i++) {
      let v = 0n;
      for (let n = 0; n < 8; n++) v = (v << 8n) | BigInt(digest[i * 8 + n] ?? 0);
      this.#s[i] = v;
    }
  }

  /** The next 64-bit output. */
  next(): bigint {
    const s = this.#s;
    const result = (rotl((s[1] * 5n) & MASK64, 7n) * 9n) & MASK64;
    const t = (s[1] << 17n) & MASK64;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45n);
    return result;
  }

  /** A double in [0, 1): the next output converted to the nearest double, divided by 2^64. */
  nextDouble(): number {
    return Number(this.next()) / TWO_POW_64;
  }

  /** An integer in [low, high], both inclusive. */
  nextInt(low: number, high: number): number {
    if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high) || high < low) {
      throw new CustosError('INVALID_PARAMETERS', `nextInt needs integers low <= high; got ${String(low)} and ${String(high)}.`);
    }
    return Math.floor(this.nextDouble() * (high - low + 1)) + low;
  }

  /** `count` bytes, each nextInt(0, 255) (the reference `next_data`, used to make test messages). */
  nextData(count: number): Uint8Array {
    if (!Number.isSafeInteger(count) || count < 0) {
      throw new CustosError('INVALID_PARAMETERS', `nextData count must be a non-negative integer; got ${String(count)}.`);
    }
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) out[i] = this.nextInt(0, 255);
    return out;
  }
}
