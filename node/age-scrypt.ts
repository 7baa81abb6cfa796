/**
 * age's passphrase recipient (age-encryption.org/v1, "scrypt" stanza), computed with node:crypto's
 * scrypt so that it runs on libuv's thread pool and never blocks the event loop. Shared by the
 * custodian app's vault (main/services/kdf.ts, vault-identity.ts) and the approver's key file
 * (approver/key.ts); moved here from main/services/kdf.ts so the approver program, which may import
 * only shared/ and node/, uses the same code (issue 12).
 *
 * Why not typage's own `Encrypter.setPassphrase` / `Decrypter.addPassphrase`: they call
 * @noble/hashes' synchronous `scrypt` inside an async function, so a one-second derivation freezes
 * the whole process for that second (and takes about five times as long). The stanza written here
 * is byte-for-byte the format typage and the `age` CLI write and read (test/custodian proves all
 * four directions), so the file stays a standard age passphrase file:
 *
 *   -> scrypt <base64(salt, 16 bytes)> <logN>
 *   <base64(ChaCha20-Poly1305(key = scrypt(passphrase, "age-encryption.org/v1/scrypt" || salt,
 *                             N = 2^logN, r = 8, p = 1, dkLen = 32), nonce = 0, file key))>
 *
 * The work factor is in the stanza, so every file says how it was made. MAX_LOG_N (20) is the
 * largest that typage accepts when reading (the Go `age` CLI accepts up to 22).
 */
import { scrypt as nodeScrypt } from 'node:crypto';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { Decrypter, Encrypter, Stanza, type Identity, type Recipient } from 'age-encryption';
import { concatBytes, randomBytes, utf8, wipe } from '../shared/bytes';
import { CodedError } from '../shared/errors';

/** A work factor outside what a file may be written with (WEAK_KDF, the app's code for it too). */
export class KdfError extends CodedError<'WEAK_KDF'> {
  override readonly name = 'KdfError';
}

const LABEL = utf8('age-encryption.org/v1/scrypt');

/** The production floor: no file is written with less unless a test opts in explicitly. */
export const MIN_LOG_N = 15;
/** The largest work factor typage reads; the age CLI reads up to 22. */
export const MAX_LOG_N = 20;
/** The largest work factor agreed to compute when reading a file (bounds memory and time). */
export const MAX_READ_LOG_N = 22;
/** The lowest a test may go, with an explicit opt-in. */
export const TEST_MIN_LOG_N = 1;

export interface ScryptKdf {
  /** scrypt(passphrase, salt, N = 2^logN, r = 8, p = 1, dkLen = 32). */
  derive(passphrase: Uint8Array, salt: Uint8Array, logN: number): Promise<Uint8Array>;
}

/** node:crypto's scrypt: native, on the thread pool, the event loop keeps running meanwhile. */
export const nodeScryptKdf: ScryptKdf = {
  derive(passphrase, salt, logN) {
    const N = 2 ** logN;
    // scrypt needs 128·N·r bytes; leave headroom above Node's default 32 MiB limit.
    const maxmem = 128 * N * 8 + 16 * 1024 * 1024;
    return new Promise((resolve, reject) => {
      nodeScrypt(passphrase, salt, 32, { N, r: 8, p: 1, maxmem }, (error, key) => {
        if (error) reject(error);
        else resolve(new Uint8Array(key.buffer, key.byteOffset, key.length));
      });
    });
  },
};

const NONCE = new Uint8Array(12);

function b64NoPad(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/=+$/, '');
}

function fromB64NoPad(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*$/.test(text)) return undefined;
  const bytes = new Uint8Array(Buffer.from(text, 'base64'));
  return b64NoPad(bytes) === text ? bytes : undefined;
}

/** An age recipient that wraps the file key with a passphrase (the standard scrypt stanza). */
export class ScryptPassphraseRecipient implements Recipient {
  readonly #passphrase: Uint8Array;
  readonly #logN: number;
  readonly #kdf: ScryptKdf;
  #fileKey: Uint8Array | undefined;

  constructor(passphrase: string, logN: number, kdf: ScryptKdf = nodeScryptKdf) {
    if (!Number.isInteger(logN) || logN < TEST_MIN_LOG_N || logN > MAX_LOG_N) {
      throw new KdfError('WEAK_KDF', `The scrypt work factor must be a whole number up to ${String(MAX_LOG_N)}; got ${String(logN)}.`);
    }
    this.#passphrase = utf8(passphrase);
    this.#logN = logN;
    this.#kdf = kdf;
  }

  /** The file key of the last file this recipient wrapped (vault-identity.ts keeps it to rewrite the file without the KDF). Taken once. */
  takeFileKey(): Uint8Array | undefined {
    const k = this.#fileKey;
    this.#fileKey = undefined;
    return k;
  }

  async wrapFileKey(fileKey: Uint8Array): Promise<Stanza[]> {
    this.#fileKey = Uint8Array.from(fileKey);
    const salt = randomBytes(16);
    const key = await this.#kdf.derive(this.#passphrase, concatBytes(LABEL, salt), this.#logN);
    try {
      return [new Stanza(['scrypt', b64NoPad(salt), String(this.#logN)], chacha20poly1305(key, NONCE).encrypt(fileKey))];
    } finally {
      wipe(key);
    }
  }
}

/**
 * An age identity that unwraps a scrypt stanza with a passphrase. After a decryption attempt,
 * `outcome` says whether the file had a scrypt stanza at all and whether the passphrase opened it,
 * so a caller can tell "wrong passphrase" from "damaged file".
 */
export class ScryptPassphraseIdentity implements Identity {
  readonly #passphrase: Uint8Array;
  readonly #kdf: ScryptKdf;
  readonly #keep: boolean;
  #fileKey: Uint8Array | undefined;
  outcome: 'not-tried' | 'no-scrypt-stanza' | 'invalid-stanza' | 'too-expensive' | 'wrong-passphrase' | 'unwrapped' = 'not-tried';
  /** The work factor found in the stanza, once read. */
  logN: number | undefined;

  constructor(passphrase: string, kdf: ScryptKdf = nodeScryptKdf, options: { keepFileKey?: boolean } = {}) {
    this.#passphrase = utf8(passphrase);
    this.#kdf = kdf;
    this.#keep = options.keepFileKey === true;
  }

  /** With `keepFileKey`: the unwrapped file key (vault-identity.ts). Taken once. */
  takeFileKey(): Uint8Array | undefined {
    const k = this.#fileKey;
    this.#fileKey = undefined;
    return k;
  }

  async unwrapFileKey(stanzas: Stanza[]): Promise<Uint8Array | null> {
    const s = stanzas.find((x) => x.args[0] === 'scrypt');
    if (s === undefined) {
      this.outcome = 'no-scrypt-stanza';
      return null;
    }
    // age spec: a scrypt stanza must be the only one in the header.
    const salt = s.args.length === 3 ? fromB64NoPad(s.args[1] ?? '') : undefined;
    const logText = s.args[2] ?? '';
    if (stanzas.length !== 1 || salt?.length !== 16 || !/^[1-9][0-9]?$/.test(logText) || s.body.length !== 32) {
      this.outcome = 'invalid-stanza';
      throw new Error('invalid scrypt stanza');
    }
    const logN = Number(logText);
    this.logN = logN;
    if (logN > MAX_READ_LOG_N) {
      this.outcome = 'too-expensive';
      throw new Error('scrypt work factor is too high');
    }
    const key = await this.#kdf.derive(this.#passphrase, concatBytes(LABEL, salt), logN);
    try {
      const fileKey = chacha20poly1305(key, NONCE).decrypt(s.body);
      this.outcome = 'unwrapped';
      if (this.#keep) this.#fileKey = Uint8Array.from(fileKey);
      return fileKey;
    } catch {
      this.outcome = 'wrong-passphrase';
      return null;
    } finally {
      wipe(key);
    }
  }
}

/** Reads the work factor of an age passphrase file's header without deriving anything. */
export function scryptLogNOf(ageFile: Uint8Array): number | undefined {
  const head = new TextDecoder('latin1').decode(ageFile.subarray(0, 512));
  const m = /\n-> scrypt [A-Za-z0-9+/]+ ([0-9]+)\n/.exec(head);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** Why {@link decryptWithPassphrase} could not open a file. */
export type PassphraseOpenFailure = 'wrong-passphrase' | 'too-expensive' | 'not-a-passphrase-file';

/** A refusal of {@link decryptWithPassphrase}; `reason` says which kind, the caller words it. */
export class PassphraseOpenError extends Error {
  readonly reason: PassphraseOpenFailure;
  readonly logN: number | undefined;
  constructor(reason: PassphraseOpenFailure, logN: number | undefined, cause: unknown) {
    super(`age passphrase file: ${reason}`, { cause });
    this.name = 'PassphraseOpenError';
    this.reason = reason;
    this.logN = logN;
  }
}

/** Encrypts `plaintext` to a standard age passphrase file with work factor `logN` (one KDF run). */
export async function encryptWithPassphrase(plaintext: Uint8Array, passphrase: string, logN: number, kdf: ScryptKdf = nodeScryptKdf): Promise<Uint8Array> {
  const e = new Encrypter();
  const recipient = new ScryptPassphraseRecipient(passphrase, logN, kdf);
  e.addRecipient(recipient);
  try {
    return await e.encrypt(plaintext);
  } finally {
    const k = recipient.takeFileKey();
    if (k !== undefined) wipe(k);
  }
}

/** Decrypts an age passphrase file (authenticated: a wrong passphrase or changed byte opens nothing). */
export async function decryptWithPassphrase(file: Uint8Array, passphrase: string, kdf: ScryptKdf = nodeScryptKdf): Promise<Uint8Array> {
  const id = new ScryptPassphraseIdentity(passphrase, kdf);
  const d = new Decrypter();
  d.addIdentity(id);
  try {
    return await d.decrypt(file, 'uint8array');
  } catch (error) {
    const reason = id.outcome === 'wrong-passphrase' ? 'wrong-passphrase' : id.outcome === 'too-expensive' ? 'too-expensive' : 'not-a-passphrase-file';
    throw new PassphraseOpenError(reason, id.logN, error);
  }
}
