// Issue 12: the renderer's app://custos/ scheme (main/app-protocol.ts), run here without Electron:
// the handler serves the renderer folder's files with their MIME types and the CSP, and refuses
// traversal, encoded separators, other hosts and schemes, a symlink out of the folder, unknown
// file types and anything but GET/HEAD. Against a temporary folder and the real out/renderer build.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_INDEX_URL, APP_SCHEME_PRIVILEGES, MIME_TYPES, appProtocolHandler, resolveAppPath } from '../../main/app-protocol';
import { CONTENT_SECURITY_POLICY, isAllowedRequest, isAppUrl } from '../../main/harden';

function folder(): { root: string; outside: string } {
  const base = mkdtempSync(join(tmpdir(), 'custos-app-protocol-'));
  const root = join(base, 'renderer');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>Custos</title>');
  writeFileSync(join(root, 'assets', 'index-abc.js'), 'console.log(1)');
  writeFileSync(join(root, 'assets', 'index-abc.css'), 'body{}');
  writeFileSync(join(root, 'assets', 'ui-font.woff2'), new Uint8Array([0x77, 0x4f, 0x46, 0x32]));
  writeFileSync(join(root, 'assets', 'data.bin'), 'raw');
  const outside = join(base, 'secret.js');
  writeFileSync(outside, 'the vault key');
  symlinkSync(outside, join(root, 'assets', 'link.js'));
  return { root, outside };
}

const log = (events: string[]) => (event: string, fields: Record<string, string>): void => void events.push(`${event} ${fields['path'] ?? ''}`);

describe('app:// scheme', () => {
  it('registers a standard, secure scheme without bypassing the CSP or service workers', () => {
    expect(APP_SCHEME_PRIVILEGES.scheme).toBe('app');
    expect(APP_SCHEME_PRIVILEGES.privileges).toMatchObject({ standard: true, secure: true });
    expect(APP_SCHEME_PRIVILEGES.privileges).not.toHaveProperty('bypassCSP');
    expect(APP_SCHEME_PRIVILEGES.privileges).not.toHaveProperty('allowServiceWorkers');
  });

  it('resolves the renderer folder’s files and nothing else', () => {
    const { root, outside } = folder();
    expect(resolveAppPath(APP_INDEX_URL, root)).toBe(join(root, 'index.html'));
    expect(resolveAppPath('app://custos/', root)).toBe(join(root, 'index.html'));
    expect(resolveAppPath('app://custos/assets/index-abc.js?v=1#x', root)).toBe(join(root, 'assets', 'index-abc.js'));
    expect(resolveAppPath('app://CUSTOS/index.html', root)).toBe(join(root, 'index.html'));
    for (const bad of [
      'app://custos/../secret.js',
      'app://custos/assets/../../secret.js',
      'app://custos/%2e%2e/secret.js',
      'app://custos/..%2fsecret.js',
      'app://custos/assets%2F..%2F..%2Fsecret.js',
      'app://custos/..%5csecret.js',
      'app://custos/index.html%00.js',
      'app://custos/%E0%A4%A',
      'app://evil/index.html',
      'app://custos:8080/index.html',
      'app://user@custos/index.html',
      `file://${root}/index.html`,
      'https://custos/index.html',
      'not a url',
    ]) {
      // Either refused, or (a `..` the URL parser already clamps at the root) a path inside the folder.
      const r = resolveAppPath(bad, root);
      expect(r === null || r.startsWith(`${root}/`), bad).toBe(true);
      expect(r, bad).not.toBe(outside);
    }
    expect(resolveAppPath('app://custos/../secret.js', root)).toBe(join(root, 'secret.js'));
    expect(resolveAppPath('app://evil/index.html', root)).toBeNull();
    expect(resolveAppPath(`file://${root}/index.html`, root)).toBeNull();
    expect(resolveAppPath('app://custos/..%2fsecret.js', root)).toBeNull();
  });

  it('serves files with their MIME type, nosniff and the CSP; refuses the rest', async () => {
    const { root } = folder();
    const events: string[] = [];
    const handle = appProtocolHandler(root, { csp: CONTENT_SECURITY_POLICY, log: log(events) });
    const index = await handle(new Request(APP_INDEX_URL));
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    expect(index.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(await index.text()).toContain('<title>Custos</title>');
    expect((await handle(new Request('app://custos/assets/index-abc.js'))).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await handle(new Request('app://custos/assets/index-abc.css'))).headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect((await handle(new Request('app://custos/assets/ui-font.woff2'))).headers.get('content-type')).toBe('font/woff2');
    const head = await handle(new Request(APP_INDEX_URL, { method: 'HEAD' }));
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');

    expect((await handle(new Request('app://custos/assets/link.js'))).status).toBe(403); // a symlink out of the folder
    expect((await handle(new Request('app://custos/assets/data.bin'))).status).toBe(404); // no MIME type: not served
    expect((await handle(new Request('app://custos/missing.js'))).status).toBe(404);
    expect((await handle(new Request('app://custos/assets'))).status).toBe(404);
    expect((await handle(new Request('app://custos/..%2fsecret.js'))).status).toBe(404);
    expect((await handle(new Request('app://evil/index.html'))).status).toBe(404);
    expect((await handle(new Request(APP_INDEX_URL, { method: 'POST', body: 'x' }))).status).toBe(405);
    for (const r of [await handle(new Request('app://custos/assets/link.js')), await handle(new Request('app://evil/index.html'))]) expect(await r.text()).not.toContain('vault key');
    expect(events.some((e) => e.startsWith('app-protocol-refused'))).toBe(true);
  });

  it('every file of the real renderer build has a MIME type and is served', { timeout: 180_000 }, async () => {
    const root = new URL('../../out/renderer', import.meta.url).pathname;
    if (!existsSync(join(root, 'index.html'))) {
      // A fresh clone has no build yet: make the real one (the e2e run makes the same again).
      const cwd = new URL('../..', import.meta.url).pathname;
      const built = spawnSync('npx', ['electron-vite', 'build', '--config', 'electron.config.ts'], { cwd, encoding: 'utf8' });
      expect(built.status, `electron-vite build failed:\n${built.stderr}`).toBe(0);
    }
    const handle = appProtocolHandler(root, { csp: CONTENT_SECURITY_POLICY, log: () => undefined });
    const files = readdirSync(root, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name).slice(root.length));
    for (const f of files) {
      const ext = f.slice(f.lastIndexOf('.')).toLowerCase();
      expect(MIME_TYPES[ext], `${f} has no MIME type`).toBeDefined();
      const r = await handle(new Request(`app://custos${f}`));
      expect(r.status, f).toBe(200);
      expect(r.headers.get('content-type'), f).toBe(MIME_TYPES[ext]);
    }
  });

  it('the hardening treats app://custos/ files as the app, and file:// no more', () => {
    const root = '/opt/Custos/resources/app.asar/out/renderer';
    expect(isAppUrl('app://custos/index.html#/inbox', root)).toBe(true);
    expect(isAppUrl(`file://${root}/index.html`, root)).toBe(false);
    expect(isAllowedRequest('app://custos/assets/index-abc.js', root, null)).toBe(true);
    expect(isAllowedRequest(`file://${root}/index.html`, root, null)).toBe(false);
    expect(isAllowedRequest('app://evil/index.html', root, null)).toBe(false);
  });
});
