#!/usr/bin/env node
// End-to-end tests: build the browser bundles, then run Playwright in Debian's Chromium.
// Fails (never skips) when Chromium is missing. Arguments go to `playwright test` (a spec file, --grep …):
//   node scripts/e2e.mjs test/e2e/inbox.spec.ts
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

/** A free TCP port on 127.0.0.1 for the shared/ harness server. */
const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

const chromium = process.env.CUSTOS_CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(chromium)) {
  console.error(`e2e: Chromium is missing at ${chromium}; install Debian's chromium: apt-get install -y chromium`);
  process.exit(1);
}
const steps = [
  // The real renderer (out/renderer) for the test host, and the shared/ harness.
  ['npx', ['electron-vite', 'build', '--config', 'electron.config.ts']],
  ['npx', ['vite', 'build', '--config', 'test/e2e/harness/vite.config.ts']],
  ['npx', ['playwright', 'test', ...process.argv.slice(2)]],
];
const env = { ...process.env, CUSTOS_HARNESS_PORT: process.env.CUSTOS_HARNESS_PORT ?? String(await freePort()) };
for (const [cmd, args] of steps) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
