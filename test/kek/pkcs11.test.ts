// The PKCS#11 KEK provider against a real token (SoftHSM2), each test on its own token directory.
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { afterEach, describe, expect, it } from 'vitest';
import { Pkcs11Kek, PIN_ENV, readPin } from '../../agent/kek/pkcs11';
import { isAgentError } from '../../agent/errors';
import { expectCode } from '../agent/helpers';
import { makeToken, removeTokens, SOFTHSM_MODULE, USER_PIN } from './softhsm';

const open: Pkcs11Kek[] = [];
afterEach(() => {
  for (const k of open.splice(0)) k.close();
  removeTokens();
});

const ctx = (n: number): Uint8Array => new Uint8Array(32).fill(n);

function openKek(token: { label: string; pinFile: string }, keyLabel = 'kek-1', options: { createIfMissing?: boolean; pin?: string } = { createIfMissing: true }): Pkcs11Kek {
  const k = Pkcs11Kek.open({ module: SOFTHSM_MODULE, tokenLabel: token.label, keyLabel, pinFile: token.pinFile }, options);
  open.push(k);
  return k;
}

async function reason(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (error) {
    if (isAgentError(error, 'KEK_UNAVAILABLE')) return String(error.details.reason);
    throw error;
  }
  throw new Error('expected KEK_UNAVAILABLE');
}

/** Creates a secret key on the token directly (as an HSM admin would), with the given attributes. */
function adminKey(token: { label: string }, keyLabel: string, attrs: { extractable?: boolean; sensitive?: boolean; bits?: number }): void {
  const lib = new pkcs11js.PKCS11();
  lib.load(SOFTHSM_MODULE);
  lib.C_Initialize();
  try {
    const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === token.label);
    if (slot === undefined) throw new Error('no slot');
    const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    lib.C_Login(session, pkcs11js.CKU_USER, USER_PIN);
    lib.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
      { type: pkcs11js.CKA_VALUE_LEN, value: (attrs.bits ?? 256) / 8 },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: attrs.sensitive ?? true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: attrs.extractable ?? false },
      { type: pkcs11js.CKA_ENCRYPT, value: true },
      { type: pkcs11js.CKA_DECRYPT, value: true },
      { type: pkcs11js.CKA_LABEL, value: keyLabel },
    ]);
  } finally {
    lib.C_Finalize();
  }
}

describe('the PKCS#11 KEK provider (SoftHSM2)', () => {
  it('generates a sensitive, non-extractable AES-256 key on the token and wraps data keys there, bound to their context', async () => {
    const token = makeToken();
    const kek = openKek(token);
    expect(kek.created).toBe(true);
    expect(kek.id).toMatch(/^pkcs11:[0-9a-f]{16}$/);
    const dataKey = new Uint8Array(randomBytes(32));
    const wrapped = await kek.wrapKey(dataKey, ctx(1));
    expect(wrapped.length).toBe(60);
    expect(await kek.unwrapKey(wrapped, ctx(1), kek.id)).toEqual(dataKey);
    // Two wraps of one key differ (fresh IV), and neither contains the key.
    const again = await kek.wrapKey(dataKey, ctx(1));
    expect(again).not.toEqual(wrapped);
    expect(Buffer.from(wrapped).includes(Buffer.from(dataKey))).toBe(false);
    await expectCode(kek.unwrapKey(wrapped, ctx(2), kek.id), 'CORRUPT_FILE');
    const flipped = Uint8Array.from(wrapped);
    flipped[20] = (flipped[20] ?? 0) ^ 1;
    await expectCode(kek.unwrapKey(flipped, ctx(1), kek.id), 'CORRUPT_FILE');
    await expectCode(kek.unwrapKey(wrapped.subarray(1), ctx(1), kek.id), 'CORRUPT_FILE');
    await expectCode(kek.unwrapKey(wrapped, ctx(1), 'pkcs11:0000000000000000'), 'CORRUPT_FILE');
    // After refused unwraps the session still works.
    expect(await kek.unwrapKey(wrapped, ctx(1), kek.id)).toEqual(dataKey);
    kek.close();
    open.length = 0;

    // Reopened (a new process would do the same): the same key, the same id, no new key made.
    const reopened = openKek(token, 'kek-1', {});
    expect(reopened.created).toBe(false);
    expect(reopened.id).toBe(kek.id);
    expect(await reopened.unwrapKey(wrapped, ctx(1), kek.id)).toEqual(dataKey);
    // Another key on the same token has another id and cannot unwrap the first one's keys.
    const other = openKek(token, 'kek-2');
    expect(other.id).not.toBe(kek.id);
    await expectCode(other.unwrapKey(wrapped, ctx(1), kek.id), 'CORRUPT_FILE');
  });

  it('an erase key per retained share: a sensitive, non-extractable object on the token, destroyed with C_DestroyObject, after which the data key is gone', async () => {
    const token = makeToken();
    const kek = openKek(token);
    const scope = { setId: 'ab'.repeat(16), index: 1 };
    const otherScope = { setId: 'ab'.repeat(16), index: 2 };
    const dataKey = new Uint8Array(randomBytes(32));
    const wrapped = await kek.wrapKey(dataKey, ctx(1), scope);
    const other = await kek.wrapKey(dataKey, ctx(2), otherScope);
    expect(await kek.unwrapKey(wrapped, ctx(1), kek.id, scope)).toEqual(dataKey);
    // Not under the KEK itself, nor under another share's erase key.
    await expectCode(kek.unwrapKey(wrapped, ctx(1), kek.id), 'CORRUPT_FILE');
    await expectCode(kek.unwrapKey(wrapped, ctx(1), kek.id, otherScope), 'CORRUPT_FILE');
    // The object, read with the HSM's own interface: AES-256, on the token, sensitive, non-extractable.
    const lib = new pkcs11js.PKCS11();
    lib.load(SOFTHSM_MODULE);
    const find = (label: string): number => {
      try {
        lib.C_Initialize();
      } catch {
        // initialised by the provider in this process
      }
      const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === token.label)!;
      const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
      try {
        lib.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: label }]);
        const found = lib.C_FindObjects(session, 4);
        lib.C_FindObjectsFinal(session);
        for (const h of found) {
          const [sensitive, extractable] = lib.C_GetAttributeValue(session, h, [{ type: pkcs11js.CKA_SENSITIVE }, { type: pkcs11js.CKA_EXTRACTABLE }]);
          expect([(sensitive?.value as Buffer)[0], (extractable?.value as Buffer)[0]]).toEqual([1, 0]);
        }
        return found.length;
      } finally {
        lib.C_CloseSession(session);
      }
    };
    expect(find(`kek-1/erase/${scope.setId}/1`)).toBe(1);
    expect(kek.destroyEraseKey(scope)).toBe(true);
    expect(find(`kek-1/erase/${scope.setId}/1`)).toBe(0);
    const e = await expectCode(kek.unwrapKey(wrapped, ctx(1), kek.id, scope), 'CORRUPT_FILE');
    expect(e.details?.reason).toBe('erased');
    expect(kek.destroyEraseKey(scope)).toBe(false);
    // The other share's erase key is untouched.
    expect(await kek.unwrapKey(other, ctx(2), kek.id, otherScope)).toEqual(dataKey);
  });

  it('the key cannot be read out of the token', () => {
    const token = makeToken();
    openKek(token).close();
    open.length = 0;
    const lib = new pkcs11js.PKCS11();
    lib.load(SOFTHSM_MODULE);
    lib.C_Initialize();
    try {
      const slot = lib.C_GetSlotList(true)[0] as Buffer;
      const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
      lib.C_Login(session, pkcs11js.CKU_USER, USER_PIN);
      lib.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: 'kek-1' }]);
      const [key] = lib.C_FindObjects(session, 2);
      lib.C_FindObjectsFinal(session);
      expect(key).toBeDefined();
      expect(() => lib.C_GetAttributeValue(session, key as Buffer, [{ type: pkcs11js.CKA_VALUE }])).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
      const attrs = lib.C_GetAttributeValue(session, key as Buffer, [{ type: pkcs11js.CKA_EXTRACTABLE }, { type: pkcs11js.CKA_SENSITIVE }, { type: pkcs11js.CKA_TOKEN }]);
      expect(attrs.map((a) => a.value[0])).toEqual([0, 1, 1]);
    } finally {
      lib.C_Finalize();
    }
  });

  it('a wrong PIN, a missing PIN, a missing token, a missing key and a missing module are coded errors', async () => {
    const token = makeToken();
    openKek(token).close();
    open.length = 0;
    const params = { module: SOFTHSM_MODULE, tokenLabel: token.label, keyLabel: 'kek-1' };
    expect(await reason(() => Pkcs11Kek.open(params, { pin: '000000' }))).toBe('pin-incorrect');
    const saved = process.env[PIN_ENV];
    delete process.env.CUSTOS_PKCS11_PIN;
    try {
      expect(await reason(() => Pkcs11Kek.open(params))).toBe('pin-missing');
      process.env[PIN_ENV] = USER_PIN;
      const fromEnv = Pkcs11Kek.open(params);
      open.push(fromEnv);
      expect(fromEnv.created).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.CUSTOS_PKCS11_PIN;
      else process.env[PIN_ENV] = saved;
    }
    expect(await reason(() => Pkcs11Kek.open({ ...params, tokenLabel: 'no-such-token' }, { pin: USER_PIN }))).toBe('token-missing');
    expect(await reason(() => Pkcs11Kek.open({ ...params, keyLabel: 'no-such-key' }, { pin: USER_PIN }))).toBe('key-missing');
    expect(await reason(() => Pkcs11Kek.open({ ...params, module: '/usr/lib/no-such-pkcs11.so' }, { pin: USER_PIN }))).toBe('module');
    expect(await reason(() => Pkcs11Kek.open({ ...params, module: '/etc/hostname' }, { pin: USER_PIN }))).toBe('module');
    // The PIN file is held to the key files' rule: owner-only.
    chmodSync(token.pinFile, 0o644);
    await expectCode(() => readPin(token.pinFile), 'PERMISSION_DENIED');
    writeFileSync(join(token.root, 'empty.pin'), '', { mode: 0o600 });
    expect(await reason(() => readPin(join(token.root, 'empty.pin')))).toBe('pin-missing');
  });

  it('refuses a key the token would give out, a short key, or two keys with one label', async () => {
    const token = makeToken();
    adminKey(token, 'extractable', { extractable: true });
    adminKey(token, 'not-sensitive', { sensitive: false });
    adminKey(token, 'aes-128', { bits: 128 });
    adminKey(token, 'twice', {});
    adminKey(token, 'twice', {});
    adminKey(token, 'by-admin', {});
    const params = { module: SOFTHSM_MODULE, tokenLabel: token.label, pinFile: token.pinFile };
    expect(await reason(() => Pkcs11Kek.open({ ...params, keyLabel: 'extractable' }))).toBe('key-unsafe');
    expect(await reason(() => Pkcs11Kek.open({ ...params, keyLabel: 'not-sensitive' }))).toBe('key-unsafe');
    expect(await reason(() => Pkcs11Kek.open({ ...params, keyLabel: 'aes-128' }))).toBe('key-unsafe');
    expect(await reason(() => Pkcs11Kek.open({ ...params, keyLabel: 'twice' }))).toBe('key-ambiguous');
    // A key an HSM admin made with the right attributes is used as it is.
    const kek = openKek(token, 'by-admin', { createIfMissing: true });
    expect(kek.created).toBe(false);
    const wrapped = await kek.wrapKey(new Uint8Array(32).fill(3), ctx(1));
    expect(await kek.unwrapKey(wrapped, ctx(1), kek.id)).toEqual(new Uint8Array(32).fill(3));
  });

  it('a token removed mid-run (its directory deleted) is KEK_UNAVAILABLE, not a damaged file', async () => {
    const token = makeToken();
    const kek = openKek(token);
    const wrapped = await kek.wrapKey(new Uint8Array(32).fill(9), ctx(1));
    rmSync(token.tokenDir, { recursive: true, force: true });
    expect(await reason(kek.wrapKey(new Uint8Array(32).fill(9), ctx(1)))).toBe('token-removed');
    expect(await reason(kek.unwrapKey(wrapped, ctx(1), kek.id))).toMatch(/token-removed|device/);
  });

  it('a library finalised under the provider (the HSM restarted) is KEK_UNAVAILABLE', async () => {
    const token = makeToken();
    const kek = openKek(token);
    const wrapped = await kek.wrapKey(new Uint8Array(32).fill(9), ctx(1));
    const lib = new pkcs11js.PKCS11();
    lib.load(SOFTHSM_MODULE);
    lib.C_Finalize(); // the same library handle: every session of this process is gone
    expect(await reason(kek.unwrapKey(wrapped, ctx(1), kek.id))).toBe('token-removed');
  });
});
