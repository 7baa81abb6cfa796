/**
 * A QR module matrix as a 1-bit grayscale PNG (PNG specification, W3C 2003 / ISO/IEC 15948: colour
 * type 0, bit depth 1; 0 = black, 1 = white). Container and DEFLATE come from `fast-png` (pure
 * JavaScript over `fflate`), so this runs unchanged in a browser, Electron and Node; `qrcode`'s own
 * PNG writer needs Node's zlib and is not used.
 */
import { encode as encodePngImage } from 'fast-png';
import { CustosError } from '../errors';

export interface ModuleMatrix {
  /** Modules per side. */
  readonly size: number;
  /** size × size, row-major; non-zero = dark module. */
  readonly modules: Uint8Array;
}

export interface PngLayout {
  /** Light modules around the code on each side (the quiet zone; at least 4 per ISO/IEC 18004). */
  readonly margin: number;
  /** Pixels per module. */
  readonly scale: number;
}

/** The largest image side we produce: 185 modules (version 40 with its quiet zone) at scale 32. */
const MAX_SIDE_PX = 8192;

/** Draws `matrix` with `layout` as a 1-bit grayscale PNG. */
export function encodeMatrixPng(matrix: ModuleMatrix, layout: PngLayout): Uint8Array {
  if (typeof matrix !== 'object' || !Number.isInteger(matrix.size) || matrix.size < 1 || !(matrix.modules instanceof Uint8Array) || matrix.modules.length !== matrix.size * matrix.size) {
    throw new CustosError('INVALID_PARAMETERS', 'A QR module matrix needs a positive size and size × size modules.');
  }
  const { margin, scale } = layout;
  if (!Number.isInteger(margin) || margin < 0 || !Number.isInteger(scale) || scale < 1) {
    throw new CustosError('INVALID_PARAMETERS', `PNG margin and scale must be integers (margin >= 0, scale >= 1); got ${String(margin)} and ${String(scale)}.`);
  }
  const side = (matrix.size + 2 * margin) * scale;
  if (side > MAX_SIDE_PX) {
    throw new CustosError('INVALID_PARAMETERS', `The PNG would be ${String(side)} pixels wide; at most ${String(MAX_SIDE_PX)} are allowed. Use a smaller scale.`);
  }
  const rowBytes = Math.ceil(side / 8);
  const data = new Uint8Array(rowBytes * side).fill(0xff);
  for (let y = 0; y < side; y++) {
    const my = Math.floor(y / scale) - margin;
    if (my < 0 || my >= matrix.size) continue;
    const row = y * rowBytes;
    for (let x = 0; x < side; x++) {
      const mx = Math.floor(x / scale) - margin;
      if (mx < 0 || mx >= matrix.size || matrix.modules[my * matrix.size + mx] === 0) continue;
      const at = row + (x >> 3);
      data[at] = (data[at] ?? 0) & ~(0x80 >> (x & 7));
    }
  }
  return encodePngImage({ width: side, height: side, data, depth: 1, channels: 1 });
}

/** The 8-byte signature every PNG file starts with (PNG specification §5.2). */
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] as const;

/** True when `bytes` start with the PNG signature (a QR image, not a message file). */
export const isPng = (bytes: Uint8Array): boolean => PNG_SIGNATURE.every((b, i) => bytes[i] === b);
