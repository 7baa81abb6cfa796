/**
 * Tamper sweep, part 2 (see tamper.test.ts): the three largest vectors, byte by byte, and every
 * byte of the age payload inside an envelope that is re-signed by the real agent key, so that only
 * the decryption and the share commitment can notice.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decode } from 'cborg';
import type { ErrorCode } from '../../shared/errors';
import { envelopeSchema, sealMessage, type Envelope } from '../../shared/protocol';
import { loadVectors, type LoadedVectors } from '../vectors/load';
import { LARGE, refusal, sweep } from './tamper-helpers';

let v: LoadedVectors;
beforeAll(async () => {
  v = await loadVectors();
});

describe('tamper sweep: every single-byte change is refused (large messages)', () => {
  it.each(LARGE)('%s', async (type) => {
    const seen = await sweep(v, type);
    expect(seen.get('SIGNATURE_INVALID') ?? 0).toBeGreaterThan(100);
    expect(seen.get('MALFORMED') ?? 0).toBeGreaterThan(0);
    await v.open(type, v.messages[type]);
  });
});

describe('tamper sweep: the sealed share inside a validly signed envelope', () => {
  it('every single-byte change of the age payload is refused at decryption', async () => {
    const frame = decode(v.messages.envelope) as { b: Uint8Array };
    const body = decode(frame.b) as Envelope;
    const payload = body.payload;
    const allowed = new Set<ErrorCode>(['DECRYPT_FAILED', 'SHARE_COMMITMENT_MISMATCH', 'MALFORMED']);
    const seen = new Map<ErrorCode, number>();
    for (const mask of [0x01, 0x80]) {
      for (let i = 0; i < payload.length; i++) {
        const bad = Uint8Array.from(payload);
        bad[i] = (bad[i] ?? 0) ^ mask;
        // Re-signed by the real agent key: only the age layer can notice.
        const envelope = sealMessage('envelope', envelopeSchema, { ...body, payload: bad }, v.world.agent);
        const code = await refusal(() => v.open('envelope', envelope), `payload byte ${String(i)} xor 0x${mask.toString(16)}`);
        if (!allowed.has(code)) throw new Error(`payload byte ${String(i)} xor 0x${mask.toString(16)} gave ${code}`);
        seen.set(code, (seen.get(code) ?? 0) + 1);
      }
    }
    expect(seen.get('DECRYPT_FAILED') ?? 0).toBeGreaterThan(payload.length);
    // The same re-signing with the original payload opens: the refusals above are the age layer's.
    await v.open('envelope', sealMessage('envelope', envelopeSchema, body, v.world.agent));
  });
});

