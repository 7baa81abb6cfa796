// Sealed format version 2 and an existing data directory (issue 9 §1 rotation): a directory whose
// files are all version 1 (as agents before version 2 wrote them) keeps opening, and `kek rotate`
// upgrades each of them once by a re-seal; a second rotation then rewraps every file in place,
// its nonce and ciphertext unchanged byte for byte.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kekStatus, openKek } from '../../agent/kek/config';
import { listSealedFiles, rotateKek } from '../../agent/kek/rotate';
import { SecretStore } from '../../agent/secret-store';
import { Agent } from '../../agent/service';
import { compactFixture, fixture, makeWorld, removeTempDirs, tempDir } from '../agent/helpers';
import { sealV1 } from './seal-v1';

afterEach(removeTempDirs);

/** The nonce and ciphertext of a sealed file: what a rewrap keeps. */
function payload(sealed: Uint8Array): Uint8Array {
  const kekLen = sealed[6] ?? 0;
  const wrappedLen = sealed[7 + kekLen] ?? 0;
  return sealed.subarray(8 + kekLen + wrappedLen);
}

describe('a data directory of version-1 files', () => {
  it('opens, is upgraded once by a rotation, then rewrapped in place by the next', async () => {
    const w = await makeWorld();
    await w.agent.importKeyshare('key-1', 'node-0', fixture('eddsa', 0));
    await w.agent.backup('key-1', 'node-0', { threshold: 3, total: 5, retain: 2 }, w.fingerprints, w.out, { qr: false });
    w.agent.close();
    // Rewrite every sealed file as version 1 under the same KEK.
    const kek = openKek(w.dir);
    const store = new SecretStore(w.dir, kek);
    const files = listSealedFiles(w.dir, kek);
    expect(files).toHaveLength(5);
    for (const f of files) {
      const plain = await store.read(f.ref);
      writeFileSync(f.path, await sealV1(kek, f.ref, plain), { mode: 0o600 });
      expect(readFileSync(f.path)[4]).toBe(1);
    }
    kek.close();
    const a = await Agent.open(w.dir, { now: w.clock.now });
    expect(await a.exportKeydata('key-1', 'node-0')).toEqual(compactFixture('eddsa', 0));
    a.close();

    // `info` says so: purges of these shares would not crypto-erase copies.
    expect(kekStatus(w.dir).warnings.join(' ')).toMatch(/2 retained share file\(s\) are in sealed format 1/);
    const first = await rotateKek(w.dir, { provider: 'file', path: join(tempDir(), 'second.kek') }, { operator: 'ops' });
    expect(first).toMatchObject({ rewrapped: 5, upgraded: 5 });
    const upgraded = new Map(files.map((f) => [f.path, new Uint8Array(readFileSync(f.path))]));
    for (const b of upgraded.values()) expect(b[4]).toBe(2);

    expect(kekStatus(w.dir).warnings.join(' ')).not.toMatch(/sealed format 1/);
    const second = await rotateKek(w.dir, { provider: 'file', path: join(tempDir(), 'third.kek') }, { operator: 'ops' });
    expect(second).toMatchObject({ rewrapped: 5, upgraded: 0 });
    for (const [path, before] of upgraded) {
      const after = new Uint8Array(readFileSync(path));
      expect(payload(after), path).toEqual(payload(before));
      expect(after).not.toEqual(before);
    }
    const b = await Agent.open(w.dir, { now: w.clock.now });
    expect(await b.exportKeydata('key-1', 'node-0')).toEqual(compactFixture('eddsa', 0));
    b.close();
  });
});
