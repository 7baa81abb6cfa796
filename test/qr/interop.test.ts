// Our UR encoder and decoder against an independent implementation, `@ngraveio/bc-ur` 1.1.13 (Node
// only: it needs Node's global Buffer, which is why shared/ does not use it). Frames must be
// byte-identical, pure and mixed, and each side must decode the other's.
import { UR, URDecoder, UREncoder } from '@ngraveio/bc-ur';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameAssembler, FrameEncoder } from '../../shared/qr/ur';
import { seededShuffle } from './helpers';

function referenceEncoder(payload: Uint8Array, type: string, maxFragmentLength: number): UREncoder {
  return new UREncoder(new UR(UR.fromBuffer(Buffer.from(payload)).cbor, type), maxFragmentLength, 0, 10);
}

describe('interoperability with @ngraveio/bc-ur', () => {
  it('produces the same frames, pure and fountain-mixed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 3000, size: 'max' }), fc.integer({ min: 10, max: 400 }), (payload, maxFragmentLength) => {
        const ours = new FrameEncoder(payload, { type: 'custos-export', maxFragmentLength, singleFrameMaxVersion: 1 });
        const theirs = referenceEncoder(payload, 'custos-export', maxFragmentLength);
        const count = ours.isSinglePart ? 1 : ours.seqLen * 2 + 3;
        for (let seq = 1; seq <= count; seq++) expect(ours.frame(seq)).toBe(theirs.nextPart());
      }),
      { numRuns: 40 },
    );
  });

  it('each side decodes the other (mixed frames, shuffled)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 4000, size: 'max' }), fc.integer(), (payload, seed) => {
        // Ours → reference decoder.
        const ours = new FrameEncoder(payload, { type: 'custos-export', maxFragmentLength: 120, singleFrameMaxVersion: 1 });
        const decoder = new URDecoder();
        for (let seq = ours.seqLen + 1; !decoder.isComplete(); seq++) decoder.receivePart(ours.frame(seq).toUpperCase());
        expect(decoder.isSuccess()).toBe(true);
        expect(new Uint8Array(decoder.resultUR().decodeCBOR())).toEqual(payload);
        expect(decoder.resultUR().type).toBe('custos-export');

        // Reference → our assembler, pure frames shuffled with some duplicates.
        const theirs = referenceEncoder(payload, 'custos-export', 120);
        const frames = Array.from({ length: theirs.fragmentsLength }, () => theirs.nextPart());
        const assembler = new FrameAssembler({ type: 'custos-export' });
        for (const frame of seededShuffle([...frames, ...frames.slice(0, 3)], seed)) assembler.add(frame);
        expect(assembler.result().payload).toEqual(payload);
      }),
      { numRuns: 25 },
    );
  });
});
