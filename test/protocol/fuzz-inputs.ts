/**
 * Hostile inputs for the parser fuzz test: random bytes, random CBOR (canonical and not), frames
 * with random fields, byte-level mutations of the real vectors, and correctly signed frames whose
 * bodies are structurally mutated copies of the real bodies (so the schema and semantic checks
 * behind the signature get fuzzed too, not only the decoder).
 */
import { createPrivateKey, sign } from 'node:crypto';
import { decode, encode, rfc8949EncodeOptions } from 'cborg';
import fc from 'fast-check';
import { MESSAGE_TYPES, type MessageType, type SigningKey } from '../../shared/protocol';

// ---------------------------------------------------------------------------------------------
// Random CBOR values and their encodings

export const cborValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.constantFrom(0, 1, -1, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER),
    fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }),
    fc.string({ maxLength: 40 }),
    fc.constantFrom('v', 't', 'k', 'b', 's', 'manifest', 'payload', 'session', 'items', '__proto__', 'constructor', 'age1'),
    fc.uint8Array({ maxLength: 80 }),
    fc.double(),
    fc.constant(undefined),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('v', 't', 'k', 'b', 's', 'name', 'sign_key', 'shares')), tie('value'), {
      maxKeys: 6,
    }),
    fc.array(fc.tuple(fc.oneof(fc.integer(), fc.string({ maxLength: 4 })), tie('value')), { maxLength: 3 }).map((entries) => new Map(entries)),
  ),
})).value;

/** cborg's default (length-first) map order, or RFC 8949 bytewise order; null when cborg refuses the value. */
export function tryEncode(value: unknown, rfc8949: boolean): Uint8Array | null {
  try {
    return rfc8949 ? encode(value, rfc8949EncodeOptions) : encode(value);
  } catch {
    return null;
  }
}

export const encodedCbor: fc.Arbitrary<Uint8Array> = fc
  .tuple(cborValue, fc.boolean())
  .map(([value, rfc]) => tryEncode(value, rfc) ?? new Uint8Array([0xf6]));

export const randomBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.uint8Array({ maxLength: 1024 }),
  // Bytes that look like a CBOR map or frame header, followed by noise.
  fc.tuple(fc.constantFrom(0xa5, 0xa4, 0xa6, 0xbf, 0x9f, 0x5f, 0x7f, 0xd8, 0xf9, 0xfa, 0xfb, 0x1b, 0x5b, 0x7b, 0x9b, 0xbb), fc.uint8Array({ maxLength: 200 })).map(
    ([head, rest]) => Uint8Array.from([head, ...rest]),
  ),
);

/** Inputs that are not byte arrays at all. */
export const notBytes: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({ maxDepth: 2 }),
  fc.string(),
  fc.constant(undefined),
  fc.constant(new ArrayBuffer(8)),
  fc.uint8Array().map((b) => Array.from(b)),
  fc.uint8Array().map((b) => new Uint16Array(b)),
);

// ---------------------------------------------------------------------------------------------
// Byte-level mutations of real messages

type ByteOp =
  | { op: 'flip'; at: number; xor: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; length: number }
  | { op: 'duplicate'; at: number; length: number }
  | { op: 'splice'; at: number; other: number; from: number };

const byteOp: fc.Arbitrary<ByteOp> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), weight: 4 },
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0x00, 0xff, 0x18, 0x19, 0x1a, 0x1b, 0x40, 0x58, 0x60, 0x78, 0x80, 0xa0, 0xf4, 0xf6, 0xf7) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ op: fc.constant('splice' as const), at: fc.nat(), other: fc.nat(), from: fc.nat() }),
);

function applyByteOp(input: Uint8Array, o: ByteOp, pool: readonly Uint8Array[]): Uint8Array {
  const n = input.length;
  const at = n === 0 ? 0 : o.at % n;
  const b = Uint8Array.from(input);
  switch (o.op) {
    case 'flip':
      if (n > 0) b[at] = (b[at] ?? 0) ^ o.xor;
      return b;
    case 'set':
      if (n > 0) b[at] = o.value;
      return b;
    case 'truncate':
      return b.subarray(0, at);
    case 'insert':
      return Uint8Array.from([...b.subarray(0, at), ...o.bytes, ...b.subarray(at)]);
    case 'delete':
      return Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + o.length)]);
    case 'duplicate':
      return Uint8Array.from([...b.subarray(0, at + o.length), ...b.subarray(at)]);
    case 'splice': {
      const other = pool[o.other % pool.length] ?? input;
      return Uint8Array.from([...b.subarray(0, at), ...other.subarray(o.from % Math.max(other.length, 1))]);
    }
  }
}

/** One of the real messages (usually `own`), changed by one to four byte-level operations. */
export function mutatedMessage(own: Uint8Array, pool: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(fc.oneof({ arbitrary: fc.constant(own), weight: 3 }, fc.constantFrom(...pool)), fc.array(byteOp, { minLength: 1, maxLength: 4 }))
    .map(([start, ops]) => ops.reduce((acc, o) => applyByteOp(acc, o, pool), start));
}

// ---------------------------------------------------------------------------------------------
// Frames with random fields, and validly signed frames around mutated bodies

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

export function nodeSigner(key: SigningKey): (message: Uint8Array) => Uint8Array {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, key.seed]), format: 'der', type: 'pkcs8' });
  return (message) => new Uint8Array(sign(null, message, privateKey));
}

const labelOf = (type: string): Uint8Array => new TextEncoder().encode(`custos/v1/sig/${type}\u0000`);

export interface FrameContext {
  readonly type: MessageType;
  readonly signer: Uint8Array;
  readonly sign: (message: Uint8Array) => Uint8Array;
  /** The real body of the vector, decoded by cborg. */
  readonly body: unknown;
  /** All real bodies and messages, as material for swaps. */
  readonly pool: readonly Uint8Array[];
}

/** A frame map with a random value in each slot (mostly plausible ones), sometimes missing or extra keys. */
export function randomFrame(ctx: FrameContext): fc.Arbitrary<Uint8Array> {
  const frame = fc.record(
    {
      v: fc.oneof({ arbitrary: fc.constant(1), weight: 4 }, fc.constantFrom(0, 2, -1, 2 ** 40), cborValue),
      t: fc.oneof({ arbitrary: fc.constant(ctx.type), weight: 4 }, fc.constantFrom(...MESSAGE_TYPES), fc.string({ maxLength: 70 })),
      k: fc.oneof({ arbitrary: fc.constant(ctx.signer), weight: 4 }, fc.uint8Array({ minLength: 31, maxLength: 33 })),
      b: fc.oneof(encodedCbor, randomBytes, fc.constantFrom(...ctx.pool)),
      s: fc.oneof({ arbitrary: fc.uint8Array({ minLength: 64, maxLength: 64 }), weight: 4 }, fc.uint8Array({ maxLength: 70 })),
      x: cborValue,
    },
    { requiredKeys: [] },
  );
  return fc.tuple(frame, fc.boolean(), fc.boolean()).map(([f, rfc, drop]) => {
    // Most frames have exactly the five keys; some miss one or carry an extra.
    const value: Record<string, unknown> = drop ? f : { v: f.v ?? 1, t: f.t ?? ctx.type, k: f.k ?? ctx.signer, b: f.b ?? new Uint8Array([0xa0]), s: f.s ?? new Uint8Array(64) };
    return tryEncode(value, rfc) ?? new Uint8Array([0xa0]);
  });
}

// Structural mutations of a decoded body.

type Path = readonly (string | number)[];

function paths(value: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v: unknown, i) => paths(v, [...prefix, i], out));
  else if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array) && !(value instanceof Map)) {
    for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  }
  return out;
}

function getAt(root: unknown, path: Path): unknown {
  let cur = root;
  for (const p of path) cur = (cur as Record<string | number, unknown>)[p];
  return cur;
}

function setAt(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const parent = getAt(root, path.slice(0, -1)) as Record<string | number, unknown>;
  const last = path[path.length - 1] ?? 0;
  if (value === DELETE) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else Reflect.deleteProperty(parent, last);
  } else {
    parent[last] = value;
  }
  return root;
}

const DELETE = Symbol('delete');

type BodyOp =
  | { op: 'replace'; at: number; value: unknown }
  | { op: 'delete'; at: number }
  | { op: 'add'; at: number; key: string; value: unknown }
  | { op: 'number'; at: number; delta: number }
  | { op: 'bytes'; at: number; byteOps: ByteOp[] }
  | { op: 'text'; at: number; suffix: string }
  | { op: 'swap'; at: number; from: number; other: number };

const bodyOp: fc.Arbitrary<BodyOp> = fc.oneof(
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: cborValue }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('add' as const),
    at: fc.nat(),
    key: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('not_after', 'reason', 'note', 'proof', 'extra', '__proto__')),
    value: cborValue,
  }),
  fc.record({ op: fc.constant('number' as const), at: fc.nat(), delta: fc.constantFrom(-1, 1, -(2 ** 32), 2 ** 32, 1000, -1000, 0.5) }),
  { arbitrary: fc.record({ op: fc.constant('bytes' as const), at: fc.nat(), byteOps: fc.array(byteOp, { minLength: 1, maxLength: 3 }) }), weight: 3 },
  fc.record({ op: fc.constant('text' as const), at: fc.nat(), suffix: fc.oneof(fc.string({ maxLength: 3 }), fc.constantFrom('\u0000', '/', '..', 'x'.repeat(300), '\uD800')) }),
  fc.record({ op: fc.constant('swap' as const), at: fc.nat(), from: fc.nat(), other: fc.nat() }),
);

function applyBodyOp(root: unknown, o: BodyOp, bodies: readonly unknown[], pool: readonly Uint8Array[]): unknown {
  const all = paths(root);
  const path = all[o.at % all.length] ?? [];
  const current = getAt(root, path);
  switch (o.op) {
    case 'replace':
      return setAt(root, path, o.value);
    case 'delete':
      return path.length === 0 ? root : setAt(root, path, DELETE);
    case 'add': {
      if (current === null || typeof current !== 'object' || current instanceof Uint8Array || current instanceof Map) return root;
      if (Array.isArray(current)) current.push(o.value);
      else Object.defineProperty(current, o.key, { value: o.value, enumerable: true, writable: true, configurable: true });
      return root;
    }
    case 'number':
      return typeof current === 'number' ? setAt(root, path, current + o.delta) : root;
    case 'bytes':
      return current instanceof Uint8Array ? setAt(root, path, o.byteOps.reduce((acc, b) => applyByteOp(acc, b, pool), current)) : root;
    case 'text':
      return typeof current === 'string' ? setAt(root, path, current + o.suffix) : root;
    case 'swap': {
      const other = bodies[o.other % bodies.length];
      const otherPaths = paths(other);
      return setAt(root, path, structuredClone(getAt(other, otherPaths[o.from % otherPaths.length] ?? [])));
    }
  }
}

/** A frame of the right type, signed by the right key, around a mutated copy of the real body. */
export function signedMutatedBody(ctx: FrameContext, bodies: readonly unknown[]): fc.Arbitrary<Uint8Array> {
  return fc.tuple(fc.array(bodyOp, { minLength: 1, maxLength: 3 }), fc.boolean()).map(([ops, rfc]) => {
    let body = structuredClone(ctx.body);
    for (const o of ops) body = applyBodyOp(body, o, bodies, ctx.pool);
    const b = tryEncode(body, rfc) ?? new Uint8Array([0xa0]);
    const s = ctx.sign(Uint8Array.from([...labelOf(ctx.type), ...b]));
    return encode({ v: 1, t: ctx.type, k: ctx.signer, b, s }, rfc8949EncodeOptions);
  });
}

/** The decoded body of a real message, for mutation. */
export function bodyOf(message: Uint8Array): unknown {
  return decode((decode(message) as { b: Uint8Array }).b);
}
