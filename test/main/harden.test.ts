// The URL checks behind navigation blocking, IPC sender checks and the session's request filter.
import { describe, expect, it } from 'vitest';
import { pathToFileURL } from 'node:url';
import { isAllowedRequest, isAppUrl, redactUrl } from '../../main/harden';

const root = '/opt/Custos/resources/app.asar/out/renderer';
const url = (p: string): string => pathToFileURL(p).href;

describe('isAppUrl', () => {
  // Issue 12: the renderer is served as app://custos/… (main/app-protocol.ts), never from file://.
  it('accepts the renderer’s own files under app://custos/', () => {
    expect(isAppUrl('app://custos/index.html', root)).toBe(true);
    expect(isAppUrl('app://custos/assets/index-abc.js', root)).toBe(true);
    expect(isAppUrl('app://custos/index.html#/inbox', root)).toBe(true);
  });

  it('refuses file:// (even the renderer’s own files), traversal, encoded separators, other hosts and schemes', () => {
    expect(isAppUrl(url(`${root}/index.html`), root)).toBe(false);
    expect(isAppUrl('app://custos/..%2F..%2Fmain/index.cjs', root)).toBe(false);
    expect(isAppUrl('app://evil.example/index.html', root)).toBe(false);
    expect(isAppUrl(`https://example.com${root}/index.html`, root)).toBe(false);
    expect(isAppUrl('not a url', root)).toBe(false);
  });
});

describe('isAllowedRequest', () => {
  it('allows only the app’s files and the linked agent’s origin', () => {
    expect(isAllowedRequest('app://custos/index.html', root, null)).toBe(true);
    expect(isAllowedRequest(url(`${root}/index.html`), root, null)).toBe(false);
    expect(isAllowedRequest('http://127.0.0.1:7443/infra.v1.BackupService/GetBackupStatus', root, null)).toBe(false);
    expect(isAllowedRequest('http://127.0.0.1:7443/infra.v1.BackupService/GetBackupStatus', root, 'http://127.0.0.1:7443')).toBe(true);
    expect(isAllowedRequest('http://127.0.0.1:7444/x', root, 'http://127.0.0.1:7443')).toBe(false);
    expect(isAllowedRequest('https://example.com/', root, 'http://127.0.0.1:7443')).toBe(false);
  });

  it('logs URLs without their query', () => {
    expect(redactUrl('https://agent.example:7443/path?token=secret#x')).toBe('https://agent.example:7443/path');
  });
});
