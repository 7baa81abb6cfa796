/**
 * The local-file key-encryption key (see ./provider.ts for the interface).
 *
 * A 32-byte key in a file (mode 0600) and AES-256-GCM wrapping. New agents keep it OUTSIDE the data
 * directory (agent/kek/config.ts: default `<data-dir>.kek.key`); directories made before that have
 * `<data>/kek.key` inside. It refuses to start when the file is a symlink, not a regular file, owned
 * by another user, or readable or writable by group or others.
 *
 * What it protects against: a copy of the data directory alone (a backup job, a stolen disk image
 * of that volume only). What it does not: anyone who can read both the directory and the key file
 * (root, the agent's user, a backup of the whole machine). An HSM (./pkcs11.ts) keeps the key off
 * the disk altogether. */
import { closeSync, fstatSync, readSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { gcm } from '@noble/ciphers/aes.js';
import { concatBytes, toHex, utf8, wipe } from '../../shared/bytes';
import { taggedHash } from '../../shared/crypto/hash';
import { AgentError, isCodedError } from '../errors';
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
  /** The key file's path. */
  readonly path: string;
  #key: Uint8Array;

  private constructor(key: Uint8Array, path: string) {
    this.#key = key;
    this.path = path;
    this.id = `local-file:${toHex(taggedHash('agent/kek-id', key)).slice(0, 16)}`;
  }

  /** Creates `<dataDir>/kek.key` with a fresh random key; refuses (CONFLICT) if it exists. */
  static create(dataDir: string): LocalFileKek {
    return LocalFileKek.createAt(join(dataDir, KEK_FILE));
  }

  /** Loads `<dataDir>/kek.key` after checking its type, owner and permissions. */
  static open(dataDir: string): LocalFileKek {
    const path = join(dataDir, KEK_FILE);
    return new LocalFileKek(readKeyFile(path, KEK_FILE), path);
  }

  /** Creates the key file `path` (its folder must exist) with a fresh random key; refuses (CONFLICT) if it exists. */
  static createAt(path: string): LocalFileKek {
    const key = new Uint8Array(randomBytes(KEY_BYTES));
    try {
      writeFileAtomic(path, key, { mode: 0o600, noOverwrite: true });
    } catch (error) {
      wipe(key);
      if (isCodedError(error) && error.code === 'CONFLICT') {
        throw new AgentError('CONFLICT', `The KEK file ${path} exists already; refusing to overwrite a key that may still protect files. Choose another path, or remove it if you are sure nothing uses it.`, { cause: error });
      }
      throw error;
    }
    return new LocalFileKek(key, path);
  }

  /** Loads the key file `path` after checking its type, owner and permissions. */
  static openAt(path: string): LocalFileKek {
    try {
      return new LocalFileKek(readKeyFile(path, path), path);
    } catch (error) {
      if (isCodedError(error) && error.code === 'NOT_FOUND') {
        throw new AgentError('NOT_FOUND', `The KEK file ${path} is missing: restore it from where you keep its backup (without it no sealed file of this agent opens), or point kek.json at where it is now.`, {
          cause: error,
          details: { file: path },
        });
      }
      throw error;
    }
  }

  /** Where the key is (nothing secret). */
  describe(): Record<string, string> {
    return { provider: 'file', path: this.path };
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
export function readKeyFile(path: string, name: string = KEK_FILE): Uint8Array {
  const fd = openPrivateFile(path, name);
  try {
    const st = fstatSync(fd);
    if (st.size !== KEY_BYTES) {
      throw new AgentError('CORRUPT_FILE', `${name} must hold exactly ${String(KEY_BYTES)} bytes; it holds ${String(st.size)}.`);
    }
    const key = new Uint8Array(KEY_BYTES);
    let at = 0;
    while (at < KEY_BYTES) {
      const n = readSync(fd, key, at, KEY_BYTES - at, at);
      if (n === 0) throw new AgentError('CORRUPT_FILE', `${name} is shorter than it claims.`);
      at += n;
    }
    return key;
  } finally {
    closeSync(fd);
  }
}
