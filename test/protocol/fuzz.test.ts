/**
 * Fuzzing every parser with 10,000 hostile inputs each: every open* function (through the same
 * calls the receiving side makes), peekMessage and decodeCanonical. The only thing a parser may
 * throw is a CustosError; anything else (a TypeError, a RangeError, a library's own exception) is
 * a bug.
 *
 * Speed: signature checks here use node:crypto through setVerifier (about 15× faster than
 * @noble/ed25519), so that the budget goes to parsing. The default verifier is exercised on every
 * single-byte tamper of every vector in tamper.test.ts.
 */
import { createPublicKey, verify } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../shared/bytes';
import { isCustosError, type ErrorCode } from '../../shared/errors';
import { decodeCanonical, encodeCanonical, MESSAGE_TYPES, peekMessage, setVerifier, type MessageType, type SigningKey } from '../../shared/protocol';
import { loadVectors, type LoadedVectors } from '../vectors/load';
import { bodyOf, encodedCbor, mutatedMessage, nodeSigner, notBytes, randomBytes, randomFrame, signedMutatedBody, type FrameContext } from './fuzz-inputs';

const RUNS = 10_000;
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

let v: LoadedVectors;
let pool: Uint8Array[];
let bodies: unknown[];
beforeAll(async () => {
  v = await loadVectors();
  pool = MESSAGE_TYPES.map((t) => v.messages[t]);
  bodies = pool.map(bodyOf);
  setVerifier((sig, msg, key) => {
    try {
      return verify(null, msg, createPublicKey({ key: Buffer.concat([SPKI_ED25519, key]), format: 'der', type: 'spki' }), sig);
    } catch {
      return false;
    }
  });
});
afterAll(() => {
  setVerifier(null);
});

/** Calls `fn`; a CustosError is a refusal (counted in `codes`), anything else thrown fails the property. */
async function onlyCustosErrors(fn: () => unknown, codes?: Map<ErrorCode, number>): Promise<'accepted' | 'refused'> {
  try {
    await fn();
    return 'accepted';
  } catch (error) {
    if (isCustosError(error)) {
      codes?.set(error.code, (codes.get(error.code) ?? 0) + 1);
      return 'refused';
    }
    throw error;
  }
}

function contextFor(type: MessageType): FrameContext {
  const message = v.messages[type];
  const signer = peekMessage(message).signer;
  const keys: SigningKey[] = [v.world.agent, v.world.agentNext, ...v.world.custodians, ...v.world.approvers];
  const key = keys.find((k) => toHex(k.publicKey) === toHex(signer));
  if (key === undefined) throw new Error(`no key for ${type}`);
  return { type, signer, sign: nodeSigner(key), body: bodyOf(message), pool };
}

function hostileInput(ctx: FrameContext): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: randomBytes, weight: 2 },
    { arbitrary: encodedCbor, weight: 2 },
    { arbitrary: randomFrame(ctx), weight: 2 },
    { arbitrary: mutatedMessage(v.messages[ctx.type], pool), weight: 4 },
    { arbitrary: signedMutatedBody(ctx, bodies), weight: 3 },
    { arbitrary: notBytes, weight: 1 },
  );
}

/** Hand-made inputs that have broken parsers elsewhere. */
function specialInputs(): unknown[] {
  const deep = (n: number, head: number): Uint8Array => Uint8Array.from([...new Array<number>(n).fill(head), 0x00]);
  return [
    new Uint8Array(0),
    new Uint8Array(1024 * 1024 + 1),
    deep(100_000, 0x81), // an array nested 100,000 deep
    deep(17, 0x81),
    deep(50_000, 0xd8), // tag headers
    Uint8Array.from([0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // a byte string of 2^64-1 bytes
    Uint8Array.from([0x9b, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff]), // an array of 4 billion items
    Uint8Array.from([0xa1, 0x69, ...new TextEncoder().encode('__proto__'), 0xa1, 0x61, 0x61, 0x01]), // {"__proto__": {"a": 1}}
    Uint8Array.from([0xa1, 0x69, ...new TextEncoder().encode('__proto__'), 0x01]),
    Uint8Array.from([0xa2, 0x61, 0x76, 0x01, 0x61, 0x76, 0x02]), // duplicate keys
    Uint8Array.from([0xbf, 0x61, 0x76, 0x01, 0xff]), // indefinite map
    Uint8Array.from([0xf9, 0x7e, 0x00]), // NaN
    Uint8Array.from([0xf7]), // undefined
    Uint8Array.from([0x62, 0xc3, 0x28]), // invalid UTF-8
    Uint8Array.from([0xc2, 0x41, 0x01]), // a bignum tag
    Buffer.from(v.messages.manifest),
    v.messages.manifest.subarray(1),
    null,
    undefined,
    'age-encryption.org/v1\n',
    [1, 2, 3],
    { v: 1, t: 'manifest' },
  ];
}

describe('fuzz: parsers throw nothing but CustosError', () => {
  it.each(MESSAGE_TYPES)('open %s', async (type) => {
    const ctx = contextFor(type);
    let accepted = 0;
    const codes = new Map<ErrorCode, number>();
    for (const input of specialInputs()) await onlyCustosErrors(() => v.open(type, input));
    await fc.assert(
      fc.asyncProperty(hostileInput(ctx), async (input) => {
        if ((await onlyCustosErrors(() => v.open(type, input), codes)) === 'accepted') accepted++;
      }),
      { numRuns: RUNS },
    );
    // The inputs reached every layer: the decoder, the signature check, and past it (a validly
    // signed, mutated body is sometimes still valid, such as an approval signed a second later).
    expect(codes.get('MALFORMED') ?? 0).toBeGreaterThan(RUNS / 4);
    expect(codes.get('SIGNATURE_INVALID') ?? 0).toBeGreaterThan(RUNS / 100);
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(RUNS / 4);
  });

  it('peekMessage', async () => {
    const ctx = contextFor('manifest');
    for (const input of specialInputs()) await onlyCustosErrors(() => peekMessage(input));
    await fc.assert(
      fc.asyncProperty(hostileInput(ctx), async (input) => {
        await onlyCustosErrors(() => peekMessage(input));
      }),
      { numRuns: RUNS },
    );
  });

  it('decodeCanonical: refuses with CustosError, and whatever it accepts re-encodes to the same bytes', async () => {
    const ctx = contextFor('envelope');
    const check = (input: unknown): void => {
      let value: unknown;
      try {
        value = decodeCanonical(input);
      } catch (error) {
        if (isCustosError(error)) return;
        throw error;
      }
      // Exactly one accepted encoding per value.
      expect(toHex(encodeCanonical(value))).toBe(toHex(input as Uint8Array));
    };
    for (const input of specialInputs()) check(input);
    await fc.assert(
      fc.asyncProperty(hostileInput(ctx), (input) => {
        check(input);
        return Promise.resolve();
      }),
      { numRuns: RUNS },
    );
  });
});
