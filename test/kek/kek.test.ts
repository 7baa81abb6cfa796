import { chmodSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultKekFile } from '../../agent/kek/config';
import { KEK_FILE, LocalFileKek } from '../../agent/kek/file';
import { Agent } from '../../agent/service';
import { expectCode, removeTempDirs, tempDir } from '../agent/helpers';

afterEach(removeTempDirs);

const ctx = (n: number): Uint8Array => new Uint8Array(32).fill(n);

describe('the local key-file KEK provider', () => {
  it('creates a 32-byte key with mode 0600 and wraps/unwraps data keys bound to their context', async () => {
    const dir = tempDir();
    const kek = LocalFileKek.create(dir);
    expect(readFileSync(join(dir, KEK_FILE)).length).toBe(32);
    expect(kek.id).toMatch(/^local-file:[0-9a-f]{16}$/);
    const dataKey = new Uint8Array(32).fill(7);
    const wrapped = await kek.wrapKey(dataKey, ctx(1));
    expect(await kek.unwrapKey(wrapped, ctx(1), kek.id)).toEqual(dataKey);
    await expectCode(kek.unwrapKey(wrapped, ctx(2), kek.id), 'CORRUPT_FILE');
    await expectCode(kek.unwrapKey(wrapped, ctx(1), 'local-file:0000000000000000'), 'CORRUPT_FILE');
    const reopened = LocalFileKek.open(dir);
    expect(reopened.id).toBe(kek.id);
    expect(await reopened.unwrapKey(wrapped, ctx(1), kek.id)).toEqual(dataKey);
    await expectCode(() => LocalFileKek.create(dir), 'CONFLICT');
  });

  it.each([0o640, 0o604, 0o660, 0o644])('refuses to start when kek.key has mode %o (group/world access)', async (mode) => {
    const dir = tempDir();
    LocalFileKek.create(dir);
    chmodSync(join(dir, KEK_FILE), mode);
    await expectCode(() => LocalFileKek.open(dir), 'PERMISSION_DENIED');
  });

  it('refuses a symlinked, missing or wrong-sized key file', async () => {
    const dir = tempDir();
    LocalFileKek.create(dir);
    const other = tempDir();
    symlinkSync(join(dir, KEK_FILE), join(other, KEK_FILE));
    await expectCode(() => LocalFileKek.open(other), 'PERMISSION_DENIED');
    await expectCode(() => LocalFileKek.open(tempDir()), 'NOT_FOUND');
    const short = tempDir();
    writeFileSync(join(short, KEK_FILE), new Uint8Array(31), { mode: 0o600 });
    await expectCode(() => LocalFileKek.open(short), 'CORRUPT_FILE');
  });

  it('an agent refuses to open when its KEK or token file is readable by others', async () => {
    const dir = join(tempDir(), 'data');
    await Agent.init(dir);
    (await Agent.open(dir)).close();
    // The key file is outside the data directory now (agent/kek/config.ts), beside it.
    const keyFile = defaultKekFile(dir);
    chmodSync(keyFile, 0o644);
    await expectCode(Agent.open(dir), 'PERMISSION_DENIED');
    chmodSync(keyFile, 0o600);
    chmodSync(join(dir, 'api.token'), 0o640);
    await expectCode(Agent.open(dir), 'PERMISSION_DENIED');
    chmodSync(join(dir, 'api.token'), 0o600);
    (await Agent.open(dir)).close();
  });
});
