/**
 * Playwright global setup: builds the bridge bundle (bridge.ts → out/e2e/bridge.js, esbuild, the
 * same per-feature preload modules with a fetch transport), starts the test host in its own process
 * (start.ts) and hands its URL and token to the workers through the environment
 * (CUSTOS_HOST_URL, CUSTOS_HOST_TOKEN, CUSTOS_BRIDGE_JS). The returned function stops the host.
 *
 * The renderer must be built first (`npm run build` → out/renderer); scripts/e2e.mjs does that.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { buildSync } from 'esbuild';

const ROOT = resolve(new URL('../../..', import.meta.url).pathname);

export default async function globalSetup(): Promise<() => Promise<void>> {
  if (!existsSync(join(ROOT, 'out/renderer/index.html'))) {
    throw new Error('out/renderer is missing: run `npm run build` before the end-to-end tests (scripts/e2e.mjs does).');
  }
  const bridge = join(ROOT, 'out/e2e/bridge.js');
  buildSync({ entryPoints: [join(ROOT, 'test/e2e/host/bridge.ts')], bundle: true, format: 'iife', platform: 'browser', target: 'es2022', outfile: bridge, logLevel: 'warning' });

  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/e2e/host/start.ts'), '--exit-with-stdin'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolveLine, reject) => {
    const rl = createInterface({ input: child.stdout });
    rl.once('line', (l) => {
      rl.close();
      resolveLine(l);
    });
    child.once('exit', (code) => {
      reject(new Error(`the e2e test host exited (${String(code)}) before it was ready`));
    });
  });
  const ready = JSON.parse(line) as { url: string; token: string };
  process.env['CUSTOS_HOST_URL'] = ready.url;
  process.env['CUSTOS_HOST_TOKEN'] = ready.token;
  process.env['CUSTOS_BRIDGE_JS'] = bridge;
  return async () => {
    const exited = new Promise<void>((r) => child.once('exit', () => {
      r();
    }));
    child.kill('SIGTERM');
    await exited;
  };
}
