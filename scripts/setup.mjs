#!/usr/bin/env node
// Sets up what `npm test` and `npm run drill` need on a fresh clone, by itself:
//  - npm dependencies (`npm ci`) when node_modules is missing or older than package-lock.json;
//  - the Debian packages the tests use (chromium, zbar-tools, age, poppler-utils, softhsm2, golang-go), installed with
//    apt-get when running as root, otherwise one sentence saying exactly what to install.
// `--no-system` skips the Debian packages (the drill needs none).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    console.error(`setup: "${cmd} ${argv.join(' ')}" failed (exit ${String(r.status)}).`);
    process.exit(1);
  }
}

// 1. npm dependencies.
const lock = join(root, 'package-lock.json');
const marker = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs + 1000)) {
  console.log('setup: installing npm dependencies (npm ci)…');
  run('npm', ['ci', '--no-audit', '--no-fund']);
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
