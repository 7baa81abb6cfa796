/**
 * The public context of a tss-lib key: the part of a `LocalPartySaveData` every party of the key
 * holds alike (the party keys `Ks`, the public shares `BigXj`, the group public key and, for ECDSA,
 * every party's `NTildej`, `H1j`, `H2j` and Paillier public key). It is the same at every party, so
 * it can be rebuilt from any other party's file (`publicContextFromPeer`), and its hash names the key.
 *
 * Canonical encoding: the compact Go-style JSON (see json.ts) of
 *   {"Custos":"keydata-public-context/v1","Curve":<curve>, <the fields in tss-lib's struct order>}
 * Decoding refuses anything that does not re-encode to the same bytes.
 * Hash: SHA-256("custos/v1/keydata-public-context\0" ‖ encoding).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { z } from 'zod';
import { CustosError, guard } from '../errors';
import { concatBytes, constantTimeEqual, describe, utf8 } from '../bytes';
import { isJsonObject, jsonObject, parseJson, writeJsonBytes, type JsonValue } from './json';
import {
  checkVectorLengths,
  ECDSA_FIELDS,
  ECDSA_VECTORS,
  EDDSA_FIELDS,
  EDDSA_VECTORS,
  jsonToPlain,
  pointToJson,
  validateKeydata,
  zodFailure,
  type EcdsaKeydata,
  type EddsaKeydata,
  type Keydata,
} from './model';

export type EcdsaPublicContext = Pick<EcdsaKeydata, 'curve' | 'Ks' | 'NTildej' | 'H1j' | 'H2j' | 'BigXj' | 'PaillierPKs' | 'ECDSAPub'>;
export type EddsaPublicContext = Pick<EddsaKeydata, 'curve' | 'Ks' | 'BigXj' | 'EDDSAPub'>;
export type PublicContext = EcdsaPublicContext | EddsaPublicContext;

export const PUBLIC_CONTEXT_TAG = 'keydata-public-context/v1';
export const PUBLIC_CONTEXT_HASH_LABEL = 'custos/v1/keydata-public-context\0';

const ecdsaSchema: z.ZodType<EcdsaPublicContext> = z
  .strictObject({
    curve: z.literal('secp256k1'),
    Ks: ECDSA_FIELDS.Ks,
    NTildej: ECDSA_FIELDS.NTildej,
    H1j: ECDSA_FIELDS.H1j,
    H2j: ECDSA_FIELDS.H2j,
    BigXj: ECDSA_FIELDS.BigXj,
    PaillierPKs: ECDSA_FIELDS.PaillierPKs,
    ECDSAPub: ECDSA_FIELDS.ECDSAPub,
  })
  .superRefine((v, ctx) => {
    checkVectorLengths(v, ECDSA_VECTORS, ctx);
  });

const eddsaSchema: z.ZodType<EddsaPublicContext> = z
  .strictObject({
    curve: z.literal('ed25519'),
    Ks: EDDSA_FIELDS.Ks,
    BigXj: EDDSA_FIELDS.BigXj,
    EDDSAPub: EDDSA_FIELDS.EDDSAPub,
  })
  .superRefine((v, ctx) => {
    checkVectorLengths(v, EDDSA_VECTORS, ctx);
  });

/** Checks a PublicContext object's shape, sizes and vector lengths; throws `code`. */
export function validatePublicContext(value: unknown, code: 'INVALID_PARAMETERS' | 'MALFORMED' | 'KEYDATA_INVALID' = 'INVALID_PARAMETERS'): PublicContext {
  return guard(code, 'The public context is not valid.', () => {
    if (typeof value !== 'object' || value === null) {
      throw new CustosError(code, `A public context must be an object; got ${describe(value)}.`);
    }
    const curve = (value as { curve?: unknown }).curve;
    const schema = curve === 'secp256k1' ? ecdsaSchema : curve === 'ed25519' ? eddsaSchema : undefined;
    if (schema === undefined) throw new CustosError(code, 'A public context must have curve "secp256k1" or "ed25519".');
    const result = schema.safeParse(value);
    if (!result.success) throw zodFailure(code, 'The public context is not valid', result.error);
    return result.data;
  });
}

/** The public context of a keydata (validated first). */
export function publicContextOf(k: Keydata): PublicContext {
  return guard('KEYDATA_INVALID', 'The public context could not be taken from this keydata.', () => {
    const v = validateKeydata(k);
    if (v.curve === 'secp256k1') {
      return {
        curve: v.curve,
        Ks: v.Ks,
        NTildej: v.NTildej,
        H1j: v.H1j,
        H2j: v.H2j,
        BigXj: v.BigXj,
        PaillierPKs: v.PaillierPKs,
        ECDSAPub: v.ECDSAPub,
      };
    }
    return { curve: v.curve, Ks: v.Ks, BigXj: v.BigXj, EDDSAPub: v.EDDSAPub };
  });
}

function contextToJson(ctx: PublicContext): JsonValue {
  const head = [
    ['Custos', PUBLIC_CONTEXT_TAG],
    ['Curve', ctx.curve],
    ['Ks', ctx.Ks],
  ] as const;
  if (ctx.curve === 'secp256k1') {
    return jsonObject([
      ...head,
      ['NTildej', ctx.NTildej],
      ['H1j', ctx.H1j],
      ['H2j', ctx.H2j],
      ['BigXj', ctx.BigXj.map(pointToJson)],
      ['PaillierPKs', ctx.PaillierPKs.map((pk) => jsonObject([['N', pk.N]]))],
      ['ECDSAPub', pointToJson(ctx.ECDSAPub)],
    ]);
  }
  return jsonObject([...head, ['BigXj', ctx.BigXj.map(pointToJson)], ['EDDSAPub', pointToJson(ctx.EDDSAPub)]]);
}

/** The canonical encoding of a public context (see the module header). */
export function encodePublicContext(ctx: PublicContext): Uint8Array {
  return guard('INVALID_PARAMETERS', 'The public context could not be encoded.', () => {
    return writeJsonBytes(contextToJson(validatePublicContext(ctx)));
  });
}

/** Decodes a canonically encoded public context; anything else is `MALFORMED`. */
export function decodePublicContext(bytes: Uint8Array): PublicContext {
  return guard('MALFORMED', 'The public context could not be decoded.', () => {
    if (!(bytes instanceof Uint8Array)) {
      throw new CustosError('INVALID_PARAMETERS', `decodePublicContext expects bytes (Uint8Array); got ${describe(bytes)}.`);
    }
    const json = parseJson(bytes);
    if (!isJsonObject(json)) throw new CustosError('MALFORMED', 'A public context must be a JSON object.');
    const tag = json.get('Custos');
    if (tag !== PUBLIC_CONTEXT_TAG) {
      if (typeof tag === 'string' && tag.startsWith('keydata-public-context/')) {
        throw new CustosError('VERSION_UNSUPPORTED', `This public context is "${tag.slice(0, 40)}"; this build reads "${PUBLIC_CONTEXT_TAG}".`);
      }
      throw new CustosError('MALFORMED', `The data is not a Custos public context (no "Custos":"${PUBLIC_CONTEXT_TAG}").`);
    }
    const plain = jsonToPlain(json) as Record<string, unknown>;
    const { Custos: _tag, Curve: curve, ...fields } = plain;
    const ctx = validatePublicContext({ ...fields, curve }, 'MALFORMED');
    if (!constantTimeEqual(encodePublicContext(ctx), bytes)) {
      throw new CustosError('MALFORMED', 'The public context is not in its canonical encoding (compact JSON, fixed key order).');
    }
    return ctx;
  });
}

/** SHA-256 over the domain label and the canonical encoding: the same at every party of a key. */
export function publicContextHash(ctx: PublicContext): Uint8Array {
  return guard('INVALID_PARAMETERS', 'The public context could not be hashed.', () => {
    return sha256(concatBytes(utf8(PUBLIC_CONTEXT_HASH_LABEL), encodePublicContext(ctx)));
  });
}

/**
 * Position of `shareId` in `Ks`, or -1 unless it occurs exactly once.
 */
export function indexOfShareId(ks: readonly bigint[], shareId: bigint): number {
  return guard('INVALID_PARAMETERS', 'Ks and ShareID must be bigints.', () => {
    const first = ks.indexOf(shareId);
    if (first < 0 || ks.indexOf(shareId, first + 1) >= 0) return -1;
    return first;
  });
}

/**
 * This node's public context, built from ANOTHER party's keydata of the same key (for when this
 * node lost its own file): everything public is identical across parties. `own` is this node's
 * index in `Ks` (a number) or its `ShareID` (a bigint); it must name a party of that key.
 * Run `selfCheck` on the peer's file first if it did not come from a trusted place.
 */
export function publicContextFromPeer(peerKeydata: Keydata, own: number | bigint): PublicContext {
  return guard('KEYDATA_INVALID', 'The public context could not be built from the peer\'s keydata.', () => {
    const peer = validateKeydata(peerKeydata);
    const n = peer.Ks.length;
    if (typeof own === 'number') {
      if (!Number.isSafeInteger(own) || own < 0 || own >= n) {
        throw new CustosError('INVALID_PARAMETERS', `The own party index must be an integer from 0 to ${n - 1}; got ${String(own)}.`, {
          details: { parties: n },
        });
      }
    } else if (typeof own === 'bigint') {
      if (indexOfShareId(peer.Ks, own) < 0) {
        throw new CustosError('KEYDATA_INVALID', "This node's ShareID is not a party of the peer's key (it is not exactly once in Ks).", {
          details: { parties: n },
        });
      }
    } else {
      throw new CustosError('INVALID_PARAMETERS', `The own party must be an index (number) or a ShareID (bigint); got ${describe(own)}.`);
    }
    return publicContextOf(peer);
  });
}
