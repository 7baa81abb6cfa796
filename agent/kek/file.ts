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
 * the disk altogether.
 *
 * Erase keys (./provider.ts): a retained share's data key is wrapped under its own random 32-byte
 * erase key, kept in `<kek file>.erase/<set_id>-<index>.key` (0600, the folder 0700) — beside the
 * KEK file, outside the data directory — sealed by the KEK:
 *   erase key file = nonce (12) ‖ AES-256-GCM(KEK, nonce, AAD = "custos/agent/erase-key/v1" 0x00 ‖ context).encrypt(erase key)
 *   wrapped        = nonce (12) ‖ AES-256-GCM(erase key, nonce, AAD = "custos/agent/kek-wrap/erase/v1" 0x00 ‖ context).encrypt(data key)
 * `destroyEraseKey` overwrites the file with zeros, fsyncs, unlinks it and fsyncs the folder. (On a
 * copy-on-write or flash file system the overwrite may not reach the old blocks; the erase key is
 * itself sealed by the KEK, so what is left is as protected as any other sealed file, and it is
 * gone for good once the KEK is rotated.) */
import { closeSync, fstatSync, openSync, readSync, writeSync, fsyncSync, constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { gcm } from '@noble/ciphers/aes.js';
import { concatBytes, toHex, utf8, wipe } from '../../shared/bytes';
import { taggedHash } from '../../shared/crypto/hash';
import { AgentError, isCodedError } from '../errors';
import { ensureDir, isErrno, removeFileDurable, writeFileAtomicSync as writeFileAtomic } from '../../node/fs-atomic';
import { openPrivateFile } from '../../node/private-file';

export { assertPrivateFile, openPrivateFile } from '../../node/private-file';
import type { EraseScope, KekProvider } from './provider';

export type { EraseScope, KekProvider } from './provider';

export const KEK_FILE = 'kek.key';
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const WRAP_LABEL = utf8('custos/agent/kek-wrap/v1\0');
const ERASE_FILE_LABEL = utf8('custos/agent/erase-key/v1\0');
const ERASE_WRAP_LABEL = utf8('custos/agent/kek-wrap/erase/v1\0');
const WRAPPED_BYTES = NONCE_BYTES + KEY_BYTES + 16;

/** The folder of a file KEK's erase keys (beside the KEK file). */
export function eraseDirOf(kekPath: string): string {
  return `${kekPath}.erase`;
}

/** The erase key file of a scope (set id and index were checked by the caller's ref). */
export function eraseKeyFile(kekPath: string, scope: EraseScope): string {
  if (!/^[0-9a-f]{32}$/.test(scope.setId) || !Number.isInteger(scope.index) || scope.index < 1 || scope.index > 255) {
    throw new AgentError('INTERNAL', 'An erase scope needs a 32-hex-digit set id and an index from 1 to 255.');
  }
  return join(eraseDirOf(kekPath), `${scope.setId}-${String(scope.index)}.key`);
}

function erased(scope: EraseScope): AgentError {
  return new AgentError(
    'CORRUPT_FILE',
    `The erase key of retained share ${String(scope.index)} of set ${scope.setId.slice(0, 8)} is gone: the share was hard-deleted (crypto-erased), so this copy of its file can no longer be opened.`,
    { details: { reason: 'erased', setId: scope.setId, shareIndex: scope.index } },
  );
}

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

  wrapKey(dataKey: Uint8Array, context: Uint8Array, scope?: EraseScope): Promise<Uint8Array> {
    try {
      assertKey(dataKey, 'A data key');
      const nonce = new Uint8Array(randomBytes(NONCE_BYTES));
      if (scope === undefined) return Promise.resolve(concatBytes(nonce, gcm(this.#live(), nonce, concatBytes(WRAP_LABEL, context)).encrypt(dataKey)));
      const eraseKey = this.#eraseKey(scope, context, true);
      try {
        return Promise.resolve(concatBytes(nonce, gcm(eraseKey, nonce, concatBytes(ERASE_WRAP_LABEL, context)).encrypt(dataKey)));
      } finally {
        wipe(eraseKey);
      }
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  unwrapKey(wrapped: Uint8Array, context: Uint8Array, kekId: string, scope?: EraseScope): Promise<Uint8Array> {
    if (kekId !== this.id) {
      // One local key only: another id means a file from another agent, or a damaged header.
      return Promise.reject(
        new AgentError('CORRUPT_FILE', `The file names another key-encryption key (${kekId.slice(0, 64)}), not this agent's (${this.id}): it comes from another agent or is damaged.`, {
          details: { kekId: kekId.slice(0, 64) },
        }),
      );
    }
    if (wrapped.length !== WRAPPED_BYTES) {
      return Promise.reject(new AgentError('CORRUPT_FILE', 'The wrapped data key has the wrong length: the file is damaged.'));
    }
    let eraseKey: Uint8Array | undefined;
    try {
      if (scope !== undefined) eraseKey = this.#eraseKey(scope, context, false);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    try {
      const key =
        eraseKey === undefined
          ? gcm(this.#live(), wrapped.subarray(0, NONCE_BYTES), concatBytes(WRAP_LABEL, context)).decrypt(wrapped.subarray(NONCE_BYTES))
          : gcm(eraseKey, wrapped.subarray(0, NONCE_BYTES), concatBytes(ERASE_WRAP_LABEL, context)).decrypt(wrapped.subarray(NONCE_BYTES));
      return Promise.resolve(key);
    } catch (error) {
      return Promise.reject(
        new AgentError('CORRUPT_FILE', 'The file\'s data key does not authenticate: the file is damaged or belongs to another key, node or purpose.', { cause: error }),
      );
    } finally {
      if (eraseKey !== undefined) wipe(eraseKey);
    }
  }

  destroyEraseKey(scope: EraseScope): boolean {
    const path = eraseKeyFile(this.path, scope);
    let fd: number;
    try {
      fd = openSync(path, constants.O_WRONLY | constants.O_NOFOLLOW);
    } catch (error) {
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return false;
      throw error;
    }
    try {
      const size = fstatSync(fd).size;
      writeSync(fd, new Uint8Array(size), 0, size, 0);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return removeFileDurable(path);
  }

  close(): void {
    wipe(this.#key);
    this.#key = new Uint8Array(0);
  }

  /**
   * The erase key of `scope`, unsealed; with `create`, a fresh one is made when there is none (a
   * file already there — a crash after making it, a resumed rotation — is reused, it is ours).
   */
  #eraseKey(scope: EraseScope, context: Uint8Array, create: boolean): Uint8Array {
    const path = eraseKeyFile(this.path, scope);
    const aad = concatBytes(ERASE_FILE_LABEL, context);
    let sealed: Uint8Array;
    try {
      sealed = readSmallPrivate(path, WRAPPED_BYTES);
    } catch (error) {
      if (!(isCodedError(error) && error.code === 'NOT_FOUND')) throw error;
      if (!create) throw erased(scope);
      const key = new Uint8Array(randomBytes(KEY_BYTES));
      const nonce = new Uint8Array(randomBytes(NONCE_BYTES));
      ensureDir(dirname(path), 0o700);
      try {
        writeFileAtomic(path, concatBytes(nonce, gcm(this.#live(), nonce, aad).encrypt(key)), { mode: 0o600, noOverwrite: true });
        return key;
      } catch (e) {
        wipe(key);
        if (!(isCodedError(e) && e.code === 'CONFLICT')) throw e;
        sealed = readSmallPrivate(path, WRAPPED_BYTES);
      }
    }
    try {
      return gcm(this.#live(), sealed.subarray(0, NONCE_BYTES), aad).decrypt(sealed.subarray(NONCE_BYTES));
    } catch (error) {
      throw new AgentError('CORRUPT_FILE', `The erase key file ${path} does not authenticate under this KEK: it is damaged, or belongs to another share or another KEK.`, { cause: error, details: { file: path } });
    }
  }

  #live(): Uint8Array {
    if (this.#key.length !== KEY_BYTES) throw new AgentError('FAILED_PRECONDITION', 'The key-encryption key was closed.');
    return this.#key;
  }
}

/** Reads an owner-only file of exactly `size` bytes (NOT_FOUND when it is missing). */
function readSmallPrivate(path: string, size: number): Uint8Array {
  const fd = openPrivateFile(path, path); // NOT_FOUND when missing
  try {
    if (fstatSync(fd).size !== size) throw new AgentError('CORRUPT_FILE', `${path} must hold exactly ${String(size)} bytes.`, { details: { file: path } });
    const out = new Uint8Array(size);
    let at = 0;
    while (at < size) {
      const n = readSync(fd, out, at, size - at, at);
      if (n === 0) throw new AgentError('CORRUPT_FILE', `${path} is shorter than it claims.`, { details: { file: path } });
      at += n;
    }
    return out;
  } finally {
    closeSync(fd);
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
