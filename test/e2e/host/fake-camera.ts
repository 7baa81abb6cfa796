/**
 * A video for Chromium's fake camera, made of QR frames: the camera path of the end-to-end tests
 * (issue 4: "Chromium's fake camera fed the app's own QR frames"). Chromium plays a Y4M file given as
 *
 *   --use-fake-device-for-media-stream --use-fake-ui-for-media-stream --use-file-for-fake-video-capture=PATH.y4m
 *
 * in a loop. Each UR frame becomes `holdFrames` video frames of a black-on-white QR code centred on
 * a white picture (YUV 4:2:0, chroma neutral). The browser must be launched with the flags, so write
 * the file before the browser starts (e.g. in a worker fixture or global setup):
 *
 *   test.use({ launchOptions: { args: [...defaults, '--use-fake-device-for-media-stream',
 *     '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${path}`] } });
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { qrMatrix } from '../../../shared/qr/render';

export interface Y4mOptions {
  /** Picture size in pixels (even numbers; default 640 × 480). */
  readonly width?: number;
  readonly height?: number;
  /** Video frames per second (default 10) and video frames each QR frame is shown (default 3). */
  readonly fps?: number;
  readonly holdFrames?: number;
  /** Quiet zone in modules around the code (default 4). */
  readonly margin?: number;
}

/** The Y4M bytes for `frames` (UR texts, as `qr:encode` or `shared/qr` give them). */
export function qrY4m(frames: readonly string[], options: Y4mOptions = {}): Buffer {
  const width = options.width ?? 640;
  const height = options.height ?? 480;
  if (width % 2 !== 0 || height % 2 !== 0) throw new RangeError('Y4M 4:2:0 needs an even width and height');
  const fps = options.fps ?? 10;
  const hold = options.holdFrames ?? 3;
  const margin = options.margin ?? 4;
  const header = Buffer.from(`YUV4MPEG2 W${String(width)} H${String(height)} F${String(fps)}:1 Ip A1:1 C420jpeg\n`, 'latin1');
  const chroma = Buffer.alloc((width / 2) * (height / 2) * 2, 128);
  const parts: Buffer[] = [header];
  for (const frame of frames) {
    const m = qrMatrix(frame);
    const side = m.size + 2 * margin;
    const scale = Math.floor(Math.min(width, height) / side);
    if (scale < 2) throw new RangeError(`a ${String(m.size)}-module code does not fit ${String(width)} × ${String(height)} at 2 px per module`);
    const luma = Buffer.alloc(width * height, 235);
    const x0 = Math.floor((width - side * scale) / 2) + margin * scale;
    const y0 = Math.floor((height - side * scale) / 2) + margin * scale;
    for (let my = 0; my < m.size; my++) {
      for (let mx = 0; mx < m.size; mx++) {
        if (m.modules[my * m.size + mx] === 0) continue;
        for (let dy = 0; dy < scale; dy++) luma.fill(16, (y0 + my * scale + dy) * width + x0 + mx * scale, (y0 + my * scale + dy) * width + x0 + (mx + 1) * scale);
      }
    }
    for (let i = 0; i < hold; i++) parts.push(Buffer.from('FRAME\n', 'latin1'), luma, chroma);
  }
  return Buffer.concat(parts);
}

export function writeQrY4m(path: string, frames: readonly string[], options?: Y4mOptions): void {
  writeFileSync(path, qrY4m(frames, options));
}

/**
 * A path for a spec's video in a new temporary folder, removed when the process exits. A spec makes
 * its video at module level (the launch flags need the path), so the file is written both in
 * Playwright's runner, which only loads the spec to list its tests, and in the worker: an afterAll
 * would clean up only the worker's copy, and each run left a few megabytes in the temp folder.
 */
export function tempVideoPath(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.once('exit', () => {
    rmSync(dir, { recursive: true, force: true });
  });
  return join(dir, 'qr.y4m');
}
