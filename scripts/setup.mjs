#!/usr/bin/env node
// Sets up what `npm test` and `npm run drill` need on a fresh clone, by itself:
//  - npm dependencies (`npm ci`) when node_modules is missing or was not installed from this
//    package-lock.json (compared by content: scripts/setup-lock.mjs);
//  - the Debian packages the tests use (chromium, zbar-tools, age, poppler-utils, softhsm2, golang-go), installed with
//    apt-get when running as root, otherwise one sentence saying exactly what to install.
// `--no-system` skips the Debian packages (the drill needs none).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { npmCiNeeded, recordLockHash } from './setup-lock.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    console.error(`setup: "${cmd} ${argv.join(' ')}" failed (exit ${String(r.status)}).`);
    process.exit(1);
  }
}

// 1. npm dependencies: by the lock file's content (scripts/setup-lock.mjs), not file dates.
const ci = npmCiNeeded(root);
if (ci.needed) {
  console.log(`setup: installing npm dependencies (npm ci): ${ci.reason}…`);
  run('npm', ['ci', '--no-audit', '--no-fund']);
  recordLockHash(root);
}

// 2. Debian packages the tests need.
if (!args.has('--no-system')) {
  const needed = [
    { bin: '/usr/bin/chromium', pkg: 'chromium' },
    { bin: 'zbarimg', pkg: 'zbar-tools' },
    { bin: 'age', pkg: 'age' },
    { bin: 'pdftoppm', pkg: 'poppler-utils' },
    { bin: 'softhsm2-util', pkg: 'softhsm2' },
    { bin: 'go', pkg: 'golang-go' },
    { bin: 'promtool', pkg: 'prometheus' },
    { bin: 'openssl', pkg: 'openssl' },
  ];
  const have = (bin) => (bin.startsWith('/') ? existsSync(bin) : spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0);
  const missing = needed.filter((n) => !have(n.bin)).map((n) => n.pkg);
  if (missing.length > 0) {
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    if (!isRoot) {
      console.error(`setup: the tests need Debian packages that are missing; install them with: sudo apt-get install -y ${missing.join(' ')}`);
      process.exit(1);
    }
    console.log(`setup: installing Debian packages: ${missing.join(' ')}…`);
    run('apt-get', ['update', '-q']);
    run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  try {
    execFileSync('/usr/bin/chromium', ['--version'], { stdio: 'ignore' });
  } catch {
    console.error('setup: /usr/bin/chromium is installed but does not start; reinstall it with: apt-get install --reinstall -y chromium');
    process.exit(1);
  }
}
