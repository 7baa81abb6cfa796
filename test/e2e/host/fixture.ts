/**
 * Playwright fixtures for screens of the real renderer (out/renderer) running in Chromium against
 * the real main-process services through the test host:
 *
 *   import { test, expect } from './host/fixture';
 *   test('first run', async ({ app, host }) => {
 *     await app.getByRole('button', { name: 'Create vault' }).click();   // app: the page, window.custos ready
 *     const { saved } = await host.saved();                              // host: control + direct IPC calls
 *   });
 *
 * - `host`: a HostControl for the running host, with a FRESH profile for every test (empty vault
 *   folder, default settings, empty station, empty dialog queues).
 * - `app`: the page with the bridge injected before the renderer's scripts (window.custos exactly
 *   as Electron's preload exposes it), opened at the renderer's index.html. Every request the page
 *   makes must go to 127.0.0.1: anything else is aborted and fails the test at teardown.
 */
import { readFileSync } from 'node:fs';
import { test as base, expect, type Page } from '@playwright/test';
import { HostControl } from './control';

let bridgeSource: string | undefined;
function bridgeScript(): string {
  const path = process.env['CUSTOS_BRIDGE_JS'];
  if (path === undefined) throw new Error('CUSTOS_BRIDGE_JS is not set: playwright.config.ts must use test/e2e/host/global-setup.ts.');
  bridgeSource ??= readFileSync(path, 'utf8');
  return bridgeSource;
}

export const test = base.extend<{ host: HostControl; app: Page }>({
  // Playwright reads the fixtures a fixture needs from its first parameter's destructuring: none here.
  // eslint-disable-next-line no-empty-pattern
  host: async ({}, use) => {
    const host = HostControl.fromEnv();
    await host.reset();
    await use(host);
  },
  app: async ({ page, host }, use) => {
    const offLoopback: string[] = [];
    await page.route(
      (url) => !(url.protocol === 'http:' && url.hostname === '127.0.0.1') && url.protocol !== 'data:' && url.protocol !== 'blob:',
      async (route) => {
        offLoopback.push(route.request().url());
        await route.abort('blockedbyclient');
      },
    );
    page.on('request', (req) => {
      const u = new URL(req.url());
      if (!(u.protocol === 'http:' && u.hostname === '127.0.0.1') && u.protocol !== 'data:' && u.protocol !== 'blob:' && !offLoopback.includes(req.url())) offLoopback.push(req.url());
    });
    await page.addInitScript({ content: `window.__CUSTOS_HOST__ = ${JSON.stringify({ token: host.token })};` });
    await page.addInitScript({ content: bridgeScript() });
    await page.goto(`${host.url}/index.html`);
    await use(page);
    expect(offLoopback, 'requests that left 127.0.0.1').toEqual([]);
  },
});

export { expect };
