/**
 * Self-check of a tss-lib keydata: the relations tss-lib's keygen establishes (see
 * shared/fixtures/tss-lib/README.md and tss-lib `ecdsa/keygen/prepare.go`, `crypto/paillier`),
 * each reported as a named check so a person learns which part of a file is wrong:
 *
 * - own index: ShareID occurs exactly once in Ks; party keys are distinct and non-zero mod n;
 * - every BigXj and the public key are valid points of the prime-order group;
 * - 0 < Xi < n and Xi·G = BigXj[own];
 * - the public key is the Lagrange interpolation at 0 of BigXj (x = Ks mod n) over t+1 parties:
 *   t is not stored, so the smallest m such that the first m parties interpolate to the key is
 *   taken as t+1, and then every cyclic window of m parties, every m-subset (when there are at most
 *   70) and all parties must give the key too;
 * - ECDSA pre-params: N = P·Q, PhiN = (P−1)(Q−1), LambdaN = lcm(P−1, Q−1) (Paillier P, Q);
 *   NTildei = (2P+1)(2Q+1), Alpha·Beta ≡ 1 mod P·Q (outer P, Q); H2i = H1i^Alpha mod NTildei;
 *   and this party's entries of PaillierPKs, NTildej, H1j, H2j equal its own values.
 *
 * Primality of P and Q is not tested. Details name indices and fields, never values.
 */
import { CustosError, guard } from '../errors';
import { lcm, modPow } from './arith';
import { groupOf, lagrangeAtZero, type Group } from './curves';
import { validateKeydata, type EcdsaKeydata, type EcPoint, type Keydata } from './model';
import { indexOfShareId } from './public-context';

export const SELF_CHECK_NAMES = [
  'ownIndex',
  'partyIds',
  'pointsOnCurve',
  'xiRange',
  'xiMatchesBigXj',
  'groupKeyInterpolation',
  'paillierN',
  'paillierPhiN',
  'paillierLambdaN',
  'nTildei',
  'h2i',
  'alphaBeta',
  'ownPaillierPK',
  'ownNTildej',
  'ownH1j',
  'ownH2j',
] as const;

export type SelfCheckName = (typeof SELF_CHECK_NAMES)[number];

export interface SelfCheckItem {
  readonly name: SelfCheckName;
  readonly ok: boolean;
  readonly detail?: string;
}

export interface SelfCheckResult {
  readonly ok: boolean;
  readonly checks: readonly SelfCheckItem[];
  /** t+1: how many parties the public key interpolates from, when the interpolation check found it. */
  readonly minSigners?: number;
}

interface Outcome {
  readonly ok: boolean;
  readonly detail?: string;
}
const pass = (detail?: string): Outcome => (detail === undefined ? { ok: true } : { ok: true, detail });
const fail = (detail: string): Outcome => ({ ok: false, detail });

/** Most m-subsets tested exhaustively (C(5,3) = 10, C(8,4) = 70). */
const MAX_EXHAUSTIVE_SUBSETS = 70;

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}

function combinations(n: number, k: number): number[][] {
  const out: number[][] = [];
  const pick: number[] = [];
  const walk = (start: number): void => {
    if (pick.length === k) {
      out.push([...pick]);
      return;
    }
    for (let i = start; i <= n - (k - pick.length); i++) {
      pick.push(i);
      walk(i + 1);
      pick.pop();
    }
  };
  walk(0);
  return out;
}

interface InterpolationResult {
  readonly outcome: Outcome;
  readonly minSigners?: number;
}

function checkInterpolation<P>(g: Group<P>, xs: readonly bigint[], points: readonly P[], pub: P): InterpolationResult {
  const n = points.length;
  const interpolate = (subset: readonly number[]): P => {
    const lambdas = lagrangeAtZero(
      subset.map((j) => xs[j] ?? 0n),
      g.order,
    );
    let acc = g.zero;
    subset.forEach((j, at) => {
      const pt = points[j];
      const lambda = lambdas[at];
      if (pt === undefined || lambda === undefined) throw new Error('index out of range');
      acc = g.add(acc, g.mulPublic(pt, lambda));
    });
    return acc;
  };
  const range = (count: number, from = 0): number[] => Array.from({ length: count }, (_, i) => (from + i) % n);

  let m = 0;
  for (let size = 1; size <= n; size++) {
    if (g.equals(interpolate(range(size)), pub)) {
      m = size;
      break;
    }
  }
  if (m === 0) {
    return { outcome: fail(`no set of the first m parties (m = 1..${n}) interpolates to the public key`) };
  }

  const subsets = new Map<string, number[]>();
  const add = (s: number[]): void => {
    const sorted = [...s].sort((a, b) => a - b);
    subsets.set(sorted.join(','), sorted);
  };
  for (let from = 0; from < n; from++) add(range(m, from));
  if (binomial(n, m) <= MAX_EXHAUSTIVE_SUBSETS) for (const s of combinations(n, m)) add(s);
  add(range(n));

  const bad = [...subsets.values()].filter((s) => !g.equals(interpolate(s), pub));
  const t = `t+1 = ${m} (tss-lib threshold t = ${m - 1})`;
  if (bad.length > 0) {
    const example = bad[0] ?? [];
    return {
      outcome: fail(`${t} from the first ${m} parties, but ${bad.length} of ${subsets.size} tested party sets do not give the public key, e.g. {${example.join(', ')}}`),
      minSigners: m,
    };
  }
  return { outcome: pass(`${t}; ${subsets.size} party sets (including all ${n}) interpolate to the public key`), minSigners: m };
}

function ecdsaChecks(k: EcdsaKeydata, own: number, run: (name: SelfCheckName, fn: () => Outcome) => void): void {
  const sk = k.PaillierSK;
  run('paillierN', () => (sk.N === sk.P * sk.Q ? pass() : fail('PaillierSK.N is not PaillierSK.P · PaillierSK.Q')));
  run('paillierPhiN', () => (sk.PhiN === (sk.P - 1n) * (sk.Q - 1n) ? pass() : fail('PaillierSK.PhiN is not (P−1)(Q−1)')));
  run('paillierLambdaN', () => {
    if (sk.P < 2n || sk.Q < 2n) return fail('PaillierSK.P and Q must be above 1');
    return sk.LambdaN === lcm(sk.P - 1n, sk.Q - 1n) ? pass() : fail('PaillierSK.LambdaN is not lcm(P−1, Q−1)');
  });
  run('nTildei', () => (k.NTildei === (2n * k.P + 1n) * (2n * k.Q + 1n) ? pass() : fail('NTildei is not (2P+1)(2Q+1)')));
  run('h2i', () => {
    if (k.NTildei < 2n) return fail('NTildei must be above 1');
    return modPow(k.H1i, k.Alpha, k.NTildei) === k.H2i ? pass() : fail('H2i is not H1i^Alpha mod NTildei');
  });
  run('alphaBeta', () => {
    const pq = k.P * k.Q;
    if (pq < 2n) return fail('P·Q must be above 1');
    return (k.Alpha * k.Beta) % pq === 1n ? pass() : fail('Alpha·Beta is not 1 mod P·Q');
  });
  const ownEntry = (name: SelfCheckName, vector: string, entry: bigint | undefined, mine: bigint, field: string): void => {
    run(name, () => {
      if (own < 0) return fail('own index unknown (see ownIndex)');
      return entry === mine ? pass() : fail(`${vector}[${own}] is not ${field}`);
    });
  };
  ownEntry('ownPaillierPK', 'PaillierPKs.N', k.PaillierPKs[own]?.N, sk.N, 'PaillierSK.N');
  ownEntry('ownNTildej', 'NTildej', k.NTildej[own], k.NTildei, 'NTildei');
  ownEntry('ownH1j', 'H1j', k.H1j[own], k.H1i, 'H1i');
  ownEntry('ownH2j', 'H2j', k.H2j[own], k.H2i, 'H2i');
}

/**
 * Runs every check on a keydata (shape-validated first: a malformed object throws
 * `KEYDATA_INVALID`). Never throws for a keydata whose numbers merely do not fit together.
 */
export function selfCheck(k: Keydata): SelfCheckResult {
  const v = validateKeydata(k);
  return guard('KEYDATA_INVALID', 'The keydata self-check could not run.', () => {
    const checks: SelfCheckItem[] = [];
    const run = (name: SelfCheckName, fn: () => Outcome): void => {
      let outcome: Outcome;
      try {
        outcome = fn();
      } catch {
        outcome = fail('could not be evaluated on these values');
      }
      checks.push({ name, ...outcome });
    };
    const g = groupOf(v.curve);
    const n = g.order;
    const pubName = v.curve === 'secp256k1' ? 'ECDSAPub' : 'EDDSAPub';
    const pubPoint: EcPoint = v.curve === 'secp256k1' ? v.ECDSAPub : v.EDDSAPub;
    const own = indexOfShareId(v.Ks, v.ShareID);
    const xs = v.Ks.map((x) => ((x % n) + n) % n);

    run('ownIndex', () => (own >= 0 ? pass(`ShareID is Ks[${own}]`) : fail('ShareID is not exactly once in Ks')));
    let idsOk = false;
    run('partyIds', () => {
      const zero = xs.findIndex((x) => x === 0n);
      if (zero >= 0) return fail(`Ks[${zero}] is 0 mod the group order`);
      if (new Set(xs).size !== xs.length) return fail('two Ks entries are equal mod the group order');
      idsOk = true;
      return pass(`${xs.length} parties`);
    });

    const points = v.BigXj.map((p) => g.fromCoords(p.Coords[0], p.Coords[1]));
    const pub = g.fromCoords(pubPoint.Coords[0], pubPoint.Coords[1]);
    run('pointsOnCurve', () => {
      const bad = points.flatMap((p, j) => (p === null ? [`BigXj[${j}]`] : []));
      if (pub === null) bad.push(pubName);
      return bad.length === 0 ? pass() : fail(`not valid ${v.curve} subgroup points: ${bad.join(', ')}`);
    });

    run('xiRange', () => (v.Xi > 0n && v.Xi < n ? pass() : fail(`Xi is not in [1, n) for ${v.curve}`)));
    run('xiMatchesBigXj', () => {
      if (own < 0) return fail('own index unknown (see ownIndex)');
      const mine = points[own];
      if (mine === null || mine === undefined) return fail(`BigXj[${own}] is not a valid point`);
      return g.equals(g.mulBase(v.Xi), mine) ? pass() : fail(`Xi·G is not BigXj[${own}]`);
    });

    let minSigners: number | undefined;
    run('groupKeyInterpolation', () => {
      const valid = points.filter((p) => p !== null);
      if (pub === null || valid.length !== points.length) return fail('skipped: some points are not valid (see pointsOnCurve)');
      if (!idsOk) return fail('skipped: party keys are not usable x-coordinates (see partyIds)');
      const r = checkInterpolation(g, xs, valid, pub);
      minSigners = r.minSigners;
      return r.outcome;
    });

    if (v.curve === 'secp256k1') ecdsaChecks(v, own, run);

    const ok = checks.every((c) => c.ok);
    return minSigners === undefined ? { ok, checks } : { ok, checks, minSigners };
  });
}

/** Runs {@link selfCheck} and throws `SELF_CHECK_FAILED`, naming every failed check, unless all pass. */
export function assertSelfCheck(k: Keydata): SelfCheckResult {
  const result = selfCheck(k);
  if (!result.ok) {
    const failed = result.checks.filter((c) => !c.ok);
    const list = failed.map((c) => (c.detail === undefined ? c.name : `${c.name} (${c.detail})`)).join('; ');
    throw new CustosError('SELF_CHECK_FAILED', `The keydata failed its self-check: ${list}.`, {
      details: { failed: failed.map((c) => c.name) },
    });
  }
  return result;
}
