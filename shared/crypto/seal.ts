/**
 * Sealing share payloads to a recipient with the age format (age-encryption.org/v1, X25519
 * recipients), through typage (`age-encryption`). The output is a standard binary age file: in an
 * emergency a custodian decrypts it with the `age` command-line tool and their identity
 * (docs/protocol.md §5, "Escape hatch"). Only X25519 recipients are used, not the post-quantum
 * hybrid ones, because the age 1.x tools in Linux distributions read only X25519.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bech32 } from '@scure/base';
import { Decrypter, Encrypter, generateX25519Identity, identityToRecipient, type Recipient, type Stanza } from 'age-encryption';
import { assertBytes, concatBytes, randomBytes, utf8, wipe } from '../bytes';
import { CustosError } from '../errors';
import { ageRecipient } from '../protocol/schema';

/** ChaCha20-Poly1305 encryption (RFC 8439): key 32 bytes, nonce 12, no associated data; ciphertext || 16-byte tag. */
export type ChachaSeal = (key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array) => Uint8Array;

let chachaSeal: ChachaSeal = (key, nonce, plaintext) => chacha20poly1305(key, nonce).encrypt(plaintext);

/**
 * Node processes install node:crypto's ChaCha20-Poly1305 (OpenSSL, node/crypto-install.ts) for the age
 * payloads AgeResealer writes (the vault's records: a save of a 1,000-envelope import seals about
 * 5 MB); the renderer keeps @noble/ciphers'. test/node/crypto-install.test.ts holds the two equal, and
 * test/custodian/vault-worker.test.ts reads the files back with the `age` CLI.
 */
export function setChachaSeal(implementation: ChachaSeal): void {
  chachaSeal = implementation;
}

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

// ---- many files under one header -----------------------------------------------------------------

const PAYLOAD_LABEL = utf8('payload');
const CHUNK = 64 * 1024;

/** The age header of a file: everything up to and including the `--- <mac>` line. */
function ageHeaderOf(file: Uint8Array): Uint8Array {
  const limit = Math.min(file.length, 64 * 1024);
  let text = '';
  for (let i = 0; i < limit; i++) text += String.fromCharCode(file[i] ?? 0);
  const at = text.indexOf('\n--- ');
  const end = at < 0 ? -1 : text.indexOf('\n', at + 1);
  if (!text.startsWith(AGE_MAGIC) || end < 0) throw new CustosError('MALFORMED', 'This is not an age file with a complete header.');
  return Uint8Array.from(file.subarray(0, end + 1));
}

/**
 * Writes many standard age files that share one header (one file key), each with its own random
 * 16-byte payload nonce (age-encryption.org/v1, "Payload": payload key = HKDF-SHA256(file key,
 * nonce, "payload"), then the STREAM of 64 KiB ChaCha20-Poly1305 chunks, the last one flagged).
 * Distinct nonces give distinct payload keys, which is what the format relies on; every file opens
 * with `age -d` and typage like any other. The vault uses it so a save costs no X25519 operation
 * (the journal) and no KDF run (identity.age). The file key is as secret as the identity that opens
 * the header: keep a resealer only while the vault is unlocked, and wipe it.
 */
export class AgeResealer {
  readonly #header: Uint8Array;
  readonly #fileKey: Uint8Array;

  private constructor(header: Uint8Array, fileKey: Uint8Array) {
    if (fileKey.length !== 16) throw new CustosError('INVALID_PARAMETERS', `An age file key is 16 bytes; got ${String(fileKey.length)}.`);
    this.#header = header;
    this.#fileKey = Uint8Array.from(fileKey);
  }

  /** From an existing file and its file key (which its opener learnt): reuses that file's header. */
  static fromFile(file: Uint8Array, fileKey: Uint8Array): AgeResealer {
    return new AgeResealer(ageHeaderOf(file), fileKey);
  }

  /** A new header for one X25519 recipient (one X25519 operation, here, once). */
  static async forRecipient(recipient: string): Promise<AgeResealer> {
    if (!ageRecipient.safeParse(recipient).success) {
      throw new CustosError('INVALID_PARAMETERS', 'The recipient must be an age X25519 recipient (age1...).');
    }
    let captured: Uint8Array | undefined;
    // A second "recipient" that adds no stanza: it only sees the file key typage generated.
    const capture: Recipient = {
      wrapFileKey(fileKey: Uint8Array): Stanza[] {
        captured = Uint8Array.from(fileKey);
        return [];
      },
    };
    const e = new Encrypter();
    e.addRecipient(recipient);
    e.addRecipient(capture);
    const file = await e.encrypt(new Uint8Array(0));
    if (captured === undefined) throw new CustosError('INVALID_PARAMETERS', 'The age file key could not be captured.');
    const r = new AgeResealer(ageHeaderOf(file), captured);
    wipe(captured);
    return r;
  }

  /**
   * Seals the concatenation of `pieces` without joining them, into one preallocated file, yielding
   * to the caller's `pause` every 16 chunks (1 MiB): a large record never holds the thread long,
   * and never exists twice in memory.
   */
  async sealPieces(pieces: readonly Uint8Array[], pause: () => Promise<void>): Promise<Uint8Array> {
    let total = 0;
    for (const p of pieces) total += p.length;
    const count = Math.max(1, Math.ceil(total / CHUNK));
    const out = new Uint8Array(this.#header.length + 16 + total + 16 * count);
    out.set(this.#header);
    const nonce = randomBytes(16);
    out.set(nonce, this.#header.length);
    let at = this.#header.length + 16;
    const key = hkdf(sha256, this.#fileKey, nonce, PAYLOAD_LABEL, 32);
    const buf = new Uint8Array(CHUNK);
    let used = 0;
    let index = 0;
    const flush = (): void => {
      const n = new Uint8Array(12);
      new DataView(n.buffer).setUint32(7, index);
      if (index === count - 1) n[11] = 1;
      const enc = chachaSeal(key, n, buf.subarray(0, used));
      out.set(enc, at);
      at += enc.length;
      index++;
      used = 0;
    };
    try {
      for (const p of pieces) {
        let off = 0;
        while (off < p.length) {
          // A full buffer is sealed only once more data follows, so the last chunk is flagged last.
          if (used === CHUNK) {
            flush();
            if (index % 16 === 0) await pause();
          }
          const n = Math.min(CHUNK - used, p.length - off);
          buf.set(p.subarray(off, off + n), used);
          used += n;
          off += n;
        }
      }
      flush();
      return out;
    } finally {
      wipe(key);
      buf.fill(0);
    }
  }

  seal(plaintext: Uint8Array): Uint8Array {
    assertBytes(plaintext, 'plaintext');
    const nonce = randomBytes(16);
    const key = hkdf(sha256, this.#fileKey, nonce, PAYLOAD_LABEL, 32);
    try {
      const out: Uint8Array[] = [this.#header, nonce];
      const count = Math.max(1, Math.ceil(plaintext.length / CHUNK));
      for (let i = 0; i < count; i++) {
        const n = new Uint8Array(12);
        new DataView(n.buffer).setUint32(7, i);
        if (i === count - 1) n[11] = 1;
        out.push(chachaSeal(key, n, plaintext.subarray(i * CHUNK, (i + 1) * CHUNK)));
      }
      return concatBytes(...out);
    } finally {
      wipe(key);
    }
  }

  wipe(): void {
    wipe(this.#fileKey);
  }
}
