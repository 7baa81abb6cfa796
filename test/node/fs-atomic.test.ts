// node/fs-atomic.ts: one write path run two ways. Every behaviour of the plain atomic write is
// checked through BOTH runners (the agent's synchronous one and the app's asynchronous one); the
// generation-keeping writes the vault uses are checked here directly and in test/custodian/vault.
import { chmodSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ensureDir,
  exists,
  existsSync,
  fsyncDir,
  fsyncDirSync,
  readIfExists,
  removeFileDurable,
  removeStaleTemps,
  replaceKeepingPrevious,
  replaceSettingAside,
  writeFileAtomic,
  writeFileAtomicSync,
  type AtomicStep,
  type AtomicWriteOptions,
} from '../../node/fs-atomic';
import { codedErrorHelpers, FileError } from '../../node/errors';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'custos-node-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const { codeOf } = codedErrorHelpers(FileError, 'internal');

async function expectCode(fn: () => unknown, code: string): Promise<void> {
  let thrown: unknown;
  try {
    await fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected ${code}, nothing was thrown`).toBeDefined();
  expect(codeOf(thrown), String(thrown)).toBe(code);
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

type Write = (path: string, data: Uint8Array, options?: AtomicWriteOptions) => Promise<void>;
const runners: readonly (readonly [string, Write])[] = [
  ['sync', (path, data, options) => Promise.resolve().then(() => { writeFileAtomicSync(path, data, options); })],
  ['async', writeFileAtomic],
];

describe.each(runners)('writeFileAtomic (%s)', (_name, write) => {
  it('writes, fsyncs the file before the rename and the directory after, and leaves no temp file', async () => {
    const dir = tempDir();
    const target = join(dir, 'secret.enc');
    const steps: AtomicStep[] = [];
    let temp = '';
    await write(target, bytes('first'), {
      onStep: (step, t) => {
        steps.push(step);
        temp = t;
      },
    });
    expect(steps).toEqual(['open-temp', 'write', 'fsync-file', 'close', 'rename', 'fsync-dir']);
    expect(temp.startsWith(join(dir, '.secret.enc.'))).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('first');
    expect(readdirSync(dir)).toEqual(['secret.enc']);
    expect(statSync(target).mode & 0o777).toBe(0o600);
  });

  it('sets the exact mode whatever the umask, and replaces an existing file', async () => {
    const dir = tempDir();
    const target = join(dir, 'card.cbor');
    writeFileSync(target, 'old');
    chmodSync(target, 0o600);
    const old = process.umask(0o077);
    try {
      await write(target, bytes('new'), { mode: 0o644 });
    } finally {
      process.umask(old);
    }
    expect(readFileSync(target, 'utf8')).toBe('new');
    expect(statSync(target).mode & 0o777).toBe(0o644);
  });

  it.each(['write', 'fsync-file', 'close', 'rename'] as const)('a crash before "%s" leaves the old file intact and removes the temp file', async (failAt) => {
    const dir = tempDir();
    const target = join(dir, 'node-1.enc');
    writeFileSync(target, 'good content');
    await expect(
      write(target, bytes('half-written'), {
        onStep: (step) => {
          if (step === failAt) throw new Error(`simulated crash before ${step}`);
        },
      }),
    ).rejects.toThrow('simulated crash');
    expect(readFileSync(target, 'utf8')).toBe('good content');
    expect(readdirSync(dir)).toEqual(['node-1.enc']);
  });

  it('a crash before "fsync-dir" has the new content in place and no temp file', async () => {
    const dir = tempDir();
    const target = join(dir, 'a');
    writeFileSync(target, 'old');
    await expect(
      write(target, bytes('new'), {
        onStep: (step) => {
          if (step === 'fsync-dir') throw new Error('simulated crash');
        },
      }),
    ).rejects.toThrow('simulated crash');
    expect(readFileSync(target, 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['a']);
  });

  it('refuses to overwrite with noOverwrite (CONFLICT) and changes nothing', async () => {
    const dir = tempDir();
    const target = join(dir, 'x.enc');
    writeFileSync(target, 'keep');
    await expectCode(() => write(target, bytes('other'), { noOverwrite: true }), 'CONFLICT');
    expect(readFileSync(target, 'utf8')).toBe('keep');
    expect(readdirSync(dir)).toEqual(['x.enc']);
  });

  it('refuses (CONFLICT) when the target appears while the temp file is written, and keeps what appeared', async () => {
    const dir = tempDir();
    const target = join(dir, 'x.enc');
    await expectCode(
      () =>
        write(target, bytes('mine'), {
          noOverwrite: true,
          onStep: (step) => {
            if (step === 'close') writeFileSync(target, 'theirs');
          },
        }),
      'CONFLICT',
    );
    expect(readFileSync(target, 'utf8')).toBe('theirs');
    expect(readdirSync(dir)).toEqual(['x.enc']);
  });

  it('writes large content completely', async () => {
    const dir = tempDir();
    const target = join(dir, 'big');
    const data = new Uint8Array(3 * 1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = i % 251;
    await write(target, data);
    expect(Buffer.compare(readFileSync(target), data)).toBe(0);
  });

  it('fails on a missing folder without leaving anything behind', async () => {
    const dir = tempDir();
    await expect(write(join(dir, 'nope', 'f'), bytes('x'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('replaceKeepingPrevious', () => {
  it('keeps the old content as the previous generation, in the documented step order', async () => {
    const dir = tempDir();
    const current = join(dir, 'shares.age');
    const previous = join(dir, 'shares.prev.age');
    const steps: AtomicStep[] = [];
    await replaceKeepingPrevious(current, previous, bytes('gen-1'), { onStep: (s) => steps.push(s) });
    // No current file yet: nothing to keep.
    expect(steps).toEqual(['open-temp', 'write', 'fsync-file', 'close', 'rename', 'fsync-dir']);
    steps.length = 0;
    await replaceKeepingPrevious(current, previous, bytes('gen-2'), { onStep: (s) => steps.push(s) });
    expect(steps).toEqual(['open-temp', 'write', 'fsync-file', 'close', 'link-previous', 'rename-previous', 'rename', 'fsync-dir']);
    expect(readFileSync(current, 'utf8')).toBe('gen-2');
    expect(readFileSync(previous, 'utf8')).toBe('gen-1');
    expect(readdirSync(dir).sort()).toEqual(['shares.age', 'shares.prev.age']);
  });

  it.each(['write', 'link-previous', 'rename-previous', 'rename'] as const)('a failure at "%s" leaves current and previous as they were', async (failAt) => {
    const dir = tempDir();
    const current = join(dir, 'c');
    const previous = join(dir, 'p');
    writeFileSync(current, 'now');
    writeFileSync(previous, 'before');
    await expect(
      replaceKeepingPrevious(current, previous, bytes('next'), {
        onStep: (s) => {
          if (s === failAt) throw new Error('simulated');
        },
      }),
    ).rejects.toThrow('simulated');
    expect(readFileSync(current, 'utf8')).toBe('now');
    // After rename-previous succeeded the previous generation is already the current content.
    expect(readFileSync(previous, 'utf8')).toBe(failAt === 'rename' ? 'now' : 'before');
    expect(readdirSync(dir).sort()).toEqual(['c', 'p']);
  });

  it('a current file with another hard link is kept as previous without touching the other name', async () => {
    const dir = tempDir();
    const current = join(dir, 'c');
    writeFileSync(current, 'one');
    linkSync(current, join(dir, 'other'));
    await replaceKeepingPrevious(current, join(dir, 'p'), bytes('two'));
    expect(readFileSync(join(dir, 'other'), 'utf8')).toBe('one');
    expect(readFileSync(join(dir, 'p'), 'utf8')).toBe('one');
    expect(readFileSync(current, 'utf8')).toBe('two');
  });
});

describe('replaceSettingAside', () => {
  it('moves the bad current aside, never touches previous, and writes the new content', async () => {
    const dir = tempDir();
    const current = join(dir, 'c');
    writeFileSync(current, 'bad');
    writeFileSync(join(dir, 'p'), 'good');
    const steps: AtomicStep[] = [];
    await replaceSettingAside(current, join(dir, 'c.corrupt'), bytes('new'), { onStep: (s) => steps.push(s) });
    expect(steps).toEqual(['open-temp', 'write', 'fsync-file', 'close', 'set-aside', 'rename', 'fsync-dir']);
    expect(readFileSync(current, 'utf8')).toBe('new');
    expect(readFileSync(join(dir, 'c.corrupt'), 'utf8')).toBe('bad');
    expect(readFileSync(join(dir, 'p'), 'utf8')).toBe('good');
  });
});

describe('the folder and file helpers', () => {
  it('fsyncDir and fsyncDirSync succeed on a folder and fail on a missing one (POSIX)', async () => {
    const dir = tempDir();
    await fsyncDir(dir);
    fsyncDirSync(dir);
    if (process.platform !== 'win32') {
      await expect(fsyncDir(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
      expect(() => { fsyncDirSync(join(dir, 'missing')); }).toThrow();
    }
  });

  it('ensureDir creates nested folders with the mode, accepts an existing one and refuses a file (CONFLICT)', async () => {
    const dir = tempDir();
    const nested = join(dir, 'a', 'b');
    ensureDir(nested);
    expect(statSync(nested).isDirectory()).toBe(true);
    expect(statSync(nested).mode & 0o777).toBe(0o700);
    ensureDir(nested);
    writeFileSync(join(dir, 'file'), 'x');
    await expectCode(() => { ensureDir(join(dir, 'file')); }, 'CONFLICT');
  });

  it('removeFileDurable removes a file, and says false for a missing one', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'f'), 'x');
    expect(removeFileDurable(join(dir, 'f'))).toBe(true);
    expect(removeFileDurable(join(dir, 'f'))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('exists and existsSync agree, and see through a file used as a folder (ENOTDIR) as absent', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'f'), 'x');
    for (const [path, want] of [[join(dir, 'f'), true], [join(dir, 'g'), false], [join(dir, 'f', 'x'), false]] as const) {
      expect(existsSync(path)).toBe(want);
      expect(await exists(path)).toBe(want);
    }
  });

  it('removeStaleTemps removes only the temp files of the named files', async () => {
    const dir = tempDir();
    for (const f of ['.shares.age.0123.tmp', '.shares.age.4567.tmp', '.other.abcd.tmp', 'shares.age', '.shares.age.keep']) writeFileSync(join(dir, f), 'x');
    expect(await removeStaleTemps(dir, ['shares.age'])).toBe(2);
    expect(readdirSync(dir).sort()).toEqual(['.other.abcd.tmp', '.shares.age.keep', 'shares.age']);
  });

  it('readIfExists gives the bytes, undefined for a missing file, IO_FAILED for anything else', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'f'), 'hello');
    expect(new TextDecoder().decode(await readIfExists(join(dir, 'f')))).toBe('hello');
    expect(await readIfExists(join(dir, 'g'))).toBeUndefined();
    mkdirSync(join(dir, 'd'));
    await expectCode(() => readIfExists(join(dir, 'd')), 'IO_FAILED');
  });
});
