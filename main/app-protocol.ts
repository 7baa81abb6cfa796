/**
 * The renderer's own scheme (issue 12; Electron's security checklist item 18): the window loads
 * `app://custos/index.html`, served by `protocol.handle` from the built renderer folder only,
 * instead of `file://`. Under file:// the Content-Security-Policy's 'self' is every local file and
 * the page gets file-protocol privileges (the `grantFileProtocolExtraPrivileges` fuse, turned off
 * in electron-builder.config.ts); under this scheme 'self' is exactly `app://custos`.
 *
 * The handler serves GET/HEAD of files inside the renderer folder, after resolving the real path
 * (so `..`, encoded separators, NUL, a symlink out of the folder and other hosts are refused), with
 * the MIME type of a fixed table (an unknown extension is refused rather than sniffed), `nosniff`
 * and the app's CSP. Plain Node (a WHATWG Request in, a Response out): the Electron glue is one
 * line in main/index.ts, and test/main/app-protocol.test.ts runs the handler itself here, where
 * no Electron binary can start.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';

export const APP_SCHEME = 'app';
export const APP_HOST = 'custos';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;

/**
 * For `protocol.registerSchemesAsPrivileged` (before the app is ready): a standard, secure scheme
 * (an origin of its own, a secure context for the camera), fetch for the renderer's own assets, and
 * CORS-mode loads (Vite's module scripts carry `crossorigin`; the responses name no
 * Access-Control-Allow-Origin, so no other origin can read them). No `bypassCSP`, no
 * `allowServiceWorkers`, no `stream`.
 */
export const APP_SCHEME_PRIVILEGES = { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, codeCache: true } } as const;

/** The files the renderer build writes, and only those. */
export const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The file an `app://custos/…` URL names inside `root`, or null: another scheme or host, a
 * query-less path with `..` left after parsing, an encoded `/`, `\` or NUL, or anything outside
 * the folder. `/` is index.html. Does not touch the disk (the handler checks the real path).
 */
export function resolveAppPath(url: string, root: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host.toLowerCase() !== APP_HOST || u.username !== '' || u.password !== '' || u.port !== '') return null;
  const raw = u.pathname === '/' || u.pathname === '' ? '/index.html' : u.pathname;
  if (/%(2f|5c|00)/i.test(raw) || raw.includes('\\')) return null;
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    return null;
  }
  if (path.includes('\0') || path.split('/').some((s) => s === '..' || s === '.')) return null;
  const full = resolve(root, `.${path}`);
  const rel = relative(resolve(root), full);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return null;
  return full;
}

export type Logger = (event: string, fields: Record<string, string>) => void;

const refuse = (status: 403 | 404 | 405): Response => new Response(null, { status, headers: { 'X-Content-Type-Options': 'nosniff' } });

/** The protocol handler for `protocol.handle(APP_SCHEME, …)`: the renderer folder's files, nothing else. */
export function appProtocolHandler(root: string, opts: { csp: string; log: Logger }): (request: Request) => Promise<Response> {
  const rootReal = realpath(resolve(root));
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return refuse(405);
    const path = resolveAppPath(request.url, root);
    const mime = path === null ? undefined : MIME_TYPES[extname(path).toLowerCase()];
    if (path === null || mime === undefined) {
      opts.log('app-protocol-refused', { path: safePath(request.url) });
      return refuse(404);
    }
    try {
      const real = await realpath(path);
      const base = await rootReal;
      if (real !== base && !real.startsWith(base.endsWith(sep) ? base : base + sep)) {
        opts.log('app-protocol-refused', { path: safePath(request.url) });
        return refuse(403);
      }
      if (!(await stat(real)).isFile()) return refuse(404);
      const body = request.method === 'HEAD' ? null : await readFile(real);
      return new Response(body, {
        status: 200,
        headers: { 'Content-Type': mime, 'X-Content-Type-Options': 'nosniff', 'Content-Security-Policy': opts.csp, 'Cache-Control': 'no-store' },
      });
    } catch {
      return refuse(404);
    }
  };
}

/** The URL's path only, for a log line. */
function safePath(url: string): string {
  try {
    return new URL(url).pathname.slice(0, 200);
  } catch {
    return '(unparseable url)';
  }
}
