/**
 * The packaged flow in a real Electron (Playwright `_electron`): the built app (package.json's main,
 * out/main/index.cjs) starts, shows one window titled Custos with a named first screen, and the hardening of
 * main/harden.ts holds in the running app: no Node in the renderer, context isolation, window.open
 * denied, navigation away blocked, requests outside the app blocked at the session, permissions (but camera and full screen)
 * denied, a second instance hands over to the first; the page comes from app://custos/ and that
 * scheme serves nothing outside the renderer folder; the application menu offers no developer
 * tools when packaged. (The renderer's `sandbox` webPreference cannot be observed from the page;
 * secureWebPreferences() in main/harden.ts sets it.) Not run where it was written: no binary there.
 *
 * It needs the Electron binary, which downloads on first start and cannot on machines without
 * access to GitHub. Run it with `node scripts/e2e-electron.mjs`: that script finds the binary,
 * builds out/, passes the binary's path in CUSTOS_ELECTRON_PATH, and prints SKIPPED (in words) where
 * there is none. Started any other way without that variable, this test fails and says why.
 */
import { _electron as electron, expect, test, type ElectronApplication, type Page } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const executablePath = process.env['CUSTOS_ELECTRON_PATH'];
// The project folder, not out/main/index.cjs: Electron then reads package.json (name, version,
// `main`: out/main/index.cjs) and app.getAppPath() is the folder holding it, as in the package
// (where it is app.asar). Given a bare .cjs file, Electron keeps its default app's path and name,
// so paths built on app.getAppPath() (the recovery sheet's font) would point into Electron itself.
const MAIN = '.';

let launched: { app: ElectronApplication; win: Page } | null = null;
let home = '';
let env: Record<string, string> = {};
let chromiumArgs: string[] = [];
const mainLog: string[] = [];

test.beforeAll(async () => {
  if (executablePath === undefined || executablePath === '') {
    throw new Error('CUSTOS_ELECTRON_PATH is not set: run this test with `node scripts/e2e-electron.mjs`, which finds the Electron binary (or reports that it is not installed).');
  }
  // A fresh profile: the vault, settings and single-instance lock live under it, never the user's own.
  home = mkdtempSync(join(tmpdir(), 'custos-electron-'));
  const inherited: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) inherited[name] = value;
  env = { ...inherited, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), APPDATA: join(home, 'AppData') };
  // Chromium refuses to start as root with its OS sandbox; only then is it turned off (the
  // renderer's `sandbox: true` webPreference is still in force).
  chromiumArgs = typeof process.getuid === 'function' && process.getuid() === 0 ? ['--no-sandbox'] : [];
  const app = await electron.launch({ executablePath, args: [...chromiumArgs, MAIN], cwd: root, env });
  app.process().stderr?.on('data', (chunk: Buffer) => mainLog.push(...chunk.toString('utf8').split('\n')));
  app.process().stdout?.on('data', (chunk: Buffer) => mainLog.push(...chunk.toString('utf8').split('\n')));
  launched = { app, win: await app.firstWindow() };
});

test.afterAll(async () => {
  await launched?.app.close();
  if (home !== '') rmSync(home, { recursive: true, force: true });
});

/** The running app and its first window (beforeAll failed loudly if there is none). */
function running(): { app: ElectronApplication; win: Page } {
  if (launched === null) throw new Error('the app did not start (see the error of beforeAll)');
  return launched;
}

test('one window, titled Custos, on a named first screen', async () => {
  const { app, win } = running();
  await expect(win).toHaveTitle('Custos');
  await expect(win.locator('[data-state]').first()).toBeVisible();
  const state = await win.locator('[data-state]').first().getAttribute('data-state');
  expect(state).not.toBeNull();
  // Issue 12: served from the app's own scheme (main/app-protocol.ts), never from file://.
  expect(new URL(win.url()).protocol).toBe('app:');
  expect(new URL(win.url()).host).toBe('custos');
  expect(app.windows()).toHaveLength(1);
  await win.screenshot({ path: 'test-results/electron/first-window.png' });
});

test('the renderer has no Node, and the bridge came through contextBridge (context isolation)', async () => {
  const { win } = running();
  const globals = await win.evaluate(() => {
    const g = globalThis as Record<string, unknown>;
    return { process: typeof g['process'], require: typeof g['require'], module: typeof g['module'], Buffer: typeof g['Buffer'], global: typeof g['global'], custos: typeof g['custos'] };
  });
  expect(globals).toEqual({ process: 'undefined', require: 'undefined', module: 'undefined', Buffer: 'undefined', global: 'undefined', custos: 'object' });
  // contextBridge.exposeInMainWorld throws when contextIsolation is off: window.custos exists only
  // with isolation on.
});

test('window.open is denied and no second window appears', async () => {
  const { app, win } = running();
  const opened = await win.evaluate(() => window.open('https://example.com/') === null);
  expect(opened).toBe(true);
  await expect.poll(() => mainLog.some((l) => l.includes('window-open-denied'))).toBe(true);
  expect(app.windows()).toHaveLength(1);
});

test('navigation away from the app is blocked', async () => {
  const { app, win } = running();
  const before = win.url();
  // Listeners run in the order they were added: the hardening's own comes first, so by the time
  // this one runs the event has been prevented, or not.
  const seen = app.evaluate(
    ({ BrowserWindow }) =>
      new Promise<{ url: string; prevented: boolean }>((resolve) => {
        const [w] = BrowserWindow.getAllWindows();
        w?.webContents.once('will-navigate', (event) => {
          resolve({ url: event.url, prevented: event.defaultPrevented });
        });
      }),
  );
  await win.evaluate(() => {
    window.location.href = 'https://example.com/';
  });
  expect(await seen).toEqual({ url: 'https://example.com/', prevented: true });
  expect(win.url()).toBe(before);
  await expect.poll(() => mainLog.some((l) => l.includes('navigation-blocked'))).toBe(true);
});

test('requests outside the app are blocked at the session, not only by the page CSP', async () => {
  const { app, win } = running();
  // A main-process load is not a renderer navigation (no will-navigate) and no CSP applies to it:
  // only the session's request filter stands between it and the network.
  const result = await app.evaluate(async ({ BrowserWindow }) => {
    const probe = new BrowserWindow({ show: false });
    try {
      await probe.loadURL('https://example.com/');
      return 'loaded';
    } catch (error) {
      return String(error);
    } finally {
      probe.destroy();
    }
  });
  expect(result).toMatch(/ERR_BLOCKED_BY_CLIENT/);
  await expect.poll(() => mainLog.some((l) => l.includes('request-blocked'))).toBe(true);
  const fromPage = await win.evaluate(() => fetch('https://example.com/').then(() => 'loaded', () => 'blocked'));
  expect(fromPage).toBe('blocked');
});

test('permission requests other than the camera and full screen are denied', async () => {
  const { win } = running();
  const notifications = await win.evaluate(() => Notification.requestPermission());
  expect(notifications).toBe('denied');
});

test('a second instance hands over to the first and exits', async () => {
  const { app } = running();
  const second = spawn(executablePath ?? '', [...chromiumArgs, MAIN], { cwd: root, env, stdio: 'ignore' });
  const code = await new Promise<number | null>((resolve) => second.once('exit', resolve));
  expect(code).toBe(0);
  expect(app.windows()).toHaveLength(1);
});

test('app://custos/ serves the renderer and nothing outside it; the menu matches the build', async () => {
  const { app, win } = running();
  const probe = await win.evaluate(async () => {
    const get = async (u: string): Promise<number | string> => {
      try {
        return (await fetch(u)).status;
      } catch (error) {
        return error instanceof Error ? error.name : 'error';
      }
    };
    return { index: await get('app://custos/index.html'), up: await get('app://custos/..%2fmain/index.cjs'), main: await get('app://custos/../main/index.cjs'), other: await get('app://evil/index.html') };
  });
  expect(probe.index).toBe(200);
  for (const s of [probe.up, probe.main, probe.other]) expect(s).not.toBe(200);
  const menu = await app.evaluate(({ app: a, Menu }) => {
    const roles: string[] = [];
    const walk = (items: Electron.MenuItem[]): void => {
      for (const i of items) {
        if (i.role !== undefined) roles.push(i.role.toLowerCase());
        if (i.submenu !== undefined) walk(i.submenu.items);
      }
    };
    walk(Menu.getApplicationMenu()?.items ?? []);
    return { packaged: a.isPackaged, roles };
  });
  if (menu.packaged) expect(menu.roles).not.toContain('toggledevtools');
  expect(menu.roles).toContain('paste');
});
