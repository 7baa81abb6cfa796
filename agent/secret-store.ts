/**
 * Encrypted secret files (seeds: `key_share_storage.go` "AES-GCM"; issue 3 "Storage"; issue 9 §1
 * rotation and §1b crypto-erase). The format is specified in docs/storage.md §2; this is its summary.
 *
 * Every write uses a fresh random 256-bit data key, wrapped by the KEK provider (agent/kek/), and
 * AES-256-GCM with a random 96-bit nonce. The associated data binds the file's purpose and owner —
 * kind, key_id, node_id (and set_id + share index for retained shares) — so a file copied over
 * another (node A's share over node B's, a share over a keydata, a retained share of one set over
 * another's) fails authentication instead of being used. Nothing is returned before the GCM tag
 * has been checked; a damaged or misplaced file is CORRUPT_FILE and is never modified by a read.
 *
 * Sealed format (all lengths are single bytes), version 2 written, versions 1 and 2 read:
 *
 *   offset 0   magic        4 bytes  "CSTS"
 *          4   version      1 byte   0x02 (0x01: files written before it)
 *          5   kind         1 byte   1 share, 2 keydata, 3 retained-share, 4 agent-identity, 5 session-identity
 *          6   kek id len   1 byte   L (1..200)
 *          7   kek id       L bytes  printable ASCII (which KEK wrapped the data key)
 *              wrapped len  1 byte   W (1..255)
 *              wrapped key  W bytes  (provider specific)
 *              nonce        12 bytes
 *              ciphertext   n + 16 bytes (AES-256-GCM, tag last)
 *
 *   context = taggedHash("agent/secret-file", kind, ...owner parts)      (32 bytes)
 *   the KEK wraps the data key with `context` bound (its own AES-GCM tag), in both versions.
 *   v1: AAD = header (offset 0 through the nonce) ‖ context
 *   v2: AAD = magic ‖ version ‖ kind (bytes 0..5) ‖ context — NOT the KEK id or wrapped key, whose
 *       integrity is the wrap's own tag (bound to the same context), so a KEK rotation replaces
 *       only the wrapped key (`rewrapFor`), the nonce and ciphertext stay byte for byte.
 *   v2 retained shares: the data key is wrapped under the share's erase key (agent/kek/provider.ts),
 *       destroyed when the share is removed, so copies of the file made before stop opening.
 *
 * Layout under the data directory:
 *   keys/<key_id>/<node_id>.enc                              kind share   (the node's secret record)
 *   keys/<key_id>/<node_id>.keydata.enc                      kind keydata (tss-lib LocalPartySaveData, compact)
 *   backup/<key_id>/<node_id>/<set_id>/<index>.enc           kind retained-share
 *   agent/identity.enc                                       kind agent-identity (Ed25519 seed)
 * and `session-identity` blobs (a recovery session's age identity) live in the database, sealed.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve, sep } from 'node:path';
import { gcm } from '@noble/ciphers/aes.js';
import { concatBytes, wipe } from '../shared/bytes';
import { taggedHash } from '../shared/crypto/hash';
import { AgentError, isCodedError } from './errors';
import { ensureDir, existsSync as exists, isErrno, removeFileDurable, writeFileAtomicSync as writeFileAtomic } from '../node/fs-atomic';
import { checkKeyId, checkNodeId, checkSessionId, checkSetId, checkShareIndex } from './ids';
import type { EraseScope, KekProvider } from './kek/provider';

export type SecretRef =
  | { readonly kind: 'share' | 'keydata'; readonly keyId: string; readonly nodeId: string }
  | { readonly kind: 'retained-share'; readonly keyId: string; readonly nodeId: string; readonly setId: string; readonly index: number }
  | { readonly kind: 'agent-identity' }
  | { readonly kind: 'session-identity'; readonly sessionId: string };

export type SecretKind = SecretRef['kind'];

const KIND_CODE: Readonly<Record<SecretKind, number>> = {
  share: 1,
  keydata: 2,
  'retained-share': 3,
  'agent-identity': 4,
  'session-identity': 5,
};

const MAGIC = new Uint8Array([0x43, 0x53, 0x54, 0x53]); // "CSTS"
/** The version new files are written in; version 1 is still read. */
export const FORMAT_VERSION = 2;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Largest sealed file read (an ECDSA keydata is about 20 KB). */
export const MAX_SEALED_BYTES = 4 * 1024 * 1024;

const KIND_NAME: Readonly<Record<SecretKind, string>> = {
  share: 'secret share record',
  keydata: 'keydata file',
  'retained-share': 'retained backup share',
  'agent-identity': 'agent identity',
  'session-identity': 'recovery session key',
};

/** Validates a reference's identifiers (so nothing unchecked reaches a path) and returns a clean copy. */
export function checkRef(ref: SecretRef): SecretRef {
  switch (ref.kind) {
    case 'share':
    case 'keydata':
      return { kind: ref.kind, keyId: checkKeyId(ref.keyId), nodeId: checkNodeId(ref.nodeId) };
    case 'retained-share':
      return { kind: ref.kind, keyId: checkKeyId(ref.keyId), nodeId: checkNodeId(ref.nodeId), setId: checkSetId(ref.setId), index: checkShareIndex(ref.index) };
    case 'agent-identity':
      return { kind: ref.kind };
    case 'session-identity':
      return { kind: ref.kind, sessionId: checkSessionId(ref.sessionId) };
  }
}

function contextOf(ref: SecretRef): Uint8Array {
  switch (ref.kind) {
    case 'share':
    case 'keydata':
      return taggedHash('agent/secret-file', ref.kind, ref.keyId, ref.nodeId);
    case 'retained-share':
      return taggedHash('agent/secret-file', ref.kind, ref.keyId, ref.nodeId, ref.setId, ref.index);
    case 'agent-identity':
      return taggedHash('agent/secret-file', ref.kind);
    case 'session-identity':
      return taggedHash('agent/secret-file', ref.kind, ref.sessionId);
  }
}

/** The erase key a v2 file of `ref` is wrapped under: retained shares only. */
function scopeOf(ref: SecretRef, version: number): EraseScope | undefined {
  return ref.kind === 'retained-share' && version >= 2 ? { setId: ref.setId, index: ref.index } : undefined;
}

interface Parsed {
  readonly version: number;
  readonly kekId: string;
  readonly wrapped: Uint8Array;
  readonly nonce: Uint8Array;
  /** Where the ciphertext starts. */
  readonly headerEnd: number;
}

/** The version byte of a sealed object (undefined when it is not one). */
export function sealedVersion(sealed: Uint8Array): number | undefined {
  if (sealed.length < 5 || !MAGIC.every((b, i) => b === sealed[i])) return undefined;
  return sealed[4];
}

function buildHeader(version: number, kind: number, kekId: string, wrapped: Uint8Array, nonce: Uint8Array): Uint8Array {
  const id = new TextEncoder().encode(kekId);
  if (wrapped.length < 1 || wrapped.length > 255) throw new AgentError('INTERNAL', 'The KEK provider returned a wrapped key of an unsupported size.');
  return concatBytes(MAGIC, new Uint8Array([version, kind, id.length]), id, new Uint8Array([wrapped.length]), wrapped, nonce);
}

function aadOf(version: number, header: Uint8Array, context: Uint8Array): Uint8Array {
  return version === 1 ? concatBytes(header, context) : concatBytes(header.subarray(0, 6), context);
}

function describeRef(ref: SecretRef): string {
  switch (ref.kind) {
    case 'share':
    case 'keydata':
      return `the ${KIND_NAME[ref.kind]} of key ${ref.keyId} node ${ref.nodeId}`;
    case 'retained-share':
      return `retained share ${String(ref.index)} of key ${ref.keyId} node ${ref.nodeId} (set ${ref.setId.slice(0, 8)})`;
    case 'agent-identity':
      return 'the agent identity';
    case 'session-identity':
      return `the key of recovery session ${ref.sessionId.slice(0, 8)}`;
  }
}

function refDetails(ref: SecretRef): Record<string, string | number> {
  switch (ref.kind) {
    case 'share':
    case 'keydata':
      return { kind: ref.kind, keyId: ref.keyId, nodeId: ref.nodeId };
    case 'retained-share':
      return { kind: ref.kind, keyId: ref.keyId, nodeId: ref.nodeId, setId: ref.setId, shareIndex: ref.index };
    case 'agent-identity':
      return { kind: ref.kind };
    case 'session-identity':
      return { kind: ref.kind, sessionId: ref.sessionId };
  }
}

export class SecretStore {
  readonly root: string;
  readonly #kek: KekProvider;

  constructor(dataDir: string, kek: KekProvider) {
    this.root = resolve(dataDir);
    this.#kek = kek;
    if (!/^[\x21-\x7e]{1,200}$/.test(kek.id)) throw new AgentError('INTERNAL', 'A KEK provider id must be 1..200 printable ASCII characters.');
  }

  /** The file of a reference (validated; always inside the data directory). */
  pathOf(ref: SecretRef): string {
    const r = checkRef(ref);
    let rel: string[];
    switch (r.kind) {
      case 'share':
        rel = ['keys', r.keyId, `${r.nodeId}.enc`];
        break;
      case 'keydata':
        rel = ['keys', r.keyId, `${r.nodeId}.keydata.enc`];
        break;
      case 'retained-share':
        rel = ['backup', r.keyId, r.nodeId, r.setId, `${String(r.index)}.enc`];
        break;
      case 'agent-identity':
        rel = ['agent', 'identity.enc'];
        break;
      case 'session-identity':
        throw new AgentError('INTERNAL', 'Session keys are stored in the database, not as files.');
    }
    const path = join(this.root, ...rel);
    if (!path.startsWith(this.root + sep)) throw new AgentError('INTERNAL', 'A secret file path left the data directory.');
    return path;
  }

  /** Encrypts `plaintext` for `ref` (see the format in the module header). */
  async seal(ref: SecretRef, plaintext: Uint8Array): Promise<Uint8Array> {
    const r = checkRef(ref);
    const context = contextOf(r);
    const dataKey = new Uint8Array(randomBytes(32));
    try {
      const wrapped = await this.#kek.wrapKey(dataKey, context, scopeOf(r, FORMAT_VERSION));
      const nonce = new Uint8Array(randomBytes(NONCE_BYTES));
      const header = buildHeader(FORMAT_VERSION, KIND_CODE[r.kind], this.#kek.id, wrapped, nonce);
      const sealed = gcm(dataKey, nonce, aadOf(FORMAT_VERSION, header, context)).encrypt(plaintext);
      return concatBytes(header, sealed);
    } finally {
      wipe(dataKey);
    }
  }

  /** Authenticates and decrypts `sealed` as the content of `ref`; CORRUPT_FILE when anything is off. */
  async open(ref: SecretRef, sealed: Uint8Array): Promise<Uint8Array> {
    const r = checkRef(ref);
    const p = this.#parse(r, sealed);
    const dataKey = await this.#unwrap(r, p);
    try {
      return this.#decrypt(r, p, sealed, dataKey);
    } finally {
      wipe(dataKey);
    }
  }

  /**
   * KEK rotation of one version-2 object: authenticates `sealed` (wrapped key and payload) under
   * this store's KEK, then returns the same object with only the KEK id and the wrapped key
   * replaced — the data key wrapped by `target`'s KEK (under a new erase key there, for a retained
   * share). The nonce and ciphertext are kept byte for byte. A version-1 object cannot be rewrapped
   * (its AAD covers the wrapped key): FAILED_PRECONDITION, re-seal it instead.
   */
  async rewrapFor(ref: SecretRef, sealed: Uint8Array, target: SecretStore): Promise<Uint8Array> {
    const r = checkRef(ref);
    const p = this.#parse(r, sealed);
    if (p.version !== 2) throw new AgentError('FAILED_PRECONDITION', `${capitalise(describeRef(r))} has format version ${String(p.version)}; only version 2 is rewrapped in place.`);
    const dataKey = await this.#unwrap(r, p);
    try {
      wipe(this.#decrypt(r, p, sealed, dataKey)); // authenticated before anything moves
      const wrapped = await target.#kek.wrapKey(dataKey, contextOf(r), scopeOf(r, p.version));
      const header = buildHeader(p.version, KIND_CODE[r.kind], target.#kek.id, wrapped, p.nonce);
      return concatBytes(header, sealed.subarray(p.headerEnd));
    } finally {
      wipe(dataKey);
    }
  }

  /**
   * Destroys the erase key of a retained share (see agent/kek/provider.ts): copies of its file no
   * longer open. For a rotation's old KEK after the file moved, and by {@link remove}. False when
   * there was none.
   */
  eraseKeyOf(ref: SecretRef): boolean {
    const r = checkRef(ref);
    const scope = scopeOf(r, FORMAT_VERSION);
    return scope === undefined ? false : this.#kek.destroyEraseKey(scope);
  }

  #corrupt(r: SecretRef, why: string, cause?: unknown): AgentError {
    return new AgentError('CORRUPT_FILE', `${capitalise(describeRef(r))} is unusable: ${why}. It was not changed; restore it from backup or run a recovery.`, {
      details: refDetails(r),
      ...(cause === undefined ? {} : { cause }),
    });
  }

  #parse(r: SecretRef, sealed: Uint8Array): Parsed {
    const corrupt = (why: string): AgentError => this.#corrupt(r, why);
    let at = 0;
    const take = (n: number): Uint8Array => {
      if (at + n > sealed.length) throw corrupt('it is truncated');
      const out = sealed.subarray(at, at + n);
      at += n;
      return out;
    };
    const magic = take(4);
    if (!magic.every((b, i) => b === MAGIC[i])) throw corrupt('it is not an agent secret file');
    const [version = 0, kind = 0, kekLen = 0] = take(3);
    if (version !== 1 && version !== 2) throw corrupt(`it has format version ${String(version)}, this build reads 1 and 2`);
    if (kind !== KIND_CODE[r.kind]) throw corrupt('it holds another kind of secret (a file was put in the wrong place)');
    if (kekLen < 1 || kekLen > 200) throw corrupt('its header is damaged');
    const kekId = new TextDecoder().decode(take(kekLen));
    if (!/^[\x21-\x7e]+$/.test(kekId)) throw corrupt('its header is damaged');
    const [wrappedLen = 0] = take(1);
    if (wrappedLen < 1) throw corrupt('its header is damaged');
    const wrapped = Uint8Array.from(take(wrappedLen));
    const nonce = Uint8Array.from(take(NONCE_BYTES));
    if (sealed.length - at < TAG_BYTES) throw corrupt('it is truncated');
    return { version, kekId, wrapped, nonce, headerEnd: at };
  }

  async #unwrap(r: SecretRef, p: Parsed): Promise<Uint8Array> {
    try {
      return await this.#kek.unwrapKey(p.wrapped, contextOf(r), p.kekId, scopeOf(r, p.version));
    } catch (error) {
      if (isCodedError(error) && error.code !== 'CORRUPT_FILE') throw error;
      if (isCodedError(error) && error.details.reason === 'erased') {
        throw new AgentError('CORRUPT_FILE', `${capitalise(describeRef(r))} was crypto-erased: its erase key was destroyed when the share was hard-deleted, so this copy of the file opens nowhere.`, {
          details: { ...refDetails(r), reason: 'erased' },
          cause: error,
        });
      }
      throw this.#corrupt(r, 'it does not authenticate (damaged, or another key\'s or node\'s file put in its place)', error);
    }
  }

  #decrypt(r: SecretRef, p: Parsed, sealed: Uint8Array, dataKey: Uint8Array): Uint8Array {
    try {
      return gcm(dataKey, p.nonce, aadOf(p.version, sealed.subarray(0, p.headerEnd), contextOf(r))).decrypt(sealed.subarray(p.headerEnd));
    } catch (error) {
      throw this.#corrupt(r, 'it does not authenticate (damaged, or another key\'s or node\'s file put in its place)', error);
    }
  }

  /** Seals and writes atomically with mode 0600; returns the path. */
  async write(ref: SecretRef, plaintext: Uint8Array, options: { noOverwrite?: boolean } = {}): Promise<string> {
    const path = this.pathOf(ref);
    const sealed = await this.seal(ref, plaintext);
    ensureDir(dirname(path), 0o700);
    writeFileAtomic(path, sealed, { mode: 0o600, noOverwrite: options.noOverwrite === true });
    return path;
  }

  /** Reads and opens the file of `ref`: NOT_FOUND when it is missing, CORRUPT_FILE when it is unusable. */
  async read(ref: SecretRef): Promise<Uint8Array> {
    const r = checkRef(ref);
    return this.open(r, this.readRaw(r));
  }

  /** The sealed bytes of `ref`'s file, without decrypting. */
  readRaw(ref: SecretRef): Uint8Array {
    const r = checkRef(ref);
    const path = this.pathOf(r);
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) {
        throw new AgentError('NOT_FOUND', `${capitalise(describeRef(r))} is not stored here.`, { details: refDetails(r) });
      }
      if (isErrno(error, 'ELOOP')) throw new AgentError('CORRUPT_FILE', `${capitalise(describeRef(r))} is a symbolic link; refusing to follow it.`, { details: refDetails(r) });
      throw error;
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) throw new AgentError('CORRUPT_FILE', `${capitalise(describeRef(r))} is not a regular file.`, { details: refDetails(r) });
      if (st.size > MAX_SEALED_BYTES) throw new AgentError('CORRUPT_FILE', `${capitalise(describeRef(r))} is too large to be an agent secret file.`, { details: refDetails(r) });
      const out = new Uint8Array(st.size);
      let at = 0;
      while (at < out.length) {
        const n = readSync(fd, out, at, out.length - at, at);
        if (n === 0) break;
        at += n;
      }
      return out.subarray(0, at);
    } finally {
      closeSync(fd);
    }
  }

  exists(ref: SecretRef): boolean {
    return exists(this.pathOf(ref));
  }

  /**
   * Removes the file of `ref` durably; false when it was not there. A retained share's erase key
   * is destroyed first (a crash between leaves a file that no longer opens, which a re-run of the
   * purge removes): copies of the file taken before stop opening.
   */
  remove(ref: SecretRef): boolean {
    const r = checkRef(ref);
    this.eraseKeyOf(r);
    return removeFileDurable(this.pathOf(r));
  }
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
