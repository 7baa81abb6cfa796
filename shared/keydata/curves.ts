/**
 * The two groups tss-lib keydata lives in, behind one small interface: secp256k1 (SEC 2 §2.4.1,
 * tss-lib ECDSA) and edwards25519 (RFC 8032 §5.1, tss-lib EdDSA; coordinates are the
 * twisted-Edwards affine x, y). Points come in as tss-lib's affine decimal coordinates; scalars are
 * reduced mod the group order n (tss-lib's `Ks` may exceed n). Backed by @noble/curves.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { CurvePoint, CurvePointCons } from '@noble/curves/abstract/curve.js';
import { invert, mod } from '@noble/curves/abstract/modular.js';

export type CurveName = 'secp256k1' | 'ed25519';
export const CURVE_NAMES: readonly CurveName[] = ['secp256k1', 'ed25519'];

/** A prime-order group with opaque points `P`. */
export interface Group<P> {
  readonly name: CurveName;
  /** The group order n. */
  readonly order: bigint;
  /** The base field prime p (coordinates are in [0, p)). */
  readonly fieldPrime: bigint;
  readonly zero: P;
  /** The point with these affine coordinates, or null unless it is a valid, non-identity subgroup point. */
  fromCoords(x: bigint, y: bigint): P | null;
  add(a: P, b: P): P;
  /** k·A for a public k (any integer, reduced mod n; 0 gives the identity). Variable time. */
  mulPublic(a: P, k: bigint): P;
  /** k·G for a secret k (reduced mod n; 0 gives the identity). Constant time in noble. */
  mulBase(k: bigint): P;
  equals(a: P, b: P): boolean;
}

/** A noble point constructor over a prime field with bigint coordinates. */
type PointCons<P extends CurvePoint<bigint, P>> = CurvePointCons<P> & { fromAffine(p: { x: bigint; y: bigint }): P };

function makeGroup<P extends CurvePoint<bigint, P>>(name: CurveName, Point: PointCons<P>): Group<P> {
  const n = Point.Fn.ORDER;
  const p = Point.Fp.ORDER;
  return {
    name,
    order: n,
    fieldPrime: p,
    zero: Point.ZERO,
    fromCoords(x, y) {
      if (x < 0n || x >= p || y < 0n || y >= p) return null;
      try {
        const pt = Point.fromAffine({ x, y });
        pt.assertValidity();
        if (pt.is0() || !pt.isTorsionFree()) return null;
        return pt;
      } catch {
        return null;
      }
    },
    add: (a, b) => a.add(b),
    mulPublic(a, k) {
      const r = mod(k, n);
      return r === 0n ? Point.ZERO : a.multiplyUnsafe(r);
    },
    mulBase(k) {
      const r = mod(k, n);
      return r === 0n ? Point.ZERO : Point.BASE.multiply(r);
    },
    equals: (a, b) => a.equals(b),
  };
}

const SECP256K1 = makeGroup('secp256k1', secp256k1.Point);
const ED25519 = makeGroup('ed25519', ed25519.Point);

/** The group for a curve name. Points of one group must not be passed to the other. */
export function groupOf(curve: CurveName): Group<unknown> {
  return curve === 'secp256k1' ? SECP256K1 : ED25519;
}

/**
 * Lagrange coefficients at 0 for the x-coordinates `xs` (mod n):
 * λ_j = Π_{m≠j} x_m / (x_m − x_j). Throws if two x are equal mod n (no inverse).
 */
export function lagrangeAtZero(xs: readonly bigint[], n: bigint): bigint[] {
  return xs.map((xj, j) => {
    let num = 1n;
    let den = 1n;
    xs.forEach((xm, m) => {
      if (m === j) return;
      num = mod(num * xm, n);
      den = mod(den * (xm - xj), n);
    });
    return mod(num * invert(den, n), n);
  });
}
