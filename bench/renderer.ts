/**
 * Renderer benchmark: `npm run build && npx tsx bench/renderer.ts [N]` (N loads of each page,
 * default 15). Issue 4, "Speed": "time from launch to the first screen in Chromium and the renderer
 * bundle size. Say in its output what dominates." Everything is measured side by side in one run,
 * loads interleaved, reported as medians and ratios (HANDBOOK "Measuring"):
 *
 *   1. the renderer bundle (out/renderer): bytes and gzip bytes, what the first screen loads and what
 *      is loaded on demand (the camera's QR decoder), and which sources the JavaScript is made of
 *      (esbuild's metafile of the same entry, minified);
 *   2. navigation start → the first screen named in `data-state` (the first-run form), in Debian's
 *      Chromium, for the built app against the real services through the e2e test host (the same
 *      bridge the tests use), against two floors served by the same host:
 *        - an empty page: what any page costs (navigation, HTML, first paint);
 *        - a page that loads the SAME bundle bytes without running them (wrapped in `if (false)`):
 *          download + parse of that much JavaScript;
 *      and, inside the app's load, how long the two IPC calls of the first screen took
 *      (`settings:get`, `vault:status`; HTTP on loopback here, ipcRenderer in Electron).
 *
 * Not part of `npm test` (timings belong in benchmarks, not tests).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';
import { buildSync } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { startHost } from '../test/e2e/host/server';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const RENDERER = join(ROOT, 'out/renderer');
const N = Number(process.argv[2] ?? process.env['BENCH_N'] ?? 15);
const CHROMIUM = process.env['CUSTOS_CHROMIUM'] ?? '/usr/bin/chromium';

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;
const ms = (x: number): string => `${x.toFixed(1)} ms`;

// ---- 1. bundle -----------------------------------------------------------------------------------

interface Asset {
  readonly name: string;
  readonly bytes: number;
  readonly gzip: number;
  readonly initial: boolean;
}

function bundleAssets(): Asset[] {
  const html = readFileSync(join(RENDERER, 'index.html'), 'utf8');
  const dir = join(RENDERER, 'assets');
  return readdirSync(dir)
    .filter((f) => statSync(join(dir, f)).isFile())
    .map((f) => {
      const body = readFileSync(join(dir, f));
      return { name: f, bytes: body.length, gzip: gzipSync(body, { level: 9 }).length, initial: html.includes(`assets/${f}`) };
    })
    .sort((a, b) => b.bytes - a.bytes);
}

/** Which sources the initial JavaScript is made of (esbuild, minified, same entry; lazy imports split). */
function sourceShares(): { group: string; bytes: number }[] {
  const out = join(ROOT, 'node_modules/.cache/bench-renderer');
  rmSync(out, { recursive: true, force: true });
  const r = buildSync({
    entryPoints: [join(ROOT, 'renderer/src/main.tsx')],
    bundle: true,
    minify: true,
    splitting: true,
    format: 'esm',
    outdir: out,
    metafile: true,
    write: true,
    jsx: 'automatic',
    loader: { '.css': 'css' },
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  rmSync(out, { recursive: true, force: true });
  const outputs = r.metafile.outputs;
  const entry = Object.keys(outputs).find((k) => outputs[k]?.entryPoint?.endsWith('renderer/src/main.tsx'));
  if (entry === undefined) return [];
  // The entry and the chunks it imports statically (what the first screen loads), not the lazy ones.
  const initialChunks = new Set<string>();
  const visit = (k: string): void => {
    if (initialChunks.has(k)) return;
    initialChunks.add(k);
    for (const i of outputs[k]?.imports ?? []) if (i.kind === 'import-statement') visit(i.path);
  };
  visit(entry);
  const inputs = [...initialChunks].flatMap((k) => Object.entries(outputs[k]?.inputs ?? {}));
  const groups = new Map<string, number>();
  for (const [input, { bytesInOutput }] of inputs) {
    const group = input.includes('node_modules/react-dom/')
      ? 'react-dom'
      : input.includes('node_modules/react/') || input.includes('node_modules/scheduler/')
        ? 'react + scheduler'
        : input.endsWith('renderer/src/i18n.ts')
          ? 'renderer strings (i18n.ts, en + zh-CN)'
          : input.includes('renderer/src/')
            ? 'renderer code (screens, ui, lib)'
            : input.includes('node_modules/')
              ? 'other packages'
              : 'shared/ and other sources';
    groups.set(group, (groups.get(group) ?? 0) + bytesInOutput);
  }
  return [...groups].map(([group, bytes]) => ({ group, bytes })).sort((a, b) => b.bytes - a.bytes);
}

// ---- 2. first screen -----------------------------------------------------------------------------

interface Load {
  /** navigation start → the first screen's data-state (ms, performance.now in the page). */
  readonly firstScreen: number;
  readonly domContentLoaded: number;
  /** Time spent in the first screen's IPC calls (sum of their fetch durations). */
  readonly ipc: number;
  /** All modules evaluated (main.tsx's mark), and React's first commit (the loading screen). */
  readonly evaluated: number;
  readonly firstCommit: number;
}

/** Records, in the page, when an element with a real screen state first appears and how long IPC calls take. */
const PROBE = `
(() => {
  const w = window;
  w.__bench = { firstScreen: null, firstCommit: null, ipc: 0 };
  const realFetch = w.fetch.bind(w);
  w.fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    const t0 = performance.now();
    try { return await realFetch(input, init); }
    finally { if (url.includes('/ipc/')) w.__bench.ipc += performance.now() - t0; }
  };
  const check = () => {
    if (w.__bench.firstCommit === null && document.querySelector('[data-screen]')) w.__bench.firstCommit = performance.now();
    if (w.__bench.firstScreen !== null) return;
    if (document.querySelector('[data-screen="first-run"][data-state="form"]')) w.__bench.firstScreen = performance.now();
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
})();
`;

async function loadOnce(browser: Browser, url: string, init: readonly string[], done: string): Promise<Load> {
  // bypassCSP only lets Playwright's string predicate run; the app is the same either way.
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  for (const content of init) await page.addInitScript({ content });
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(done);
  // A string (this file is typechecked without the DOM library): what the probe and the page recorded.
  const r = await page.evaluate<Load>(`(() => {
    const b = window.__bench;
    const nav = performance.getEntriesByType('navigation')[0];
    const mark = performance.getEntriesByName('custos:modules-evaluated')[0];
    return {
      firstScreen: b ? b.firstScreen : (window.__loaded ?? NaN),
      ipc: b ? b.ipc : 0,
      domContentLoaded: nav ? nav.domContentLoadedEventEnd : NaN,
      evaluated: mark ? mark.startTime : NaN,
      firstCommit: b && b.firstCommit !== null ? b.firstCommit : NaN,
    };
  })()`);
  await context.close();
  return r;
}

async function main(): Promise<void> {
  const assets = bundleAssets();
  const initial = assets.filter((a) => a.initial);
  const lazy = assets.filter((a) => !a.initial);
  const sum = (xs: readonly Asset[], k: 'bytes' | 'gzip'): number => xs.reduce((n, a) => n + a[k], 0);
  console.log(`1. renderer bundle (out/renderer/assets): ${kb(sum(assets, 'bytes'))} (${kb(sum(assets, 'gzip'))} gzip) in ${String(assets.length)} files`);
  console.log(`   first screen loads ${kb(sum(initial, 'bytes'))} (${kb(sum(initial, 'gzip'))} gzip); loaded on demand ${kb(sum(lazy, 'bytes'))} (${kb(sum(lazy, 'gzip'))} gzip)`);
  for (const a of assets) console.log(`   ${a.initial ? 'initial' : 'lazy   '} ${a.name.padEnd(34)} ${kb(a.bytes).padStart(10)} ${kb(a.gzip).padStart(10)} gzip`);
  const shares = sourceShares();
  const total = shares.reduce((n, s) => n + s.bytes, 0);
  console.log('   the initial JavaScript by source (esbuild metafile, minified):');
  for (const s of shares) console.log(`     ${s.group.padEnd(42)} ${kb(s.bytes).padStart(10)}  ${((s.bytes / total) * 100).toFixed(0)}%`);

  // The floors live next to the app, served by the same host with the same CSP.
  const benchDir = join(RENDERER, 'bench');
  mkdirSync(benchDir, { recursive: true });
  writeFileSync(join(benchDir, 'empty.html'), '<!doctype html><html><head><meta charset="utf-8"><title>empty</title></head><body></body></html>');
  const mainJs = initial.find((a) => a.name.endsWith('.js') && a.name.startsWith('index'));
  const jsBytes = sum(initial.filter((a) => a.name.endsWith('.js')), 'bytes');
  // Module syntax cannot sit inside a block: static imports and exports are dropped, import.meta
  // replaced; the rest is the same bytes for the parser.
  const code = initial
    .filter((a) => a.name.endsWith('.js'))
    .map((a) =>
      readFileSync(join(RENDERER, 'assets', a.name), 'utf8')
        .replace(/import\s*\{[^}]*\}\s*from\s*"[^"]*";?/g, '')
        .replace(/export\s*\{[^}]*\};?/g, '')
        .replace(/import\.meta/g, '({url:"",resolve:String})'),
    )
    .join('\n');
  writeFileSync(join(benchDir, 'parse-only.js'), `if (false) {\n${code}\n}\nwindow.__loaded = performance.now();\n`);
  writeFileSync(join(benchDir, 'parse-only.html'), '<!doctype html><html><head><meta charset="utf-8"><title>parse only</title><script src="./parse-only.js"></script></head><body></body></html>');

  const host = await startHost({ log: () => undefined });
  const bridge = join(ROOT, 'out/e2e/bridge.js');
  buildSync({ entryPoints: [join(ROOT, 'test/e2e/host/bridge.ts')], bundle: true, format: 'iife', platform: 'browser', target: 'es2022', outfile: bridge, logLevel: 'warning' });
  const bridgeJs = readFileSync(bridge, 'utf8');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
  const runs: Record<'empty' | 'parse' | 'app', Load[]> = { empty: [], parse: [], app: [] };
  try {
    // Warm-up (Chromium's own first-start costs), then interleaved measured loads.
    await loadOnce(browser, `${host.url}/bench/empty.html`, [], 'document.readyState === "complete"');
    for (let i = 0; i < N; i++) {
      runs.empty.push(await loadOnce(browser, `${host.url}/bench/empty.html`, [], 'document.readyState === "complete"'));
      runs.parse.push(await loadOnce(browser, `${host.url}/bench/parse-only.html`, [], 'window.__loaded !== undefined'));
      host.reset();
      runs.app.push(await loadOnce(browser, `${host.url}/index.html`, [PROBE, `window.__CUSTOS_HOST__ = ${JSON.stringify({ token: host.token })};`, bridgeJs], 'window.__bench && window.__bench.firstScreen !== null'));
    }
  } finally {
    await browser.close();
    await host.close();
    rmSync(benchDir, { recursive: true, force: true });
  }
  const m = (k: 'empty' | 'parse' | 'app', f: keyof Load): number => median(runs[k].map((r) => r[f]));
  const empty = m('empty', 'domContentLoaded');
  const parse = m('parse', 'firstScreen');
  const app = m('app', 'firstScreen');
  const ipc = m('app', 'ipc');
  const evaluated = m('app', 'evaluated');
  const commit = m('app', 'firstCommit');
  console.log(`\n2. navigation start → first screen (first-run form, data-state="form"), Chromium ${browser.version()}, medians of ${String(N)}:`);
  console.log(`   empty page (DOMContentLoaded):                    ${ms(empty)}`);
  console.log(`   the same ${kb(jsBytes)} of JavaScript, parsed, not run: ${ms(parse)}`);
  console.log(`   Custos, first screen:                             ${ms(app)}  (${(app / empty).toFixed(1)}× the empty page, ${(app / parse).toFixed(1)}× parse-only)`);
  console.log(`     all modules evaluated (React, the app, the strings) at ${ms(evaluated)}`);
  console.log(`     React's first commit (the loading screen)           at ${ms(commit)}`);
  console.log(`     the 2 IPC calls of the first screen (settings:get, vault:status; HTTP on loopback here, ipcRenderer in Electron): ${ms(ipc)}`);
  const parts = [
    { what: 'navigation and an empty page', t: empty },
    { what: 'downloading + parsing the bundle', t: Math.max(0, parse - empty) },
    { what: 'evaluating the modules', t: Math.max(0, evaluated - parse) },
    { what: 'React\'s first render and commit', t: Math.max(0, commit - evaluated) },
    { what: 'the IPC round trips', t: ipc },
    { what: 'rendering the first-run screen', t: Math.max(0, app - commit - ipc) },
  ].sort((a, b) => b.t - a.t);
  console.log(`   → what dominates: ${parts.map((p) => `${p.what} ~${p.t.toFixed(0)} ms`).join(', ')}.`);
  if (mainJs !== undefined) console.log(`   → the bundle's largest part is ${shares[0]?.group ?? 'unknown'}; the QR decoder (jsQR) is loaded only when the camera or a non-PNG picture is used.`);
}

await main();
