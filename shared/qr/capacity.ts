/**
 * How much a QR code holds, and so how large a UR frame may be (ISO/IEC 18004:2015 §7.4.10 and
 * Table 7; BCR-2020-005 for the UR text around the bytewords body).
 *
 * A UR frame upper-cased uses only QR alphanumeric characters (A-Z, 0-9, ':', '/', '-'), which pack
 * 2 characters into 11 bits. Minimal bytewords spend 2 characters per byte, so a frame of N bytes of
 * CBOR costs 2·(N + 4) characters (+4: the CRC-32) plus the `ur:type/` prefix and, for a multipart
 * frame, the `seqNum-seqLen/` component.
 */
import { CustosError } from '../errors';

export type EcLevel = 'L' | 'M' | 'Q' | 'H';
export const EC_LEVELS: readonly EcLevel[] = ['L', 'M', 'Q', 'H'];
export const QR_MAX_VERSION = 40;

/** The error-correction level Custos renders with: 15 % of the code may be lost. */
export const DEFAULT_EC_LEVEL: EcLevel = 'M';
/** Multipart frames are sized to fit this version at level M (97×97 modules): easy to scan from a screen or paper. */
export const DEFAULT_MULTIPART_VERSION = 20;

// Data codewords per version (row 1..40) and level (L, M, Q, H): ISO/IEC 18004:2015 Table 7.
const DATA_CODEWORDS: readonly (readonly [number, number, number, number])[] = [
  [19, 16, 13, 9], [34, 28, 22, 16], [55, 44, 34, 26], [80, 64, 48, 36], [108, 86, 62, 46],
  [136, 108, 76, 60], [156, 124, 88, 66], [194, 154, 110, 86], [232, 182, 132, 100], [274, 216, 154, 122],
  [324, 254, 180, 140], [370, 290, 206, 158], [428, 334, 244, 180], [461, 365, 261, 197], [523, 415, 295, 223],
  [589, 453, 325, 253], [647, 507, 367, 283], [721, 563, 397, 313], [795, 627, 445, 341], [861, 669, 485, 385],
  [932, 714, 512, 406], [1006, 782, 568, 442], [1094, 860, 614, 464], [1174, 914, 664, 514], [1276, 1000, 718, 538],
  [1370, 1062, 754, 596], [1468, 1128, 808, 628], [1531, 1193, 871, 661], [1631, 1267, 911, 701], [1735, 1373, 985, 745],
  [1843, 1455, 1033, 793], [1955, 1541, 1115, 845], [2071, 1631, 1171, 901], [2191, 1725, 1231, 961], [2306, 1812, 1286, 986],
  [2434, 1914, 1354, 1054], [2566, 1992, 1426, 1096], [2702, 2102, 1502, 1142], [2812, 2216, 1582, 1222], [2956, 2334, 1666, 1276],
];

function checkVersion(version: number): void {
  if (!Number.isInteger(version) || version < 1 || version > QR_MAX_VERSION) {
    throw new CustosError('INVALID_PARAMETERS', `A QR version must be an integer 1..40; got ${String(version)}.`);
  }
}

function levelIndex(level: EcLevel): number {
  const index = EC_LEVELS.indexOf(level);
  if (index < 0) throw new CustosError('INVALID_PARAMETERS', `A QR error-correction level must be L, M, Q or H; got ${level as string}.`);
  return index;
}

/** Data codewords (bytes) a QR code of `version` holds at `level`. */
export function dataCodewords(version: number, level: EcLevel): number {
  checkVersion(version);
  return DATA_CODEWORDS[version - 1]?.[levelIndex(level)] ?? 0;
}

/** How many alphanumeric-mode characters fit one QR code of `version` at `level` (one segment). */
export function alphanumericCapacity(version: number, level: EcLevel): number {
  const countBits = version <= 9 ? 9 : version <= 26 ? 11 : 13;
  const bits = dataCodewords(version, level) * 8 - 4 - countBits;
  return Math.floor(bits / 11) * 2 + (bits % 11 >= 6 ? 1 : 0);
}

/** The smallest QR version holding `chars` alphanumeric characters at `level`, or undefined if none does. */
export function smallestVersionFor(chars: number, level: EcLevel): number | undefined {
  if (!Number.isSafeInteger(chars) || chars < 0) {
    throw new CustosError('INVALID_PARAMETERS', `A character count must be a non-negative integer; got ${String(chars)}.`);
  }
  for (let v = 1; v <= QR_MAX_VERSION; v++) if (alphanumericCapacity(v, level) >= chars) return v;
  return undefined;
}

/** Bytes of the CBOR head for an unsigned integer or a byte-string length (RFC 8949 §3). */
export function cborHeadLength(value: number): number {
  return value < 24 ? 1 : value < 0x100 ? 2 : value < 0x10000 ? 3 : value <= 0xffffffff ? 5 : 9;
}

function checkType(type: string): void {
  if (typeof type !== 'string' || !/^[a-z0-9-]{1,64}$/.test(type)) {
    throw new CustosError('INVALID_PARAMETERS', 'A UR type must be 1 to 64 characters of a-z, 0-9 and "-".');
  }
}

function checkLength(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new CustosError('INVALID_PARAMETERS', `${what} must be a non-negative integer; got ${String(n)}.`);
}

/** Characters of the single-part UR `ur:type/<bytewords(CBOR bytes(payload) ‖ CRC-32)>`. */
export function singlePartFrameLength(type: string, payloadLength: number): number {
  checkType(type);
  checkLength(payloadLength, 'A payload length');
  return 'ur:'.length + type.length + 1 + 2 * (cborHeadLength(payloadLength) + payloadLength + 4);
}

/** The largest payload whose single-part UR fits one QR code of `version` (default 40) at `level` (default M). */
export function maxSinglePartPayload(type: string, level: EcLevel = DEFAULT_EC_LEVEL, version: number = QR_MAX_VERSION): number {
  const capacity = alphanumericCapacity(version, level);
  let n = Math.max(0, Math.floor((capacity - 'ur:'.length - type.length - 1) / 2) - 4);
  while (n > 0 && singlePartFrameLength(type, n) > capacity) n--;
  return singlePartFrameLength(type, n) <= capacity ? n : -1;
}

/**
 * The longest a multipart frame carrying `fragmentLength`-byte fragments can be, whatever its sequence
 * number (up to 2^32-1) and message (up to 2^32-1 bytes): `ur:type/NNNN-NNNN/` plus the bytewords of
 * CBOR [seqNum, seqLen, messageLen, checksum, fragment] and the CRC-32.
 */
export function maxMultipartFrameLength(type: string, fragmentLength: number): number {
  checkType(type);
  checkLength(fragmentLength, 'A fragment length');
  const seqDigits = 10 + 1 + 10; // "4294967295-4294967295"
  const cbor = 1 + 5 + 5 + 5 + 5 + cborHeadLength(fragmentLength) + fragmentLength;
  return 'ur:'.length + type.length + 1 + seqDigits + 1 + 2 * (cbor + 4);
}

/** The largest fragment whose every multipart frame fits one QR code of `version` at `level`. */
export function maxFragmentLengthFor(type: string, version: number, level: EcLevel = DEFAULT_EC_LEVEL): number {
  const capacity = alphanumericCapacity(version, level);
  let f = Math.max(0, Math.floor((capacity - maxMultipartFrameLength(type, 0)) / 2));
  while (f > 0 && maxMultipartFrameLength(type, f) > capacity) f--;
  return f;
}
