// scripts/setup.mjs decides whether `npm ci` is needed by the lock file's content, not file dates
// (issue 13: a copied node_modules re-ran `npm ci` for 3 minutes, which fails offline).
import { mkdirSync, utimesSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HASH_FILE, lockHash, npmCiNeeded, recordLockHash } from '../../scripts/setup-lock.mjs';
import { tempDir } from '../custodian/helpers';

const decide = npmCiNeeded;

function project(packages: Record<string, Record<string, unknown>>, installed?: Record<string, Record<string, unknown>>): string {
  const root = tempDir('custos-setup-');
  writeFileSync(join(root, 'package-lock.json'), JSON.stringify({ name: 'x', lockfileVersion: 3, packages: { '': { name: 'x' }, ...packages } }, null, 2));
  if (installed !== undefined) {
    mkdirSync(join(root, 'node_modules'));
    writeFileSync(join(root, 'node_modules', '.package-lock.json'), JSON.stringify({ name: 'x', lockfileVersion: 3, packages: installed }));
  }
  return root;
}

describe('setup: npm ci by the lock file content', () => {
  const pkgs = { 'node_modules/a': { version: '1.0.0' }, 'node_modules/b': { version: '2.0.0' }, 'node_modules/@esbuild/darwin-arm64': { version: '0.1.0', optional: true } };

  it('needs npm ci without node_modules', () => {
    expect(decide(project(pkgs)).needed).toBe(true);
  });

  it('a copied node_modules with newer or older dates but the same packages needs nothing, and the hash is recorded', () => {
    const root = project(pkgs, { 'node_modules/a': { version: '1.0.0' }, 'node_modules/b': { version: '2.0.0' } });
    utimesSync(join(root, 'node_modules', '.package-lock.json'), new Date(2000, 0, 1), new Date(2000, 0, 1));
    expect(decide(root)).toEqual({ needed: false, reason: 'node_modules holds every package of package-lock.json' });
    expect(readFileSync(join(root, 'node_modules', HASH_FILE), 'utf8').trim()).toBe(lockHash(root));
    expect(decide(root).reason).toBe('node_modules was installed from this package-lock.json');
  });

  it('a changed lock file (a version, a new package) needs npm ci, whatever the dates', () => {
    const root = project(pkgs, { 'node_modules/a': { version: '1.0.0' }, 'node_modules/b': { version: '2.0.0' } });
    recordLockHash(root);
    writeFileSync(join(root, 'package-lock.json'), JSON.stringify({ packages: { '': {}, 'node_modules/a': { version: '1.0.1' }, 'node_modules/b': { version: '2.0.0' } } }));
    expect(decide(root)).toMatchObject({ needed: true, reason: 'node_modules/a is 1.0.0, the lock file says 1.0.1' });
    writeFileSync(join(root, 'package-lock.json'), JSON.stringify({ packages: { '': {}, ...pkgs, 'node_modules/c': { version: '1.0.0' } } }));
    expect(decide(root)).toMatchObject({ needed: true, reason: 'node_modules/c is not installed' });
    expect(existsSync(join(root, 'node_modules', HASH_FILE))).toBe(true);
  });

  it('node_modules without npm\'s record of what is installed needs npm ci', () => {
    const root = project(pkgs);
    mkdirSync(join(root, 'node_modules'));
    expect(decide(root).needed).toBe(true);
  });
});
