// The end-to-end test host over real HTTP on loopback, driven by the bridge (the SAME preload
// modules with a fetch transport) from Node: one flow with events streaming back, the dialogs'
// stand-ins, and the host's own defences (token, Host header, Origin, loopback, static files).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventPayload } from '../../shared/ipc/contract';
import { createBridge } from '../e2e/host/bridge-core';
import { HostControl } from '../e2e/host/control';
import { startHost, type RunningHost } from '../e2e/host/server';
import { qrY4m } from '../e2e/host/fake-camera';
import { decodeQrImage } from '../../shared/qr/decode';
import { encodeFrames, FrameAssembler } from '../../shared/qr/ur';
import { makeAgent, makeSet, PASSPHRASE } from '../custodian/helpers';

function raw(host: RunningHost, path: string, headers: Record<string, string>, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: host.port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    req.end(method === 'POST' ? '{}' : undefined);
  });
}

describe('the e2e test host on 127.0.0.1', () => {
  let host: RunningHost;
  let renderer: string;

  beforeAll(async () => {
    // Not tempDir(): that one is emptied after each test, and the host serves this for the whole file.
    renderer = mkdtempSync(join(tmpdir(), 'custos-host-renderer-'));
    mkdirSync(join(renderer, 'assets'), { recursive: true });
    writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>Custos</title><div id="root"></div>');
    writeFileSync(join(renderer, 'assets', 'app.js'), 'console.log(1)');
    host = await startHost({ rendererDir: renderer });
  });
  afterAll(async () => {
    await host.close();
    rmSync(renderer, { recursive: true, force: true });
  });

  it('runs the same dispatch through the bridge, with events streamed back', async () => {
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const control = new HostControl(host.url, host.token);
    await control.reset();
    const bridge = createBridge({ baseUrl: host.url, token: host.token });
    const api = bridge.api;
    const progress: EventPayload<'progress'>[] = [];
    const settings: EventPayload<'settings:changed'>[] = [];
    const stopProgress = api.events.onProgress((p) => progress.push(p));
    const stopSettings = api.events.onSettingsChanged((s) => settings.push(s));
    try {
      expect(await api.vault.status()).toMatchObject({ ok: true, value: { exists: false } });
      const created = await api.vault.create({ name: 'Dana', passphrase: PASSPHRASE, opId: 'create' });
      if (!created.ok) throw new Error(created.error.code);
      expect(created.value.card.bytes).toBeInstanceOf(Uint8Array);
      const v = await host.profile().ctx.vault();
      const agent = makeAgent();
      expect((await api.trust.pin({ card: { name: 'agent.custos', bytes: agent.card }, confirmCode: agent.code })).ok).toBe(true);
      const sets = await Promise.all([0, 1, 2].map((i) => makeSet(agent.id, { fingerprint: v.fingerprint, ageRecipient: v.info.ageRecipient }, { keyId: `k${String(i)}` })));
      // The person picks the envelopes in the (scripted) open dialog; only names and bytes come back.
      await control.openFiles(sets.map((s, i) => ({ name: `env-${String(i)}.custos`, bytes: s.envelope })));
      const picked = await api.files.open({ purpose: 'envelopes', multiple: true });
      if (!picked.ok) throw new Error(picked.error.code);
      expect(picked.value.files.map((f) => f.name)).toEqual(['env-0.custos', 'env-1.custos', 'env-2.custos']);
      const imported = await api.inbox.import({ opId: 'import', files: picked.value.files });
      expect(imported).toMatchObject({ ok: true, value: { accepted: 3, refused: 0 } });
      expect((await api.settings.set({ change: { language: 'zh-CN' } })).ok).toBe(true);
      const signed = await api.receipts.sign({ ids: 'all', status: 'accepted' });
      if (!signed.ok) throw new Error(signed.error.code);
      expect(await api.files.saveAll({ files: signed.value.receipts.map((r) => r.file) })).toMatchObject({ ok: true, value: { saved: true } });
      expect((await control.saved()).saved).toHaveLength(3);
      // A refusal crosses as a coded answer in both languages.
      const bad = await api.vault.unlock({ passphrase: PASSPHRASE });
      expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_STATE' } });
      // The auto-lock as the host triggers it reaches the page as the `vault:locked` event.
      const locked: EventPayload<'vault:locked'>[] = [];
      const stopLocked = api.events.onLocked((l) => locked.push(l));
      await control.idle();
      for (let i = 0; i < 100 && (locked.length === 0 || !progress.some((p) => p.channel === 'inbox:import' && p.done === 3)); i++) await new Promise((r) => setTimeout(r, 20));
      stopLocked();
      expect(locked.map((l) => l.reason)).toEqual(['idle']);
      expect(progress.filter((p) => p.opId === 'import').at(-1)).toMatchObject({ done: 3, total: 3, accepted: 3 });
      expect(progress.some((p) => p.opId === 'create')).toBe(true);
      expect(settings.at(-1)?.settings.language).toBe('zh-CN');
      expect((await control.events()).map((e) => e.event)).toContain('vault:locked');
    } finally {
      stopProgress();
      stopSettings();
      bridge.close();
    }
  });

  it('refuses without the token, from another Host or Origin, and serves only the renderer folder', async () => {
    const control = new HostControl(host.url, host.token);
    await control.reset();
    const hostHeader = `127.0.0.1:${String(host.port)}`;
    const authz = { authorization: `Bearer ${host.token}` };
    expect((await raw(host, '/ipc/vault:status', { host: hostHeader }, 'POST')).status).toBe(401);
    expect((await raw(host, '/ipc/vault:status', { host: hostHeader, authorization: 'Bearer wrong' }, 'POST')).status).toBe(401);
    expect((await raw(host, '/events', { host: hostHeader })).status).toBe(401);
    expect((await raw(host, '/test/reset', { host: hostHeader }, 'POST')).status).toBe(401);
    expect((await raw(host, '/ipc/vault:status', { ...authz, host: `evil.example:${String(host.port)}` }, 'POST')).status).toBe(403);
    expect((await raw(host, '/ipc/vault:status', { ...authz, host: hostHeader, origin: 'http://evil.example' }, 'POST')).status).toBe(403);
    const ok = await raw(host, '/ipc/vault:status', { ...authz, host: hostHeader, origin: host.url }, 'POST');
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ ok: true, value: { exists: false } });

    const page = await raw(host, '/index.html', { host: hostHeader });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect((await raw(host, '/assets/app.js', { host: hostHeader })).headers['content-type']).toContain('javascript');
    expect((await raw(host, '/../../../etc/passwd', { host: hostHeader })).status).toBe(404);
    expect((await raw(host, '/%2e%2e/%2e%2e/etc/passwd', { host: hostHeader })).status).toBe(404);

    // The bridge with a wrong token gets coded refusals, never a thrown error.
    const wrong = createBridge({ baseUrl: host.url, token: 'wrong' });
    expect(await wrong.api.vault.status()).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    wrong.close();
    // Nothing was created by any of this.
    expect((await control.ok('vault:status', {})).exists).toBe(false);
  });

  it('makes a fake-camera video (Y4M) whose every picture holds a readable QR frame', () => {
    const payload = new Uint8Array(2000).map((_x, i) => (i * 11) % 256);
    const frames = encodeFrames(payload, { type: 'custos-recovery-export' });
    expect(frames.length).toBeGreaterThan(1);
    const video = qrY4m(frames, { width: 640, height: 480, holdFrames: 2 });
    const headerEnd = video.indexOf(0x0a);
    expect(video.subarray(0, headerEnd).toString('latin1')).toBe('YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg');
    const pictureBytes = 'FRAME\n'.length + 640 * 480 * 1.5;
    expect(video.length).toBe(headerEnd + 1 + frames.length * 2 * pictureBytes);
    const assembler = new FrameAssembler();
    for (let i = 0; i < frames.length; i++) {
      const at = headerEnd + 1 + i * 2 * pictureBytes + 'FRAME\n'.length;
      const luma = video.subarray(at, at + 640 * 480);
      const rgba = new Uint8ClampedArray(640 * 480 * 4);
      luma.forEach((y, p) => { rgba.set([y, y, y, 255], p * 4); });
      const text = decodeQrImage(rgba, 640, 480);
      expect(text?.toLowerCase()).toBe(frames[i]);
      assembler.add(text);
    }
    expect(assembler.result().payload).toEqual(payload);
  });
});
