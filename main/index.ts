/**
 * Electron main process: single instance, one hardened window, the IPC contract wired to the
 * main-process services. This file is the thin Electron glue; everything it exposes runs through
 * main/dispatch.ts (plain Node, shared with the end-to-end test host). It cannot run on machines
 * without the Electron binary (it downloads on first start).
 *
 *   vault folder   <userData>/vault (settings.json beside the vault files)
 *   sheet font     <app>/resources/fonts/custos-sheet-sc.ttf (the packaged app ships resources/)
 */
import { app, BrowserWindow, session, shell } from 'electron';
import { join } from 'node:path';
import { AppContext } from './context';
import { electronDialogs } from './dialogs';
import { hardenSession, hardenWebContents, secureWebPreferences, type Logger } from './harden';
import { registerIpc, sendEvent } from './ipc';
import { installNodeVerifier } from '../node/ed25519';
import { installNodeSigner } from '../node/ed25519-sign';
import { SHEET_FONT_FILE } from './services/sheet';

const log: Logger = (event, fields) => {
  console.warn(`[custos] ${event}`, fields);
};

const rendererDir = join(__dirname, '../renderer');
// Only the built renderer's own files count as the app (main/harden.ts isAppUrl).
const appRoot = rendererDir;

let mainWindow: BrowserWindow | null = null;

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  installNodeVerifier();
  installNodeSigner();
  const ctx = new AppContext({
    vaultDir: join(app.getPath('userData'), 'vault'),
    sheetFontPath: join(app.getAppPath(), 'resources', 'fonts', SHEET_FONT_FILE),
    dialogs: electronDialogs(() => mainWindow),
    emit: (event, payload) => {
      sendEvent(mainWindow?.webContents ?? null, event, payload);
    },
    log,
    app: { version: app.getVersion(), platform: process.platform },
  });

  app.on('second-instance', () => {
    const win = mainWindow;
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });
  app.on('web-contents-created', (_event, contents) => {
    hardenWebContents(contents, {
      appRoot,
      // hardenWebContents calls this only for URLs that start with a fixed https:// prefix of
      // EXTERNAL_URL_ALLOW_LIST (main/harden.ts); every other window.open is denied and logged.
      openExternal: (url) => void shell.openExternal(url), // eng-disable OPEN_EXTERNAL_JS_CHECK
      log,
    });
  });
  app.on('window-all-closed', () => {
    app.quit();
  });
  app.on('before-quit', () => {
    ctx.dispose();
  });
  void app.whenReady().then(async () => {
    // The linked agent's origin is the only one the session may reach (read before any window).
    await ctx.settings().catch(() => undefined);
    hardenSession(session.defaultSession, { appRoot, agentOrigin: () => ctx.agentOrigin(), log });
    registerIpc(ctx, { appRoot, log });
    // webPreferences come from secureWebPreferences() in main/harden.ts (sandbox and contextIsolation on,
    // nodeIntegration off), which the scan cannot follow into. A middle click could only ask for a new
    // window, and hardenWebContents' setWindowOpenHandler denies every one of those.
    const win = new BrowserWindow({ // eng-disable AUXCLICK_JS_CHECK CONTEXT_ISOLATION_JS_CHECK SANDBOX_JS_CHECK
      width: 1200,
      height: 800,
      show: false,
      title: 'Custos',
      webPreferences: secureWebPreferences(join(__dirname, '../preload/index.cjs')),
    });
    mainWindow = win;
    win.on('closed', () => {
      mainWindow = null;
    });
    // Keyboard input counts as activity for the auto-lock timer (the renderer reports the pointer: app:activity).
    win.webContents.on('before-input-event', () => {
      ctx.activity();
    });
    win.once('ready-to-show', () => {
      win.show();
    });
    await win.loadFile(join(rendererDir, 'index.html'));
  });
}
