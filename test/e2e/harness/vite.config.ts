import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

// Builds the browser harness that runs shared/ unchanged in Chromium (test/e2e/shared.spec.ts).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../../../out/harness', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
  },
});
