import { defineConfig } from '@playwright/test';
import { resolve } from 'node:path';

// End-to-end tests run in Debian's Chromium (never a downloaded browser): see scripts/e2e.mjs.
const chromium = process.env['CUSTOS_CHROMIUM'] ?? '/usr/bin/chromium';
// scripts/e2e.mjs picks a free loopback port for the shared/ harness, so two runs never collide.
const harnessPort = process.env['CUSTOS_HARNESS_PORT'] ?? '4317';

export default defineConfig({
  testDir: 'test/e2e',
  testMatch: '**/*.spec.ts',
  // One tsconfig for every file the specs import (no `paths`, no references): otherwise Playwright's
  // loader applies shared/'s `paths` (a types-only stand-in for `qrcode`) at run time, and a spec
  // importing shared/qr fails with "qrcode does not provide an export named default".
  tsconfig: './tsconfig.playwright.json',
  outputDir: 'test-results',
  fullyParallel: false,
  workers: 1,
  forbidOnly: true,
  retries: 0,
  reporter: [['list']],
  timeout: 120_000,
  // These machines are shared and busy: a state that takes a moment must not fail a test.
  expect: { timeout: 15_000 },
  // The test host: the built renderer + the real main-process services over loopback (test/e2e/host/).
  globalSetup: './test/e2e/host/global-setup.ts',
  use: {
    headless: true,
    launchOptions: {
      executablePath: chromium,
      // Chromium sees no CJK system font (only DejaVu), whatever the machine has: Chinese screens
      // must render with the app's own font (test/e2e/lib/ui.ts expectChinese checks every glyph).
      env: { ...process.env, FONTCONFIG_FILE: resolve('test/e2e/host/fonts.conf') },
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
  },
  webServer: {
    command: `npx vite preview --config test/e2e/harness/vite.config.ts --host 127.0.0.1 --port ${harnessPort} --strictPort`,
    url: `http://127.0.0.1:${harnessPort}/index.html`,
    reuseExistingServer: false,
    timeout: 60_000,
  },
});
