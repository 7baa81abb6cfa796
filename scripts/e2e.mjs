#!/usr/bin/env node
// End-to-end tests: build the browser bundles, then run Playwright in Debian's Chromium.
// Fails (never skips) when Chromium is missing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const chromium = process.env.CUSTOS_CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(chromium)) {
  console.error(`e2e: Chromium is missing at ${chromium}; install Debian's chromium: apt-get install -y chromium`);
  process.exit(1);
}
const steps = [
  // The real renderer (out/renderer) for the test host, and the shared/ harness.
  ['npx', ['electron-vite', 'build', '--config', 'electron.config.ts']],
  ['npx', ['vite', 'build', '--config', 'test/e2e/harness/vite.config.ts']],
  ['npx', ['playwright', 'test']],
];
for (const [cmd, args] of steps) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
