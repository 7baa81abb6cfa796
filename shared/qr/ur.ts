/**
 * Uniform Resources as QR frames (BCR-2020-005 "UR: Uniform Resources"; bodies in minimal Bytewords,
 * BCR-2020-012; multipart frames are fountain-coded, see `fountain.ts`).
 *
 * A payload (bytes) travels as the CBOR byte string `h'…'` under a UR type such as `custos-export`:
 *   single part:  ur:<type>/<bytewords>
 *   multipart:    ur:<type>/<seqNum>-<seqLen>/<bytewords of [seqNum, seqLen, messageLen, checksum, fragment]>
 * Frames are produced in lower case (the canonical UR form); a QR code carries them upper-cased so the
 * QR alphanumeric mode applies (see `render.ts`), and the assembler accepts either case.
 *
 * Everything a scanner hands over is `unknown` until checked here: a bad frame is refused with a coded
 * CustosError and never changes what was already assembled.
 */
import { decode as cborDecode, encode as cborEncode } from 'cborg';
import { assertBytes, constantTimeEqual, describe } from '../bytes';
import { CustosError } from '../errors';
import { decodeMinimal, encodeMinimal } from './bytewords';
import {
  DEFAULT_EC_LEVEL,
  DEFAULT_MULTIPART_VERSION,
  QR_MAX_VERSION,
  alphanumericCapacity,
  cborHeadLength,
  maxFragmentLengthFor,
  singlePartFrameLength,
} from './capacity';
import { FountainDecoder, FountainEncoder, MIN_FRAGMENT_LENGTH, decodePartCbor, encodePartCbor } from './fountain';

/** The largest payload Custos moves over QR (64 KiB: about 150 frames at the default size). */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
/** The largest CBOR message, i.e. a maximal payload plus its byte-string head. */
export const MAX_MESSAGE_BYTES = MAX_PAYLOAD_BYTES + cborHeadLength(MAX_PAYLOAD_BYTES);
/**
 * The most fragments a message may have: a maximal message cut into the smallest fragments the
 * reference encoder makes. Bounds the decoder's work on a hostile sequence.
 */
export const MAX_SEQUENCE_LENGTH = Math.ceil(MAX_MESSAGE_BYTES / MIN_FRAGMENT_LENGTH);
/** No QR code holds more characters than this (version 40, level L, alphanumeric). */
export const MAX_FRAME_CHARS = 4296;
/** A UR type: lower-case letters, digits and hyphens (BCR-2020-005), at most 64 characters here. */
export const UR_TYPE_PATTERN = /^[a-z0-9-]{1,64}$/;

const FRAME_PATTERN = /^ur:([a-z0-9-]{1,64})\/(?:([0-9]{1,10})-([0-9]{1,10})\/)?([a-z]+)$/;

export interface EncodeOptions {
  /** The UR type, e.g. `custos-export`. */
  readonly type: string;
  /**
   * Largest fragment of a multipart message, in bytes (10 .. the most a version-40 level-M frame holds).
   * Default: frames fit a version-20 level-M QR code (437 bytes per fragment for `custos-export`).
   */
  readonly maxFragmentLength?: number;
  /**
   * A payload whose single-part UR fits a level-M QR code of this version (1..40, default 40) is sent
   * as one frame. Use a smaller version to prefer several small codes to one dense one.
   */
  readonly singleFrameMaxVersion?: number;
}

export interface AssemblyProgress {
  /** True once the payload is reassembled and checked. */
  readonly complete: boolean;
  /** 0..1: fragments recovered over fragments expected (1 when complete). */
  readonly progress: number;
  /** Fragments recovered so far (pure parts and those solved from mixed parts). */
  readonly received: number;
  /** Fragments the message has (`seqLen`; 1 for a single-part UR; 0 before the first frame). */
  readonly expected: number;
}

export interface AssembledMessage {
  readonly type: string;
  readonly payload: Uint8Array;
}

function checkType(type: unknown, what: string): asserts type is string {
  if (typeof type !== 'string' || !UR_TYPE_PATTERN.test(type)) {
    throw new CustosError('INVALID_PARAMETERS', `${what} must be 1 to 64 characters of a-z, 0-9 and "-"; got ${describe(type)}.`);
  }
}

function checkPayload(payload: unknown): asserts payload is Uint8Array {
  assertBytes(payload, 'The QR payload');
  if (payload.length > MAX_PAYLOAD_BYTES) {
    throw new CustosError('TOO_LARGE', `The QR payload is ${String(payload.length)} bytes; at most ${String(MAX_PAYLOAD_BYTES)} bytes fit an animated QR sequence.`, {
      details: { size: payload.length, limit: MAX_PAYLOAD_BYTES },
    });
  }
}

function integerOption(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new CustosError('INVALID_PARAMETERS', `${name} must be an integer ${String(min)}..${String(max)}; got ${typeof value === 'number' ? String(value) : describe(value)}.`);
  }
  return value;
}

/** Encodes the frames of one message; any frame (by sequence number) can be asked for. */
export class FrameEncoder {
  readonly type: string;
  /** True when the whole message is one `ur:type/…` frame. */
  readonly isSinglePart: boolean;
  /** The number of pure frames (1 for a single-part message). */
  readonly seqLen: number;
  readonly #single: string | undefined;
  readonly #fountain: FountainEncoder | undefined;

  constructor(payload: Uint8Array, options: EncodeOptions) {
    checkPayload(payload);
    if (typeof options !== 'object' || (options as unknown) === null) {
      throw new CustosError('INVALID_PARAMETERS', `QR frame options must be an object with a type; got ${describe(options)}.`);
    }
    checkType(options.type, 'The UR type');
    const type = options.type;
    const fragmentCeiling = maxFragmentLengthFor(type, QR_MAX_VERSION, DEFAULT_EC_LEVEL);
    const maxFragmentLength =
      integerOption(options.maxFragmentLength, 'maxFragmentLength', MIN_FRAGMENT_LENGTH, fragmentCeiling) ??
      maxFragmentLengthFor(type, DEFAULT_MULTIPART_VERSION, DEFAULT_EC_LEVEL);
    const singleVersion = integerOption(options.singleFrameMaxVersion, 'singleFrameMaxVersion', 1, QR_MAX_VERSION) ?? QR_MAX_VERSION;

    const message = cborEncode(payload);
    this.type = type;
    const fitsOneCode = singlePartFrameLength(type, payload.length) <= alphanumericCapacity(singleVersion, DEFAULT_EC_LEVEL);
    // As the reference encoder: a message that fits one fragment is sent single-part too.
    if (fitsOneCode || message.length <= maxFragmentLength) {
      this.isSinglePart = true;
      this.seqLen = 1;
      this.#single = `ur:${type}/${encodeMinimal(message)}`;
    } else {
      this.isSinglePart = false;
      this.#fountain = new FountainEncoder(message, maxFragmentLength);
      this.seqLen = this.#fountain.seqLen;
    }
  }

  /** Frame `seqNum` (1-based). 1..seqLen are the pure parts; later ones are fountain-mixed extras. */
  frame(seqNum: number): string {
    integerOption(seqNum, 'A frame sequence number', 1, 0xffffffff);
    if (this.#fountain === undefined) return this.#single ?? '';
    const part = this.#fountain.part(seqNum);
    return `ur:${this.type}/${String(part.seqNum)}-${String(part.seqLen)}/${encodeMinimal(encodePartCbor(part))}`;
  }

  /** Frames `from` .. `from + count - 1`. */
  range(from: number, count: number): string[] {
    integerOption(from, 'The first sequence number', 1, 0xffffffff);
    integerOption(count, 'The frame count', 0, 100_000);
    if (from + count - 1 > 0xffffffff) throw new CustosError('INVALID_PARAMETERS', 'Frame sequence numbers stop at 4294967295.');
    const out: string[] = [];
    for (let i = 0; i < count; i++) out.push(this.frame(from + i));
    return out;
  }
}

/**
 * The frames of one message: one `ur:type/…` frame when it fits a level-M QR code (see
 * `EncodeOptions.singleFrameMaxVersion`), otherwise its `seqLen` pure multipart frames, which together
 * always suffice. For a display that loops and a scanner that may miss frames, add `moreFrames`.
 */
export function encodeFrames(payload: Uint8Array, options: EncodeOptions): string[] {
  const encoder = new FrameEncoder(payload, options);
  return encoder.isSinglePart ? [encoder.frame(1)] : encoder.range(1, encoder.seqLen);
}

/**
 * `count` fountain-mixed frames beyond the pure ones (sequence numbers seqLen+1 …, or from `from`):
 * each combines several fragments, so a scanner that missed some pure frames completes from them.
 * A single-part message has none.
 */
export function moreFrames(payload: Uint8Array, options: EncodeOptions, count: number, from?: number): string[] {
  const encoder = new FrameEncoder(payload, options);
  integerOption(count, 'The frame count', 0, 100_000);
  if (encoder.isSinglePart) return [];
  return encoder.range(from ?? encoder.seqLen + 1, count);
}

interface ParsedFrame {
  readonly type: string;
  readonly seq: { readonly num: number; readonly len: number } | undefined;
  readonly body: string;
}

function parseFrame(frame: unknown): ParsedFrame {
  if (typeof frame !== 'string') {
    throw new CustosError('MALFORMED', `A QR frame must be text; got ${describe(frame)}.`);
  }
  const text = frame.trim();
  if (text.length > MAX_FRAME_CHARS) {
    throw new CustosError('MALFORMED', `A QR frame holds at most ${String(MAX_FRAME_CHARS)} characters; got ${String(text.length)}.`);
  }
  const match = FRAME_PATTERN.exec(text.toLowerCase());
  if (match === null) {
    throw new CustosError('MALFORMED', 'This QR code does not hold a UR frame (ur:TYPE/...); it is not a Custos code or was misread.');
  }
  const [, type = '', num, len, body = ''] = match;
  return { type, seq: num === undefined || len === undefined ? undefined : { num: Number(num), len: Number(len) }, body };
}

function decodePayload(message: Uint8Array): Uint8Array {
  let value: unknown;
  try {
    value = cborDecode(message);
  } catch (error) {
    throw new CustosError('MALFORMED', 'The scanned message is not a CBOR byte string.', { cause: error });
  }
  if (!(value instanceof Uint8Array)) {
    throw new CustosError('MALFORMED', `The scanned message must be a CBOR byte string; got ${describe(value)}.`);
  }
  if (value.length > MAX_PAYLOAD_BYTES) {
    throw new CustosError('TOO_LARGE', `The scanned payload is ${String(value.length)} bytes; at most ${String(MAX_PAYLOAD_BYTES)} are accepted.`);
  }
  return Uint8Array.from(value);
}

/**
 * Collects the frames of ONE message, in any order, with duplicates and gaps. A frame of another
 * message throws FRAME_MISMATCH, a frame of an unexpected type WRONG_TYPE, an unreadable one
 * MALFORMED; none of them changes what was collected.
 */
export class FrameAssembler {
  readonly #expectedType: string | undefined;
  #type: string | undefined;
  #single: Uint8Array | undefined;
  readonly #fountain = new FountainDecoder();
  #payload: Uint8Array | undefined;
  #failed = false;

  /** `type`, if given, is the only UR type accepted (e.g. `custos-export`). */
  constructor(options: { readonly type?: string } = {}) {
    if (typeof options !== 'object' || (options as unknown) === null) {
      throw new CustosError('INVALID_PARAMETERS', `FrameAssembler options must be an object; got ${describe(options)}.`);
    }
    if (options.type !== undefined) checkType(options.type, 'The expected UR type');
    this.#expectedType = options.type;
  }

  /** The UR type of the message being assembled, once a frame was accepted. */
  get type(): string | undefined {
    return this.#type;
  }

  get progress(): AssemblyProgress {
    if (this.#single !== undefined) return { complete: true, progress: 1, received: 1, expected: 1 };
    const complete = this.#payload !== undefined;
    const received = this.#fountain.receivedFragments;
    const expected = this.#fountain.expectedFragments;
    return { complete, progress: complete ? 1 : expected === 0 ? 0 : Math.min(received / expected, 0.99), received, expected };
  }

  /** Takes one scanned frame (as read from a QR code) and reports progress. */
  add(frame: unknown): AssemblyProgress {
    const parsed = parseFrame(frame);
    if (this.#expectedType !== undefined && parsed.type !== this.#expectedType) {
      throw new CustosError('WRONG_TYPE', `This QR code holds a "${parsed.type}", not a "${this.#expectedType}".`, {
        details: { expected: this.#expectedType, got: parsed.type },
      });
    }
    if (this.#type !== undefined && parsed.type !== this.#type) {
      throw new CustosError('FRAME_MISMATCH', `This QR frame is a "${parsed.type}" but the frames already scanned are a "${this.#type}"; scan one code sequence at a time, or start over.`);
    }
    if (this.#failed) {
      throw new CustosError('MALFORMED', 'The frames scanned so far reassemble to a damaged message; start the scan over.');
    }
    const bytes = decodeMinimal(parsed.body);
    if (parsed.seq === undefined) this.#addSingle(parsed.type, bytes);
    else this.#addPart(parsed.type, parsed.seq, bytes);
    return this.progress;
  }

  #addSingle(type: string, bytes: Uint8Array): void {
    if (this.#fountain.shape !== undefined) {
      throw new CustosError('FRAME_MISMATCH', 'This QR code is a complete single-frame message, but the frames already scanned belong to a multi-frame one; start over.');
    }
    const payload = decodePayload(bytes);
    if (this.#single !== undefined) {
      if (payload.length !== this.#single.length || !constantTimeEqual(payload, this.#single)) {
        throw new CustosError('FRAME_MISMATCH', 'This QR code holds a different message than the one already scanned; start over to scan it.');
      }
      return;
    }
    this.#type = type;
    this.#single = payload;
  }

  #addPart(type: string, seq: { readonly num: number; readonly len: number }, bytes: Uint8Array): void {
    if (this.#single !== undefined) {
      throw new CustosError('FRAME_MISMATCH', 'This QR frame is part of a multi-frame message, but a complete single-frame message was already scanned; start over.');
    }
    const part = decodePartCbor(bytes, MAX_MESSAGE_BYTES);
    if (part.seqLen > MAX_SEQUENCE_LENGTH) {
      throw new CustosError('TOO_LARGE', `The QR sequence announces ${String(part.seqLen)} fragments; at most ${String(MAX_SEQUENCE_LENGTH)} are accepted.`, {
        details: { announced: part.seqLen, limit: MAX_SEQUENCE_LENGTH },
      });
    }
    if (part.seqNum !== seq.num || part.seqLen !== seq.len) {
      throw new CustosError('MALFORMED', 'A QR frame says it is part one thing in its text and another in its data; it was misread or forged.');
    }
    this.#fountain.receive(part);
    this.#type = type;
    if (this.#fountain.isFailed) {
      this.#failed = true;
      throw new CustosError('MALFORMED', 'The frames reassemble to a message whose checksum does not match; start the scan over.');
    }
    const message = this.#fountain.result;
    if (message !== undefined && this.#payload === undefined) {
      try {
        this.#payload = decodePayload(message);
      } catch (error) {
        this.#failed = true;
        throw error;
      }
    }
  }

  /** The reassembled message. Throws INCOMPLETE until every fragment is in. */
  result(): AssembledMessage {
    if (this.#failed) throw new CustosError('MALFORMED', 'The scanned frames reassemble to a damaged message; start the scan over.');
    const payload = this.#single ?? this.#payload;
    if (payload === undefined || this.#type === undefined) {
      const { received, expected } = this.progress;
      throw new CustosError('INCOMPLETE', expected === 0 ? 'No QR frame has been scanned yet.' : `Only ${String(received)} of ${String(expected)} fragments are in; keep scanning.`, {
        details: { received, expected },
      });
    }
    return { type: this.#type, payload: Uint8Array.from(payload) };
  }
}
