/**
 * A UR frame as a QR code (ISO/IEC 18004; BCR-2020-005 §"QR codes": URs are upper-cased so the whole
 * frame is one alphanumeric-mode segment). Error correction level M, a quiet zone of 4 modules.
 *
 * Uses only the parts of `qrcode` that are pure JavaScript in every runtime (`create` for the module
 * matrix, `toString` for SVG); the PNG is drawn by `png.ts`.
 */
import QRCode from 'qrcode';
import { describe } from '../bytes';
import { CustosError, guard, guardAsync } from '../errors';
import { DEFAULT_EC_LEVEL, QR_MAX_VERSION, alphanumericCapacity } from './capacity';
import { encodeMatrixPng, type ModuleMatrix } from './png';

export interface QrMatrix extends ModuleMatrix {
  /** QR version 1..40 (size = 17 + 4·version). */
  readonly version: number;
}

export interface RenderOptions {
  /** Quiet zone in modules, 4..16 (default 4). */
  readonly margin?: number;
  /** PNG: pixels per module, 1..32 (default 8). SVG: if given, sets width/height to modules × scale px. */
  readonly scale?: number;
}

const UR_FRAME = /^ur:[a-z0-9-]+\/[a-z0-9/-]+$/i;
const MAX_CHARS = alphanumericCapacity(QR_MAX_VERSION, DEFAULT_EC_LEVEL);

/** The single alphanumeric segment for a UR frame (upper-cased). */
function segmentsFor(frame: unknown): [{ data: string; mode: 'alphanumeric' }] {
  if (typeof frame !== 'string' || !UR_FRAME.test(frame)) {
    throw new CustosError('INVALID_PARAMETERS', `Only a UR frame (ur:TYPE/...) can be rendered as a QR code; got ${typeof frame === 'string' ? 'other text' : describe(frame)}.`);
  }
  if (frame.length > MAX_CHARS) {
    throw new CustosError('TOO_LARGE', `A UR frame of ${String(frame.length)} characters does not fit one QR code at level M (at most ${String(MAX_CHARS)}).`, {
      details: { chars: frame.length, limit: MAX_CHARS },
    });
  }
  return [{ data: frame.toUpperCase(), mode: 'alphanumeric' }];
}

function layoutOf(options: unknown): { margin: number; scale: number | undefined } {
  if (options === undefined) return { margin: 4, scale: undefined };
  if (typeof options !== 'object' || options === null) {
    throw new CustosError('INVALID_PARAMETERS', `Render options must be an object; got ${describe(options)}.`);
  }
  const { margin = 4, scale } = options as RenderOptions;
  if (typeof margin !== 'number' || !Number.isInteger(margin) || margin < 4 || margin > 16) {
    throw new CustosError('INVALID_PARAMETERS', `The quiet zone must be an integer 4..16 modules; got ${String(margin)}.`);
  }
  if (scale !== undefined && (typeof scale !== 'number' || !Number.isInteger(scale) || scale < 1 || scale > 32)) {
    throw new CustosError('INVALID_PARAMETERS', `The scale must be an integer 1..32 pixels per module; got ${String(scale)}.`);
  }
  return { margin, scale };
}

/** The module matrix of `frame` at level M, without quiet zone. */
export function qrMatrix(frame: string): QrMatrix {
  const segments = segmentsFor(frame);
  const qr = guard('INVALID_PARAMETERS', 'The QR encoder refused this frame.', () => QRCode.create(segments, { errorCorrectionLevel: DEFAULT_EC_LEVEL }));
  const size = qr.modules.size;
  const modules = new Uint8Array(size * size);
  for (let i = 0; i < modules.length; i++) modules[i] = qr.modules.data[i] ? 1 : 0;
  return { size, version: qr.version, modules };
}

/** `frame` as an SVG document (black on white, crisp edges, viewBox in modules). */
export function renderSvg(frame: string, options?: RenderOptions): Promise<string> {
  return guardAsync('INVALID_PARAMETERS', 'The QR encoder refused this frame.', () => {
    const segments = segmentsFor(frame);
    const { margin, scale } = layoutOf(options);
    const width = scale === undefined ? undefined : (qrMatrix(frame).size + 2 * margin) * scale;
    return QRCode.toString(segments, { type: 'svg', errorCorrectionLevel: DEFAULT_EC_LEVEL, margin, ...(width === undefined ? {} : { width }) });
  });
}

/** `frame` as a 1-bit grayscale PNG (default 8 px per module, 4-module quiet zone). */
export function renderPng(frame: string, options?: RenderOptions): Promise<Uint8Array> {
  return guardAsync('INVALID_PARAMETERS', 'The QR code could not be drawn as PNG.', () => {
    const { margin, scale = 8 } = layoutOf(options);
    return Promise.resolve(encodeMatrixPng(qrMatrix(frame), { margin, scale }));
  });
}
