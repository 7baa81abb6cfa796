/**
 * Typed, zod-validated models of tss-lib's `LocalPartySaveData` (bnb-chain/tss-lib
 * `ecdsa/keygen/save_data.go` and `eddsa/keygen/save_data.go`; see
 * shared/fixtures/tss-lib/README.md), read from and written to the exact bytes Go's `json.Marshal`
 * writes.
 *
 * Field names are Go's, so a model maps one-to-one onto the file; `curve` is ours and tells the two
 * schemes apart (tss-lib ECDSA on secp256k1, tss-lib EdDSA on edwards25519). Writing always uses
 * Go's struct order. Reading accepts any key order (as Go does) but no unknown, missing or null
 * fields, since any of those would not survive a round trip.
 *
 * This layer checks shape and sizes only; whether the numbers fit together is `selfCheck`'s job.
 */
import { z } from 'zod';
import { CustosError, guard } from '../errors';
import { describe } from '../bytes';
import { isJsonObject, jsonObject, parseJson, writeJsonBytes, type JsonValue } from './json';
import type { CurveName } from './curves';

/** Most parties a keydata may list (tss-lib has no limit; keeps every check fast and bounded). */
export const MAX_PARTIES = 256;

/** A tss-lib `crypto.ECPoint` as JSON: `{"Curve": name, "Coords": [X, Y]}`, affine decimal coordinates. */
export interface EcPoint<C extends CurveName = CurveName> {
  readonly Curve: C;
  readonly Coords: readonly [bigint, bigint];
}

/** tss-lib `paillier.PrivateKey` (it embeds `PublicKey{N}`, so `N` comes first). */
export interface PaillierPrivateKey {
  readonly N: bigint;
  readonly LambdaN: bigint;
  readonly PhiN: bigint;
  readonly P: bigint;
  readonly Q: bigint;
}

/** tss-lib `paillier.PublicKey`. */
export interface PaillierPublicKey {
  readonly N: bigint;
}

/** tss-lib ECDSA `LocalPartySaveData` (pre-params, secrets, then the public vectors). */
export interface EcdsaKeydata {
  readonly curve: 'secp256k1';
  readonly PaillierSK: PaillierPrivateKey;
  readonly NTildei: bigint;
  readonly H1i: bigint;
  readonly H2i: bigint;
  readonly Alpha: bigint;
  readonly Beta: bigint;
  /** Sophie Germain primes: NTildei = (2P+1)(2Q+1). Not the Paillier primes. */
  readonly P: bigint;
  readonly Q: bigint;
  readonly Xi: bigint;
  readonly ShareID: bigint;
  readonly Ks: readonly bigint[];
  readonly NTildej: readonly bigint[];
  readonly H1j: readonly bigint[];
  readonly H2j: readonly bigint[];
  readonly BigXj: readonly EcPoint<'secp256k1'>[];
  readonly PaillierPKs: readonly PaillierPublicKey[];
  readonly ECDSAPub: EcPoint<'secp256k1'>;
}

/** tss-lib EdDSA `LocalPartySaveData`. */
export interface EddsaKeydata {
  readonly curve: 'ed25519';
  readonly Xi: bigint;
  readonly ShareID: bigint;
  readonly Ks: readonly bigint[];
  readonly BigXj: readonly EcPoint<'ed25519'>[];
  readonly EDDSAPub: EcPoint<'ed25519'>;
}

export type Keydata = EcdsaKeydata | EddsaKeydata;

// ---- Schemas -------------------------------------------------------------------------------------

/** A non-negative integer of at most `bits` bits. */
export function uint(bits: number): z.ZodBigInt {
  return z
    .bigint({ error: 'expected an integer' })
    .nonnegative({ error: 'expected a non-negative integer' })
    .lt(1n << BigInt(bits), { error: `expected at most ${bits} bits` });
}

const scalar = uint(256);
const modulus = uint(8192);
const prime = uint(4096);

export function pointSchema<C extends CurveName>(curve: C): z.ZodType<EcPoint<C>> {
  return z.strictObject({ Curve: z.literal(curve), Coords: z.tuple([scalar, scalar]) });
}

const secpPoint = pointSchema('secp256k1');
const edPoint = pointSchema('ed25519');

export const paillierPrivateKeySchema = z.strictObject({ N: modulus, LambdaN: modulus, PhiN: modulus, P: prime, Q: prime });
export const paillierPublicKeySchema = z.strictObject({ N: modulus });

export function vector<T extends z.ZodType>(item: T) {
  return z.array(item).min(1, { error: 'expected at least one party' }).max(MAX_PARTIES, { error: `expected at most ${MAX_PARTIES} parties` });
}

export const ECDSA_FIELDS = {
  PaillierSK: paillierPrivateKeySchema,
  NTildei: modulus,
  H1i: modulus,
  H2i: modulus,
  Alpha: modulus,
  Beta: modulus,
  P: prime,
  Q: prime,
  Xi: scalar,
  ShareID: scalar,
  Ks: vector(scalar),
  NTildej: vector(modulus),
  H1j: vector(modulus),
  H2j: vector(modulus),
  BigXj: vector(secpPoint),
  PaillierPKs: vector(paillierPublicKeySchema),
  ECDSAPub: secpPoint,
} as const;

export const EDDSA_FIELDS = {
  Xi: scalar,
  ShareID: scalar,
  Ks: vector(scalar),
  BigXj: vector(edPoint),
  EDDSAPub: edPoint,
} as const;

/** Go struct order of the JSON keys. */
export const ECDSA_KEY_ORDER = Object.keys(ECDSA_FIELDS) as readonly (keyof typeof ECDSA_FIELDS)[];
export const EDDSA_KEY_ORDER = Object.keys(EDDSA_FIELDS) as readonly (keyof typeof EDDSA_FIELDS)[];

/** Every per-party vector has one entry per `Ks` entry. */
export function checkVectorLengths(
  value: Readonly<Record<string, unknown>>,
  names: readonly string[],
  ctx: z.RefinementCtx,
): void {
  const ks = value.Ks;
  if (!Array.isArray(ks)) return;
  for (const name of names) {
    const v = value[name];
    if (Array.isArray(v) && v.length !== ks.length) {
      ctx.addIssue({ code: 'custom', path: [name], message: `expected ${ks.length} entries (one per Ks entry), got ${v.length}` });
    }
  }
}

export const ECDSA_VECTORS = ['NTildej', 'H1j', 'H2j', 'BigXj', 'PaillierPKs'] as const;
export const EDDSA_VECTORS = ['BigXj'] as const;

const ecdsaSchema: z.ZodType<EcdsaKeydata> = z
  .strictObject({ curve: z.literal('secp256k1'), ...ECDSA_FIELDS })
  .superRefine((v, ctx) => {
    checkVectorLengths(v, ECDSA_VECTORS, ctx);
  });

const eddsaSchema: z.ZodType<EddsaKeydata> = z
  .strictObject({ curve: z.literal('ed25519'), ...EDDSA_FIELDS })
  .superRefine((v, ctx) => {
    checkVectorLengths(v, EDDSA_VECTORS, ctx);
  });

/** Turns the first zod issue into a coded error that names the field, never its value. */
export function zodFailure(code: 'KEYDATA_INVALID' | 'MALFORMED' | 'INVALID_PARAMETERS', what: string, error: z.ZodError): CustosError {
  const issue = error.issues[0];
  const path = issue === undefined || issue.path.length === 0 ? '(top level)' : issue.path.map(String).join('.');
  const message = issue?.message ?? 'invalid';
  return new CustosError(code, `${what}: ${path}: ${message}.`, {
    details: { field: path, issues: error.issues.length },
  });
}

/**
 * Checks that `value` is a well-formed Keydata object (shape, sizes, vector lengths) and returns it.
 * Throws `CustosError('KEYDATA_INVALID')` otherwise.
 */
export function validateKeydata(value: unknown): Keydata {
  return guard('KEYDATA_INVALID', 'The keydata is not valid.', () => {
    if (typeof value !== 'object' || value === null) {
      throw new CustosError('KEYDATA_INVALID', `Keydata must be an object; got ${describe(value)}.`);
    }
    const curve = (value as { curve?: unknown }).curve;
    const schema = curve === 'secp256k1' ? ecdsaSchema : curve === 'ed25519' ? eddsaSchema : undefined;
    if (schema === undefined) {
      throw new CustosError('KEYDATA_INVALID', 'Keydata must have curve "secp256k1" (ECDSA) or "ed25519" (EdDSA).');
    }
    const result = schema.safeParse(value);
    if (!result.success) throw zodFailure('KEYDATA_INVALID', 'The keydata is not valid', result.error);
    return result.data;
  });
}

// ---- JSON <-> model ------------------------------------------------------------------------------

/** Converts parsed JSON to plain data for zod (objects as own-property records, in key order). */
export function jsonToPlain(value: JsonValue): unknown {
  if (Array.isArray(value)) return value.map((v: JsonValue) => jsonToPlain(v));
  if (isJsonObject(value)) {
    return Object.fromEntries(Array.from(value, ([k, v]) => [k, jsonToPlain(v)]));
  }
  return value;
}

export function pointToJson(p: EcPoint): JsonValue {
  return jsonObject([
    ['Curve', p.Curve],
    ['Coords', [p.Coords[0], p.Coords[1]]],
  ]);
}

function fieldToJson(name: string, value: unknown): JsonValue {
  if (typeof value === 'bigint') return value;
  if (name === 'BigXj') return (value as readonly EcPoint[]).map(pointToJson);
  if (name === 'ECDSAPub' || name === 'EDDSAPub') return pointToJson(value as EcPoint);
  if (Array.isArray(value)) {
    // Ks, NTildej, H1j, H2j are bigint vectors; PaillierPKs is a vector of {N}.
    return value.map((item: unknown) => (typeof item === 'bigint' ? item : jsonObject([['N', (item as PaillierPublicKey).N]])));
  }
  const sk = value as PaillierPrivateKey;
  return jsonObject([
    ['N', sk.N],
    ['LambdaN', sk.LambdaN],
    ['PhiN', sk.PhiN],
    ['P', sk.P],
    ['Q', sk.Q],
  ]);
}

/** The keydata as a JSON value in Go's struct order (validated first). */
export function keydataToJson(k: Keydata): JsonValue {
  return guard('KEYDATA_INVALID', 'The keydata could not be converted to JSON.', () => {
    const valid = validateKeydata(k);
    const record = valid as unknown as Readonly<Record<string, unknown>>;
    const order: readonly string[] = valid.curve === 'secp256k1' ? ECDSA_KEY_ORDER : EDDSA_KEY_ORDER;
    return jsonObject(order.map((name) => [name, fieldToJson(name, record[name])] as const));
  });
}

/**
 * Reads a tss-lib `LocalPartySaveData` JSON file (indented or compact) and tells ECDSA from EdDSA by
 * its public-key field. Throws `MALFORMED` for bad JSON and `KEYDATA_INVALID` for JSON that is not
 * a complete keydata.
 */
export function parseKeydata(bytes: Uint8Array): Keydata {
  return guard('KEYDATA_INVALID', 'The file is not a valid tss-lib keydata.', () => {
    if (!(bytes instanceof Uint8Array)) {
      throw new CustosError('INVALID_PARAMETERS', `parseKeydata expects the file's bytes (Uint8Array); got ${describe(bytes)}.`);
    }
    const json = parseJson(bytes);
    if (!isJsonObject(json)) {
      throw new CustosError('KEYDATA_INVALID', 'A tss-lib keydata file must be a JSON object.');
    }
    const hasEcdsa = json.has('ECDSAPub');
    const hasEddsa = json.has('EDDSAPub');
    if (hasEcdsa === hasEddsa) {
      throw new CustosError(
        'KEYDATA_INVALID',
        hasEcdsa
          ? 'The keydata has both ECDSAPub and EDDSAPub; it must be one or the other.'
          : 'The file is not a tss-lib keydata: it has neither ECDSAPub (ECDSA) nor EDDSAPub (EdDSA).',
      );
    }
    if (json.has('curve')) {
      throw new CustosError('KEYDATA_INVALID', 'The keydata is not valid: (top level): Unrecognized key: "curve".');
    }
    const plain = jsonToPlain(json) as Record<string, unknown>;
    return validateKeydata({ ...plain, curve: hasEcdsa ? 'secp256k1' : 'ed25519' });
  });
}

/** Writes a keydata exactly as tss-lib's `json.Marshal` does (compact, Go struct order), as UTF-8. */
export function writeKeydata(k: Keydata): Uint8Array {
  return guard('KEYDATA_INVALID', 'The keydata could not be written.', () => {
    return writeJsonBytes(keydataToJson(k));
  });
}
