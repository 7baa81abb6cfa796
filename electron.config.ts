import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';
import { resolve } from 'node:path';
import { uiFontPlugin } from './scripts/make-ui-font.mjs';

// electron-vite: main and preload build to CommonJS for Electron, the renderer to static files.
// Building works without the Electron binary; starting the app needs it (see README).
// Main and preload bundle their dependencies (`externalizeDeps: false`; electron-vite would otherwise
// leave every package.json dependency as a runtime require): the sandboxed preload can require only
// `electron` and a few Node built-ins, and the package ships no node_modules
// (electron-builder.config.ts), so out/ must be self-contained. test/packaging checks the bundles.
export default defineConfig({
  main: {
    build: {
      externalizeDeps: false,
      outDir: 'out/main',
      lib: { entry: resolve(import.meta.dirname, 'main/index.ts'), formats: ['cjs'] },
      // One file: the passphrase checker's lazily imported dictionaries are inlined, not split into chunks.
      rollupOptions: { external: ['electron'], output: { inlineDynamicImports: true } },
    },
  },
  preload: {
    build: {
      externalizeDeps: false,
      outDir: 'out/preload',
      lib: { entry: resolve(import.meta.dirname, 'preload/index.ts'), formats: ['cjs'] },
      rollupOptions: { external: ['electron'] },
    },
  },
  renderer: {
    root: resolve(import.meta.dirname, 'renderer'),
    base: './',
    // uiFontPlugin cuts the CJK UI font from the catalogs before the renderer's CSS is built.
    plugins: [uiFontPlugin(), react()],
    build: {
      outDir: resolve(import.meta.dirname, 'out/renderer'),
      emptyOutDir: true,
      // electron-vite leaves bundles unminified by default; the renderer is loaded on every start.
      minify: true,
      rollupOptions: { input: resolve(import.meta.dirname, 'renderer/index.html') },
    },
  },
});
