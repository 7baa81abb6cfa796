/**
 * Tamper sweep over the checked-in vectors, part 1 (the larger messages are in
 * tamper-large.test.ts, so the two halves run in parallel): every single-byte change of every
 * message (xor 0x01 and xor 0x80 at every position) is refused by the receiving side's open*
 * function with a CustosError whose code says what kind of damage it is; nothing tampered is ever
 * accepted, and nothing but a CustosError is ever thrown. Runs with the default verifier
 * (@noble/ed25519). Also: a signature made for one type is worthless as another type.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { decode, encode, rfc8949EncodeOptions } from 'cborg';
import { MESSAGE_TYPES, type MessageType } from '../../shared/protocol';
import { loadVectors, type LoadedVectors } from '../vectors/load';
import { LARGE, refusal, sweep } from './tamper-helpers';

let v: LoadedVectors;
beforeAll(async () => {
  v = await loadVectors();
});

describe('tamper sweep: every single-byte change is refused', () => {
  it.each(MESSAGE_TYPES.filter((t) => !LARGE.includes(t)))('%s', async (type) => {
    const seen = await sweep(v, type);
    // The sweep reached the signature check, not only the decoder.
    expect(seen.get('SIGNATURE_INVALID') ?? 0).toBeGreaterThan(100);
    expect(seen.get('MALFORMED') ?? 0).toBeGreaterThan(0);
    // The untouched message still opens.
    await v.open(type, v.messages[type]);
  });
});

describe('a signature made for one type is worthless as another type', () => {
  const relabel = (bytes: Uint8Array, type: MessageType): Uint8Array => {
    const frame = decode(bytes) as Record<string, unknown>;
    return encode({ ...frame, t: type }, rfc8949EncodeOptions);
  };

  it('an approval re-labelled as every other type is refused', async () => {
    const approver = v.world.approvers[0]?.publicKey;
    if (approver === undefined) throw new Error('no approver');
    for (const type of MESSAGE_TYPES) {
      if (type === 'approval') continue;
      const forged = relabel(v.messages.approval, type);
      // The approver's key is pinned for the forged type, so only the signature label stands in the way.
      const code = await refusal(() => v.open(type, forged, approver), `approval as ${type}`);
      expect(code, `approval as ${type}`).toBe('SIGNATURE_INVALID');
    }
  });

  it('every vector re-labelled as every other type fails its signature check', async () => {
    for (const from of MESSAGE_TYPES) {
      const signer = (decode(v.messages[from]) as { k: Uint8Array }).k;
      for (const to of MESSAGE_TYPES) {
        if (to === from) continue;
        const code = await refusal(() => v.open(to, relabel(v.messages[from], to), signer), `${from} as ${to}`);
        expect(code, `${from} as ${to}`).toBe('SIGNATURE_INVALID');
      }
    }
  });

  it('a message opened by the opener of another type is WRONG_TYPE', async () => {
    for (const from of MESSAGE_TYPES) {
      for (const to of MESSAGE_TYPES) {
        if (to === from) continue;
        expect(await refusal(() => v.open(to, v.messages[from]), `${from} opened as ${to}`), `${from} opened as ${to}`).toBe('WRONG_TYPE');
      }
    }
  });
});
