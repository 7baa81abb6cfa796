import type { CustosApi } from '../../renderer/src/api';
import { expect, test } from './host/fixture';

// The test host end to end in Chromium: the BUILT renderer (out/renderer) with the bridge injected,
// window.custos calling the real main-process services over loopback, events streaming back. The
// renderer's screens are tested in their own specs with these fixtures.
test('the renderer runs against the real services through the test host, on loopback only', async ({ app, host }) => {
  await expect(app.locator('main[data-state]')).toBeVisible();
  const result = await app.evaluate(async () => {
    const api: CustosApi | undefined = window.custos;
    if (api === undefined) return { error: 'window.custos missing' };
    const writable = Object.getOwnPropertyDescriptor(window, 'custos')?.writable;
    const progress: string[] = [];
    let stop = (): void => undefined;
    // Resolved by the event itself (the create call's last progress), never by a timer.
    const done = new Promise<void>((resolve) => {
      stop = api.events.onProgress((p) => {
        progress.push(`${p.channel}:${p.phase}`);
        if (p.channel === 'vault:create' && p.done === 1) resolve();
      });
    });
    const before = await api.vault.status();
    const bad = await api.vault.unlock({ passphrase: 42 as unknown as string });
    const created = await api.vault.create({ name: 'Carol (cold storage)', passphrase: 'correct horse battery staple', opId: 'create-1' });
    const after = await api.vault.status();
    const info = await api.app.info();
    await done;
    stop();
    return {
      writable,
      before: before.ok ? before.value.exists : 'refused',
      badCode: bad.ok ? 'accepted' : bad.error.code,
      badZh: bad.ok ? '' : bad.error.message['zh-CN'],
      created: created.ok ? { code: created.value.info.code, card: created.value.card.bytes instanceof Uint8Array, svg: created.value.qr.svgs[0]?.startsWith('<svg') ?? false } : created.error.code,
      unlocked: after.ok ? after.value.unlocked : 'refused',
      version: info.ok ? info.value.version : 'refused',
      progress,
    };
  });
  expect(result).toMatchObject({
    writable: false,
    before: false,
    badCode: 'INVALID_PARAMETERS',
    created: { card: true, svg: true },
    unlocked: true,
    version: 'e2e',
  });
  expect(result.badZh).toContain('无效');
  expect(result.progress).toContain('vault:create:deriving');
  // The same state is visible from the test side.
  const status = await host.ok('vault:status', {});
  expect(status.info?.name).toBe('Carol (cold storage)');
  await app.screenshot({ path: 'test-results/host-renderer.png' });
});

// The fixture's guard is awake: a request that leaves 127.0.0.1 is aborted and fails the test at
// teardown. (The app's CSP already stops fetches and images to other hosts; a navigation is not
// covered by CSP, so that is what this uses.)
test('a request off loopback fails the test', async ({ app }) => {
  test.fail(true, 'the fixture must fail a test whose page made a request beyond 127.0.0.1');
  const blocked = app.waitForEvent('requestfailed', (r) => r.url().startsWith('http://example.com/'));
  await app.evaluate(() => {
    window.location.href = 'http://example.com/';
  });
  await blocked;
});
