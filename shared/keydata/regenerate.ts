/**
 * Rebuilds a node's tss-lib `LocalPartySaveData` from its secret record and the key's public
 * context, byte-identical (in Go's compact form) to the file it was split from. The omitted values
 * follow tss-lib's own construction (`crypto/paillier` GenerateKeyPair, `ecdsa/keygen/prepare.go`):
 *
 *   ShareID = Ks[index]
 *   PaillierSK.N = PaillierPKs[index].N, Q = N / P, PhiN = (P−1)(Q−1), LambdaN = PhiN / gcd(P−1, Q−1)
 *   NTildei = NTildej[index], outer Q from NTildei = (2P+1)(2Q+1)
 *   H1i = H1j[index], H2i = H2j[index], Beta = Alpha⁻¹ mod P·Q (outer P, Q)
 *
 * and refuses a record that does not belong to the context (Xi·G ≠ BigXj[index], a prime that does
 * not divide the public modulus, H1i^Alpha ≠ H2i) with `KEYDATA_INVALID`.
 */
import { CustosError, guard } from '../errors';
import { gcd, modInverse, modPow } from './arith';
import { groupOf } from './curves';
import type { Keydata } from './model';
import { validatePublicContext, type PublicContext } from './public-context';
import { validateSecretRecord, type SecretRecord } from './secret-record';

function mismatch(what: string, index: number): CustosError {
  return new CustosError('KEYDATA_INVALID', `The secret record does not belong to this public context: ${what}.`, {
    details: { index },
  });
}

export function regenerateKeydata(secret: SecretRecord, ctx: PublicContext): Keydata {
  const s = validateSecretRecord(secret);
  const c = validatePublicContext(ctx);
  return guard('KEYDATA_INVALID', 'The keydata could not be rebuilt from this secret record and public context.', () => {
    if (s.curve !== c.curve) {
      throw new CustosError('KEYDATA_INVALID', `The secret record is for ${s.curve} but the public context is for ${c.curve}.`);
    }
    const i = s.index;
    const shareId = c.Ks[i];
    const bigX = c.BigXj[i];
    if (shareId === undefined || bigX === undefined) {
      throw new CustosError('KEYDATA_INVALID', `The secret record is for party index ${i}, but the key has ${c.Ks.length} parties.`, {
        details: { index: i, parties: c.Ks.length },
      });
    }
    const g = groupOf(c.curve);
    const own = g.fromCoords(bigX.Coords[0], bigX.Coords[1]);
    if (own === null) throw mismatch(`BigXj[${i}] is not a valid ${c.curve} point`, i);
    if (!g.equals(g.mulBase(s.xi), own)) throw mismatch(`Xi·G is not BigXj[${i}]`, i);

    if (c.curve === 'ed25519') {
      return { curve: c.curve, Xi: s.xi, ShareID: shareId, Ks: c.Ks, BigXj: c.BigXj, EDDSAPub: c.EDDSAPub };
    }
    if (s.curve !== 'secp256k1') throw new CustosError('KEYDATA_INVALID', 'Curve mismatch.');

    const pk = c.PaillierPKs[i];
    const nTilde = c.NTildej[i];
    const h1 = c.H1j[i];
    const h2 = c.H2j[i];
    if (pk === undefined || nTilde === undefined || h1 === undefined || h2 === undefined) {
      throw mismatch('a public vector is shorter than Ks', i);
    }

    const N = pk.N;
    const pP = s.paillierP;
    if (pP >= N || N % pP !== 0n) throw mismatch(`PaillierSK.P does not divide PaillierPKs[${i}].N`, i);
    const pQ = N / pP;
    if (pQ < 2n) throw mismatch(`PaillierPKs[${i}].N / PaillierSK.P is not a prime`, i);
    const phiN = (pP - 1n) * (pQ - 1n);
    const lambdaN = phiN / gcd(pP - 1n, pQ - 1n);

    const safeP = 2n * s.p + 1n;
    if (safeP >= nTilde || nTilde % safeP !== 0n) throw mismatch(`2P+1 does not divide NTildej[${i}]`, i);
    const safeQ = nTilde / safeP;
    if (safeQ < 5n || safeQ % 2n !== 1n) throw mismatch(`NTildej[${i}] / (2P+1) is not of the form 2Q+1`, i);
    const q = (safeQ - 1n) / 2n;

    if (modPow(h1, s.alpha, nTilde) !== h2) throw mismatch(`H1j[${i}]^Alpha mod NTildej[${i}] is not H2j[${i}]`, i);
    const pq = s.p * q;
    const beta = modInverse(s.alpha % pq, pq);

    return {
      curve: c.curve,
      PaillierSK: { N, LambdaN: lambdaN, PhiN: phiN, P: pP, Q: pQ },
      NTildei: nTilde,
      H1i: h1,
      H2i: h2,
      Alpha: s.alpha,
      Beta: beta,
      P: s.p,
      Q: q,
      Xi: s.xi,
      ShareID: shareId,
      Ks: c.Ks,
      NTildej: c.NTildej,
      H1j: c.H1j,
      H2j: c.H2j,
      BigXj: c.BigXj,
      PaillierPKs: c.PaillierPKs,
      ECDSAPub: c.ECDSAPub,
    };
  });
}
