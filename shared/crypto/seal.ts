/**
 * Sealing share payloads to a recipient with the age format (age-encryption.org/v1, X25519
 * recipients), through typage (`age-encryption`). The output is a standard binary age file: in an
 * emergency a custodian decrypts it with the `age` command-line tool and their identity
 * (docs/protocol.md §5, "Escape hatch"). Only X25519 recipients are used, not the post-quantum
 * hybrid ones, because the age 1.x tools in Linux distributions read only X25519.
 */
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
 * Decrypts an age file with one identity. age authenticates the header (HMAC) and every payload
 * chunk (ChaCha20-Poly1305) before releasing plaintext; any failure is DECRYPT_FAILED.
 */
export async function openSealed(identity: string, ciphertext: Uint8Array, what = 'share'): Promise<Uint8Array> {
  assertAgeIdentity(identity);
  assertBytes(ciphertext, 'sealed payload');
  if (!startsWith(ciphertext, AGE_MAGIC)) {
    throw new CustosError('MALFORMED', `The sealed ${what} is not an age file.`);
  }
  const d = new Decrypter();
  d.addIdentity(identity);
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
