import { describe, expect, it } from 'vitest';
import {
  SELF_CHECK_NAMES,
  assertSelfCheck,
  parseKeydata,
  selfCheck,
  type EcdsaKeydata,
  type EddsaKeydata,
  type EcPoint,
  type Keydata,
  type SelfCheckName,
} from '../../shared/keydata';
import { ALL_FIXTURES, expectCustosError, fixtureBytes } from './fixtures';

const ecdsa = (party = 0): EcdsaKeydata => parseKeydata(fixtureBytes('ecdsa', party)) as EcdsaKeydata;
const eddsa = (party = 0): EddsaKeydata => parseKeydata(fixtureBytes('eddsa', party)) as EddsaKeydata;

function failedChecks(k: Keydata): SelfCheckName[] {
  return selfCheck(k)
    .checks.filter((c) => !c.ok)
    .map((c) => c.name);
}

function replaceAt<T>(items: readonly T[], at: number, item: T): T[] {
  return items.map((x, i) => (i === at ? item : x));
}

describe('selfCheck', () => {
  it.each(ALL_FIXTURES)('$scheme party $party passes every check, with t+1 = 3', ({ scheme, party }) => {
    const result = selfCheck(parseKeydata(fixtureBytes(scheme, party)));
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.minSigners).toBe(3);
    const names = result.checks.map((c) => c.name);
    expect(names).toEqual(scheme === 'ecdsa' ? SELF_CHECK_NAMES : SELF_CHECK_NAMES.slice(0, 6));
    expect(result.checks.find((c) => c.name === 'groupKeyInterpolation')?.detail).toContain('t+1 = 3');
    expect(result.checks.find((c) => c.name === 'ownIndex')?.detail).toBe(`ShareID is Ks[${party}]`);
    expect(assertSelfCheck(parseKeydata(fixtureBytes(scheme, party))).ok).toBe(true);
  });

  it('names xiMatchesBigXj for a tampered Xi', () => {
    const k = ecdsa(1);
    expect(failedChecks({ ...k, Xi: k.Xi - 1n })).toEqual(['xiMatchesBigXj']);
    const e = eddsa(2);
    expect(failedChecks({ ...e, Xi: e.Xi + 1n })).toEqual(['xiMatchesBigXj']);
  });

  it('names xiRange for an Xi of n or more', () => {
    const e = eddsa(0);
    const n = 2n ** 252n + 27742317777372353535851937790883648493n;
    expect(failedChecks({ ...e, Xi: e.Xi + n })).toEqual(['xiRange']);
  });

  it('names xiMatchesBigXj and groupKeyInterpolation for a tampered own BigXj', () => {
    const k = ecdsa(0);
    const other = k.BigXj[1];
    if (other === undefined) throw new Error('fixture');
    expect(failedChecks({ ...k, BigXj: replaceAt(k.BigXj, 0, other) })).toEqual(['xiMatchesBigXj', 'groupKeyInterpolation']);
  });

  it("names groupKeyInterpolation for a tampered other party's BigXj, and points at a bad subset", () => {
    for (const k of [ecdsa(0), eddsa(0)] as Keydata[]) {
      const other = k.BigXj[0];
      if (other === undefined) throw new Error('fixture');
      const tampered = { ...k, BigXj: replaceAt(k.BigXj as readonly EcPoint[], 3, other) } as Keydata;
      const result = selfCheck(tampered);
      expect(result.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['groupKeyInterpolation']);
      expect(result.checks.find((c) => c.name === 'groupKeyInterpolation')?.detail).toMatch(/do not give the public key, e\.g\. \{.*3.*\}/);
    }
  });

  it('names pointsOnCurve for a point off the curve', () => {
    const k = ecdsa(2);
    const bad: EcPoint<'secp256k1'> = { Curve: 'secp256k1', Coords: [1n, 1n] };
    expect(failedChecks({ ...k, ECDSAPub: bad })).toEqual(['pointsOnCurve', 'groupKeyInterpolation']);
    const e = eddsa(1);
    const badEd: EcPoint<'ed25519'> = { Curve: 'ed25519', Coords: [0n, 1n] }; // the identity
    expect(failedChecks({ ...e, BigXj: replaceAt(e.BigXj, 4, badEd) })).toEqual(['pointsOnCurve', 'groupKeyInterpolation']);
  });

  it('names the Paillier checks for a tampered Paillier P', () => {
    const k = ecdsa(0);
    expect(failedChecks({ ...k, PaillierSK: { ...k.PaillierSK, P: k.PaillierSK.P + 2n } })).toEqual([
      'paillierN',
      'paillierPhiN',
      'paillierLambdaN',
    ]);
    expect(failedChecks({ ...k, PaillierSK: { ...k.PaillierSK, LambdaN: k.PaillierSK.PhiN } })).toEqual(['paillierLambdaN']);
  });

  it('names h2i and ownH2j for a tampered H2i', () => {
    const k = ecdsa(1);
    expect(failedChecks({ ...k, H2i: k.H2i + 1n })).toEqual(['h2i', 'ownH2j']);
  });

  it('names nTildei and alphaBeta for a tampered outer P; the own-entry checks for tampered vectors', () => {
    const k = ecdsa(2);
    expect(failedChecks({ ...k, P: k.P + 2n })).toEqual(['nTildei', 'alphaBeta']);
    expect(failedChecks({ ...k, Beta: k.Beta + 1n })).toEqual(['alphaBeta']);
    expect(failedChecks({ ...k, NTildej: replaceAt(k.NTildej, 2, 7n) })).toEqual(['ownNTildej']);
    expect(failedChecks({ ...k, H1j: replaceAt(k.H1j, 2, 7n) })).toEqual(['ownH1j']);
    expect(failedChecks({ ...k, PaillierPKs: replaceAt(k.PaillierPKs, 2, { N: 7n }) })).toEqual(['ownPaillierPK']);
  });

  it('names ownIndex and partyIds for bad party keys', () => {
    const k = eddsa(0);
    expect(failedChecks({ ...k, ShareID: 1n })).toEqual(['ownIndex', 'xiMatchesBigXj']);
    const ks = k.Ks;
    expect(failedChecks({ ...k, Ks: replaceAt(ks, 4, ks[3] ?? 0n) })).toEqual(['partyIds', 'groupKeyInterpolation']);
  });

  it('never throws on degenerate numbers, only fails checks', () => {
    const k = ecdsa(0);
    const zeroed = { ...k, NTildei: 0n, P: 0n, Q: 0n, PaillierSK: { N: 0n, LambdaN: 0n, PhiN: 0n, P: 0n, Q: 0n }, Xi: 0n };
    const failed = failedChecks(zeroed);
    expect(failed).toEqual(expect.arrayContaining(['xiRange', 'xiMatchesBigXj', 'paillierLambdaN', 'h2i', 'alphaBeta']));
  });
});

describe('assertSelfCheck', () => {
  it('throws SELF_CHECK_FAILED naming the failed checks, without values', () => {
    const k = ecdsa(0);
    const error = expectCustosError(() => assertSelfCheck({ ...k, Xi: k.Xi + 1n, H2i: k.H2i + 1n }), 'SELF_CHECK_FAILED');
    expect(error.message).toContain('xiMatchesBigXj');
    expect(error.message).toContain('h2i');
    expect(error.message).not.toContain(k.Xi.toString().slice(0, 20));
    expect((error as unknown as { details: { failed: string[] } }).details.failed).toEqual(['xiMatchesBigXj', 'h2i', 'ownH2j']);
  });

  it('throws KEYDATA_INVALID for something that is not a keydata', () => {
    expectCustosError(() => selfCheck({ curve: 'ed25519' } as unknown as Keydata), 'KEYDATA_INVALID');
    expectCustosError(() => assertSelfCheck(null as unknown as Keydata), 'KEYDATA_INVALID');
  });
});
