/**
 * QR frames as PNG images, for both command lines and the app's main process (Node side of
 * shared/qr): envelopes leave the agent as animated-QR frame images next to their files, and
 * envelopes and recovery exports come back as photos or screenshots of the frames.
 *
 * UR types come from shared/qr/types.ts (`custos-envelope`, `custos-recovery-export`); frames of
 * several messages are sorted by shared/qr/assemble.ts. What is here is only the image side: PNG
 * decoding (pngjs) and the QR reader over its pixels.
 */
import { createHash } from 'node:crypto';
import { PNG } from 'pngjs';
import { aOrAn } from '../shared/article';
import { CodedError, CustosError, isCustosError } from '../shared/errors';
import { framesInText, MessageSorter } from '../shared/qr/assemble';
import { isPng } from '../shared/qr/png';
import { decodeQrImage } from '../shared/qr/decode';
import { renderPng } from '../shared/qr/render';
import { encodeFrames, FrameAssembler } from '../shared/qr/ur';
import { urTypeOf } from '../shared/qr/types';

export const UR_TYPES = { envelope: urTypeOf('envelope'), export: urTypeOf('recovery-export'), receipt: urTypeOf('receipt') } as const;
export type UrType = (typeof UR_TYPES)[keyof typeof UR_TYPES];

/** The frames of `payload` (one UR per frame) rendered as PNG images, in order. */
export async function qrPngFrames(payload: Uint8Array, type: UrType): Promise<Uint8Array[]> {
  const frames = encodeFrames(payload, { type });
  const out: Uint8Array[] = [];
  for (const frame of frames) out.push(await renderPng(frame));
  return out;
}

/** The text of the QR code in a PNG image, or null when none can be read; MALFORMED when it is not a PNG. */
export function qrTextInPng(png: Uint8Array): string | null {
  let image: PNG;
  try {
    image = PNG.sync.read(Buffer.from(png.buffer, png.byteOffset, png.length));
  } catch (error) {
    throw new CustosError('MALFORMED', 'The image is not a readable PNG file.', { cause: error });
  }
  return decodeQrImage(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length), image.width, image.height);
}

/** Reads the QR code in one PNG image; MALFORMED when the image has none or is not a PNG. */
export function readQrPng(png: Uint8Array): string {
  const text = qrTextInPng(png);
  if (text === null) throw new CustosError('MALFORMED', 'No QR code could be read in this image; take a sharper picture or use the file instead.');
  return text;
}

/** Reassembles ONE message from the PNG images of its frames (any order, duplicates allowed). */
export function assembleQrPngs(pngs: readonly Uint8Array[], type: UrType): Uint8Array {
  const assembler = new FrameAssembler({ type });
  for (const png of pngs) {
    assembler.add(readQrPng(png));
    if (assembler.progress.complete) break;
  }
  return assembler.result().payload;
}

export interface PngFile {
  readonly file: string;
  readonly bytes: Uint8Array;
}

export interface PngMessagesOptions {
  /** The only UR type accepted. */
  readonly type: UrType;
  /** What such a message is called in a sentence ("recovery export"). */
  readonly what: string;
  /** Called before each image is read (a CLI's progress line). */
  readonly onImage?: (index: number, file: string) => void;
}

/**
 * The messages in PNG images of their QR frames: frames of several messages mixed, in any order,
 * with duplicates. Strict, for a command line: the first unreadable image or frame refuses the
 * whole batch with its file name (its own code, or MALFORMED); so does a message of another type
 * (WRONG_TYPE) and a message still missing frames (INCOMPLETE, naming the file of its first frame).
 */
export function messagesInPngs(pngs: readonly PngFile[], options: PngMessagesOptions): Uint8Array[] {
  const sorter = new MessageSorter();
  for (const [i, { file, bytes }] of pngs.entries()) {
    options.onImage?.(i, file);
    let started: { readonly started: boolean; readonly message: { readonly type: string } };
    try {
      started = sorter.add({ name: file, frame: readQrPng(bytes) });
    } catch (error) {
      throw new CustosError(isCustosError(error) ? error.code : 'MALFORMED', `${file}: ${messageOf(error)}`, { details: { file } });
    }
    if (started.started && started.message.type !== options.type) {
      throw new CustosError('WRONG_TYPE', `${file} holds a QR code of ${aOrAn(`"${started.message.type}"`)}, not of ${aOrAn(options.what)}.`, { details: { file } });
    }
  }
  const { messages, unfinished } = sorter.results();
  const first = unfinished[0];
  if (first !== undefined) {
    const name = first.names[0] ?? '?';
    throw new CustosError('INCOMPLETE', `The QR frames of the ${options.what} that starts with ${name} are incomplete: ${messageOf(first.error)} Add its missing PNG frames.`, {
      details: { file: name },
    });
  }
  return messages.map((m) => m.payload);
}

/** A coded error's sentence; never the message of anything else (it could hold paths or values). */
function messageOf(error: unknown): string {
  return error instanceof CodedError ? error.message : 'The image could not be read.';
}

/** One input, as read, for {@link sortInputs}. */
export interface InputFile {
  readonly file: string;
  readonly bytes: Uint8Array;
}

/** A file an input list left out: which, with a code and a sentence saying why. */
export interface SkippedInput {
  readonly file: string;
  readonly code: string;
  readonly reason: string;
  /** False for what needs no action (a picture of frames also read from its PNG, a message given twice). */
  readonly problem: boolean;
}

export interface SortedInputs {
  /** Each distinct message once: from a message file, from QR frames (PNG or `…-frames.txt`), or both. */
  readonly messages: readonly { readonly names: readonly string[]; readonly bytes: Uint8Array }[];
  readonly skipped: readonly SkippedInput[];
  /** QR frames read (images and text lines). */
  readonly frames: number;
}

const isUrText = (bytes: Uint8Array): boolean => {
  const head = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 64)).trimStart();
  return /^ur:/i.test(head);
};
const isSvg = (bytes: Uint8Array): boolean => /^\s*(<\?xml|<svg)/i.test(new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 64)));

/**
 * Lenient, for a command line given a folder: message files, PNG images of QR frames and
 * `…-qr-frames.txt` texts, mixed, of several messages. Frames are sorted into their messages (frames
 * of two messages never mix); each message is kept once however many ways it came (a `.custos`
 * file, its PNG frames and its frames text are one message); everything left out is named with
 * why: an image without a code, a message of another type, frames still incomplete or damaged, an
 * SVG picture (read its PNG or text instead), a duplicate.
 */
export function sortInputs(inputs: readonly InputFile[], options: PngMessagesOptions): SortedInputs {
  const sorter = new MessageSorter();
  const skipped: SkippedInput[] = [];
  const raw: { names: string[]; bytes: Uint8Array }[] = [];
  let frames = 0;
  const add = (name: string, frame: string): void => {
    try {
      sorter.add({ name, frame });
      frames++;
    } catch (error) {
      skipped.push({ file: name, code: isCustosError(error) ? error.code : 'MALFORMED', reason: messageOf(error), problem: true });
    }
  };
  for (const [i, { file, bytes }] of inputs.entries()) {
    if (isPng(bytes)) {
      options.onImage?.(i, file);
      let text: string | null;
      try {
        text = qrTextInPng(bytes);
      } catch (error) {
        skipped.push({ file, code: 'MALFORMED', reason: messageOf(error), problem: true });
        continue;
      }
      if (text === null) skipped.push({ file, code: 'MALFORMED', reason: 'No QR code could be read in this image; take a sharper picture or use the file instead.', problem: true });
      else add(file, text);
    } else if (isUrText(bytes)) {
      const lines = framesInText(new TextDecoder('utf-8', { fatal: false }).decode(bytes));
      for (const [n, frame] of lines.entries()) add(lines.length > 1 ? `${file}:${String(n + 1)}` : file, frame);
    } else if (isSvg(bytes)) {
      skipped.push({ file, code: 'SKIPPED', reason: 'An SVG picture of a QR code is not read; give its PNG frames or its -qr-frames.txt instead.', problem: false });
    } else {
      raw.push({ names: [file], bytes });
    }
  }
  const { messages, unfinished } = sorter.results();
  for (const u of unfinished) {
    const files = [...new Set(u.names.map((n) => n.replace(/:\d+$/, '')))];
    for (const file of files) skipped.push({ file, code: isCustosError(u.error) ? u.error.code : 'INCOMPLETE', reason: `Its QR frames do not make a whole ${options.what}: ${messageOf(u.error)}`, problem: true });
  }
  const out: { names: string[]; bytes: Uint8Array }[] = [];
  const seen = new Map<string, { names: string[] }>();
  const keep = (names: readonly string[], bytes: Uint8Array): void => {
    const id = createHash('sha256').update(bytes).digest('hex');
    const before = seen.get(id);
    if (before !== undefined) {
      for (const file of new Set(names.map((n) => n.replace(/:\d+$/, '')))) {
        skipped.push({ file, code: 'DUPLICATE', reason: `The same ${options.what} as ${before.names[0] ?? '?'}; counted once.`, problem: false });
      }
      return;
    }
    const m = { names: [...names], bytes };
    seen.set(id, m);
    out.push(m);
  };
  for (const r of raw) keep(r.names, r.bytes);
  for (const m of messages) {
    if (m.type !== options.type) {
      for (const file of new Set(m.names.map((n) => n.replace(/:\d+$/, '')))) {
        skipped.push({ file, code: 'WRONG_TYPE', reason: `It holds the QR code of ${aOrAn(`"${m.type}"`)}, not of ${aOrAn(options.what)}.`, problem: true });
      }
      continue;
    }
    keep([...new Set(m.names.map((n) => n.replace(/:\d+$/, '')))], m.payload);
  }
  return { messages: out, skipped, frames };
}
