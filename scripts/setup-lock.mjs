// Whether `npm ci` is needed, decided by the lock file's CONTENT (issue 13), never by file dates: a
// copied or restored node_modules has new dates and the same packages, and re-running `npm ci` for
// minutes (which fails offline) is wrong for it.
//
// node_modules/.custos-lock-hash holds the SHA-256 of the package-lock.json that node_modules was
// installed from (scripts/setup.mjs writes it after `npm ci`). Equal hash: nothing to do. Otherwise
// (the lock changed, node_modules installed by `npm install` or copied from before this rule): npm's own record of what
// is installed, node_modules/.package-lock.json, is compared with the lock file package by package
// (path and version; optional packages for other platforms may be absent); when every package
// matches, the hash is written and nothing is installed.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const HASH_FILE = '.custos-lock-hash';

export function lockHash(root) {
  return createHash('sha256').update(readFileSync(join(root, 'package-lock.json'))).digest('hex');
}

/** `{ needed, reason }`: why `npm ci` must run, or that node_modules matches the lock file. */
export function npmCiNeeded(root) {
  const modules = join(root, 'node_modules');
  if (!existsSync(modules)) return { needed: true, reason: 'node_modules is missing' };
  const want = lockHash(root);
  const hashPath = join(modules, HASH_FILE);
  if (existsSync(hashPath) && readFileSync(hashPath, 'utf8').trim() === want) return { needed: false, reason: 'node_modules was installed from this package-lock.json' };
  const hidden = join(modules, '.package-lock.json');
  if (!existsSync(hidden)) return { needed: true, reason: 'node_modules has no record of what is installed' };
  let lock;
  let installed;
  try {
    lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')).packages ?? {};
    installed = JSON.parse(readFileSync(hidden, 'utf8')).packages ?? {};
  } catch {
    return { needed: true, reason: 'a lock file does not parse' };
  }
  for (const [path, entry] of Object.entries(lock)) {
    if (path === '' || entry.link === true) continue;
    const got = installed[path];
    if (got === undefined) {
      if (entry.optional === true || entry.devOptional === true) continue;
      return { needed: true, reason: `${path} is not installed` };
    }
    if (got.version !== entry.version) return { needed: true, reason: `${path} is ${String(got.version)}, the lock file says ${String(entry.version)}` };
  }
  writeFileSync(hashPath, `${want}\n`);
  return { needed: false, reason: 'node_modules holds every package of package-lock.json' };
}

/** After a successful `npm ci`. */
export function recordLockHash(root) {
  writeFileSync(join(root, 'node_modules', HASH_FILE), `${lockHash(root)}\n`);
}
