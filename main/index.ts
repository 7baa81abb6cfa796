/**
 * Electron main process: single instance, one hardened window, the IPC contract wired to the
 * main-process services. This file is the thin Electron glue; everything it exposes runs through
 * main/dispatch.ts (plain Node, shared with the end-to-end test host). It cannot run on machines
 * without the Electron binary (it downloads on first start), so this glue was not run where it was
 * written (issue 12): test/main/ checks its parts (the app:// handler, the menu template, the
 * fuses) without the binary, and test/e2e/electron.e2e.ts checks the running app where one exists.
 *
 * The renderer is served from `app://custos/` (main/app-protocol.ts, a privileged standard scheme
 * registered before `ready`, handled by `protocol.handle`), never from file://; the application
 * menu has no developer tools or reload in a packaged build (main/menu.ts), and the window's
 * webPreferences turn developer tools off there too.
 *
 *   vault folder   <userData>/vault (settings.json beside the vault files)
 *   sheet font     <app>/resources/fonts/custos-sheet-sc.ttf (the packaged app ships resources/)
 */
import { app, BrowserWindow, Menu, protocol, session, shell } from 'electron';
import { join } from 'node:path';
import { AppContext } from './context';
import { electronDialogs } from './dialogs';
import { APP_INDEX_URL, APP_SCHEME, APP_SCHEME_PRIVILEGES, appProtocolHandler } from './app-protocol';
import { CONTENT_SECURITY_POLICY, hardenSession, hardenWebContents, secureWebPreferences, type Logger } from './harden';
import { menuTemplate } from './menu';
import { registerIpc, sendEvent } from './ipc';
import { installNodeCrypto } from '../node/crypto-install';
import { SHEET_FONT_FILE } from './services/sheet';

const log: Logger = (event, fields) => {
  console.warn(`[custos] ${event}`, fields);
};

const rendererDir = join(__dirname, '../renderer');
// Only the built renderer's own files count as the app (main/harden.ts isAppUrl).
const appRoot = rendererDir;

let mainWindow: BrowserWindow | null = null;

// Before `ready`: app:// is a standard, secure scheme (its own origin, a secure context for the camera).
protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  installNodeCrypto();
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
    // The renderer's files, and only those, under app://custos/ (path-traversal safe, fixed MIME types).
    session.defaultSession.protocol.handle(APP_SCHEME, appProtocolHandler(rendererDir, { csp: CONTENT_SECURITY_POLICY, log }));
    Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate({ packaged: app.isPackaged, platform: process.platform, appName: 'Custos' })));
    registerIpc(ctx, { appRoot, log });
    // webPreferences come from secureWebPreferences() in main/harden.ts (sandbox and contextIsolation on,
    // nodeIntegration off), which the scan cannot follow into. A middle click could only ask for a new
    // window, and hardenWebContents' setWindowOpenHandler denies every one of those.
    const win = new BrowserWindow({ // eng-disable AUXCLICK_JS_CHECK CONTEXT_ISOLATION_JS_CHECK SANDBOX_JS_CHECK
      width: 1200,
      height: 800,
      show: false,
      title: 'Custos',
      webPreferences: secureWebPreferences(join(__dirname, '../preload/index.cjs'), { devTools: !app.isPackaged }),
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
    await win.loadURL(APP_INDEX_URL);
  });
}
