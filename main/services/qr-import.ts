/**
 * Messages that arrive as QR codes: PNG images (a photo or a screenshot of a QR frame) or UR text
 * (one `ur:custos-…` frame per line, as a scanner or `*-qr-frames.txt` gives), reassembled with
 * shared/qr's FrameAssembler. Frames of several messages may come mixed: each frame joins the first
 * message it belongs to, or starts a new one. The payload bytes are then just a file for the inbox:
 * nothing is trusted until the inbox has verified it.
 */
import { PNG } from 'pngjs';
import { CustosError, isCustosError } from '../../shared/errors';
import { decodeQrImage } from '../../shared/qr/decode';
import { FrameAssembler } from '../../shared/qr/ur';
import { explain, type Explained } from './messages';

/** The text of the QR code in a PNG image, or null when none can be read. */
export function readQrPng(png: Uint8Array): string | null {
  let image: PNG;
  try {
    image = PNG.sync.read(Buffer.from(png.buffer, png.byteOffset, png.length));
  } catch (error) {
    throw new CustosError('MALFORMED', 'This image is not a readable PNG file.', { cause: error });
  }
  const rgba = new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length);
  return decodeQrImage(rgba, image.width, image.height);
}

export interface FrameSource {
  /** File name or label, for messages. */
  readonly name: string;
  readonly frame: string;
}

export interface AssembledQr {
  readonly names: readonly string[];
  readonly type: string;
  readonly payload: Uint8Array;
}

export interface QrProblem {
  readonly names: readonly string[];
  readonly problem: Explained;
}

/** Reassembles every complete message found in `frames`; incomplete or unreadable ones become problems. */
export function assembleFrames(frames: readonly FrameSource[]): { messages: AssembledQr[]; problems: QrProblem[] } {
  const groups: { assembler: FrameAssembler; names: string[] }[] = [];
  const problems: QrProblem[] = [];
  for (const f of frames) {
    let placed = false;
    let lastError: unknown;
    for (const g of groups) {
      try {
        g.assembler.add(f.frame);
        g.names.push(f.name);
        placed = true;
        break;
      } catch (error) {
        if (!isCustosError(error, 'FRAME_MISMATCH') && !isCustosError(error, 'WRONG_TYPE')) {
          lastError = error;
          break;
        }
      }
    }
    if (placed) continue;
    if (lastError !== undefined) {
      problems.push({ names: [f.name], problem: explain(lastError) });
      continue;
    }
    const g = { assembler: new FrameAssembler(), names: [f.name] };
    try {
      g.assembler.add(f.frame);
      groups.push(g);
    } catch (error) {
      problems.push({ names: [f.name], problem: explain(error) });
    }
  }
  const messages: AssembledQr[] = [];
  for (const g of groups) {
    try {
      const r = g.assembler.result();
      messages.push({ names: g.names, type: r.type, payload: r.payload });
    } catch (error) {
      problems.push({ names: g.names, problem: explain(error) });
    }
  }
  return { messages, problems };
}

/** UR frames in a text (one per line; blank lines and others ignored). */
export function framesInText(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => /^ur:/i.test(l));
}
