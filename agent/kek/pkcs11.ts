/**
 * (Over 500 lines on purpose: every PKCS#11 call and its error mapping — wrong PIN, missing token,
 * key or module, a token gone mid-run — sits next to the session handling it depends on, so the
 * refusal paths a security review reads are in one place.)
 *
 * A key-encryption key inside a PKCS#11 token (issue 9 §1; the seeds' "信封加密/KMS/HSM" ideal form):
 * YubiHSM, Thales Luna, AWS CloudHSM, nCipher, SoftHSM all speak PKCS#11 v2.x.
 *
 * The KEK is an AES-256 secret key object on the token, found by token label and key label, with
 * CKA_TOKEN, CKA_PRIVATE and CKA_SENSITIVE true and CKA_EXTRACTABLE false (refused otherwise: a key
 * the token would hand out is no better than a file). Data keys are wrapped inside the token with
 * CKM_AES_GCM (PKCS#11 v2.40 §2.12.3): a random 96-bit IV, a 128-bit tag, and the file's context as
 * associated data, so a wrapped key moved to another file does not authenticate — the binding the
 * {@link KekProvider} interface asks for, which CKM_AES_KEY_WRAP(_PAD) cannot give. Wrapped format:
 * IV (12) ‖ ciphertext (32) ‖ tag (16), 60 bytes.
 *
 * The PIN comes from a file (owner-only, checked like the KEK file) or the environment variable
 * CUSTOS_PKCS11_PIN, never from a command-line argument (argv is visible to every local user). It is
 * kept in memory only to log in again when the token drops the session (an HSM restart, a network
 * HSM's reconnect); one reconnect is tried, then the caller gets KEK_UNAVAILABLE.
 *
 * The PKCS#11 library is loaded once per process and path (C_Initialize is process-wide) and
 * finalised when the last provider using it closes. It is native code run in this process, so its
 * path must be absolute and the file (after symlinks) owned by root or this user and writable by
 * no one else. The binding (pkcs11js) is synchronous: every call blocks the event loop for the
 * token's round trip, which is what keeps one session's Init/Encrypt pairs from interleaving.
 *
 * Erase keys (./provider.ts): a retained share's data key is wrapped, inside the token, under an
 * AES-256 key object of its own, labelled `<key label>/erase/<set_id>/<index>` and generated with
 * the KEK's attributes (token object, private, sensitive, non-extractable), same CKM_AES_GCM layout
 * with the label "custos/agent/kek-wrap/pkcs11-erase/v1" 0x00 ‖ context as associated data. The
 * purge destroys it with C_DestroyObject: a copy of the share's file then opens nowhere, unless the
 * token itself (or an HSM backup of it) from before the purge is restored.
 */
import { lstatSync, readSync, realpathSync, fstatSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { isAbsolute } from 'node:path';
import pkcs11js from 'pkcs11js';
import { z } from 'zod';
import { concatBytes, toHex, utf8 } from '../../shared/bytes';
import { taggedHash } from '../../shared/crypto/hash';
import { AgentError } from '../errors';
import { openPrivateFile } from '../../node/private-file';
import type { EraseScope, KekProvider } from './provider';

/** The environment variable the PIN is read from when no PIN file is configured. */
export const PIN_ENV = 'CUSTOS_PKCS11_PIN';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const WRAPPED_BYTES = IV_BYTES + KEY_BYTES + TAG_BYTES;
const WRAP_LABEL = utf8('custos/agent/kek-wrap/pkcs11-gcm/v1\0');
const ERASE_WRAP_LABEL = utf8('custos/agent/kek-wrap/pkcs11-erase/v1\0');
const MAX_PIN_BYTES = 256;

/** Printable text without control characters (labels are shown in messages and stored in kek.json). */
const label = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    // eslint-disable-next-line no-control-regex
    .refine((s) => !/[\u0000-\u001f\u007f]/.test(s) && s.trim() === s, 'no control characters, no leading or trailing blanks');

/** The non-secret parameters of a PKCS#11 KEK, as given at init and recorded in kek.json. */
export const pkcs11ParamsSchema = z.strictObject({
  /** Absolute path of the PKCS#11 library (e.g. /usr/lib/softhsm/libsofthsm2.so). */
  module: z.string().min(1).max(4096).refine(isAbsolute, 'an absolute path'),
  /** CKA_LABEL of the token (at most 32 characters, PKCS#11's limit). */
  tokenLabel: label(32),
  /** CKA_LABEL of the AES key on that token. */
  keyLabel: label(128),
  /** File holding the PIN (absolute path, owner-only); when absent, the PIN is read from CUSTOS_PKCS11_PIN. */
  pinFile: z.string().min(1).max(4096).refine(isAbsolute, 'an absolute path').optional(),
});
export type Pkcs11Params = z.infer<typeof pkcs11ParamsSchema>;

export type KekUnavailableReason =
  | 'module'
  | 'token-missing'
  | 'token-ambiguous'
  | 'pin-missing'
  | 'pin-incorrect'
  | 'pin-locked'
  | 'key-missing'
  | 'key-ambiguous'
  | 'key-unsafe'
  | 'token-removed'
  | 'device';

function unavailable(reason: KekUnavailableReason, message: string, extra: { cause?: unknown; details?: Record<string, string> } = {}): AgentError {
  return new AgentError('KEK_UNAVAILABLE', message, {
    details: { reason, ...extra.details },
    ...(extra.cause === undefined ? {} : { cause: extra.cause }),
  });
}

/** The CKR_ name of a PKCS#11 failure (non-secret), or undefined for any other error. */
function ckr(error: unknown): string | undefined {
  if (error instanceof pkcs11js.Pkcs11Error) {
    const m = /CKR_[A-Z_]+/.exec(error.message);
    return m?.[0] ?? `0x${error.code.toString(16)}`;
  }
  return undefined;
}

/** Failures after which the session or the key handle is gone: the token went away, or restarted. */
const GONE = new Set([
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_OBJECT_HANDLE_INVALID',
  'CKR_KEY_HANDLE_INVALID',
  'CKR_DEVICE_REMOVED',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_USER_NOT_LOGGED_IN',
  'CKR_CRYPTOKI_NOT_INITIALIZED',
  'CKR_DEVICE_ERROR',
]);
/** What tokens answer when a GCM tag does not verify (SoftHSM says GENERAL_ERROR). */
const NOT_AUTHENTIC = new Set(['CKR_ENCRYPTED_DATA_INVALID', 'CKR_ENCRYPTED_DATA_LEN_RANGE', 'CKR_GENERAL_ERROR', 'CKR_FUNCTION_FAILED']);

// ---- the library, once per process and path ----------------------------------------------------

interface Loaded {
  readonly lib: pkcs11js.PKCS11;
  readonly finalize: boolean;
  refs: number;
}
const libraries = new Map<string, Loaded>();

/** Refuses a library that is not an absolute path to a file only root or this user can change. */
function checkModule(path: string): string {
  if (!isAbsolute(path)) throw unavailable('module', `The PKCS#11 module path must be absolute; got "${path.slice(0, 200)}".`);
  let real: string;
  try {
    real = realpathSync(path);
  } catch (error) {
    throw unavailable('module', `The PKCS#11 module ${path} does not exist. Install the HSM vendor's library (for SoftHSM2: apt-get install softhsm2, /usr/lib/softhsm/libsofthsm2.so) or give its path with --pkcs11-module.`, {
      cause: error,
      details: { module: path },
    });
  }
  const st = lstatSync(real);
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  if (!st.isFile()) throw unavailable('module', `The PKCS#11 module ${path} is not a regular file.`, { details: { module: path } });
  if ((st.mode & 0o022) !== 0 || (st.uid !== 0 && uid !== undefined && st.uid !== uid)) {
    throw unavailable('module', `The PKCS#11 module ${path} can be changed by another user (owner uid ${String(st.uid)}, mode ${(st.mode & 0o777).toString(8)}); the agent runs it as native code, so it refuses. Make it owned by root and not group- or world-writable.`, {
      details: { module: path },
    });
  }
  return real;
}

function acquireLibrary(path: string): { lib: pkcs11js.PKCS11; release: () => void } {
  const real = checkModule(path);
  let entry = libraries.get(real);
  if (entry === undefined) {
    const lib = new pkcs11js.PKCS11();
    try {
      lib.load(real);
    } catch (error) {
      throw unavailable('module', `The PKCS#11 module ${path} could not be loaded (not a PKCS#11 library, or built for another system).`, { cause: error, details: { module: path } });
    }
    let finalize = true;
    try {
      lib.C_Initialize();
    } catch (error) {
      if (ckr(error) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
        throw unavailable('module', `The PKCS#11 module ${path} failed to initialise (${ckr(error) ?? 'error'}); check its configuration (for SoftHSM2: SOFTHSM2_CONF and its tokendir).`, {
          cause: error,
          details: { module: path },
        });
      }
      finalize = false; // someone else in this process initialised it: they finalise it
    }
    entry = { lib, finalize, refs: 0 };
    libraries.set(real, entry);
  }
  const held = entry;
  held.refs++;
  let released = false;
  return {
    lib: held.lib,
    release: () => {
      if (released) return;
      released = true;
      held.refs--;
      if (held.refs === 0) {
        libraries.delete(real);
        if (held.finalize) {
          try {
            held.lib.C_Finalize();
          } catch {
            // The token may be gone already; nothing is left to release.
          }
        }
      }
    },
  };
}

// ---- the PIN ----------------------------------------------------------------------------------------

/** Reads the PIN from `pinFile` (owner-only) or from CUSTOS_PKCS11_PIN; never from argv. */
export function readPin(pinFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  let pin: string;
  if (pinFile !== undefined) {
    const fd = openPrivateFile(pinFile, pinFile);
    try {
      const size = fstatSync(fd).size;
      if (size > MAX_PIN_BYTES) throw unavailable('pin-missing', `The PIN file ${pinFile} is larger than a PIN can be (${String(MAX_PIN_BYTES)} bytes).`);
      const buf = Buffer.alloc(size);
      let at = 0;
      while (at < size) {
        const n = readSync(fd, buf, at, size - at, at);
        if (n === 0) break;
        at += n;
      }
      pin = buf.subarray(0, at).toString('utf8').replace(/\r?\n$/, '');
      buf.fill(0);
    } finally {
      closeSync(fd);
    }
  } else {
    pin = env[PIN_ENV] ?? '';
  }
  if (pin.length === 0) {
    throw unavailable(
      'pin-missing',
      pinFile === undefined
        ? `No PIN for the HSM token: set the environment variable ${PIN_ENV}, or give a PIN file at init (--pin-file FILE, mode 0600).`
        : `The PIN file ${pinFile} is empty.`,
    );
  }
  return pin;
}

// ---- the provider ---------------------------------------------------------------------------------

export interface Pkcs11OpenOptions {
  /** Generate the key (AES-256, sensitive, non-extractable, on the token) when no key has the label. */
  readonly createIfMissing?: boolean;
  /** The PIN; default {@link readPin} with the configured PIN file or CUSTOS_PKCS11_PIN. */
  readonly pin?: string;
}

interface Connection {
  readonly slot: Buffer;
  readonly session: Buffer;
  readonly key: Buffer;
  readonly serial: string;
  readonly ckaId: Uint8Array;
}

/** A KEK held inside a PKCS#11 token; see the module header. */
export class Pkcs11Kek implements KekProvider {
  readonly id: string;
  readonly params: Pkcs11Params;
  /** True when this open generated the key (init or rotation to a new label). */
  readonly created: boolean;
  readonly #lib: pkcs11js.PKCS11;
  readonly #release: () => void;
  #pin: string;
  #conn: Connection | undefined;
  #closed = false;

  private constructor(params: Pkcs11Params, lib: pkcs11js.PKCS11, release: () => void, pin: string, conn: Connection, created: boolean) {
    this.params = params;
    this.#lib = lib;
    this.#release = release;
    this.#pin = pin;
    this.#conn = conn;
    this.created = created;
    this.id = kekIdOf(conn);
  }

  /** Connects to the token, logs in and finds (or, with `createIfMissing`, generates) the key. */
  static open(params: Pkcs11Params, options: Pkcs11OpenOptions = {}): Pkcs11Kek {
    const p = pkcs11ParamsSchema.parse(params);
    const pin = options.pin ?? readPin(p.pinFile);
    const { lib, release } = acquireLibrary(p.module);
    try {
      const { conn, created } = connect(lib, p, pin, options.createIfMissing === true);
      return new Pkcs11Kek(p, lib, release, pin, conn, created);
    } catch (error) {
      release();
      throw error;
    }
  }

  wrapKey(dataKey: Uint8Array, context: Uint8Array, scope?: EraseScope): Promise<Uint8Array> {
    if (!(dataKey instanceof Uint8Array) || dataKey.length !== KEY_BYTES) {
      return Promise.reject(new AgentError('INTERNAL', `A data key must be ${String(KEY_BYTES)} bytes.`));
    }
    try {
      const iv = randomBytes(IV_BYTES);
      const out = this.#call('wrap', (c) => {
        const key = scope === undefined ? c.key : this.#eraseKey(c, scope, true);
        this.#lib.C_EncryptInit(c.session, gcmMechanism(iv, context, scope === undefined ? WRAP_LABEL : ERASE_WRAP_LABEL), key);
        return this.#lib.C_Encrypt(c.session, Buffer.from(dataKey), Buffer.alloc(KEY_BYTES + TAG_BYTES));
      });
      if (out.length !== KEY_BYTES + TAG_BYTES) throw unavailable('device', `The HSM returned ${String(out.length)} bytes for a wrapped key, not ${String(KEY_BYTES + TAG_BYTES)}.`);
      return Promise.resolve(concatBytes(new Uint8Array(iv), new Uint8Array(out)));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  unwrapKey(wrapped: Uint8Array, context: Uint8Array, kekId: string, scope?: EraseScope): Promise<Uint8Array> {
    if (kekId !== this.id) {
      return Promise.reject(
        new AgentError('CORRUPT_FILE', `The file names another key-encryption key (${kekId.slice(0, 64)}), not this agent's (${this.id}): it comes from another agent or is damaged.`, {
          details: { kekId: kekId.slice(0, 64) },
        }),
      );
    }
    if (wrapped.length !== WRAPPED_BYTES) return Promise.reject(new AgentError('CORRUPT_FILE', 'The wrapped data key has the wrong length: the file is damaged.'));
    try {
      const iv = Buffer.from(wrapped.subarray(0, IV_BYTES));
      const out = this.#call('unwrap', (c) => {
        const key = scope === undefined ? c.key : this.#eraseKey(c, scope, false);
        this.#lib.C_DecryptInit(c.session, gcmMechanism(iv, context, scope === undefined ? WRAP_LABEL : ERASE_WRAP_LABEL), key);
        try {
          return this.#lib.C_Decrypt(c.session, Buffer.from(wrapped.subarray(IV_BYTES)), Buffer.alloc(KEY_BYTES + TAG_BYTES));
        } catch (error) {
          const name = ckr(error);
          if (name !== undefined && NOT_AUTHENTIC.has(name) && this.#alive(c)) {
            throw new AgentError('CORRUPT_FILE', 'The file\'s data key does not authenticate under the HSM key: the file is damaged or belongs to another key, node or purpose.', { cause: error });
          }
          throw error;
        }
      });
      if (out.length !== KEY_BYTES) throw new AgentError('CORRUPT_FILE', 'The unwrapped data key has the wrong length: the file is damaged.');
      const key = new Uint8Array(out);
      out.fill(0);
      return Promise.resolve(key);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Destroys the erase key object(s) of `scope` on the token (C_DestroyObject); false when there was none. */
  destroyEraseKey(scope: EraseScope): boolean {
    const label = eraseLabel(this.params.keyLabel, scope);
    return this.#call('destroy the erase key of', (c) => {
      const keys = findKeys(this.#lib, c.session, label);
      for (const k of keys) this.#lib.C_DestroyObject(c.session, k);
      return keys.length > 0;
    });
  }

  /** The erase key object of `scope` (generated when missing and `create`); refuses an unsafe one. */
  #eraseKey(c: Connection, scope: EraseScope, create: boolean): Buffer {
    const label = eraseLabel(this.params.keyLabel, scope);
    const keys = findKeys(this.#lib, c.session, label);
    if (keys.length > 1) {
      throw unavailable('key-ambiguous', `The token "${this.params.tokenLabel}" has ${String(keys.length)} secret keys labelled "${label}"; remove the extra ones with the HSM's tools.`, {
        details: { tokenLabel: this.params.tokenLabel, keyLabel: label },
      });
    }
    let key = keys[0];
    if (key === undefined) {
      if (!create) {
        throw new AgentError(
          'CORRUPT_FILE',
          `The erase key of retained share ${String(scope.index)} of set ${scope.setId.slice(0, 8)} is not on the token: the share was hard-deleted (crypto-erased), so this copy of its file can no longer be opened.`,
          { details: { reason: 'erased', setId: scope.setId, shareIndex: scope.index } },
        );
      }
      key = generateKey(this.#lib, c.session, label);
    }
    checkKey(this.#lib, c.session, key, { ...this.params, keyLabel: label });
    return key;
  }

  /** Closes the session (no C_Logout: login state is shared by every session of this process on the token). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const c = this.#conn;
    this.#conn = undefined;
    this.#pin = '';
    if (c !== undefined) closeQuietly(this.#lib, c.session);
    this.#release();
  }

  /** What `info` shows: where the key is, nothing secret. */
  describe(): Record<string, string> {
    return { provider: 'pkcs11', module: this.params.module, tokenLabel: this.params.tokenLabel, keyLabel: this.params.keyLabel, tokenSerial: this.#conn?.serial ?? '' };
  }

  /**
   * Runs `fn` on the live connection. When the token dropped the session or the key handle (or an
   * earlier call found it gone), opens a fresh session, logs in, finds the key again (it must have
   * the same id) and runs `fn` once more; if that fails the token is gone: KEK_UNAVAILABLE.
   */
  #call<T>(what: string, fn: (c: Connection) => T): T {
    if (this.#closed) throw new AgentError('FAILED_PRECONDITION', 'The key-encryption key was closed.');
    const c = this.#conn;
    if (c !== undefined) {
      try {
        return fn(c);
      } catch (error) {
        const name = ckr(error);
        if (name === undefined) throw error;
        if (!GONE.has(name)) throw unavailable('device', `The HSM refused to ${what} a data key (${name}). Nothing was written.`, { cause: error, details: { ckr: name } });
      }
      this.#conn = undefined;
      try {
        this.#lib.C_CloseSession(c.session);
      } catch {
        // already closed
      }
    }
    let fresh: Connection;
    try {
      fresh = connect(this.#lib, this.params, this.#pin, false).conn;
    } catch (error) {
      throw unavailable('token-removed', `The HSM token "${this.params.tokenLabel}" went away while the agent was using it (${ckr(error) ?? reasonOf(error)}). Nothing was written; reconnect the token (or restart the agent after the HSM restarted) and run the command again.`, {
        cause: error,
        details: { tokenLabel: this.params.tokenLabel },
      });
    }
    if (kekIdOf(fresh) !== this.id) {
      closeQuietly(this.#lib, fresh.session);
      throw unavailable('key-missing', `The key "${this.params.keyLabel}" on token "${this.params.tokenLabel}" was replaced by another key while the agent was running. Nothing was written.`);
    }
    this.#conn = fresh;
    try {
      return fn(fresh);
    } catch (error) {
      if (error instanceof AgentError) throw error;
      throw unavailable('device', `The HSM refused to ${what} a data key after reconnecting (${ckr(error) ?? 'error'}). Nothing was written.`, { cause: error });
    }
  }

  /** Whether the session and key still answer (to tell a bad tag from a token that went away). */
  #alive(c: Connection): boolean {
    try {
      this.#lib.C_GetAttributeValue(c.session, c.key, [{ type: pkcs11js.CKA_KEY_TYPE }]);
      return true;
    } catch {
      return false;
    }
  }
}

function reasonOf(error: unknown): string {
  return error instanceof AgentError ? String(error.details.reason ?? error.code) : 'error';
}

function closeQuietly(lib: pkcs11js.PKCS11, session: Buffer): void {
  try {
    lib.C_CloseSession(session);
  } catch {
    // the token may be gone already
  }
}

/** The CKA_LABEL of a scope's erase key: beside the KEK's label, so another KEK label never sees it. */
export function eraseLabel(keyLabel: string, scope: EraseScope): string {
  if (!/^[0-9a-f]{32}$/.test(scope.setId) || !Number.isInteger(scope.index) || scope.index < 1 || scope.index > 255) {
    throw new AgentError('INTERNAL', 'An erase scope needs a 32-hex-digit set id and an index from 1 to 255.');
  }
  return `${keyLabel}/erase/${scope.setId}/${String(scope.index)}`;
}

function gcmMechanism(iv: Buffer, context: Uint8Array, label: Uint8Array): pkcs11js.Mechanism {
  const parameter: pkcs11js.GcmParams = {
    type: pkcs11js.CK_PARAMS_GCM,
    iv,
    ivBits: IV_BYTES * 8,
    aad: Buffer.from(concatBytes(label, context)),
    tagBits: TAG_BYTES * 8,
  };
  return { mechanism: pkcs11js.CKM_AES_GCM, parameter };
}

/** The KEK id: names token (serial) and key (label and CKA_ID), so a new key or a re-initialised token gets a new id. */
function kekIdOf(c: Connection): string {
  return `pkcs11:${toHex(taggedHash('agent/kek-id/pkcs11', c.serial, toHex(c.ckaId))).slice(0, 16)}`;
}

function trimPadded(s: string): string {
  return s.replace(/[ \0]+$/, '');
}

function connect(lib: pkcs11js.PKCS11, p: Pkcs11Params, pin: string, createIfMissing: boolean): { conn: Connection; created: boolean } {
  const slots = guard(() => lib.C_GetSlotList(true), 'list the slots');
  const matching: { slot: Buffer; serial: string }[] = [];
  for (const slot of slots) {
    let info: pkcs11js.TokenInfo;
    try {
      info = lib.C_GetTokenInfo(slot);
    } catch {
      continue; // a slot whose token just went away
    }
    if (trimPadded(info.label) === p.tokenLabel) matching.push({ slot, serial: trimPadded(info.serialNumber) });
  }
  if (matching.length === 0) {
    throw unavailable('token-missing', `No token labelled "${p.tokenLabel}" is present in ${p.module}. Plug the HSM in or check the label (SoftHSM2: softhsm2-util --show-slots, with the same SOFTHSM2_CONF).`, {
      details: { tokenLabel: p.tokenLabel },
    });
  }
  if (matching.length > 1) {
    throw unavailable('token-ambiguous', `${String(matching.length)} tokens are labelled "${p.tokenLabel}"; give each token a distinct label so the agent cannot pick the wrong one.`, {
      details: { tokenLabel: p.tokenLabel },
    });
  }
  const [{ slot, serial }] = matching as [{ slot: Buffer; serial: string }];
  const session = guard(() => lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION), 'open a session');
  try {
    try {
      lib.C_Login(session, pkcs11js.CKU_USER, pin);
    } catch (error) {
      const name = ckr(error);
      if (name === 'CKR_USER_ALREADY_LOGGED_IN') {
        // Login state is per process and token: another provider of this process logged in.
      } else if (name === 'CKR_PIN_INCORRECT' || name === 'CKR_PIN_INVALID' || name === 'CKR_PIN_LEN_RANGE') {
        throw unavailable('pin-incorrect', `The token "${p.tokenLabel}" refused the PIN. Check the PIN file or ${PIN_ENV}; each wrong PIN counts towards the token's lockout.`, {
          cause: error,
          details: { tokenLabel: p.tokenLabel },
        });
      } else if (name === 'CKR_PIN_LOCKED' || name === 'CKR_PIN_EXPIRED') {
        throw unavailable('pin-locked', `The token "${p.tokenLabel}" has its user PIN ${name === 'CKR_PIN_LOCKED' ? 'locked' : 'expired'}; its security officer must reset it.`, {
          cause: error,
          details: { tokenLabel: p.tokenLabel },
        });
      } else {
        throw unavailable('device', `Logging in to the token "${p.tokenLabel}" failed (${name ?? 'error'}).`, { cause: error, details: { tokenLabel: p.tokenLabel } });
      }
    }
    const keys = findKeys(lib, session, p.keyLabel);
    let key: Buffer;
    let created = false;
    if (keys.length === 0) {
      if (!createIfMissing) {
        throw unavailable('key-missing', `The token "${p.tokenLabel}" has no secret key labelled "${p.keyLabel}": it was deleted, or this is another token with the same label. Restore the key from the HSM's backup; files sealed under it cannot be opened without it.`, {
          details: { tokenLabel: p.tokenLabel, keyLabel: p.keyLabel },
        });
      }
      key = generateKey(lib, session, p.keyLabel);
      created = true;
    } else if (keys.length > 1) {
      throw unavailable('key-ambiguous', `The token "${p.tokenLabel}" has ${String(keys.length)} secret keys labelled "${p.keyLabel}"; give the KEK a unique label.`, {
        details: { tokenLabel: p.tokenLabel, keyLabel: p.keyLabel },
      });
    } else {
      key = keys[0] as Buffer;
    }
    const ckaId = checkKey(lib, session, key, p);
    return { conn: { slot, session, key, serial, ckaId }, created };
  } catch (error) {
    closeQuietly(lib, session);
    throw error;
  }
}

function guard<T>(fn: () => T, what: string): T {
  try {
    return fn();
  } catch (error) {
    const name = ckr(error);
    if (name === undefined) throw error;
    throw unavailable(GONE.has(name) ? 'token-removed' : 'device', `The PKCS#11 module could not ${what} (${name}).`, { cause: error, details: { ckr: name } });
  }
}

function findKeys(lib: pkcs11js.PKCS11, session: Buffer, keyLabel: string): Buffer[] {
  return guard(() => {
    lib.C_FindObjectsInit(session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_LABEL, value: keyLabel },
    ]);
    try {
      return lib.C_FindObjects(session, 16);
    } finally {
      lib.C_FindObjectsFinal(session);
    }
  }, 'search the token');
}

function generateKey(lib: pkcs11js.PKCS11, session: Buffer, keyLabel: string): Buffer {
  return guard(
    () =>
      lib.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_VALUE_LEN, value: KEY_BYTES },
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
        { type: pkcs11js.CKA_ENCRYPT, value: true },
        { type: pkcs11js.CKA_DECRYPT, value: true },
        { type: pkcs11js.CKA_WRAP, value: false },
        { type: pkcs11js.CKA_UNWRAP, value: false },
        { type: pkcs11js.CKA_LABEL, value: keyLabel },
        { type: pkcs11js.CKA_ID, value: randomBytes(16) },
      ]),
    'generate the key',
  );
}

/** Refuses a key the token would give out or that is not AES-256; returns its CKA_ID. */
function checkKey(lib: pkcs11js.PKCS11, session: Buffer, key: Buffer, p: Pkcs11Params): Uint8Array {
  const attrs = guard(
    () =>
      lib.C_GetAttributeValue(session, key, [
        { type: pkcs11js.CKA_KEY_TYPE },
        { type: pkcs11js.CKA_VALUE_LEN },
        { type: pkcs11js.CKA_TOKEN },
        { type: pkcs11js.CKA_SENSITIVE },
        { type: pkcs11js.CKA_EXTRACTABLE },
        { type: pkcs11js.CKA_ENCRYPT },
        { type: pkcs11js.CKA_DECRYPT },
        { type: pkcs11js.CKA_ID },
      ]),
    'read the key attributes',
  );
  const value = (t: number): Buffer => {
    const v = attrs.find((a) => a.type === t)?.value;
    return Buffer.isBuffer(v) ? v : Buffer.alloc(0);
  };
  const num = (t: number): number => {
    const b = value(t);
    return b.length >= 4 ? b.readUInt32LE(0) : -1;
  };
  const bool = (t: number): boolean => value(t)[0] === 1;
  const problems: string[] = [];
  if (num(pkcs11js.CKA_KEY_TYPE) !== pkcs11js.CKK_AES) problems.push('it is not an AES key');
  if (num(pkcs11js.CKA_VALUE_LEN) !== KEY_BYTES) problems.push(`it is not ${String(KEY_BYTES * 8)} bits long`);
  if (!bool(pkcs11js.CKA_TOKEN)) problems.push('it is a session object (CKA_TOKEN false), gone when the session ends');
  if (!bool(pkcs11js.CKA_SENSITIVE)) problems.push('it is not sensitive (CKA_SENSITIVE false)');
  if (bool(pkcs11js.CKA_EXTRACTABLE)) problems.push('it is extractable (CKA_EXTRACTABLE true)');
  if (!bool(pkcs11js.CKA_ENCRYPT) || !bool(pkcs11js.CKA_DECRYPT)) problems.push('it may not encrypt and decrypt (CKA_ENCRYPT/CKA_DECRYPT)');
  if (problems.length > 0) {
    throw unavailable('key-unsafe', `The key "${p.keyLabel}" on token "${p.tokenLabel}" cannot be the KEK: ${problems.join('; ')}. Create an AES-256 key with CKA_TOKEN, CKA_SENSITIVE true and CKA_EXTRACTABLE false, or let the agent generate one under a new label.`, {
      details: { tokenLabel: p.tokenLabel, keyLabel: p.keyLabel },
    });
  }
  return new Uint8Array(value(pkcs11js.CKA_ID));
}
