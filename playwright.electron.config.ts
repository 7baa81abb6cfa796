import { defineConfig } from '@playwright/test';

// The Playwright `_electron` test of the packaged flow (test/e2e/electron.e2e.ts), apart from the
// Chromium suite of playwright.config.ts (whose testMatch, **/*.spec.ts, does not pick it up).
// Run it through scripts/e2e-electron.mjs: that script finds the Electron binary, builds out/ and
// says SKIPPED, in words, on a machine where no Electron binary is installed.
export default defineConfig({
  testDir: 'test/e2e',
  testMatch: '**/*.e2e.ts',
  outputDir: 'test-results/electron',
  fullyParallel: false,
  workers: 1,
  forbidOnly: true,
  retries: 0,
  reporter: [['list']],
  timeout: 60_000,
});
