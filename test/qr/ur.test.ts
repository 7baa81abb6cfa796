// The QR transport's contract: any payload 0 B .. 64 KiB survives frames → assembler in any order,
// with duplicates and losses (fountain extras fill the gaps); frames of another message, garbage,
// truncations and single-character mutations are refused with a CustosError and never yield a
// wrong payload.
import { encode as cborEncode } from 'cborg';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCustosError } from '../../shared/errors';
import { encodeMinimal } from '../../shared/qr/bytewords';
import { FountainEncoder, encodePartCbor } from '../../shared/qr/fountain';
import { FrameAssembler, FrameEncoder, MAX_PAYLOAD_BYTES, encodeFrames, moreFrames, type EncodeOptions } from '../../shared/qr/ur';
import { codeOf, seededShuffle } from './helpers';

const TYPE = 'custos-export';

function assemble(frames: readonly string[], type?: string): Uint8Array {
  const assembler = new FrameAssembler(type === undefined ? {} : { type });
  for (const frame of frames) assembler.add(frame);
  return assembler.result().payload;
}

/** Small frames so that small payloads are multipart too. */
const multipart = (maxFragmentLength: number): EncodeOptions => ({ type: TYPE, maxFragmentLength, singleFrameMaxVersion: 1 });

describe('round trip', () => {
  it('1 B .. 16 KiB with default options: in order, shuffled, duplicated, upper-cased', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 16 * 1024, size: 'max' }), fc.integer(), (payload, seed) => {
        const frames = encodeFrames(payload, { type: TYPE });
        expect(assemble(frames)).toEqual(payload);
        const noisy = seededShuffle([...frames, ...frames.filter((_, i) => i % 3 === 0)], seed).map((f) => f.toUpperCase());
        expect(assemble(noisy, TYPE)).toEqual(payload);
      }),
      { numRuns: 30 },
    );
  });

  it('with frames dropped, completes from extra fountain frames', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 16 * 1024, size: 'max' }),
        fc.integer({ min: 60, max: 600 }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.integer(),
        (payload, maxFragmentLength, dropRate, seed) => {
          const options = multipart(maxFragmentLength);
          const pure = encodeFrames(payload, options);
          const dropped = pure.length === 1 ? 0 : Math.ceil(pure.length * dropRate); // a single-part message has nothing to spare
          const kept = seededShuffle(pure, seed).slice(dropped);
          const assembler = new FrameAssembler({ type: TYPE });
          let progress = { complete: false, progress: 0, received: 0, expected: 0 };
          for (const frame of kept) progress = assembler.add(frame);
          const encoder = new FrameEncoder(payload, options);
          const budget = 10 * pure.length + 20;
          let extra = 0;
          for (let seq = encoder.seqLen + 1; !progress.complete && extra < budget; seq++, extra++) progress = assembler.add(encoder.frame(seq));
          expect(progress.complete).toBe(true);
          expect(progress.progress).toBe(1);
          expect(extra).toBeLessThan(budget);
          expect(assembler.result()).toEqual({ type: TYPE, payload });
        },
      ),
      { numRuns: 40 },
    );
  });

  it('an empty payload and a 64 KiB payload', () => {
    expect(assemble(encodeFrames(new Uint8Array(), { type: TYPE }))).toEqual(new Uint8Array());
    const max = crypto.getRandomValues(new Uint8Array(MAX_PAYLOAD_BYTES));
    const frames = encodeFrames(max, { type: TYPE });
    expect(frames.length).toBeGreaterThan(100);
    expect(assemble(frames)).toEqual(max);
    expect(codeOf(() => encodeFrames(new Uint8Array(MAX_PAYLOAD_BYTES + 1), { type: TYPE }))).toBe('TOO_LARGE');
  });

  it('reports progress, and result() before completion is INCOMPLETE', () => {
    const payload = crypto.getRandomValues(new Uint8Array(5000));
    const frames = encodeFrames(payload, { type: TYPE });
    expect(frames.length).toBeGreaterThan(3);
    const assembler = new FrameAssembler();
    expect(codeOf(() => assembler.result())).toBe('INCOMPLETE');
    const first = assembler.add(frames[0]);
    expect(first).toEqual({ complete: false, progress: 1 / frames.length, received: 1, expected: frames.length });
    expect(assembler.add(frames[0])).toEqual(first); // a duplicate changes nothing
    expect(codeOf(() => assembler.result())).toBe('INCOMPLETE');
    for (const frame of frames.slice(1)) assembler.add(frame);
    expect(assembler.progress).toEqual({ complete: true, progress: 1, received: frames.length, expected: frames.length });
    expect(assembler.add(frames[1]).complete).toBe(true); // frames after completion are harmless
  });
});

describe('frames of different messages', () => {
  const a = crypto.getRandomValues(new Uint8Array(3000));
  const b = crypto.getRandomValues(new Uint8Array(3000));
  const framesA = encodeFrames(a, { type: TYPE });

  it('refuses a frame of another message and keeps what it had', () => {
    const assembler = new FrameAssembler();
    assembler.add(framesA[0]);
    const others = [
      encodeFrames(b, { type: TYPE })[1], // same size, other content (checksum)
      encodeFrames(a.subarray(1), { type: TYPE })[1], // other length
      encodeFrames(a, { type: TYPE, maxFragmentLength: 300 })[1], // same message, other fragmenting
      encodeFrames(a, { type: 'custos-other' })[1], // other type
      encodeFrames(a.subarray(0, 100), { type: TYPE })[0], // a single-part message
    ];
    for (const frame of others) expect(codeOf(() => assembler.add(frame))).toBe('FRAME_MISMATCH');
    for (const frame of framesA.slice(1)) assembler.add(frame);
    expect(assembler.result().payload).toEqual(a);
  });

  it('refuses a multipart frame after a single-part message, and a different single-part message', () => {
    const assembler = new FrameAssembler();
    const single = encodeFrames(a.subarray(0, 100), { type: TYPE });
    expect(single).toHaveLength(1);
    const [frame = ''] = single;
    assembler.add(frame);
    assembler.add(frame.toUpperCase()); // same message again: fine
    expect(codeOf(() => assembler.add(framesA[0]))).toBe('FRAME_MISMATCH');
    expect(codeOf(() => assembler.add(encodeFrames(b.subarray(0, 100), { type: TYPE })[0]))).toBe('FRAME_MISMATCH');
    expect(assembler.result().payload).toEqual(a.subarray(0, 100));
  });

  it('refuses a type it was not told to expect', () => {
    const assembler = new FrameAssembler({ type: 'custos-share' });
    expect(codeOf(() => assembler.add(framesA[0]))).toBe('WRONG_TYPE');
    expect(assembler.progress.expected).toBe(0);
  });
});

describe('hostile and damaged frames', () => {
  const payload = crypto.getRandomValues(new Uint8Array(2500));
  const frames = encodeFrames(payload, { type: TYPE, maxFragmentLength: 200 });
  const [single = ''] = encodeFrames(payload.subarray(0, 60), { type: TYPE });

  it('anything that is not a frame is MALFORMED (or TOO_LARGE), nothing else', () => {
    const fixed: unknown[] = [
      undefined, null, 42, {}, [], new Uint8Array(3), '', 'ur:', 'ur:x', 'ur:x/', 'UR:X/Y', 'ur:Custos export/ab', 'ur:x/0-1/aeae',
      'ur:x/1-0/aeae', 'ur:x/99999999999-1/aeae', 'ur:x/1-2-3/aeae', 'ur:x/aeadaolazmjendeoti/', 'http://example.com', 'ur:x/'.padEnd(5000, 'a'),
      `ur:${TYPE}/${encodeMinimal(new Uint8Array([0xa1, 0x01, 0x02]))}`, // CBOR map, not bytes
      `ur:${TYPE}/${encodeMinimal(cborEncode('text'))}`,
      `ur:${TYPE}/1-1/${encodeMinimal(cborEncode([1, 1, 5, 0, 'x']))}`, // fragment not bytes
      `ur:${TYPE}/1-5/${encodeMinimal(cborEncode([1, 5, 100, 0, new Uint8Array(12)]))}`, // 5 fragments of 12 bytes cannot hold 100
      `ur:${TYPE}/2-9/${encodeMinimal(cborEncode([1, 9, 100, 0, new Uint8Array(12)]))}`, // path disagrees with data
      `ur:${TYPE}/1-2/${encodeMinimal(cborEncode([1, 2, 100, 0, new Uint8Array(50), 7]))}`, // 6 items
      `ur:${TYPE}/1-2/${encodeMinimal(new Uint8Array([0x85, 0x01]))}`, // truncated CBOR
    ];
    for (const frame of fixed) {
      const code = codeOf(() => new FrameAssembler().add(frame));
      expect(code === 'MALFORMED' || code === 'TOO_LARGE', `${String(frame).slice(0, 40)} → ${String(code)}`).toBe(true);
    }
    const huge = `ur:${TYPE}/1-70000/${encodeMinimal(cborEncode([1, 70000, 70000, 0, new Uint8Array(1)]))}`;
    expect(codeOf(() => new FrameAssembler().add(huge))).toBe('TOO_LARGE');
    const tiny = `ur:${TYPE}/1-60000/${encodeMinimal(cborEncode([1, 60000, 60000, 0, new Uint8Array(1)]))}`; // 1-byte fragments
    expect(codeOf(() => new FrameAssembler().add(tiny))).toBe('TOO_LARGE');

    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.anything()), (garbage) => {
        const code = codeOf(() => new FrameAssembler().add(garbage));
        expect(code).toBe('MALFORMED');
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.boolean(), (bytes, multi) => {
        const frame = multi ? `ur:${TYPE}/1-3/${encodeMinimal(bytes)}` : `ur:${TYPE}/${encodeMinimal(bytes)}`;
        const assembler = new FrameAssembler();
        const code = codeOf(() => assembler.add(frame));
        // Random bytes under a valid checksum are almost never a valid part; if one is, it changes nothing wrong.
        if (code === undefined) expect(assembler.progress.expected).toBeGreaterThan(0);
        else expect(['MALFORMED', 'TOO_LARGE']).toContain(code);
      }),
      { numRuns: 300 },
    );
  });

  it('truncated frames are refused', () => {
    for (const frame of [single, frames[0] ?? '', frames.at(-1) ?? '']) {
      for (let cut = 0; cut < frame.length; cut++) {
        const assembler = new FrameAssembler();
        const code = codeOf(() => assembler.add(frame.slice(0, cut)));
        expect(code).toBe('MALFORMED');
      }
    }
  });

  it('every single-character change is refused or harmless, never a wrong payload', () => {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-/:ZÀ ';
    for (const frame of [single, frames[0] ?? '', frames[3] ?? '']) {
      for (let at = 0; at < frame.length; at++) {
        for (const replacement of alphabet) {
          if (replacement === frame[at]) continue;
          const mutated = frame.slice(0, at) + replacement + frame.slice(at + 1);
          const assembler = new FrameAssembler();
          const code = codeOf(() => assembler.add(mutated));
          if (code !== undefined) continue;
          // Accepted: only a case change or a change of the UR type can pass (the CRC-32 covers the body).
          if (frame === single) expect(assembler.result().payload).toEqual(payload.subarray(0, 60));
          else {
            const rest = frames.filter((f) => f !== frame);
            let completed = true;
            for (const f of rest) if (codeOf(() => assembler.add(f)) !== undefined) completed = false;
            if (completed) expect(assembler.result().payload).toEqual(payload);
            else expect(codeOf(() => assembler.result())).toBe('INCOMPLETE');
          }
        }
      }
    }
  });

  it('a mutated frame among good ones never yields a wrong payload (property)', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-/'.split('')), fc.integer(), (which, at, char, seed) => {
        const victim = which % frames.length;
        const frame = frames[victim] ?? '';
        const pos = at % frame.length;
        const mutated = frame.slice(0, pos) + char + frame.slice(pos + 1);
        const stream = seededShuffle([...frames.filter((_, i) => i !== victim), mutated, ...moreFrames(payload, { type: TYPE, maxFragmentLength: 200 }, 6)], seed);
        const assembler = new FrameAssembler();
        for (const f of stream) codeOf(() => assembler.add(f));
        try {
          expect(assembler.result().payload).toEqual(payload);
        } catch (error) {
          if (!isCustosError(error)) throw error;
          expect(['INCOMPLETE', 'MALFORMED']).toContain(error.code);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('forged parts with a valid frame checksum but wrong data fail the message checksum', () => {
    const fountain = new FountainEncoder(cborEncode(payload), 200);
    expect(fountain.seqLen).toBe(frames.length);
    const real = fountain.part(3);
    const data = Uint8Array.from(real.data);
    data[0] = (data[0] ?? 0) ^ 1;
    const forged = `ur:${TYPE}/3-${String(real.seqLen)}/${encodeMinimal(encodePartCbor({ ...real, data }))}`;
    const assembler = new FrameAssembler();
    const codes = [...frames.slice(0, 2), forged, ...frames.slice(3)].map((f) => codeOf(() => assembler.add(f)));
    expect(codes.slice(0, -1).every((c) => c === undefined)).toBe(true);
    expect(codes[codes.length - 1]).toBe('MALFORMED');
    expect(codeOf(() => assembler.result())).toBe('MALFORMED');
    expect(codeOf(() => assembler.add(frames[2]))).toBe('MALFORMED');
  });

  it('refuses bad encoder inputs with INVALID_PARAMETERS', () => {
    const p = new Uint8Array(10);
    const bad: unknown[] = [
      { type: 'Custos' }, { type: '' }, { type: 'a/b' }, { type: 'x'.repeat(65) }, { type: TYPE, maxFragmentLength: 9 },
      { type: TYPE, maxFragmentLength: 1e9 }, { type: TYPE, maxFragmentLength: 1.5 }, { type: TYPE, singleFrameMaxVersion: 0 },
      { type: TYPE, singleFrameMaxVersion: 41 }, null, 'custos-export',
    ];
    for (const options of bad) expect(codeOf(() => encodeFrames(p, options as EncodeOptions))).toBe('INVALID_PARAMETERS');
    expect(codeOf(() => encodeFrames('abc' as unknown as Uint8Array, { type: TYPE }))).toBe('INVALID_PARAMETERS');
    expect(codeOf(() => moreFrames(p, { type: TYPE }, -1))).toBe('INVALID_PARAMETERS');
    expect(codeOf(() => new FrameEncoder(p, { type: TYPE }).frame(0))).toBe('INVALID_PARAMETERS');
    expect(codeOf(() => new FrameAssembler({ type: 'BAD TYPE' }))).toBe('INVALID_PARAMETERS');
    expect(moreFrames(p, { type: TYPE }, 5)).toEqual([]); // single-part: no extras
  });
});
