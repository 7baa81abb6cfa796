#!/usr/bin/env node
// The Playwright `_electron` test of the packaged flow (test/e2e/electron.e2e.ts,
// playwright.electron.config.ts), where an Electron binary is installed.
//
// electron@45 downloads its binary on first start, and these machines cannot reach GitHub. So this
// script looks for the binary the way node_modules/electron/index.js does (path.txt, or
// ELECTRON_OVERRIDE_DIST_PATH) but without `require('electron')`, which would start that download.
//  - Binary found: build out/ (npm run build), then run the test with the binary's path in
//    CUSTOS_ELECTRON_PATH; on Linux without a display, under xvfb-run. Exit code: Playwright's.
//  - Not found: print the SKIPPED sentence below and exit 0, so that `npm test` passes where
//    Electron cannot run, and says so. Set CUSTOS_REQUIRE_ELECTRON=1 (for a CI that has Electron)
//    to make a missing binary a failure (exit 1) instead.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SKIPPED =
  'SKIPPED: the Electron binary is not installed on this machine (it downloads on first start; this machine has no access to GitHub). The packaged-flow test test/e2e/electron.e2e.ts did not run.';

/** The Electron executable that `require('electron')` would return, or null when it is not on disk. */
function electronBinary() {
  let dir;
  try {
    dir = dirname(createRequire(join(root, 'package.json')).resolve('electron/package.json'));
  } catch {
    return null;
  }
  const pathFile = join(dir, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : null;
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const candidate = override ? join(override, relative ?? 'electron') : relative === null ? null : join(dir, 'dist', relative);
  return candidate !== null && existsSync(candidate) ? candidate : null;
}

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, env });
  if (r.error) {
    console.error(`e2e-electron: could not run ${cmd}: ${r.error.message}`);
    return 1;
  }
  return r.status ?? 1;
}

const binary = electronBinary();
if (binary === null) {
  console.log(SKIPPED);
  if (process.env.CUSTOS_REQUIRE_ELECTRON === '1') {
    console.error('e2e-electron: CUSTOS_REQUIRE_ELECTRON=1, so a missing Electron binary is a failure.');
    process.exit(1);
  }
  process.exit(0);
}

console.log(`e2e-electron: Electron binary ${binary}`);
const built = run('npm', ['run', 'build']);
if (built !== 0) process.exit(built);

const playwright = ['playwright', 'test', '--config', 'playwright.electron.config.ts'];
const env = { ...process.env, CUSTOS_ELECTRON_PATH: binary };
const hasCommand = (c) => spawnSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' }).status === 0;
if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
  if (!hasCommand('xvfb-run')) {
    console.error('e2e-electron: Electron needs a display and there is none; install a virtual one with: apt-get install -y xvfb');
    process.exit(1);
  }
  process.exit(run('xvfb-run', ['--auto-servernum', 'npx', ...playwright], env));
}
process.exit(run('npx', playwright, env));
