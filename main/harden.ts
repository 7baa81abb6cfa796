/**
 * The one hardening function every Custos window goes through (HANDBOOK: Signal Desktop's habit).
 *
 * - webPreferences are fixed here: sandbox, contextIsolation, no nodeIntegration, no webview, no
 *   remote content (only the app's own files, served as app://custos/ by main/app-protocol.ts),
 *   no developer tools in a packaged build;
 * - navigation away from the app is blocked and `window.open` is denied; the only external URLs
 *   that may open in the system browser are on an allow-list;
 * - permission requests are denied except the camera (media, video only) for QR scanning and full
 *   screen for the recovery QR player;
 * - every network request of the session is blocked except the app's own files and the linked
 *   agent's origin, when the user linked one. Without a linked agent the app makes no request;
 * - a strict Content-Security-Policy header on every response.
 *
 * Everything blocked is logged with what was asked, never with content.
 */
import type { BrowserWindowConstructorOptions, Session, WebContents } from 'electron';
import { resolveAppPath } from './app-protocol';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "media-src 'self' blob: mediastream:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const EXTERNAL_URL_ALLOW_LIST: readonly string[] = ['https://age-encryption.org/'];

export type Logger = (event: string, fields: Record<string, string>) => void;

export function secureWebPreferences(preload: string, opts: { devTools?: boolean } = {}): NonNullable<BrowserWindowConstructorOptions['webPreferences']> {
  return {
    preload,
    // Off in packaged builds (main/index.ts passes !app.isPackaged): no inspector on a vault in use.
    devTools: opts.devTools ?? false,
    sandbox: true,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webviewTag: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    enableBlinkFeatures: '',
    spellcheck: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
  };
}

/**
 * Is `url` one of the app's own files: `app://custos/…` naming a file inside `appRoot` (the built
 * renderer folder; main/app-protocol.ts)? A file:// URL never is (issue 12: the renderer is not
 * loaded from file:// any more). Compared as paths, not string prefixes: `..` segments, encoded
 * separators and other hosts are not inside.
 */
export function isAppUrl(url: string, appRoot: string): boolean {
  return resolveAppPath(url, appRoot) !== null;
}

export function isAllowedRequest(url: string, appRoot: string, agentOrigin: string | null): boolean {
  if (isAppUrl(url, appRoot)) return true;
  if (url.startsWith('devtools://') || url.startsWith('data:') || url.startsWith('blob:')) return true;
  if (agentOrigin === null) return false;
  try {
    return new URL(url).origin === agentOrigin;
  } catch {
    return false;
  }
}

export function hardenSession(session: Session, opts: { appRoot: string; agentOrigin: () => string | null; log: Logger }): void {
  session.setPermissionRequestHandler((_wc, permission, callback, details) => {
    const mediaTypes = 'mediaTypes' in details ? (details.mediaTypes ?? []) : [];
    // The camera (video only) for QR scanning, and full screen for the recovery QR player; nothing else.
    const allowed = (permission === 'media' && mediaTypes.length > 0 && mediaTypes.every((t) => t === 'video')) || permission === 'fullscreen';
    if (!allowed) opts.log('permission-denied', { permission });
    callback(allowed);
  });
  session.setPermissionCheckHandler((_wc, permission) => permission === 'media');
  session.webRequest.onBeforeRequest((details, callback) => {
    const ok = isAllowedRequest(details.url, opts.appRoot, opts.agentOrigin());
    if (!ok) opts.log('request-blocked', { url: redactUrl(details.url) });
    callback({ cancel: !ok });
  });
  session.webRequest.onHeadersReceived((details, callback) => {
    // electronegativity evaluates only a string literal here and reports this constant as unparseable. It is
    // the policy of renderer/index.html's meta tag plus frame-ancestors 'none' (test/packaging asserts that),
    // and the scan evaluates and reports that meta tag.
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } }); // eng-disable CSP_GLOBAL_CHECK
  });
}

export function hardenWebContents(contents: WebContents, opts: { appRoot: string; openExternal: (url: string) => void; log: Logger }): void {
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url, opts.appRoot)) {
      event.preventDefault();
      opts.log('navigation-blocked', { url: redactUrl(url) });
    }
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url, opts.appRoot)) {
      event.preventDefault();
      opts.log('redirect-blocked', { url: redactUrl(url) });
    }
  });
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    opts.log('webview-blocked', {});
  });
  contents.setWindowOpenHandler(({ url }) => {
    // Only URLs starting with a fixed https:// prefix of EXTERNAL_URL_ALLOW_LIST (each ending in '/', so the
    // host cannot be extended) reach the system browser; everything else is denied and logged.
    if (EXTERNAL_URL_ALLOW_LIST.some((prefix) => url.startsWith(prefix))) opts.openExternal(url); // eng-disable OPEN_EXTERNAL_JS_CHECK
    else opts.log('window-open-denied', { url: redactUrl(url) });
    return { action: 'deny' };
  });
}

/** Origin and path only: a query string might carry something that should not reach a log. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(unparseable url)';
  }
}
