/**
 * Electron main process: single instance, one hardened window, the preload bridge.
 * This file is the thin Electron glue; the services it will expose live in plain Node modules.
 * It cannot run on machines without the Electron binary (it downloads on first start).
 */
import { app, BrowserWindow, session, shell } from 'electron';
import { dirname, join } from 'node:path';
import { hardenSession, hardenWebContents, secureWebPreferences, type Logger } from './harden';

const log: Logger = (event, fields) => {
  console.warn(`[custos] ${event}`, fields);
};

const rendererDir = join(__dirname, '../renderer');
const agentOrigin: string | null = null;

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    const [win] = BrowserWindow.getAllWindows();
    if (win) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
  });
  app.on('web-contents-created', (_event, contents) => {
    hardenWebContents(contents, {
      appRoot: dirname(rendererDir),
      openExternal: (url) => void shell.openExternal(url),
      log,
    });
  });
  app.on('window-all-closed', () => {
    app.quit();
  });
  void app.whenReady().then(async () => {
    hardenSession(session.defaultSession, { appRoot: dirname(rendererDir), agentOrigin: () => agentOrigin, log });
    const win = new BrowserWindow({
      width: 1200,
      height: 800,
      show: false,
      title: 'Custos',
      webPreferences: secureWebPreferences(join(__dirname, '../preload/index.cjs')),
    });
    win.once('ready-to-show', () => {
      win.show();
    });
    await win.loadFile(join(rendererDir, 'index.html'));
  });
}
