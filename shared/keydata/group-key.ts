/**
 * The group public key of a tss-lib key, in the forms a person compares after a recovery with what
 * the company knows (issue 12; as Fireblocks' recovery utility shows):
 *
 * - `compressed`: secp256k1 (tss-lib ECDSA) in SEC 1 §2.3.3 compressed form (33 bytes, 02/03 ‖ X);
 *   edwards25519 (tss-lib EdDSA) in RFC 8032 §5.1.2 encoding (32 bytes). Hex.
 * - `fingerprint`: SHA-256 of those bytes, hex: the agent's `group_key_fingerprint`
 *   (agent/keyshare/key-view.ts) for the same key.
 * - secp256k1 `address`: the Ethereum-style address, the last 20 bytes of Keccak-256 of the
 *   uncompressed X ‖ Y (Yellow Paper eq. 284), written with the EIP-55 mixed-case checksum.
 * - ed25519 `base58`: the 32-byte key in base58 (Bitcoin alphabet), as Solana and others show it.
 *
 * Every point goes through @noble/curves (validated on the curve and in the subgroup), Keccak is
 * @noble/hashes, base58 is @scure/base: nothing here is hand-rolled.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { base58 } from '@scure/base';
import { fromHex, toHex } from '../bytes';
import { CustosError } from '../errors';
import type { CurveName } from './curves';
import type { EcPoint, Keydata } from './model';
import type { PublicContext } from './public-context';
import { SELF_CHECK_NAMES } from './selfcheck';

export interface GroupKey {
  readonly curve: CurveName;
  /** SEC 1 compressed (secp256k1) or RFC 8032 (ed25519) encoding, hex. */
  readonly compressed: string;
  /** SHA-256 of `compressed`'s bytes, hex. */
  readonly fingerprint: string;
  /** secp256k1 only: the Ethereum-style address, EIP-55 checksummed (0x…). */
  readonly address?: string;
  /** ed25519 only: the key in base58. */
  readonly base58?: string;
}

/** EIP-55: hex digits of the address upper-cased where the Keccak-256 of the lower-case hex has a nibble ≥ 8. */
export function eip55(address20: Uint8Array): string {
  if (address20.length !== 20) throw new CustosError('MALFORMED', `An Ethereum address has 20 bytes; got ${String(address20.length)}.`);
  const lower = toHex(address20);
  const h = toHex(keccak_256(new TextEncoder().encode(lower)));
  let out = '0x';
  for (let i = 0; i < lower.length; i++) out += parseInt(h[i] ?? '0', 16) >= 8 ? (lower[i] ?? '').toUpperCase() : (lower[i] ?? '');
  return out;
}

function invalid(curve: CurveName, error: unknown): CustosError {
  return new CustosError('KEYDATA_INVALID', `The group public key is not a valid ${curve} point (${error instanceof Error ? error.message : String(error)}).`, { cause: error });
}

/** The group key's forms from a tss-lib point (`ECDSAPub` / `EDDSAPub`). */
export function groupKeyFromPoint(curve: CurveName, p: EcPoint): GroupKey {
  const [x, y] = p.Coords;
  if (curve === 'secp256k1') {
    let point;
    try {
      point = secp256k1.Point.fromAffine({ x, y });
      point.assertValidity();
    } catch (error) {
      throw invalid(curve, error);
    }
    const compressed = point.toBytes(true);
    const uncompressed = point.toBytes(false);
    return { curve, compressed: toHex(compressed), fingerprint: toHex(sha256(compressed)), address: eip55(keccak_256(uncompressed.subarray(1)).subarray(12)) };
  }
  let point;
  try {
    point = ed25519.Point.fromAffine({ x, y });
    point.assertValidity();
  } catch (error) {
    throw invalid(curve, error);
  }
  const bytes = point.toBytes();
  return { curve, compressed: toHex(bytes), fingerprint: toHex(sha256(bytes)), base58: base58.encode(bytes) };
}

/** The group key's forms from its encoding (`compressed`, hex or bytes), checked on the curve. */
export function groupKeyFromEncoding(curve: CurveName, encoded: string | Uint8Array): GroupKey {
  let bytes: Uint8Array;
  try {
    bytes = typeof encoded === 'string' ? fromHex(encoded) : encoded;
  } catch (error) {
    throw invalid(curve, error);
  }
  let affine: { x: bigint; y: bigint };
  try {
    const point = curve === 'secp256k1' ? secp256k1.Point.fromBytes(bytes) : ed25519.Point.fromBytes(bytes);
    point.assertValidity();
    affine = point.toAffine();
  } catch (error) {
    throw invalid(curve, error);
  }
  return groupKeyFromPoint(curve, { Curve: curve, Coords: [affine.x, affine.y] });
}

/** The group key of a keydata or of a key's public context. */
export function groupKeyOf(k: Keydata | PublicContext): GroupKey {
  return k.curve === 'secp256k1' ? groupKeyFromPoint('secp256k1', k.ECDSAPub) : groupKeyFromPoint('ed25519', k.EDDSAPub);
}

/**
 * The one list of checks a finished recovery reports, wherever it is shown (the agent's answer the
 * station shows, the drill's report, `agent session complete`): the keydata self-check
 * (selfcheck.ts: 16 checks for ECDSA, the 6 that apply for EdDSA, which has no Paillier key) and
 * `matchesImported`, the rebuilt keydata equal to the one imported.
 */
export const RECOVERY_CHECK_NAMES = [...SELF_CHECK_NAMES, 'matchesImported'] as const;

/** The recovery checks: the self-check's items (in order), then `matchesImported`. */
export function recoveryChecks(selfCheck: readonly { readonly name: string; readonly ok: boolean }[], matchesImported: boolean): { name: string; ok: boolean }[] {
  return [...selfCheck.filter((c) => c.name !== 'matchesImported').map((c) => ({ name: c.name, ok: c.ok })), { name: 'matchesImported', ok: matchesImported }];
}
