// One reader for QR images (node/qr-files.ts) and one sorter for frames of several messages
// (shared/qr/assemble.ts), checked with the cases each former copy handled: the app's lenient
// assembly (problems next to messages), the agent CLI's strict one (first problem refuses), the
// renderer's lower-casing of UR text and the app's reporting of misread `ur:` lines.
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../shared/bytes';
import { CustosError, isCustosError } from '../../shared/errors';
import { MessageSorter, framesInText } from '../../shared/qr/assemble';
import { isPng } from '../../shared/qr/png';
import { renderPng } from '../../shared/qr/render';
import { encodeFrames } from '../../shared/qr/ur';
import { assembleQrPngs, messagesInPngs, qrTextInPng, readQrPng, UR_TYPES } from '../../node/qr-files';

const small = { maxFragmentLength: 120, singleFrameMaxVersion: 4 } as const;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isCustosError(error) ? error.code : 'not coded';
  }
  return undefined;
}

async function pngsOf(frames: readonly string[], prefix: string): Promise<{ file: string; bytes: Uint8Array }[]> {
  const out = [];
  for (const [i, f] of frames.entries()) out.push({ file: `${prefix}-${String(i)}.png`, bytes: await renderPng(f) });
  return out;
}

describe('framesInText', () => {
  it('takes one frame per line in any case, lower-cased, and ignores other lines', () => {
    const text = ' UR:CUSTOS-ENVELOPE/1-2/LPADAO\r\n\nhello\nur:custos-envelope/2-2/lpadao  \n# ur: not at the start\n';
    expect(framesInText(text)).toEqual(['ur:custos-envelope/1-2/lpadao', 'ur:custos-envelope/2-2/lpadao']);
  });

  it('keeps a misread `ur:` line, so the assembler reports it instead of dropping it', () => {
    const frames = framesInText('ur:garbage\n');
    expect(frames).toEqual(['ur:garbage']);
    expect(codeOf(() => new MessageSorter().add({ name: 't', frame: frames[0]! }))).toBe('MALFORMED');
  });

  it('upper-case frames (QR alphanumeric mode) assemble like lower-case ones', () => {
    const payload = randomBytes(600);
    const frames = encodeFrames(payload, { type: UR_TYPES.envelope, ...small });
    const sorter = new MessageSorter();
    for (const f of framesInText(frames.map((x) => x.toUpperCase()).join('\n'))) sorter.add({ name: 'upper.txt', frame: f });
    const { messages } = sorter.results();
    expect(messages).toHaveLength(1);
    expect(Buffer.from(messages[0]!.payload).equals(Buffer.from(payload))).toBe(true);
  });
});

describe('MessageSorter', () => {
  it('sorts two interleaved messages with duplicates, and says which frame started which message', () => {
    const a = encodeFrames(randomBytes(500), { type: UR_TYPES.envelope, ...small });
    const b = encodeFrames(randomBytes(700), { type: UR_TYPES.export, ...small });
    expect(a.length).toBeGreaterThan(1);
    const sorter = new MessageSorter();
    const started: string[] = [];
    const mixed = [...a.map((f, i) => ({ name: `a${String(i)}`, frame: f })), ...b.map((f, i) => ({ name: `b${String(i)}`, frame: f }))];
    mixed.sort((x, y) => (x.name.slice(1) === y.name.slice(1) ? 0 : Number(x.name.slice(1)) - Number(y.name.slice(1))));
    for (const s of [...mixed, mixed[0]!]) {
      const r = sorter.add(s);
      if (r.started) started.push(`${s.name}:${r.message.type}`);
    }
    expect(started).toEqual(['a0:custos-envelope', 'b0:custos-recovery-export']);
    const { messages, unfinished } = sorter.results();
    expect(unfinished).toEqual([]);
    expect(messages.map((m) => m.type)).toEqual(['custos-envelope', 'custos-recovery-export']);
    expect(messages[0]!.names.filter((n) => n === 'a0')).toHaveLength(2);
  });

  it('reports a message missing fragments as unfinished (INCOMPLETE), and a thrown frame changes nothing', () => {
    const a = encodeFrames(randomBytes(500), { type: UR_TYPES.envelope, ...small });
    const sorter = new MessageSorter();
    sorter.add({ name: 'x', frame: a[1]! });
    expect(codeOf(() => sorter.add({ name: 'bad', frame: 'ur:custos-envelope/zzzz' }))).toBe('MALFORMED');
    const { messages, unfinished } = sorter.results();
    expect(messages).toEqual([]);
    expect(unfinished).toHaveLength(1);
    expect(unfinished[0]!.names).toEqual(['x']);
    expect(isCustosError(unfinished[0]!.error, 'INCOMPLETE')).toBe(true);
  });
});

describe('PNG images of QR frames', () => {
  it('isPng tells a PNG from a message file', async () => {
    expect(isPng(await renderPng('ur:custos-envelope/lpadao'))).toBe(true);
    expect(isPng(new Uint8Array([0x89, 0x50, 0x4e, 0x47]))).toBe(false);
    expect(isPng(new TextEncoder().encode('ur:custos-envelope/lpadao'))).toBe(false);
  });

  it('qrTextInPng gives null for an image without a code and MALFORMED for a non-PNG; readQrPng refuses both', async () => {
    const frame = encodeFrames(randomBytes(40), { type: UR_TYPES.export })[0]!;
    // The code is drawn in alphanumeric mode, so it reads back in upper case (UR is case-insensitive).
    expect(qrTextInPng(await renderPng(frame))?.toLowerCase()).toBe(frame);
    expect(readQrPng(await renderPng(frame)).toLowerCase()).toBe(frame);
    const { PNG } = await import('pngjs');
    const blank = new PNG({ width: 64, height: 64 });
    blank.data.fill(255);
    const empty = new Uint8Array(PNG.sync.write(blank));
    expect(qrTextInPng(empty)).toBeNull();
    expect(codeOf(() => readQrPng(empty))).toBe('MALFORMED');
    expect(codeOf(() => qrTextInPng(new Uint8Array([1, 2, 3])))).toBe('MALFORMED');
  });

  it('assembleQrPngs rebuilds one message and refuses a frame of another type', async () => {
    const payload = randomBytes(500);
    const pngs = await pngsOf(encodeFrames(payload, { type: UR_TYPES.export, ...small }), 'e');
    expect(Buffer.from(assembleQrPngs(pngs.map((p) => p.bytes).reverse(), UR_TYPES.export)).equals(Buffer.from(payload))).toBe(true);
    expect(codeOf(() => assembleQrPngs(pngs.map((p) => p.bytes), UR_TYPES.envelope))).toBe('WRONG_TYPE');
  });

  it('messagesInPngs (strict): mixed messages in, payloads out; each problem refuses with the file named', async () => {
    const p1 = randomBytes(500);
    const p2 = randomBytes(300);
    const one = await pngsOf(encodeFrames(p1, { type: UR_TYPES.export, ...small }), 'one');
    const two = await pngsOf(encodeFrames(p2, { type: UR_TYPES.export, ...small }), 'two');
    const seen: number[] = [];
    const out = messagesInPngs([...two, ...one, two[0]!], { type: UR_TYPES.export, what: 'recovery export', onImage: (i) => seen.push(i) });
    expect(out.map((b) => Buffer.from(b).toString('hex'))).toEqual([Buffer.from(p2).toString('hex'), Buffer.from(p1).toString('hex')]);
    expect(seen).toHaveLength(one.length + two.length + 1);

    const refusal = (pngs: { file: string; bytes: Uint8Array }[]): CustosError => {
      try {
        messagesInPngs(pngs, { type: UR_TYPES.export, what: 'recovery export' });
      } catch (error) {
        if (error instanceof CustosError) return error;
        throw error;
      }
      throw new Error('nothing was refused');
    };
    const envelope = await pngsOf(encodeFrames(randomBytes(50), { type: UR_TYPES.envelope }), 'env');
    const wrong = refusal([...one, ...envelope]);
    expect([wrong.code, wrong.details['file']]).toEqual(['WRONG_TYPE', 'env-0.png']);
    expect(wrong.message).toContain('not of a recovery export');
    const partial = refusal(one.slice(1));
    expect([partial.code, partial.details['file']]).toEqual(['INCOMPLETE', 'one-1.png']);
    const unreadable = refusal([...one, { file: 'junk.png', bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]) }]);
    expect([unreadable.code, unreadable.details['file']]).toEqual(['MALFORMED', 'junk.png']);
    expect(unreadable.message.startsWith('junk.png: ')).toBe(true);
  });
});
