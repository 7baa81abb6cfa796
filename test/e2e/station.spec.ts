import { serveAgent } from '../../agent/rpc/server';
import { framesFor } from '../../main/services/qr-files';
import { MESSAGES } from '../../main/services/messages';
import { createWorld, fixture, tamperSignature } from '../rpc/world';
import { groupKeyOf, parseKeydata } from '../../shared/keydata';
import { tempVideoPath, writeQrY4m } from './host/fake-camera';
import { dropFiles, expect, onScreen, say, shot, test, useLanguage } from './lib/ui';
import type { Language } from '../../renderer/src/i18n';

// The recovery station (ops) in each language, against a REAL agent (agent/service.ts with the
// tss-lib fixture, 3-of-5, custodians 3-5) on its real Connect socket on 127.0.0.1: no vault on this
// machine; the agent linked (URL and token in Settings, reached from the station-only bar); the request and custodians' exports added (files,
// the camera, a drop), arrived and missing shown, a tampered export refused in words; submitted
// to the agent, then the recovery completed as a drill (everything verified, nothing written).
// The Chinese session has a free-text incident title (issue 13), which the session's heading shows.
// The page itself only ever talks to the test host on loopback (the fixture checks it); the
// agent is reached by the main-process services.
const world = await createWorld();
const server = await serveAgent(world.agent, { logger: { info: () => undefined, warn: () => undefined, error: () => undefined }, recoveryRateLimit: { perMinute: 600, burst: 100 } });
const sessions: Record<Language, { id: string; incident: string; title?: string; request: Uint8Array; exports: Record<3 | 4 | 5, Uint8Array> }> = {} as never;
for (const [lang, incident, title] of [['en', 'INC-2026-0101', undefined], ['zh-CN', 'INC-2026-0102', '交易所热钱包事故 2026/12']] as const) {
  const id = await world.openApprovedSession('external-only', incident, title);
  sessions[lang] = { id, incident, ...(title === undefined ? {} : { title }), request: await world.agent.recoveryRequest(id), exports: { 3: await world.exportFor(id, 3), 4: await world.exportFor(id, 4), 5: await world.exportFor(id, 5) } };
}
// The fake camera shows custodian 4's export of the English session.
const video = tempVideoPath('custos-station-');
writeQrY4m(video, framesFor('recovery-export', sessions.en.exports[4]), { width: 800, height: 600, fps: 10, holdFrames: 2 });

test.use({
  launchOptions: {
    executablePath: process.env['CUSTOS_CHROMIUM'] ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--disable-background-networking', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${video}`],
  },
});
test.afterAll(async () => {
  await server.close();
  world.close();
});

for (const lang of ['en', 'zh-CN'] as const) {
  test(`recovery station: collect exports, see what is missing, submit, complete a drill [${lang}]`, async ({ app, host }) => {
    const s = sessions[lang];
    await useLanguage(app, host, lang);
    await onScreen(app, 'first-run', 'form');
    await app.getByRole('button', { name: say(lang, 'openStation') }).click();
    const station = await onScreen(app, 'station', 'empty');
    await shot(app, lang, 'station-empty');

    // Link the agent (issue 13): the station's header says none is set and leads to Settings, where
    // the address and the token (memory only) go; the station then shows the same checked link.
    const link = station.getByTestId('agent-link');
    await expect(link).toHaveAttribute('data-link', 'no-url');
    await link.getByRole('button', { name: say(lang, 'agentLink_openSettings') }).click();
    const settings = await onScreen(app, 'settings');
    const agent = settings.getByTestId('agent-settings');
    await agent.getByLabel(say(lang, 'agentUrlOptional')).fill(server.url);
    await agent.getByTestId('agent-url-form').getByRole('button', { name: say(lang, 'save'), exact: true }).click();
    await expect(agent.getByTestId('agent-link-indicator')).toHaveAttribute('data-link', 'no-token');
    await agent.getByLabel(say(lang, 'agentToken')).fill(world.token);
    await agent.getByRole('button', { name: say(lang, 'useToken') }).click();
    await expect(agent.getByTestId('agent-link-indicator')).toHaveAttribute('data-link', 'authenticated');
    await app.locator('.solo-nav [data-nav="station"]').click();
    await onScreen(app, 'station', 'empty');
    await expect(link).toHaveAttribute('data-link', 'authenticated');
    await expect(link.getByTestId('agent-link-time')).toBeVisible();

    await host.openFiles([
      { name: 'recovery-request.custos', bytes: s.request },
      { name: 'custodian-3.custos', bytes: s.exports[3] },
      { name: 'custodian-4-tampered.custos', bytes: tamperSignature(s.exports[4]) },
    ]);
    await station.getByRole('button', { name: say(lang, 'chooseFiles') }).click();
    const card = station.getByTestId('station-session');
    await expect(card).toHaveCount(1);
    await expect(card.getByRole('heading', { level: 2 })).toHaveText(
      s.title === undefined ? say(lang, 'sessionTitle', { incident: s.incident }) : say(lang, 'sessionTitleNamed', { incident: s.incident, title: s.title }),
    );
    await expect(card.locator('[data-index="3"]')).toHaveAttribute('data-arrived', 'yes');
    await expect(card.locator('[data-index="4"]')).toHaveAttribute('data-arrived', 'no');
    await expect(card.getByTestId('session-summary')).toHaveText(say(lang, 'missingList', { list: '#4, #5' }));
    await expect(station.getByTestId('station-added').locator('li[data-outcome="refused"]')).toContainText(MESSAGES.SIGNATURE_INVALID[lang]);
    await shot(app, lang, 'station-partial');

    if (lang === 'en') {
      // Custodian 4 shows their export on screen: the station's camera reads it.
      await station.getByRole('button', { name: say(lang, 'scanWithCamera') }).click();
      const camera = await onScreen(app, 'camera', 'scanning');
      await expect(camera).toHaveAttribute('data-messages', '1', { timeout: 30_000 });
      await camera.getByRole('button', { name: say(lang, 'done') }).click();
    } else {
      await dropFiles(station.locator('.dropzone'), [{ name: 'custodian-4.custos', bytes: s.exports[4] }]);
    }
    await expect(card.locator('[data-index="4"]')).toHaveAttribute('data-arrived', 'yes');

    await card.getByRole('button', { name: say(lang, 'submitPending', { n: 2 }) }).click();
    await expect(station.getByTestId('submit-result')).toContainText(say(lang, 'submitResult', { a: 2, r: 0, m: 1 }));
    await expect(card.getByTestId('agent-view')).toBeVisible();
    await shot(app, lang, 'station-submitted');

    await host.openFiles([{ name: 'custodian-5.custos', bytes: s.exports[5] }]);
    await station.getByRole('button', { name: say(lang, 'chooseFiles') }).click();
    await expect(card.getByTestId('session-summary')).toHaveText(say(lang, 'noneMissing'));
    await expect(card.getByLabel(say(lang, 'drillOnly'))).toBeChecked();
    await card.getByRole('button', { name: say(lang, 'completeDrill') }).click();
    await expect(station.getByTestId('completion')).toContainText(say(lang, 'completedDrill'));
    // Issue 12: the recovered keydata's group key, the one the fixture has, and the one number of checks.
    const expected = groupKeyOf(parseKeydata(fixture('ecdsa', 0)));
    const gk = station.getByTestId('group-key');
    await expect(gk).toContainText(expected.compressed);
    await expect(gk).toContainText(expected.address!);
    await expect(gk).toContainText(say(lang, 'groupKeyAddress'));
    await expect(station.getByTestId('completion')).toContainText(say(lang, 'selfCheck', { ok: 17, n: 17 }));
    await shot(app, lang, 'station-complete');
  });
}
