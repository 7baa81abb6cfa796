// A QR code is not done until an independent reader has read it back: every frame is rendered to PNG,
// written to disk, read by zbarimg (Debian zbar-tools; a missing zbarimg FAILS this test) and by jsqr,
// and the strings go through the assembler, which must give back exactly the payload.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeQrImage } from '../../shared/qr/decode';
import { qrMatrix, renderPng, renderSvg } from '../../shared/qr/render';
import { FrameAssembler, encodeFrames, moreFrames } from '../../shared/qr/ur';
import { Xoshiro256 } from '../../shared/qr/xoshiro';
import { utf8 } from '../../shared/bytes';
import { codeOf, readPngRgba, requireZbarimg, seededShuffle, zbarimg } from './helpers';

const TYPE = 'custos-export';
const dir = mkdtempSync(join(tmpdir(), 'custos-qr-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function writeFrames(name: string, frames: readonly string[]): Promise<string[]> {
  const paths: string[] = [];
  for (const [i, frame] of frames.entries()) {
    const path = join(dir, `${name}-${String(i + 1)}.png`);
    writeFileSync(path, await renderPng(frame));
    paths.push(path);
  }
  return paths;
}

function assembleFrom(texts: readonly string[]): Uint8Array {
  const assembler = new FrameAssembler({ type: TYPE });
  for (const text of texts) assembler.add(text);
  return assembler.result().payload;
}

describe('rendered QR codes scan back', () => {
  it('zbarimg is installed', () => {
    requireZbarimg();
  });

  it('a multi-frame message, read by zbarimg (text and -Sbinary) and by jsqr', async () => {
    requireZbarimg();
    // Deterministic, so that which fragments the 3 fountain extras mix is fixed.
    const payload = new Xoshiro256(utf8('custos-scan')).nextData(3000);
    const frames = [...encodeFrames(payload, { type: TYPE }), ...moreFrames(payload, { type: TYPE }, 3)];
    expect(frames.length).toBe(10);
    const paths = await writeFrames('multi', frames);

    const plain = paths.map((p) => zbarimg(p, false));
    expect(plain).toEqual(frames.map((f) => f.toUpperCase()));
    expect(assembleFrom(seededShuffle(plain, 7))).toEqual(payload);

    const binary = paths.map((p) => zbarimg(p, true));
    expect(binary).toEqual(frames.map((f) => f.toUpperCase()));
    // Pure frames 4 and 7 missed: the extras (fragments {1,2,6}, {5,6}, {3} for this payload) fill in.
    expect(assembleFrom(binary.filter((_, i) => i !== 3 && i !== 6))).toEqual(payload);

    const viaJsqr = paths.map((p) => {
      const { data, width, height } = readPngRgba(p);
      return decodeQrImage(data, width, height);
    });
    expect(viaJsqr).toEqual(frames.map((f) => f.toUpperCase()));
    expect(assembleFrom(viaJsqr.map((t) => t ?? ''))).toEqual(payload);
  });

  it('the largest single-frame payload (a version-40 code) scans', async () => {
    requireZbarimg();
    const payload = crypto.getRandomValues(new Uint8Array(1680));
    const frames = encodeFrames(payload, { type: TYPE });
    expect(frames).toHaveLength(1);
    const [path = ''] = await writeFrames('single', frames);
    expect(assembleFrom([zbarimg(path, false)])).toEqual(payload);
    const { data, width, height } = readPngRgba(path);
    expect(width).toBe((177 + 8) * 8);
    expect(assembleFrom([decodeQrImage(data, width, height) ?? ''])).toEqual(payload);
  });

  it('decodeQrImage returns null for a picture without a code, and checks its inputs', () => {
    expect(decodeQrImage(new Uint8ClampedArray(64 * 64 * 4).fill(255), 64, 64)).toBeNull();
    expect(codeOf(() => decodeQrImage(new Uint8ClampedArray(10), 64, 64))).toBe('INVALID_PARAMETERS');
    expect(codeOf(() => decodeQrImage(new Uint8ClampedArray(0), 0, 0))).toBe('INVALID_PARAMETERS');
    expect(codeOf(() => decodeQrImage([] as unknown as Uint8ClampedArray, 1, 1))).toBe('INVALID_PARAMETERS');
  });

  it('SVG: the same matrix, a 4-module quiet zone, optional pixel size', async () => {
    const [frame = ''] = encodeFrames(new Uint8Array(100).fill(1), { type: TYPE });
    const { size } = qrMatrix(frame);
    const svg = await renderSvg(frame);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain(`viewBox="0 0 ${String(size + 8)} ${String(size + 8)}"`);
    expect(svg).toContain('shape-rendering="crispEdges"');
    const sized = await renderSvg(frame, { scale: 5, margin: 6 });
    expect(sized).toContain(`width="${String((size + 12) * 5)}"`);
    await expect(renderSvg('not a frame')).rejects.toMatchObject({ code: 'INVALID_PARAMETERS' });
    await expect(renderPng(frame, { margin: 2 })).rejects.toMatchObject({ code: 'INVALID_PARAMETERS' });
    await expect(renderPng(frame, { scale: 33 })).rejects.toMatchObject({ code: 'INVALID_PARAMETERS' });
  });
});
