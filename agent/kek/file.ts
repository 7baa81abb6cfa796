/**
 * The local-file key-encryption key (see ./provider.ts for the interface).
 *
 * The default provider keeps a 32-byte key in `<data>/kek.key` (mode 0600) and wraps with
 * AES-256-GCM. It refuses to start when the file is a symlink, not a regular file, owned by another
 * user, or readable or writable by group or others.
 */
import { closeSync, fstatSync, readSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { gcm } from '@noble/ciphers/aes.js';
import { concatBytes, toHex, utf8, wipe } from '../../shared/bytes';
import { taggedHash } from '../../shared/crypto/hash';
import { AgentError } from '../errors';
import { writeFileAtomicSync as writeFileAtomic } from '../../node/fs-atomic';
import { openPrivateFile } from '../../node/private-file';

export { assertPrivateFile, openPrivateFile } from '../../node/private-file';
import type { KekProvider } from './provider';

export type { KekProvider } from './provider';

export const KEK_FILE = 'kek.key';
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const WRAP_LABEL = utf8('custos/agent/kek-wrap/v1\0');

function assertKey(dataKey: Uint8Array, what: string): void {
  if (!(dataKey instanceof Uint8Array) || dataKey.length !== KEY_BYTES) {
    throw new AgentError('INTERNAL', `${what} must be ${String(KEY_BYTES)} bytes.`);
  }
}

/** The default provider: a 32-byte AES key in a local file, mode 0600. */
export class LocalFileKek implements KekProvider {
  readonly id: string;
  #key: Uint8Array;

  private constructor(key: Uint8Array) {
    this.#key = key;
    this.id = `local-file:${toHex(taggedHash('agent/kek-id', key)).slice(0, 16)}`;
  }

  /** Creates `<dataDir>/kek.key` with a fresh random key; refuses (CONFLICT) if it exists. */
  static create(dataDir: string): LocalFileKek {
    const key = new Uint8Array(randomBytes(KEY_BYTES));
    writeFileAtomic(join(dataDir, KEK_FILE), key, { mode: 0o600, noOverwrite: true });
    return new LocalFileKek(key);
  }

  /** Loads `<dataDir>/kek.key` after checking its type, owner and permissions. */
  static open(dataDir: string): LocalFileKek {
    return new LocalFileKek(readKeyFile(join(dataDir, KEK_FILE)));
  }

  wrapKey(dataKey: Uint8Array, context: Uint8Array): Promise<Uint8Array> {
    assertKey(dataKey, 'A data key');
    const nonce = new Uint8Array(randomBytes(NONCE_BYTES));
    const sealed = gcm(this.#live(), nonce, concatBytes(WRAP_LABEL, context)).encrypt(dataKey);
    return Promise.resolve(concatBytes(nonce, sealed));
  }

  unwrapKey(wrapped: Uint8Array, context: Uint8Array, kekId: string): Promise<Uint8Array> {
    if (kekId !== this.id) {
      // One local key only: another id means a file from another agent, or a damaged header.
      return Promise.reject(
        new AgentError('CORRUPT_FILE', `The file names another key-encryption key (${kekId.slice(0, 64)}), not this agent's (${this.id}): it comes from another agent or is damaged.`, {
          details: { kekId: kekId.slice(0, 64) },
        }),
      );
    }
    if (wrapped.length !== NONCE_BYTES + KEY_BYTES + 16) {
      return Promise.reject(new AgentError('CORRUPT_FILE', 'The wrapped data key has the wrong length: the file is damaged.'));
    }
    try {
      const key = gcm(this.#live(), wrapped.subarray(0, NONCE_BYTES), concatBytes(WRAP_LABEL, context)).decrypt(wrapped.subarray(NONCE_BYTES));
      return Promise.resolve(key);
    } catch (error) {
      return Promise.reject(
        new AgentError('CORRUPT_FILE', 'The file\'s data key does not authenticate: the file is damaged or belongs to another key, node or purpose.', { cause: error }),
      );
    }
  }

  close(): void {
    wipe(this.#key);
    this.#key = new Uint8Array(0);
  }

  #live(): Uint8Array {
    if (this.#key.length !== KEY_BYTES) throw new AgentError('FAILED_PRECONDITION', 'The key-encryption key was closed.');
    return this.#key;
  }
}

/** Reads a 32-byte key file, refusing unsafe files (see {@link openPrivateFile}). */
export function readKeyFile(path: string): Uint8Array {
  const fd = openPrivateFile(path, KEK_FILE);
  try {
    const st = fstatSync(fd);
    if (st.size !== KEY_BYTES) {
      throw new AgentError('CORRUPT_FILE', `${KEK_FILE} must hold exactly ${String(KEY_BYTES)} bytes; it holds ${String(st.size)}.`);
    }
    const key = new Uint8Array(KEY_BYTES);
    let at = 0;
    while (at < KEY_BYTES) {
      const n = readSync(fd, key, at, KEY_BYTES - at, at);
      if (n === 0) throw new AgentError('CORRUPT_FILE', `${KEK_FILE} is shorter than it claims.`);
      at += n;
    }
    return key;
  } finally {
    closeSync(fd);
  }
}
