/**
 * An animated QR sequence as the UR tools play it (BCR-2020-005; Sparrow, Keystone): the message's
 * pure frames 1..seqLen first, then an endless stream of fountain-mixed frames seqLen+1, seqLen+2, …
 * so a camera that missed some frames completes from whatever it catches next, without waiting for
 * the loop to come round.
 *
 * A density is the QR version every frame fits (level M): a low version makes small, coarse codes a
 * webcam reads from across a desk; a high version fewer, denser codes for a phone held close. The
 * app's files, its player and the printed sheet all use `STANDARD_DENSITY` unless a person picks
 * another, so the three agree on the frame count.
 */
import { CustosError } from '../errors';
import { maxFragmentLengthFor } from './capacity';
import { FrameAssembler, FrameEncoder } from './ur';

export interface Density {
  readonly id: 'coarse' | 'standard' | 'dense' | 'densest';
  /** QR version 1..40 every frame fits at level M. */
  readonly version: number;
}

export const DENSITIES: readonly Density[] = [
  { id: 'coarse', version: 10 },
  { id: 'standard', version: 15 },
  { id: 'dense', version: 20 },
  { id: 'densest', version: 25 },
];

/** The density of the app's QR files, its player's first choice and the printed sheet (version 15). */
export const STANDARD_DENSITY: Density = { id: 'standard', version: 15 };

/** The encoder of `payload` whose every frame fits a level-M QR code of `version`. */
export function encoderAt(payload: Uint8Array, type: string, version: number): FrameEncoder {
  return new FrameEncoder(payload, { type, maxFragmentLength: maxFragmentLengthFor(type, version), singleFrameMaxVersion: version });
}

/** The pure frames of `payload` at a density's `version` (one frame when it fits one code). */
export function framesAt(payload: Uint8Array, type: string, version: number = STANDARD_DENSITY.version): string[] {
  const encoder = encoderAt(payload, type, version);
  return encoder.range(1, encoder.seqLen);
}

/** The message (UR type and payload) the frames of ONE message carry; INCOMPLETE when they do not suffice. */
export function messageOfFrames(frames: readonly string[]): { type: string; payload: Uint8Array } {
  const assembler = new FrameAssembler();
  for (const frame of frames) {
    assembler.add(frame);
    if (assembler.progress.complete) break;
  }
  const { type, payload } = assembler.result();
  return { type, payload };
}

/**
 * The endless sequence of one message at one density: `frame(n)` for n = 1, 2, 3, … is a pure frame
 * for n ≤ seqLen and a fountain-mixed frame after; a single-part message is the same frame forever.
 */
export class FrameLoop {
  readonly type: string;
  readonly version: number;
  /** The pure frames (what the files and the sheet hold); 1 for a single-part message. */
  readonly seqLen: number;
  readonly isSinglePart: boolean;
  readonly #encoder: FrameEncoder;

  constructor(payload: Uint8Array, type: string, version: number) {
    this.#encoder = encoderAt(payload, type, version);
    this.type = type;
    this.version = version;
    this.seqLen = this.#encoder.seqLen;
    this.isSinglePart = this.#encoder.isSinglePart;
  }

  /** Frame `n` (1-based, unbounded up to 2^32-1). */
  frame(n: number): string {
    if (!Number.isSafeInteger(n) || n < 1) throw new CustosError('INVALID_PARAMETERS', `A frame number starts at 1; got ${String(n)}.`);
    return this.#encoder.frame(this.isSinglePart ? 1 : n);
  }
}

/** The density (of `DENSITIES`) whose frames start with `frames[0]`, i.e. the one they were made at. */
export function densityOfFrames(frames: readonly string[], payload: Uint8Array, type: string): Density | undefined {
  const first = frames[0];
  if (first === undefined) return undefined;
  return DENSITIES.find((d) => {
    const encoder = encoderAt(payload, type, d.version);
    return encoder.seqLen === frames.length && encoder.frame(1) === first.toLowerCase();
  });
}
