/**
 * Fountain codes for multipart URs (BCR-2020-005 §"Multipart URs"; behaviour and wire format as the
 * Blockchain Commons reference `fountain-encoder.cpp`, `fountain-decoder.cpp`, `fountain-utils.cpp`).
 *
 * A message is cut into `seqLen` equal fragments (the last zero-padded). Part `seqNum` 1..seqLen is
 * fragment seqNum-1 itself; every later part XORs a pseudo-random subset of fragments chosen from
 * (seqNum, checksum), so a reader that missed some parts completes from later ones. Each part travels
 * as CBOR `[seqNum, seqLen, messageLen, checksum, data]`. The decoder checks the CRC-32 of the whole
 * reassembled message before it reports success.
 */
import { decode as cborDecode, encode as cborEncode } from 'cborg';
import { assertBytes, describe } from '../bytes';
import { CustosError } from '../errors';
import { crc32 } from './crc32';
import { RandomSampler } from './random-sampler';
import { Xoshiro256 } from './xoshiro';

/** The smallest fragment the reference encoder makes (its default `min_fragment_len`). */
export const MIN_FRAGMENT_LENGTH = 10;
const UINT32_MAX = 0xffffffff;

export interface FountainPart {
  readonly seqNum: number;
  readonly seqLen: number;
  readonly messageLen: number;
  readonly checksum: number;
  readonly data: Uint8Array;
}

const isUint32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= UINT32_MAX;

/** The reference `find_nominal_fragment_length`: the fewest equal fragments no longer than the maximum. */
export function findNominalFragmentLength(messageLength: number, minFragmentLength: number, maxFragmentLength: number): number {
  if (!Number.isSafeInteger(messageLength) || messageLength <= 0) {
    throw new CustosError('INVALID_PARAMETERS', `Message length must be a positive integer; got ${String(messageLength)}.`);
  }
  if (!Number.isSafeInteger(minFragmentLength) || minFragmentLength <= 0 || !Number.isSafeInteger(maxFragmentLength) || maxFragmentLength < minFragmentLength) {
    throw new CustosError(
      'INVALID_PARAMETERS',
      `Fragment lengths must be integers with 0 < min <= max; got min ${String(minFragmentLength)}, max ${String(maxFragmentLength)}.`,
    );
  }
  const maxFragmentCount = Math.ceil(messageLength / minFragmentLength);
  let fragmentLength = 0;
  for (let count = 1; count <= maxFragmentCount; count++) {
    fragmentLength = Math.ceil(messageLength / count);
    if (fragmentLength <= maxFragmentLength) break;
  }
  return fragmentLength;
}

/** Cuts `message` into fragments of `fragmentLength` bytes, zero-padding the last. */
export function partitionMessage(message: Uint8Array, fragmentLength: number): Uint8Array[] {
  assertBytes(message, 'message');
  if (!Number.isSafeInteger(fragmentLength) || fragmentLength <= 0) {
    throw new CustosError('INVALID_PARAMETERS', `Fragment length must be a positive integer; got ${String(fragmentLength)}.`);
  }
  const fragments: Uint8Array[] = [];
  for (let at = 0; at < message.length; at += fragmentLength) {
    const fragment = new Uint8Array(fragmentLength);
    fragment.set(message.subarray(at, at + fragmentLength));
    fragments.push(fragment);
  }
  return fragments;
}

function uint32BigEndian(value: number): Uint8Array {
  return new Uint8Array([value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff]);
}

/** The reference `choose_degree`: degree d in 1..seqLen with probability proportional to 1/d. */
export function chooseDegree(seqLen: number, rng: Xoshiro256): number {
  if (degreeSampler?.seqLen !== seqLen) {
    const weights: number[] = [];
    for (let i = 1; i <= seqLen; i++) weights.push(1 / i);
    degreeSampler = { seqLen, sampler: new RandomSampler(weights) };
  }
  return degreeSampler.sampler.next(() => rng.nextDouble()) + 1;
}

// The degree sampler depends only on seqLen, and one message is encoded or decoded at a time.
let degreeSampler: { readonly seqLen: number; readonly sampler: RandomSampler } | undefined;

/**
 * The reference `shuffled`, stopped after `take` picks (later picks never change earlier ones, so the
 * first `take` items are the same as in a full shuffle).
 */
export function shuffled<T>(items: readonly T[], rng: Xoshiro256, take = items.length): T[] {
  const remaining = [...items];
  const result: T[] = [];
  while (remaining.length > 0 && result.length < take) {
    const index = Math.min(remaining.length - 1, rng.nextInt(0, remaining.length - 1));
    result.push(...remaining.splice(index, 1));
  }
  return result;
}

/** The fragment indexes (0-based, sorted) that part `seqNum` of a `seqLen`-fragment message XORs. */
export function chooseFragments(seqNum: number, seqLen: number, checksum: number): number[] {
  if (!isUint32(seqNum) || seqNum < 1 || !isUint32(seqLen) || seqLen < 1 || !isUint32(checksum)) {
    throw new CustosError(
      'INVALID_PARAMETERS',
      `chooseFragments needs 32-bit seqNum >= 1, seqLen >= 1 and checksum; got ${String(seqNum)}, ${String(seqLen)}, ${String(checksum)}.`,
    );
  }
  if (seqNum <= seqLen) return [seqNum - 1];
  const seed = new Uint8Array(8);
  seed.set(uint32BigEndian(seqNum), 0);
  seed.set(uint32BigEndian(checksum), 4);
  const rng = new Xoshiro256(seed);
  const degree = chooseDegree(seqLen, rng);
  const indexes = Array.from({ length: seqLen }, (_, i) => i);
  return shuffled(indexes, rng, degree).sort((a, b) => a - b);
}

export function encodePartCbor(part: FountainPart): Uint8Array {
  return cborEncode([part.seqNum, part.seqLen, part.messageLen, part.checksum, part.data]);
}

/**
 * Parses a part's CBOR and checks that it is self-consistent. Throws MALFORMED (or TOO_LARGE when the
 * announced message exceeds `maxMessageLength`), never anything else.
 */
export function decodePartCbor(bytes: Uint8Array, maxMessageLength: number): FountainPart {
  assertBytes(bytes, 'fountain part');
  let value: unknown;
  try {
    value = cborDecode(bytes);
  } catch (error) {
    throw new CustosError('MALFORMED', 'A QR frame does not hold a valid multipart UR part (bad CBOR).', { cause: error });
  }
  if (!Array.isArray(value) || value.length !== 5) {
    throw new CustosError('MALFORMED', `A multipart UR part must be a CBOR array of 5 items; got ${describe(value)}.`);
  }
  const [seqNum, seqLen, messageLen, checksum, data] = value as unknown[];
  const part = { seqNum, seqLen, messageLen, checksum, data };
  checkPart(part, 'MALFORMED');
  if (part.messageLen > maxMessageLength) {
    throw new CustosError(
      'TOO_LARGE',
      `The QR code announces a ${String(part.messageLen)}-byte message; at most ${String(maxMessageLength)} bytes are accepted.`,
      { details: { announced: part.messageLen, limit: maxMessageLength } },
    );
  }
  return { ...part, data: Uint8Array.from(part.data) };
}

/** Checks that a part is well-formed and self-consistent; throws `code` (MALFORMED for wire input). */
export function checkPart(part: Record<keyof FountainPart, unknown>, code: 'MALFORMED' | 'INVALID_PARAMETERS'): asserts part is FountainPart {
  const { seqNum, seqLen, messageLen, checksum, data } = part;
  if (!isUint32(seqNum) || seqNum < 1 || !isUint32(seqLen) || seqLen < 1 || !isUint32(messageLen) || messageLen < 1 || !isUint32(checksum)) {
    throw new CustosError(code, 'A multipart UR part has an invalid sequence number, count, length or checksum.');
  }
  if (!(data instanceof Uint8Array) || data.length === 0) {
    throw new CustosError(code, 'A multipart UR part has no fragment data.');
  }
  if (seqLen !== Math.ceil(messageLen / data.length)) {
    throw new CustosError(
      code,
      `A multipart UR part is inconsistent: ${String(seqLen)} fragments of ${String(data.length)} bytes do not make ${String(messageLen)} bytes.`,
    );
  }
}

/** Produces any part of one message; parts are a pure function of (message, fragment length, seqNum). */
export class FountainEncoder {
  readonly messageLen: number;
  readonly checksum: number;
  readonly fragmentLength: number;
  readonly #fragments: readonly Uint8Array[];

  constructor(message: Uint8Array, maxFragmentLength: number, minFragmentLength = MIN_FRAGMENT_LENGTH) {
    assertBytes(message, 'message');
    if (message.length === 0) throw new CustosError('INVALID_PARAMETERS', 'A fountain-coded message must not be empty.');
    if (message.length > UINT32_MAX) throw new CustosError('TOO_LARGE', 'A fountain-coded message must be under 4 GiB.');
    this.fragmentLength = findNominalFragmentLength(message.length, Math.min(minFragmentLength, maxFragmentLength), maxFragmentLength);
    this.#fragments = partitionMessage(message, this.fragmentLength);
    this.messageLen = message.length;
    this.checksum = crc32(message);
  }

  get seqLen(): number {
    return this.#fragments.length;
  }

  part(seqNum: number): FountainPart {
    if (!isUint32(seqNum) || seqNum < 1) {
      throw new CustosError('INVALID_PARAMETERS', `A part's sequence number must be 1..${String(UINT32_MAX)}; got ${String(seqNum)}.`);
    }
    const data = new Uint8Array(this.fragmentLength);
    for (const index of chooseFragments(seqNum, this.seqLen, this.checksum)) {
      const fragment = this.#fragments[index];
      if (fragment === undefined) continue;
      for (let i = 0; i < data.length; i++) data[i] = (data[i] ?? 0) ^ (fragment[i] ?? 0);
    }
    return { seqNum, seqLen: this.seqLen, messageLen: this.messageLen, checksum: this.checksum, data };
  }
}

interface DecoderPart {
  readonly indexes: readonly number[]; // sorted, distinct
  readonly data: Uint8Array;
}

const keyOf = (indexes: readonly number[]): string => indexes.join(',');

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return out;
}

/** If b's fragments are a strict subset of a's, a XOR b covering a \ b; otherwise a unchanged. */
function reduce(a: DecoderPart, b: DecoderPart): DecoderPart {
  if (b.indexes.length >= a.indexes.length) return a;
  const inA = new Set(a.indexes);
  if (!b.indexes.every((i) => inA.has(i))) return a;
  const inB = new Set(b.indexes);
  return { indexes: a.indexes.filter((i) => !inB.has(i)), data: xor(a.data, b.data) };
}

export interface MessageShape {
  readonly seqLen: number;
  readonly messageLen: number;
  readonly checksum: number;
  readonly fragmentLength: number;
}

/** Reassembles one message from its parts, in any order, with duplicates and gaps. */
export class FountainDecoder {
  #shape: MessageShape | undefined;
  readonly #simple = new Map<number, Uint8Array>();
  #mixed = new Map<string, DecoderPart>();
  readonly #queue: DecoderPart[] = [];
  #result: Uint8Array | undefined;
  #failed = false;

  get shape(): MessageShape | undefined {
    return this.#shape;
  }

  get isComplete(): boolean {
    return this.#result !== undefined;
  }

  /** True when all fragments arrived but their CRC-32 does not match: the parts were forged or corrupt. */
  get isFailed(): boolean {
    return this.#failed;
  }

  get receivedFragments(): number {
    return this.#simple.size;
  }

  get expectedFragments(): number {
    return this.#shape?.seqLen ?? 0;
  }

  /** The reassembled message, once complete. */
  get result(): Uint8Array | undefined {
    return this.#result === undefined ? undefined : Uint8Array.from(this.#result);
  }

  /**
   * Takes one part. A part of a different message (other length, checksum or fragmenting) throws
   * FRAME_MISMATCH and changes nothing. Parts after completion are ignored.
   */
  receive(part: FountainPart): void {
    if (typeof part !== 'object' || (part as unknown) === null) {
      throw new CustosError('INVALID_PARAMETERS', `FountainDecoder.receive needs a part; got ${describe(part)}.`);
    }
    checkPart(part, 'INVALID_PARAMETERS');
    const shape: MessageShape = { seqLen: part.seqLen, messageLen: part.messageLen, checksum: part.checksum, fragmentLength: part.data.length };
    if (this.#shape === undefined) {
      this.#shape = shape;
    } else if (
      this.#shape.seqLen !== shape.seqLen ||
      this.#shape.messageLen !== shape.messageLen ||
      this.#shape.checksum !== shape.checksum ||
      this.#shape.fragmentLength !== shape.fragmentLength
    ) {
      throw new CustosError(
        'FRAME_MISMATCH',
        'This QR frame belongs to a different message than the frames already scanned; scan only one code sequence, or start over.',
      );
    }
    if (this.#result !== undefined || this.#failed) return;
    this.#queue.push({ indexes: chooseFragments(part.seqNum, part.seqLen, part.checksum), data: Uint8Array.from(part.data) });
    for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift()) {
      if (next.indexes.length === 1) this.#processSimple(next);
      else this.#processMixed(next);
    }
  }

  #processSimple(part: DecoderPart): void {
    const index = part.indexes[0];
    const shape = this.#shape;
    if (index === undefined || shape === undefined || this.#simple.has(index)) return;
    this.#simple.set(index, part.data);
    if (this.#simple.size === shape.seqLen) {
      const message = new Uint8Array(shape.messageLen);
      for (let i = 0; i < shape.seqLen; i++) {
        const fragment = this.#simple.get(i);
        if (fragment === undefined) return;
        const at = i * shape.fragmentLength;
        message.set(fragment.subarray(0, Math.max(0, Math.min(fragment.length, shape.messageLen - at))), at);
      }
      if (crc32(message) === shape.checksum) this.#result = message;
      else this.#failed = true;
      this.#mixed.clear();
      this.#queue.length = 0;
    } else {
      this.#reduceMixedBy(part);
    }
  }

  #processMixed(part: DecoderPart): void {
    if (this.#mixed.has(keyOf(part.indexes))) return;
    // Reducing by every known fragment it contains (strict subsets only, as the reference does).
    let indexes = [...part.indexes];
    let data = part.data;
    for (const index of part.indexes) {
      const fragment = this.#simple.get(index);
      if (fragment === undefined || indexes.length === 1) continue;
      indexes = indexes.filter((i) => i !== index);
      data = xor(data, fragment);
    }
    let p: DecoderPart = { indexes, data };
    for (const m of this.#mixed.values()) p = reduce(p, m);
    if (p.indexes.length === 1) {
      this.#queue.push(p);
    } else {
      this.#reduceMixedBy(p);
      this.#mixed.set(keyOf(p.indexes), p);
    }
  }

  #reduceMixedBy(part: DecoderPart): void {
    const next = new Map<string, DecoderPart>();
    for (const m of this.#mixed.values()) {
      const r = reduce(m, part);
      if (r.indexes.length === 1) this.#queue.push(r);
      else next.set(keyOf(r.indexes), r);
    }
    this.#mixed = next;
  }
}
