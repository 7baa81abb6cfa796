/**
 * Sealing share payloads to a recipient with the age format (age-encryption.org/v1, X25519
 * recipients), through typage (`age-encryption`). The output is a standard binary age file: in an
 * emergency a custodian decrypts it with the `age` command-line tool and their identity
 * (docs/protocol.md §5, "Escape hatch"). Only X25519 recipients are used, not the post-quantum
 * hybrid ones, because the age 1.x tools in Linux distributions read only X25519.
 */
import { bech32 } from '@scure/base';
import { Decrypter, Encrypter, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { assertBytes } from '../bytes';
import { CustosError } from '../errors';
import { ageRecipient } from '../protocol/schema';

const AGE_IDENTITY = /^AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}$/;
const AGE_MAGIC = 'age-encryption.org/v1\n';

export interface AgeKeyPair {
  /** `AGE-SECRET-KEY-1...`: secret. */
  readonly identity: string;
  /** `age1...`: public. */
  readonly recipient: string;
}

export async function generateAgeKeyPair(): Promise<AgeKeyPair> {
  const identity = await generateX25519Identity();
  return { identity, recipient: await identityToRecipient(identity) };
}

export async function recipientOf(identity: string): Promise<string> {
  assertAgeIdentity(identity);
  return identityToRecipient(identity);
}

export function assertAgeIdentity(identity: unknown): asserts identity is string {
  if (typeof identity !== 'string' || !AGE_IDENTITY.test(identity)) {
    throw new CustosError('INVALID_PARAMETERS', 'An age identity must be an X25519 secret key (AGE-SECRET-KEY-1...).');
  }
}

/** Encrypts `plaintext` to one age X25519 recipient. */
export async function sealTo(recipient: string, plaintext: Uint8Array): Promise<Uint8Array> {
  if (!ageRecipient.safeParse(recipient).success) {
    throw new CustosError('INVALID_PARAMETERS', 'The recipient must be an age X25519 recipient (age1...).');
  }
  assertBytes(plaintext, 'plaintext');
  const e = new Encrypter();
  e.addRecipient(recipient);
  return e.encrypt(plaintext);
}

/**
 * An age identity imported once, to open many files (a batch import opens thousands of envelopes).
 * Built from a string, typage imports the X25519 private key into WebCrypto (PKCS#8) on every
 * file and recomputes its public key; an opener imports it once, as a non-extractable CryptoKey,
 * and reuses one Decrypter. Runtimes without X25519 in WebCrypto get typage's own path.
 */
export interface AgeOpener {
  open(ciphertext: Uint8Array, what?: string): Promise<Uint8Array>;
}

const PKCS8_X25519 = new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20]);

/** What typage's Decrypter takes: here a string or an imported X25519 CryptoKey. */
type AgeIdentityInput = Parameters<Decrypter['addIdentity']>[0];
interface X25519Subtle {
  importKey(format: 'pkcs8', key: Uint8Array, algorithm: { name: 'X25519' }, extractable: false, usages: ['deriveBits']): Promise<AgeIdentityInput>;
}

async function importedIdentity(identity: string): Promise<AgeIdentityInput> {
  const subtle = (globalThis as { crypto?: { subtle?: X25519Subtle } }).crypto?.subtle;
  if (subtle === undefined) return identity;
  const { bytes } = bech32.decodeToBytes(identity);
  const pkcs8 = new Uint8Array(PKCS8_X25519.length + bytes.length);
  pkcs8.set(PKCS8_X25519);
  pkcs8.set(bytes, PKCS8_X25519.length);
  try {
    return await subtle.importKey('pkcs8', pkcs8, { name: 'X25519' }, false, ['deriveBits']);
  } catch {
    return identity;
  } finally {
    pkcs8.fill(0);
    bytes.fill(0);
  }
}

/** Imports `identity` once; the opener decrypts like `openSealed` (same checks, same errors). */
export async function ageOpener(identity: string): Promise<AgeOpener> {
  assertAgeIdentity(identity);
  const d = new Decrypter();
  d.addIdentity(await importedIdentity(identity));
  return { open: (ciphertext, what = 'share') => decryptWith(d, ciphertext, what) };
}

/**
 * Decrypts an age file with one identity (a string, or an opener that imported it once). age
 * authenticates the header (HMAC) and every payload
 * chunk (ChaCha20-Poly1305) before releasing plaintext; any failure is DECRYPT_FAILED.
 */
export async function openSealed(identity: string | AgeOpener, ciphertext: Uint8Array, what = 'share'): Promise<Uint8Array> {
  if (typeof identity !== 'string') return identity.open(ciphertext, what);
  assertAgeIdentity(identity);
  const d = new Decrypter();
  d.addIdentity(identity);
  return decryptWith(d, ciphertext, what);
}

async function decryptWith(d: Decrypter, ciphertext: Uint8Array, what: string): Promise<Uint8Array> {
  assertBytes(ciphertext, 'sealed payload');
  if (!startsWith(ciphertext, AGE_MAGIC)) {
    throw new CustosError('MALFORMED', `The sealed ${what} is not an age file.`);
  }
  try {
    return await d.decrypt(ciphertext, 'uint8array');
  } catch (error) {
    throw new CustosError(
      'DECRYPT_FAILED',
      `The sealed ${what} could not be decrypted with this identity: it was sealed to someone else or it is damaged.`,
      { cause: error },
    );
  }
}

function startsWith(bytes: Uint8Array, ascii: string): boolean {
  if (bytes.length < ascii.length) return false;
  for (let i = 0; i < ascii.length; i++) if (bytes[i] !== ascii.charCodeAt(i)) return false;
  return true;
}
