// The endless fountain loop the player shows (shared/qr/loop.ts): frames played past the pure ones,
// drawn as PNG, read back by zbarimg (an independent reader), some dropped, the rest assembled.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DENSITIES, FrameLoop, STANDARD_DENSITY, densityOfFrames, framesAt, messageOfFrames } from '../../shared/qr/loop';
import { renderPng } from '../../shared/qr/render';
import { FrameAssembler } from '../../shared/qr/ur';
import { sheetFrames } from '../../main/services/sheet';
import { framesFor } from '../../main/services/qr-files';
import { requireZbarimg, zbarimg } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'custos-qr-loop-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const payload = Uint8Array.from({ length: 3000 }, (_, i) => (i * 197 + 11) & 255);
const TYPE = 'custos-recovery-export';

describe('FrameLoop', () => {
  it('plays the pure frames, then mixed frames without end; a camera that missed half the pure ones completes from the mixed', async () => {
    requireZbarimg();
    const loop = new FrameLoop(payload, TYPE, STANDARD_DENSITY.version);
    expect(loop.seqLen).toBeGreaterThan(5);
    // What the files and the sheet hold is the first seqLen frames of the loop.
    expect(framesAt(payload, TYPE)).toEqual(Array.from({ length: loop.seqLen }, (_, i) => loop.frame(i + 1)));
    expect(loop.frame(loop.seqLen + 1)).not.toEqual(loop.frame(1));
    const assembler = new FrameAssembler({ type: TYPE });
    let n = 1;
    // The camera catches every other frame: half the pure ones are never seen.
    for (; !assembler.progress.complete && n < 4 * loop.seqLen; n += 2) {
      const file = join(dir, `frame-${String(n)}.png`);
      writeFileSync(file, await renderPng(loop.frame(n)));
      assembler.add(zbarimg(file, false));
    }
    expect(assembler.progress.complete).toBe(true);
    expect(n).toBeGreaterThan(loop.seqLen); // it needed mixed frames
    expect(assembler.result().payload).toEqual(payload);
  });

  it('cuts the same message into more frames at a coarser density, each within its QR version', async () => {
    const counts = DENSITIES.map((d) => new FrameLoop(payload, TYPE, d.version).seqLen);
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeLessThan(counts[i - 1] ?? 0);
    const coarse = DENSITIES[0];
    if (coarse === undefined) throw new Error('no densities');
    const { qrMatrix } = await import('../../shared/qr/render');
    const loop = new FrameLoop(payload, TYPE, coarse.version);
    for (const k of [1, loop.seqLen, loop.seqLen + 7]) expect(qrMatrix(loop.frame(k)).version).toBeLessThanOrEqual(coarse.version);
  });

  it('finds the density frames were made at and the message they carry; the files, the player and the sheet agree', () => {
    const frames = framesFor('recovery-export', payload);
    expect(sheetFrames(payload)).toEqual(frames);
    const { type, payload: back } = messageOfFrames(frames);
    expect(type).toBe(TYPE);
    expect(back).toEqual(payload);
    expect(densityOfFrames(frames, back, type)).toEqual(STANDARD_DENSITY);
    expect(densityOfFrames(framesAt(payload, TYPE, 20), payload, TYPE)?.version).toBe(20);
    expect(() => messageOfFrames(frames.slice(1))).toThrow(/fragments are in/);
  });

  it('a single-frame message is the same frame forever', () => {
    const loop = new FrameLoop(Uint8Array.of(1, 2, 3), TYPE, 15);
    expect(loop.isSinglePart).toBe(true);
    expect(loop.frame(9)).toBe(loop.frame(1));
    expect(() => loop.frame(0)).toThrow(/starts at 1/);
  });
});
