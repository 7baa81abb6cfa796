// shared/qr must run unchanged in a browser renderer. This bundles it the way a browser bundler does
// (esbuild, platform "browser": `browser` fields apply and any Node built-in fails the build) and runs
// the bundle in a bare V8 context without Buffer, process, require, window or document. It is not a
// browser, but it catches what breaks one: a Node built-in, a global Buffer or process.
import { build } from 'esbuild';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { decodeQrImage } from '../../shared/qr/decode';
import { FrameAssembler } from '../../shared/qr/ur';
import { readPngRgba } from './helpers';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ENTRY = `
import { encodeFrames, moreFrames, FrameAssembler } from './shared/qr/ur';
import { renderPng, renderSvg, qrMatrix } from './shared/qr/render';
import { decodeQrImage } from './shared/qr/decode';

globalThis.run = async () => {
  const payload = new Uint8Array(1500);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 131 + 7) & 255;
  const options = { type: 'custos-export', maxFragmentLength: 400, singleFrameMaxVersion: 1 };
  const frames = [...encodeFrames(payload, options), ...moreFrames(payload, options, 1)];
  const assembler = new FrameAssembler({ type: 'custos-export' });
  const pngs = [];
  for (const frame of frames) {
    const m = qrMatrix(frame);
    const side = m.size + 8, scale = 4, w = side * scale;
    const rgba = new Uint8ClampedArray(w * w * 4).fill(255);
    for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) {
      const my = Math.floor(y / scale) - 4, mx = Math.floor(x / scale) - 4;
      if (my >= 0 && mx >= 0 && my < m.size && mx < m.size && m.modules[my * m.size + mx]) rgba.fill(0, (y * w + x) * 4, (y * w + x) * 4 + 3);
    }
    assembler.add(decodeQrImage(rgba, w, w));
    pngs.push(Array.from(await renderPng(frame)));
  }
  const out = assembler.result().payload;
  let same = out.length === payload.length;
  for (let i = 0; same && i < out.length; i++) same = out[i] === payload[i];
  const svg = await renderSvg(frames[0]);
  return { same, frames, pngs, svgStart: svg.slice(0, 40) };
};
`;

describe('shared/qr in a browser-like context', () => {
  it('bundles for the browser without Node built-ins and runs without Node globals', async () => {
    const bundle = await build({
      stdin: { contents: ENTRY, resolveDir: process.cwd(), loader: 'ts', sourcefile: 'entry.ts' },
      bundle: true,
      platform: 'browser',
      format: 'iife',
      write: false,
      logLevel: 'silent',
    });
    const code = bundle.outputFiles[0]?.text ?? '';
    expect(code.length).toBeGreaterThan(1000);

    const sandbox: Record<string, unknown> = { TextEncoder, TextDecoder, console };
    runInNewContext(code, sandbox);
    expect(runInNewContext('typeof Buffer + typeof process + typeof require + typeof window + typeof document', sandbox)).toBe(
      'undefinedundefinedundefinedundefinedundefined',
    );
    const run = sandbox.run as () => Promise<{ same: boolean; frames: string[]; pngs: number[][]; svgStart: string }>;
    const result = await run();
    expect(result.same).toBe(true);
    expect(result.svgStart.startsWith('<svg')).toBe(true);

    // A PNG drawn inside the sandbox reads back in Node.
    const dir = mkdtempSync(join(tmpdir(), 'custos-qr-browser-'));
    try {
      const path = join(dir, 'frame.png');
      writeFileSync(path, Uint8Array.from(result.pngs[0] ?? []));
      const { data, width, height } = readPngRgba(path);
      const text = decodeQrImage(data, width, height);
      expect(text).toBe(result.frames[0]?.toUpperCase());
      expect(new FrameAssembler().add(text).received).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
