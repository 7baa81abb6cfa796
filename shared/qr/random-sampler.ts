/**
 * Walker/Vose alias-method sampler exactly as the Blockchain Commons reference `random-sampler.cpp`
 * builds it (BCR-2020-005 fountain codes pick each mixed part's degree with it). The construction
 * order and floating-point operations match the reference so that every implementation picks the
 * same fragments for the same sequence number.
 */
import { CustosError } from '../errors';

export class RandomSampler {
  readonly #probs: Float64Array;
  readonly #aliases: Int32Array;

  constructor(weights: readonly number[]) {
    if (!Array.isArray(weights) || weights.length === 0) {
      throw new CustosError('INVALID_PARAMETERS', 'RandomSampler needs a non-empty list of weights.');
    }
    let sum = 0;
    for (const w of weights) {
      if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
        throw new CustosError('INVALID_PARAMETERS', 'RandomSampler weights must be finite and non-negative.');
      }
      sum += w;
    }
    if (!(sum > 0)) throw new CustosError('INVALID_PARAMETERS', 'RandomSampler weights must not all be zero.');

    const n = weights.length;
    const p = weights.map((w) => (w * n) / sum);
    const small: number[] = [];
    const large: number[] = [];
    // As the reference: indexes pushed in reverse order.
    for (let i = n - 1; i >= 0; i--) ((p[i] ?? 0) < 1 ? small : large).push(i);

    const probs = new Float64Array(n);
    const aliases = new Int32Array(n);
    for (;;) {
      const a = small.pop();
      if (a === undefined) break;
      const g = large.pop();
      if (g === undefined) {
        small.push(a);
        break;
      }
      const pa = p[a] ?? 0;
      probs[a] = pa;
      aliases[a] = g;
      const pg = (p[g] ?? 0) + (pa - 1);
      p[g] = pg;
      (pg < 1 ? small : large).push(g);
    }
    for (const i of large) probs[i] = 1;
    // Only reachable through floating-point rounding, as in the reference.
    for (const i of small) probs[i] = 1;
    this.#probs = probs;
    this.#aliases = aliases;
  }

  /** Draws one index, consuming exactly two numbers from `rng` (as the reference does). */
  next(rng: () => number): number {
    const r1 = rng();
    const r2 = rng();
    const n = this.#probs.length;
    const i = Math.min(n - 1, Math.trunc(n * r1));
    return r2 < (this.#probs[i] ?? 1) ? i : (this.#aliases[i] ?? 0);
  }
}
