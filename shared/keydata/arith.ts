/**
 * Plain integer arithmetic over bigint for the tss-lib pre-params relations (Paillier key
 * N = P·Q, φ(N), λ(N) = lcm(P−1, Q−1); H2 = H1^α mod Ñ): gcd, lcm and modular powers. Variable
 * time: used to rebuild and check values, never to compute with them for a protocol.
 */
import { invert, pow } from '@noble/curves/abstract/modular.js';

export function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/** lcm of two positive integers. */
export function lcm(a: bigint, b: bigint): bigint {
  return (a / gcd(a, b)) * b;
}

/** base^exponent mod modulus, in [0, modulus). Throws unless modulus > 1 and exponent ≥ 0. */
export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  const r = pow(base, exponent, modulus) % modulus;
  return r < 0n ? r + modulus : r;
}

/** The inverse of a mod m, in [0, m). Throws if it does not exist. */
export function modInverse(a: bigint, m: bigint): bigint {
  return invert(a, m);
}
