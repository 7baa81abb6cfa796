// Several messages as one animated sequence (shared/qr/sequence.ts, issue 13: every signed receipt
// of a batch in one player): the places it gives, frames drawn as PNG and read back by zbarimg (an
// independent reader), a third of them dropped, sorted into their messages as the agent's
// `delivery confirm` does (shared/qr/assemble.ts); and a scanner that reads one message at a time.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MessageSorter } from '../../shared/qr/assemble';
import { DENSITIES, FrameLoop, STANDARD_DENSITY } from '../../shared/qr/loop';
import { renderPng } from '../../shared/qr/render';
import { placeInSequence } from '../../shared/qr/sequence';
import { FrameAssembler } from '../../shared/qr/ur';
import { requireZbarimg, zbarimg } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'custos-qr-seq-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const TYPE = 'custos-receipt';
const messages = [700, 260, 1100, 40].map((n, m) => Uint8Array.from({ length: n }, (_, i) => (i * 131 + m * 17 + 5) & 255));
const coarse = DENSITIES[0]!.version;

describe('placeInSequence', () => {
  it('with one message is its own loop: position p is frame p', () => {
    for (let p = 1; p <= 40; p++) expect(placeInSequence([7], p)).toEqual({ m: 0, k: p, j: (p - 1) % 7 });
  });

  it('plays every message\'s pure frames first, then rounds of mixed frames, each message\'s frames together', () => {
    const lens = [3, 1, 2];
    const places = Array.from({ length: 18 }, (_, i) => placeInSequence(lens, i + 1));
    expect(places.map((x) => `${String(x.m)}:${String(x.k)}`)).toEqual([
      ...['0:1', '0:2', '0:3', '1:1', '2:1', '2:2'],
      ...['0:4', '0:5', '0:6', '1:2', '2:3', '2:4'],
      ...['0:7', '0:8', '0:9', '1:3', '2:5', '2:6'],
    ]);
  });

  it('refuses a position before 1 and a message of no frames, saying what it expected', () => {
    expect(() => placeInSequence([2], 0)).toThrow(/starts at 1; got 0/);
    expect(() => placeInSequence([2, 0], 1)).toThrow(/each of at least one frame/);
    expect(() => placeInSequence([], 1)).toThrow(/at least one message/);
  });
});

describe('a batch as one sequence, read off the pictures', () => {
  it('a camera that drops every third frame gets every message, each once, within three rounds', async () => {
    requireZbarimg();
    const loops = messages.map((b) => new FrameLoop(b, TYPE, coarse));
    const lens = loops.map((l) => l.seqLen);
    expect(lens.filter((l) => l > 1).length).toBeGreaterThanOrEqual(3);
    const total = lens.reduce((s, l) => s + l, 0);
    const sorter = new MessageSorter();
    const done = (): boolean => {
      const r = sorter.results();
      return r.messages.length === messages.length && r.unfinished.length === 0;
    };
    let p = 1;
    for (; !done() && p <= 3 * total; p++) {
      if (p % 3 === 0) continue;
      const at = placeInSequence(lens, p);
      const png = join(dir, `p${String(p)}.png`);
      writeFileSync(png, await renderPng(loops[at.m]!.frame(at.k)));
      sorter.add({ name: png, frame: zbarimg(png, false).toLowerCase() });
    }
    expect(done()).toBe(true);
    expect(p).toBeGreaterThan(total); // a third of the first round was dropped: mixed frames made it good
    const { messages: got } = sorter.results();
    expect(got.map((x) => Buffer.from(x.payload).toString('hex')).sort()).toEqual(messages.map((b) => Buffer.from(b).toString('hex')).sort());
  });

  it('a scanner that reads one message at a time completes it inside its own block', () => {
    const loops = messages.map((b) => new FrameLoop(b, TYPE, STANDARD_DENSITY.version));
    const lens = loops.map((l) => l.seqLen);
    const total = lens.reduce((s, l) => s + l, 0);
    for (const [want, loop] of loops.entries()) {
      // It locks on to message `want` from the first of its frames it sees and ignores the others.
      const a = new FrameAssembler({ type: TYPE });
      let p = 1;
      for (; !a.progress.complete; p++) {
        const at = placeInSequence(lens, p);
        if (at.m === want) a.add(loop.frame(at.k));
      }
      expect(Buffer.from(a.result().payload).equals(Buffer.from(messages[want]!))).toBe(true);
      expect(p - 1).toBeLessThanOrEqual(total); // within the first round
    }
  });
});
