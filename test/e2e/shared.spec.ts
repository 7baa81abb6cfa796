import { expect, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';

// shared/ must run unchanged in the renderer: this runs the protocol loop in Chromium and checks
// that the page made no request beyond loopback.
test('the protocol core runs unchanged in Chromium, offline', async ({ page }) => {
  const offLoopback: string[] = [];
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) && url.protocol !== 'data:' && url.protocol !== 'blob:') offLoopback.push(req.url());
  });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`http://127.0.0.1:${process.env['CUSTOS_HARNESS_PORT'] ?? '4317'}/index.html`);
  await page.waitForFunction(() => window.__custos !== undefined, undefined, { timeout: 45_000 });
  const result = await page.evaluate(() => window.__custos);
  expect(result?.error).toBeUndefined();
  expect(result?.ok).toBe(true);
  expect(result?.steps).toContain('recovered');
  expect(result?.steps).toContain('below threshold refused');
  await expect(page.locator('#log')).toContainText('OK');
  await page.screenshot({ path: 'test-results/shared-in-browser.png', fullPage: true });
  // The QR code as drawn by the browser is read back by an independent reader.
  await page.locator('#qr svg').screenshot({ path: 'test-results/shared-in-browser-qr.png' });
  const scanned = execFileSync('zbarimg', ['--raw', '-q', '-Sdisable', '-Sqrcode.enable', 'test-results/shared-in-browser-qr.png'], { encoding: 'utf8' }).trim();
  expect(scanned.toLowerCase()).toBe(result?.frame);
  expect(errors).toEqual([]);
  expect(offLoopback).toEqual([]);
});

declare global {
  interface Window {
    __custos?: { ok: boolean; steps: string[]; frame?: string; error?: string };
  }
}
