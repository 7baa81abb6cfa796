import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileAtomic, type AtomicStep } from '../../agent/fs-atomic';
import { expectCode, removeTempDirs, tempDir } from './helpers';

afterEach(removeTempDirs);

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('writeFileAtomic', () => {
  it('writes, fsyncs the file before the rename and the directory after, and leaves no temp file', () => {
    const dir = tempDir();
    const target = join(dir, 'secret.enc');
    const steps: AtomicStep[] = [];
    let temp = '';
    writeFileAtomic(target, bytes('first'), {
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

  it('sets the exact mode whatever the umask, and replaces an existing file', () => {
    const dir = tempDir();
    const target = join(dir, 'card.cbor');
    writeFileSync(target, 'old');
    chmodSync(target, 0o600);
    const old = process.umask(0o077);
    try {
      writeFileAtomic(target, bytes('new'), { mode: 0o644 });
    } finally {
      process.umask(old);
    }
    expect(readFileSync(target, 'utf8')).toBe('new');
    expect(statSync(target).mode & 0o777).toBe(0o644);
  });

  it.each(['write', 'fsync-file', 'close', 'rename'] as const)('a crash before "%s" leaves the old file intact and removes the temp file', (failAt) => {
    const dir = tempDir();
    const target = join(dir, 'node-1.enc');
    writeFileSync(target, 'good content');
    expect(() => {
      writeFileAtomic(target, bytes('half-written'), {
        onStep: (step) => {
          if (step === failAt) throw new Error(`simulated crash before ${step}`);
        },
      });
    }).toThrow('simulated crash');
    expect(readFileSync(target, 'utf8')).toBe('good content');
    expect(readdirSync(dir)).toEqual(['node-1.enc']);
  });

  it('refuses to overwrite with noOverwrite (CONFLICT) and changes nothing', async () => {
    const dir = tempDir();
    const target = join(dir, 'x.enc');
    writeFileSync(target, 'keep');
    await expectCode(() => {
      writeFileAtomic(target, bytes('other'), { noOverwrite: true });
    }, 'CONFLICT');
    expect(readFileSync(target, 'utf8')).toBe('keep');
    expect(readdirSync(dir)).toEqual(['x.enc']);
  });

  it('writes large content completely', () => {
    const dir = tempDir();
    const target = join(dir, 'big');
    const data = new Uint8Array(3 * 1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = i % 251;
    writeFileAtomic(target, data);
    expect(Buffer.compare(readFileSync(target), data)).toBe(0);
  });
});
