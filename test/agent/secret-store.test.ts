import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eraseDirOf, eraseKeyFile, LocalFileKek } from '../../agent/kek/file';
import { concatBytes } from '../../shared/bytes';
import { sealV1 } from '../kek/seal-v1';
import { SecretStore, type SecretRef } from '../../agent/secret-store';
import { compactFixture, expectCode, fixture, makeWorld, removeTempDirs, snapshot, tempDir } from './helpers';

afterEach(removeTempDirs);

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function store(): SecretStore {
  const dir = tempDir();
  return new SecretStore(dir, LocalFileKek.create(dir));
}

describe('SecretStore (AES-256-GCM, per-file data keys, AAD-bound)', () => {
  it('round-trips every kind, with a fresh nonce and data key per write', async () => {
    const s = store();
    const refs: SecretRef[] = [
      { kind: 'share', keyId: 'key-1', nodeId: 'node-a' },
      { kind: 'keydata', keyId: 'key-1', nodeId: 'node-a' },
      { kind: 'retained-share', keyId: 'key-1', nodeId: 'node-a', setId: 'ab'.repeat(16), index: 2 },
      { kind: 'agent-identity' },
    ];
    for (const ref of refs) {
      const path = await s.write(ref, text(`secret of ${ref.kind}`));
      const first = new Uint8Array(readFileSync(path));
      expect(new TextDecoder().decode(await s.read(ref))).toBe(`secret of ${ref.kind}`);
      await s.write(ref, text(`secret of ${ref.kind}`));
      expect(new Uint8Array(readFileSync(path))).not.toEqual(first);
      expect(new TextDecoder().decode(first)).not.toContain('secret of');
    }
    const sealed = await s.seal({ kind: 'session-identity', sessionId: 'cd'.repeat(16) }, text('AGE-SECRET-KEY-1...'));
    expect(new TextDecoder().decode(await s.open({ kind: 'session-identity', sessionId: 'cd'.repeat(16) }, sealed))).toBe('AGE-SECRET-KEY-1...');
    await expectCode(s.open({ kind: 'session-identity', sessionId: 'ce'.repeat(16) }, sealed), 'CORRUPT_FILE');
  });

  it('refuses a file moved to another node, another kind or another share index (AAD), without touching it', async () => {
    const s = store();
    const a = { kind: 'share', keyId: 'key-1', nodeId: 'node-a' } as const;
    const b = { kind: 'share', keyId: 'key-1', nodeId: 'node-b' } as const;
    const kd = { kind: 'keydata', keyId: 'key-1', nodeId: 'node-a' } as const;
    await s.write(a, text('A'));
    await s.write(b, text('B'));
    await s.write(kd, text('KD'));
    copyFileSync(s.pathOf(a), s.pathOf(b));
    const before = readFileSync(s.pathOf(b));
    const e = await expectCode(s.read(b), 'CORRUPT_FILE');
    expect(e.message).toMatch(/node node-b/);
    expect(readFileSync(s.pathOf(b))).toEqual(before);
    copyFileSync(s.pathOf(a), s.pathOf(kd));
    await expectCode(s.read(kd), 'CORRUPT_FILE');
    const r1 = { kind: 'retained-share', keyId: 'key-1', nodeId: 'node-a', setId: '01'.repeat(16), index: 1 } as const;
    const r2 = { ...r1, index: 2 };
    await s.write(r1, text('one'));
    await s.write(r2, text('two'));
    copyFileSync(s.pathOf(r1), s.pathOf(r2));
    await expectCode(s.read(r2), 'CORRUPT_FILE');
    expect(new TextDecoder().decode(await s.read(a))).toBe('A');
  });

  it('refuses every single-byte corruption and truncation with CORRUPT_FILE', async () => {
    const s = store();
    const ref = { kind: 'share', keyId: 'k', nodeId: 'n' } as const;
    const path = await s.write(ref, text('the secret record'));
    const good = new Uint8Array(readFileSync(path));
    for (let i = 0; i < good.length; i++) {
      const bad = Uint8Array.from(good);
      bad[i]! ^= 0x01;
      writeFileSync(path, bad);
      await expectCode(s.read(ref), 'CORRUPT_FILE');
    }
    for (const len of [0, 3, 10, good.length - 1]) {
      writeFileSync(path, good.subarray(0, len));
      await expectCode(s.read(ref), 'CORRUPT_FILE');
    }
  });

  it('validates identifiers before touching a path (no traversal)', async () => {
    const s = store();
    for (const [keyId, nodeId] of [
      ['../etc', 'n'],
      ['k', '../../x'],
      ['k', 'a/b'],
      ['.', 'n'],
      ['k', ''],
      ['k', 'node.keydata'],
      ['k\u0000', 'n'],
    ]) {
      await expectCode(() => s.pathOf({ kind: 'share', keyId: keyId!, nodeId: nodeId! }), 'INVALID_PARAMETERS');
      await expectCode(s.write({ kind: 'share', keyId: keyId!, nodeId: nodeId! }, text('x')), 'INVALID_PARAMETERS');
    }
    await expectCode(() => s.pathOf({ kind: 'retained-share', keyId: 'k', nodeId: 'n', setId: '../x', index: 1 }), 'INVALID_PARAMETERS');
    await expectCode(() => s.pathOf({ kind: 'retained-share', keyId: 'k', nodeId: 'n', setId: 'ab'.repeat(16), index: 0 }), 'INVALID_PARAMETERS');
    await expectCode(s.read({ kind: 'share', keyId: 'k', nodeId: 'missing' }), 'NOT_FOUND');
  });
});

describe('the agent on swapped or corrupted files', () => {
  it("copying node A's .enc over node B's gives CORRUPT_FILE and changes nothing", async () => {
    const w = await makeWorld({ custodians: 3 });
    await w.agent.importKeyshare('key-1', 'node-a', fixture('eddsa', 0));
    await w.agent.importKeyshare('key-1', 'node-b', fixture('eddsa', 1));
    const keys = `${w.dir}/keys/key-1`;
    copyFileSync(`${keys}/node-a.enc`, `${keys}/node-b.enc`);
    copyFileSync(`${keys}/node-a.keydata.enc`, `${keys}/node-b.keydata.enc`);
    const before = snapshot(w.dir + '/keys');
    await expectCode(w.agent.backup('key-1', 'node-b', {}, w.fingerprints, w.out, { qr: false }), 'CORRUPT_FILE');
    await expectCode(w.agent.exportKeydata('key-1', 'node-b'), 'CORRUPT_FILE');
    expect(snapshot(w.dir + '/keys')).toEqual(before);
    expect(await w.agent.exportKeydata('key-1', 'node-a')).toEqual(compactFixture('eddsa', 0));
    const report = await w.agent.inspectNode('key-1', 'node-b');
    expect(report).toMatchObject({ shareFile: 'corrupt', keydataFile: 'corrupt', ok: false });
    expect(snapshot(w.dir + '/keys')).toEqual(before);
    w.agent.close();
  });
});

describe('sealed format version 2: rewrap in place, version 1 still read', () => {
  const retained = (index: number, setId = 'ab'.repeat(16)): SecretRef => ({ kind: 'retained-share', keyId: 'key-1', nodeId: 'node-a', setId, index });

  it('writes version 2; reads version-1 files and refuses them moved or edited', async () => {
    const dir = tempDir();
    const kek = LocalFileKek.create(dir);
    const s = new SecretStore(dir, kek);
    const ref: SecretRef = { kind: 'keydata', keyId: 'key-1', nodeId: 'node-a' };
    expect((await s.seal(ref, text('v2')))[4]).toBe(2);
    const v1 = await sealV1(kek, ref, text('written by an older agent'));
    expect(new TextDecoder().decode(await s.open(ref, v1))).toBe('written by an older agent');
    await expectCode(s.open({ ...ref, nodeId: 'node-b' }, v1), 'CORRUPT_FILE');
    for (let i = 0; i < v1.length; i++) {
      const bad = Uint8Array.from(v1);
      bad[i]! ^= 0x01;
      await expectCode(s.open(ref, bad), 'CORRUPT_FILE');
    }
    const r1 = await sealV1(kek, retained(1), text('old retained share'));
    expect(new TextDecoder().decode(await s.open(retained(1), r1))).toBe('old retained share');
    // A version-1 object is not rewrapped (its AAD covers the wrapped key): it is re-sealed instead.
    await expectCode(s.rewrapFor(ref, v1, new SecretStore(dir, LocalFileKek.createAt(join(tempDir(), 'k2')))), 'FAILED_PRECONDITION');
  });

  it('a rotation rewraps: only the KEK id and the wrapped key change, nonce and ciphertext stay byte for byte', async () => {
    const dir = tempDir();
    const oldKek = LocalFileKek.create(dir);
    const newKek = LocalFileKek.createAt(join(tempDir(), 'new.kek'));
    const from = new SecretStore(dir, oldKek);
    const to = new SecretStore(dir, newKek);
    for (const ref of [{ kind: 'share', keyId: 'key-1', nodeId: 'node-a' } as const, retained(3)]) {
      const sealed = await from.seal(ref, text(`content of ${ref.kind}`));
      const moved = await from.rewrapFor(ref, sealed, to);
      const tail = (b: Uint8Array): Uint8Array => b.subarray(b.length - (12 + text(`content of ${ref.kind}`).length + 16));
      expect(tail(moved)).toEqual(tail(sealed));
      expect(new TextDecoder().decode(await to.open(ref, moved))).toBe(`content of ${ref.kind}`);
      await expectCode(from.open(ref, moved), 'CORRUPT_FILE'); // names the new KEK
      await expectCode(to.open(ref, sealed), 'CORRUPT_FILE'); // names the old one
      // The KEK id and wrapped key are not the payload's AAD, but they are not free either: a
      // wrapped key from another file, or a flipped byte in it, does not authenticate.
      const other = await to.seal({ kind: 'share', keyId: 'key-1', nodeId: 'node-b' }, text('x'));
      const spliced = concatBytes(other.subarray(0, other.length - (12 + 1 + 16)), tail(moved));
      await expectCode(to.open(ref, spliced), 'CORRUPT_FILE');
      // A corrupted payload is not rewrapped: authenticated before anything moves.
      const bad = Uint8Array.from(sealed);
      bad[bad.length - 1]! ^= 1;
      await expectCode(from.rewrapFor(ref, bad, to), 'CORRUPT_FILE');
    }
    // The retained share got an erase key under the new KEK, beside it.
    expect(readdirSync(eraseDirOf(newKek.path))).toEqual([`${'ab'.repeat(16)}-3.key`]);
  });

  it('removing a retained share destroys its erase key: a copy of its file taken before no longer opens, other shares still do', async () => {
    const dir = tempDir();
    const kek = LocalFileKek.createAt(join(tempDir(), 'agent.kek'));
    const s = new SecretStore(dir, kek);
    const other = retained(1, 'cd'.repeat(16));
    for (const ref of [retained(1), retained(2), other]) await s.write(ref, text(`share ${JSON.stringify(ref)}`));
    const copy = new Uint8Array(readFileSync(s.pathOf(retained(1))));
    expect(s.remove(retained(1))).toBe(true);
    expect(existsSync(eraseKeyFile(kek.path, { setId: 'ab'.repeat(16), index: 1 }))).toBe(false);
    const e = await expectCode(s.open(retained(1), copy), 'CORRUPT_FILE');
    expect(e.details?.reason).toBe('erased');
    expect(e.message).toMatch(/crypto-erased/);
    // The same copy put back in place: the same refusal; the other shares of the set and of other sets open.
    writeFileSync(s.pathOf(retained(1)), copy, { mode: 0o600 });
    await expectCode(s.read(retained(1)), 'CORRUPT_FILE');
    expect(new TextDecoder().decode(await s.read(retained(2)))).toContain('"index":2');
    expect(new TextDecoder().decode(await s.read(other))).toContain('cdcd');
    // An erase key moved to another share's name does not authenticate there.
    copyFileSync(eraseKeyFile(kek.path, { setId: 'ab'.repeat(16), index: 2 }), eraseKeyFile(kek.path, { setId: 'ab'.repeat(16), index: 1 }));
    await expectCode(s.read(retained(1)), 'CORRUPT_FILE');
    expect(s.remove(retained(2))).toBe(true);
    expect(s.eraseKeyOf(retained(2))).toBe(false); // already gone
  });
});
