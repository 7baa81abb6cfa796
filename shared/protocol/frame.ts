/**
 * The signed frame every Custos message travels in (docs/protocol.md §3).
 *
 *   frame = canonical CBOR map { "v": 1, "t": <type>, "k": <signer Ed25519 public key, 32 B>,
 *                                "b": <body: canonical CBOR, as a byte string>, "s": <signature, 64 B> }
 *   s     = Ed25519(signer, "custos/v1/sig/<type>" || 0x00 || b)
 *
 * The label binds the version and the message type, so a signature made for one type can never be
 * replayed as another. The signature is checked over the body bytes exactly as received, before
 * the body is decoded (authenticate first, parse second).
 */
import { z } from 'zod';
import { assertBytes, concatBytes, constantTimeEqual, utf8 } from '../bytes';
import { ed25519Keygen, ed25519PublicKey, ed25519Sign, ed25519Verify } from '../crypto/ed25519';
import { decodeCanonical, encodeCanonical } from './cbor';
import { aOrAn } from '../article';
import { CustosError } from '../errors';
import { bytes, parseWith } from './schema';

export { setSigner, setVerifier, type Signer, type Verifier } from '../crypto/ed25519';

export const PROTOCOL_VERSION = 1;

export const MESSAGE_TYPES = [
  'agent-card',
  'custodian-card',
  'approver-card',
  'agent-key-rotation',
  'manifest',
  'envelope',
  'receipt',
  'approval',
  'recovery-request',
  'recovery-export',
  'supersede',
  'inventory-challenge',
  'inventory-attestation',
  'deletion-approval',
  'approver-roster',
  'roster-change',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** Human names for messages, used in error sentences. */
const NAMES: Record<MessageType, string> = {
  'agent-card': 'agent card',
  'custodian-card': 'custodian enrollment card',
  'approver-card': 'approver card',
  'agent-key-rotation': 'agent key replacement notice',
  manifest: 'backup manifest',
  envelope: 'share envelope',
  receipt: 'delivery receipt',
  approval: 'recovery approval',
  'recovery-request': 'recovery request',
  'recovery-export': 'recovery export',
  supersede: 'supersede notice',
  'inventory-challenge': 'inventory challenge',
  'inventory-attestation': 'inventory attestation',
  'deletion-approval': 'deletion approval',
  'approver-roster': 'approver roster',
  'roster-change': 'approver roster change',
};

export const messageName = (type: MessageType): string => NAMES[type];

export function signatureLabel(type: MessageType): Uint8Array {
  return concatBytes(utf8(`custos/v${String(PROTOCOL_VERSION)}/sig/${type}`), new Uint8Array([0]));
}

/** An Ed25519 key pair. `seed` is the 32-byte RFC 8032 private key. */
export interface SigningKey {
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
}

export function generateSigningKey(): SigningKey {
  const { secretKey, publicKey } = ed25519Keygen();
  return { seed: secretKey, publicKey };
}

export function signingKeyFromSeed(seed: Uint8Array): SigningKey {
  assertBytes(seed, 'Ed25519 seed', 32);
  return { seed: Uint8Array.from(seed), publicKey: ed25519PublicKey(seed) };
}

/*
 * Signing and verifying go through shared/crypto/ed25519.ts, where a Node process installs
 * node:crypto (node/ed25519.ts, node/ed25519-sign.ts) with exactly noble's accept set and output.
 */

export function signBytes(type: MessageType, body: Uint8Array, key: SigningKey): Uint8Array {
  return ed25519Sign(concatBytes(signatureLabel(type), body), key.seed);
}

export function verifyBytes(type: MessageType, body: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  return ed25519Verify(signature, concatBytes(signatureLabel(type), body), publicKey);
}

const frameSchema = z.strictObject({
  v: z.number().int(),
  t: z.string().max(64),
  k: bytes(32),
  b: bytes(),
  s: bytes(64),
});

/** Who may have signed a message. */
export type Trust =
  | { readonly kind: 'key'; readonly publicKey: Uint8Array }
  | { readonly kind: 'any-of'; readonly publicKeys: readonly Uint8Array[] }
  /** The body names its own key (cards, approvals); the caller must check it against the body. */
  | { readonly kind: 'self' };

export const trustKey = (publicKey: Uint8Array): Trust => ({ kind: 'key', publicKey });
export const trustAnyOf = (publicKeys: readonly Uint8Array[]): Trust => ({ kind: 'any-of', publicKeys });
export const TRUST_SELF: Trust = { kind: 'self' };

export interface Opened<T> {
  readonly type: MessageType;
  readonly signer: Uint8Array;
  readonly body: T;
  /** The exact bytes of the whole message, as received. */
  readonly bytes: Uint8Array;
}

/** The outer facts of a message without verifying it: for routing and for error messages. */
export function peekMessage(input: unknown): { type: MessageType; version: number; signer: Uint8Array } {
  const frame = parseWith(frameSchema, decodeCanonical(input, 'file'), 'Custos message');
  if (frame.v !== PROTOCOL_VERSION) {
    throw new CustosError(
      'VERSION_UNSUPPORTED',
      `This message uses Custos protocol version ${String(frame.v)}; this build reads version ${String(PROTOCOL_VERSION)}. Update Custos on the older side.`,
      { details: { version: frame.v } },
    );
  }
  if (!(MESSAGE_TYPES as readonly string[]).includes(frame.t)) {
    throw new CustosError('WRONG_TYPE', 'This is not a Custos message type this build knows.', { details: { type: frame.t } });
  }
  return { type: frame.t as MessageType, version: frame.v, signer: frame.k };
}

/** Encodes and signs one message. `body` must already satisfy `schema`. */
export function sealMessage<S extends z.ZodType>(type: MessageType, schema: S, body: z.input<S>, key: SigningKey): Uint8Array {
  const checked: unknown = parseWith(schema, body, messageName(type));
  const b = encodeCanonical(checked);
  const s = signBytes(type, b, key);
  return encodeCanonical({ v: PROTOCOL_VERSION, t: type, k: key.publicKey, b, s });
}

/**
 * Decodes and authenticates one message: frame → version → type → trusted signer → signature over
 * the body bytes → body decode → body schema. Throws only CustosError.
 */
export function openMessage<S extends z.ZodType>(input: unknown, type: MessageType, schema: S, trust: Trust): Opened<z.output<S>> {
  const name = messageName(type);
  const frame = parseWith(frameSchema, decodeCanonical(input, name), name);
  if (frame.v !== PROTOCOL_VERSION) {
    throw new CustosError(
      'VERSION_UNSUPPORTED',
      `This ${name} uses Custos protocol version ${String(frame.v)}; this build reads version ${String(PROTOCOL_VERSION)}. Update Custos on the older side.`,
      { details: { version: frame.v } },
    );
  }
  if (frame.t !== type) {
    const known = (MESSAGE_TYPES as readonly string[]).includes(frame.t) ? messageName(frame.t as MessageType) : 'unknown message';
    throw new CustosError('WRONG_TYPE', `Expected ${aOrAn(name)} but this file is ${aOrAn(known)}.`, { details: { expected: type, got: frame.t } });
  }
  if (trust.kind === 'key' && !constantTimeEqual(trust.publicKey, frame.k)) {
    throw new CustosError('UNTRUSTED_SIGNER', `This ${name} was signed by a key you have not trusted. Compare fingerprints with the sender before going on.`);
  }
  if (trust.kind === 'any-of' && !trust.publicKeys.some((k) => constantTimeEqual(k, frame.k))) {
    throw new CustosError('UNTRUSTED_SIGNER', `This ${name} was signed by a key that is not registered here.`);
  }
  if (!verifyBytes(type, frame.b, frame.s, frame.k)) {
    throw new CustosError('SIGNATURE_INVALID', `The signature on this ${name} does not verify: it was changed after signing. Do not use it, and do not ask its sender for another copy: report it to security.`);
  }
  const body = parseWith(schema, decodeCanonical(frame.b, `${name} body`), name);
  return { type, signer: frame.k, body, bytes: input as Uint8Array };
}
