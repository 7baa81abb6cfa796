// The BUILT bundles (electron-vite → CommonJS, dependencies bundled), loaded in plain Node with a
// stand-in for the `electron` module: main/index.ts registers every channel with ipcMain, the
// preload exposes `custos` through contextBridge, and calls go preload → ipcRenderer.invoke →
// ipcMain handler → dispatch → services and back (payloads structured-cloned as Electron's IPC
// would). This proves the bundles load (ESM-only dependencies such as cborg and age-encryption
// included), that the wiring is complete, and that a frame other than the app's page is refused.
// (test/packaging checks what the bundles require; this checks that they run.)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNEL_NAMES } from '../../shared/ipc/contract';
import { makeAgent } from '../custodian/helpers';
import { ROOT } from './helpers';

const CHILD = String.raw`
const Module = require('node:module');
const path = require('node:path');
const fs = require('node:fs');
const [OUT, DATA, CARD] = process.argv.slice(2);
const handlers = new Map();
const listeners = new Map();
const exposed = {};
let ready;
const whenReady = new Promise((r) => (ready = r));
// The page is served as app://custos/ (issue 12: main/app-protocol.ts), never from file://.
const appPage = 'app://custos/index.html';
const schemes = [];
const protocolHandlers = new Map();
let menu = null;
const electron = {
  app: {
    requestSingleInstanceLock: () => true, quit() {}, on() {}, whenReady: () => whenReady,
    getPath: (name) => path.join(DATA, name), getAppPath: () => ${JSON.stringify(ROOT)}, getVersion: () => '0.0.0-bundle-test',
  },
  BrowserWindow: class {
    constructor(options) {
      this.options = options;
      this.webContents = {
        on() {}, isDestroyed: () => false,
        send: (channel, payload) => { for (const l of listeners.get(channel) ?? []) l({ sender: 'IpcRendererEvent' }, structuredClone(payload)); },
      };
      globalThis.__window = this;
    }
    on() {} once() {} show() {}
    loadFile(file) { this.loaded = 'file:' + file; return Promise.resolve(); }
    loadURL(url) { this.loaded = url; return Promise.resolve(); }
  },
  protocol: { registerSchemesAsPrivileged: (list) => schemes.push(...list) },
  Menu: { buildFromTemplate: (t) => ({ template: t }), setApplicationMenu: (m) => { menu = m; } },
  session: { defaultSession: { setPermissionRequestHandler() {}, setPermissionCheckHandler() {}, webRequest: { onBeforeRequest() {}, onHeadersReceived() {} }, protocol: { handle: (scheme, fn) => protocolHandlers.set(scheme, fn) } } },
  shell: { openExternal() {} },
  dialog: {},
  ipcMain: { handle: (channel, fn) => handlers.set(channel, fn), removeHandler: (channel) => handlers.delete(channel) },
  contextBridge: { exposeInMainWorld: (key, value) => { exposed[key] = value; } },
  ipcRenderer: {
    invoke: async (channel, payload) => {
      const h = handlers.get(channel);
      if (!h) throw new Error('No handler registered for ' + channel);
      return structuredClone(await h({ senderFrame: { url: appPage } }, structuredClone(payload)));
    },
    on: (channel, l) => { listeners.set(channel, [...(listeners.get(channel) ?? []), l]); },
    removeListener: (channel, l) => { listeners.set(channel, (listeners.get(channel) ?? []).filter((x) => x !== l)); },
  },
};
const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (request === 'electron') return electron;
  return load.call(this, request, parent, isMain);
};
(async () => {
  require(path.join(OUT, 'main', 'index.cjs'));
  require(path.join(OUT, 'preload', 'index.cjs'));
  ready();
  for (let i = 0; i < 100 && !globalThis.__window?.loaded; i++) await new Promise((r) => setTimeout(r, 10));
  const api = exposed.custos;
  const progress = [];
  const stop = api.events.onProgress((p) => progress.push(p));
  const card = new Uint8Array(fs.readFileSync(CARD));
  const out = {
    channels: [...handlers.keys()],
    features: Object.keys(api),
    window: { loaded: globalThis.__window.loaded, preload: path.relative(OUT, globalThis.__window.options.webPreferences.preload), sandbox: globalThis.__window.options.webPreferences.sandbox, contextIsolation: globalThis.__window.options.webPreferences.contextIsolation },
    info: await api.app.info(),
    before: await api.vault.status(),
    preview: await api.trust.previewAgent({ card: { name: 'agent.custos', bytes: card } }),
    encoded: await api.qr.encode({ type: 'agent-card', bytes: card }),
    bad: await api.vault.unlock({ passphrase: 7 }),
    created: await api.vault.create({ name: 'Bundle test', passphrase: 'correct horse battery staple', opId: 'create' }),
    after: await api.vault.status(),
    foreign: await handlers.get('vault:status')({ senderFrame: { url: 'https://evil.example/' } }, {}),
    fileFrame: await handlers.get('vault:status')({ senderFrame: { url: 'file://' + path.join(OUT, 'renderer', 'index.html') } }, {}),
    schemes,
    served: (await protocolHandlers.get('app')(new Request('app://custos/index.html'))).status,
    traversal: (await protocolHandlers.get('app')(new Request('app://custos/..%2fmain/index.cjs'))).status,
    menuRoles: JSON.stringify(menu?.template ?? null).match(/"role":"[A-Za-z]+"/g) ?? [],
  };
  out.progress = progress.map((p) => p.phase);
  stop();
  await api.vault.lock();
  process.stdout.write(JSON.stringify(out, (k, v) => (v instanceof Uint8Array ? { bytes: v.length } : v)));
  process.exit(0);
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;

describe('the built main and preload bundles', () => {
  let work = '';
  let result: Record<string, unknown> = {};

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'custos-bundle-'));
    const out = join(work, 'out');
    const build = spawnSync(process.execPath, [join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build', '--config', join(ROOT, 'electron.config.ts'), '--outDir', out, '--logLevel', 'error'], { cwd: ROOT, encoding: 'utf8' });
    // electron-vite builds main, then preload, then the renderer, into this fresh folder: this test
    // needs the first two only, so a renderer that does not build (yet) does not hide them.
    if (!existsSync(join(out, 'main/index.cjs')) || !existsSync(join(out, 'preload/index.cjs'))) {
      throw new Error(`electron-vite did not build main and preload (exit ${String(build.status)}):\n${build.stdout}\n${build.stderr}`);
    }
    writeFileSync(join(work, 'child.cjs'), CHILD);
    writeFileSync(join(work, 'agent.custos'), makeAgent('bundle agent').card);
    const r = spawnSync(process.execPath, [join(work, 'child.cjs'), out, join(work, 'data'), join(work, 'agent.custos')], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`the bundles did not run:\n${r.stderr}`);
    result = JSON.parse(r.stdout) as Record<string, unknown>;
  }, 90_000);
  afterAll(() => {
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  it('registers every channel of the contract and exposes the whole API', () => {
    expect([...(result['channels'] as string[])].sort()).toEqual([...CHANNEL_NAMES].sort());
    expect(result['features']).toEqual(['app', 'vault', 'backup', 'trust', 'approvers', 'inbox', 'shares', 'receipts', 'recovery', 'station', 'agent', 'inventory', 'supersede', 'deletion', 'audit', 'settings', 'qr', 'files', 'events']);
    expect(result['window']).toEqual({ loaded: 'app://custos/index.html', preload: 'preload/index.cjs', sandbox: true, contextIsolation: true });
    // Issue 12: the app:// scheme registered as privileged and handled from the renderer folder only; a menu set.
    expect(result['schemes']).toEqual([expect.objectContaining({ scheme: 'app' })]);
    expect(result['served']).toBe(200);
    expect(result['traversal']).toBe(404);
    expect(result['menuRoles']).toContain('"role":"paste"');
  });

  it('runs calls end to end in the bundles: CBOR, Ed25519, QR, age and scrypt all load', () => {
    expect(result['info']).toMatchObject({ ok: true, value: { name: 'Custos', version: '0.0.0-bundle-test', protocolVersion: 1 } });
    expect(result['before']).toMatchObject({ ok: true, value: { exists: false } });
    expect(result['preview']).toMatchObject({ ok: true, value: { name: 'bundle agent' } });
    expect((result['encoded'] as { value: { frames: string[] } }).value.frames[0]).toMatch(/^ur:custos-agent-card\//);
    expect(result['bad']).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMETERS', details: { channel: 'vault:unlock', field: 'passphrase' } } });
    expect(result['created']).toMatchObject({ ok: true, value: { info: { name: 'Bundle test' }, card: { name: 'enrollment-card-Bundle_test.custos' } } });
    expect(result['after']).toMatchObject({ ok: true, value: { exists: true, unlocked: true } });
    expect(result['progress']).toEqual(['deriving', 'deriving']);
  });

  it('refuses a call from a frame that is not the app page (a file:// page included)', () => {
    expect(result['foreign']).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMETERS' } });
    expect(result['fileFrame']).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMETERS' } });
  });

  it('keeps zod and the services out of the preload', () => {
    const preload = readFileSync(join(work, 'out/preload/index.cjs'), 'utf8');
    expect(preload.length).toBeLessThan(20_000);
    expect(preload).not.toMatch(/ZodError|cborg|scrypt/);
  });
});
