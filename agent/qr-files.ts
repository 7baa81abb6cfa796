/**
 * QR frames as PNG files for the agent (Node side of shared/qr): envelopes leave the agent as
 * animated-QR frame images next to their files, and recovery exports may come back as photos or
 * screenshots of the custodian's frames.
 *
 * UR types come from shared/qr/types.ts: `custos-envelope` and `custos-recovery-export`.
 */
import { PNG } from 'pngjs';
import { CustosError } from '../shared/errors';
import { decodeQrImage } from '../shared/qr/decode';
import { renderPng } from '../shared/qr/render';
import { encodeFrames, FrameAssembler } from '../shared/qr/ur';
import { urTypeOf } from '../shared/qr/types';

export const UR_TYPES = { envelope: urTypeOf('envelope'), export: urTypeOf('recovery-export') } as const;
export type UrType = (typeof UR_TYPES)[keyof typeof UR_TYPES];

/** The frames of `payload` (one UR per frame) rendered as PNG images, in order. */
export async function qrPngFrames(payload: Uint8Array, type: UrType): Promise<Uint8Array[]> {
  const frames = encodeFrames(payload, { type });
  const out: Uint8Array[] = [];
  for (const frame of frames) out.push(await renderPng(frame));
  return out;
}

/** Reads the QR code in one PNG image; MALFORMED when the image has none or is not a PNG. */
export function readQrPng(png: Uint8Array): string {
  let image: PNG;
  try {
    image = PNG.sync.read(Buffer.from(png.buffer, png.byteOffset, png.length));
  } catch (error) {
    throw new CustosError('MALFORMED', 'The image is not a readable PNG file.', { cause: error });
  }
  const text = decodeQrImage(new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length), image.width, image.height);
  if (text === null) throw new CustosError('MALFORMED', 'No QR code could be read in this image; take a sharper picture or use the file instead.');
  return text;
}

/** Reassembles one message from the PNG images of its frames (any order, duplicates allowed). */
export function assembleQrPngs(pngs: readonly Uint8Array[], type: UrType): Uint8Array {
  const assembler = new FrameAssembler({ type });
  for (const png of pngs) {
    assembler.add(readQrPng(png));
    if (assembler.progress.complete) break;
  }
  return assembler.result().payload;
}
