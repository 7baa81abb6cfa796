/**
 * Reading a QR code out of camera or file pixels (ISO/IEC 18004 decoding, by `jsqr`: pure JavaScript,
 * no DOM, so it runs in a browser, a worker, Electron and Node alike). The text it returns is untrusted
 * input for `FrameAssembler.add`.
 */
import jsQR from 'jsqr';
import { describe } from '../bytes';
import { CustosError, guard } from '../errors';

/** The largest image accepted, in pixels (8192 × 8192): bounds memory for hostile dimensions. */
export const MAX_IMAGE_PIXELS = 8192 * 8192;

/**
 * Finds and decodes one QR code in an RGBA image (4 bytes per pixel, row-major, as ImageData gives).
 * Returns its text, or null when no readable code is in the picture (the normal case between frames).
 */
export function decodeQrImage(rgba: Uint8ClampedArray | Uint8Array, width: number, height: number): string | null {
  if (!(rgba instanceof Uint8ClampedArray) && !((rgba as unknown) instanceof Uint8Array)) {
    throw new CustosError('INVALID_PARAMETERS', `The image must be RGBA bytes (Uint8ClampedArray); got ${describe(rgba)}.`);
  }
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width * height > MAX_IMAGE_PIXELS) {
    throw new CustosError('INVALID_PARAMETERS', `The image size must be positive integers of at most ${String(MAX_IMAGE_PIXELS)} pixels; got ${String(width)} × ${String(height)}.`);
  }
  if (rgba.length !== width * height * 4) {
    throw new CustosError('INVALID_PARAMETERS', `An RGBA image of ${String(width)} × ${String(height)} needs ${String(width * height * 4)} bytes; got ${String(rgba.length)}.`);
  }
  const pixels = rgba instanceof Uint8ClampedArray ? rgba : new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, rgba.length);
  const code = guard('MALFORMED', 'The QR reader failed on this image.', () => jsQR(pixels, width, height, { inversionAttempts: 'attemptBoth' }));
  return code === null ? null : code.data;
}
