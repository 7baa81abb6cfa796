import { createServer } from 'node:net';
import { serveAgent } from '../../agent/rpc/server';
import { MESSAGES, sentence } from '../../main/services/messages';
import { createWorld } from '../rpc/world';
import { expect, nav, onScreen, say, shot, test, useLanguage, withVault } from './lib/ui';
import type { Locator } from '@playwright/test';

// Settings → Recovery agent (issue 13, "The rough edges") in each language, against a REAL agent
// (agent/service.ts on its Connect socket on 127.0.0.1): the station-only operator reaches Settings
// from the station's bar; no agent, a refused address, nobody listening, a token that cannot be
// one, a wrong token (rejected by the agent) and the right one (authenticated), each shown by the
// one indicator in Settings and in the station's header (and the navigation, with a vault), with
// the time of the check; every refusal at its field (aria-invalid, aria-describedby).
const world = await createWorld();
const server = await serveAgent(world.agent, { logger: { info: () => undefined, warn: () => undefined, error: () => undefined }, recoveryRateLimit: { perMinute: 600, burst: 100 } });
test.afterAll(async () => {
  await server.close();
  world.close();
});

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => { r(); }));
  return port;
}

/** The input is refused at its field: marked invalid, described by the refusal shown under it, which says `text`. */
async function expectRefusedAt(input: Locator, text: string): Promise<void> {
  await expect(input).toHaveAttribute('aria-invalid', 'true');
  const ids = ((await input.getAttribute('aria-describedby')) ?? '').split(' ').filter((x) => x !== '');
  const page = input.page();
  const described = await Promise.all(ids.map(async (id) => (await page.locator(`[id="${id}"]`).innerText()).trim()));
  expect(described.some((d) => d.includes(text)), `${text} in ${JSON.stringify(described)}`).toBe(true);
}

for (const lang of ['en', 'zh-CN'] as const) {
  test(`recovery agent link: none, refused address, unreachable, bad token, rejected, authenticated; the station agrees [${lang}]`, async ({ app, host }) => {
    test.setTimeout(90_000);
    await useLanguage(app, host, lang);
    await onScreen(app, 'first-run', 'form');
    await app.getByRole('button', { name: say(lang, 'openStation') }).click();
    const station = await onScreen(app, 'station', 'empty');
    const stationLink = station.getByTestId('agent-link');
    await expect(stationLink).toHaveAttribute('data-link', 'no-url');
    await expect(stationLink).toContainText(say(lang, 'agentLink_state_no-url'));
    await shot(app, lang, 'agent-station-none');

    // The station-only operator's Settings: language and the recovery agent, nothing that needs a vault.
    await app.locator('.solo-nav [data-nav="settings"]').click();
    const settings = await onScreen(app, 'settings');
    await expect(settings.getByTestId('settings-station-only')).toBeVisible();
    await expect(settings.getByLabel(say(lang, 'autoLockMinutes'))).toHaveCount(0);
    const agent = settings.getByTestId('agent-settings');
    const indicator = agent.getByTestId('agent-link-indicator');
    const url = agent.getByLabel(say(lang, 'agentUrlOptional'));
    const token = agent.getByLabel(say(lang, 'agentToken'));
    const saveUrl = agent.getByTestId('agent-url-form').getByRole('button', { name: say(lang, 'save'), exact: true });
    const useToken = agent.getByRole('button', { name: say(lang, 'useToken') });
    await expect(indicator).toHaveAttribute('data-link', 'no-url');
    await expect(token).toBeDisabled();
    await shot(app, lang, 'agent-settings-none');

    // An address the app may not contact (plain http to another host): refused at the field.
    await url.fill('http://agent.example.com:8443');
    await saveUrl.click();
    await expectRefusedAt(url, MESSAGES.SETTINGS_INVALID[lang]);
    await expect(settings.getByTestId('problem')).toHaveCount(0);
    expect((await host.ok('settings:get', {})).settings.agentUrl).toBeNull();
    await shot(app, lang, 'agent-settings-url-refused');

    // Nobody listening there.
    await url.fill(`http://127.0.0.1:${String(await closedPort())}`);
    await saveUrl.click();
    await expect(url).not.toHaveAttribute('aria-invalid', 'true');
    await expect(indicator).toHaveAttribute('data-link', 'no-token');
    // What cannot be a token: refused at the token field, by name, never echoed.
    await token.fill('too short');
    await useToken.click();
    await expectRefusedAt(token, MESSAGES.AGENT_TOKEN_INVALID[lang]);
    await expect(settings).not.toContainText('too short');
    await shot(app, lang, 'agent-settings-token-invalid');
    await token.fill(world.token);
    await useToken.click();
    await expect(token).not.toHaveAttribute('aria-invalid', 'true');
    await expect(token).toHaveValue('');
    await expect(indicator).toHaveAttribute('data-link', 'unreachable');
    await expect(indicator.getByTestId('agent-link-reason')).toHaveAttribute('data-reason', 'refused');
    await expect(indicator).toContainText(say(lang, 'agentLink_reason_refused'));
    await expect(indicator.getByTestId('agent-link-time')).toBeVisible();
    await shot(app, lang, 'agent-settings-unreachable');

    // The real agent, a wrong token: reachable, the token rejected, in words that say what to do.
    await url.fill(server.url);
    await saveUrl.click();
    await expect(indicator).toHaveAttribute('data-link', 'no-token');
    await token.fill('custos_0123456789abcdef_not-the-token-the-agent-has-given-at-all');
    await useToken.click();
    await expect(indicator).toHaveAttribute('data-link', 'rejected');
    const rejected = sentence('AGENT_TOKEN_REJECTED', lang, { agentCode: 'UNAUTHENTICATED' });
    await expect(indicator).toContainText(rejected);
    await expect(indicator).toContainText(say(lang, 'agentLink_state_rejected'));
    await shot(app, lang, 'agent-settings-rejected');
    // The station's header says the same.
    await app.locator('.solo-nav [data-nav="station"]').click();
    await onScreen(app, 'station', 'empty');
    await expect(stationLink).toHaveAttribute('data-link', 'rejected');
    await expect(stationLink).toContainText(rejected);
    await shot(app, lang, 'agent-station-rejected');

    // The right token: authenticated, with the time of the check; checked again on demand.
    await stationLink.getByRole('button', { name: say(lang, 'agentLink_openSettings') }).click();
    await onScreen(app, 'settings');
    await token.fill(world.token);
    await useToken.click();
    await expect(indicator).toHaveAttribute('data-link', 'authenticated');
    await expect(indicator).toContainText(say(lang, 'agentLink_state_authenticated'));
    await expect(indicator.getByTestId('agent-link-reason')).toHaveCount(0);
    await expect(indicator.getByTestId('agent-link-time')).toBeVisible();
    await expect(agent.getByRole('button', { name: say(lang, 'forgetToken') })).toBeVisible();
    await indicator.getByRole('button', { name: say(lang, 'agentLink_recheck') }).click();
    await expect(indicator).toHaveAttribute('data-link', 'authenticated');
    await shot(app, lang, 'agent-settings-authenticated');
    await app.locator('.solo-nav [data-nav="station"]').click();
    await onScreen(app, 'station', 'empty');
    await expect(stationLink).toHaveAttribute('data-link', 'authenticated');
    await expect(stationLink.getByTestId('agent-link-time')).toBeVisible();
    await shot(app, lang, 'agent-station-authenticated');
  });

  test(`settings with a vault: refusals at their fields; the navigation, Settings and the station show one link [${lang}]`, async ({ app, host }) => {
    test.setTimeout(60_000);
    await withVault(app, host, lang);
    const navLink = app.getByTestId('agent-link-nav');
    await expect(navLink).toHaveAttribute('data-link', 'no-url');
    await expect(navLink).toHaveText(say(lang, 'navOffline'));
    await nav(app, lang, 'settings');
    const settings = await onScreen(app, 'settings');
    const minutes = settings.getByLabel(say(lang, 'autoLockMinutes'));
    await minutes.fill('5000');
    await minutes.press('Enter');
    await expectRefusedAt(minutes, say(lang, 'errMinutesRange'));
    const cooling = settings.getByLabel(say(lang, 'coolingDaysLabel'));
    await cooling.fill('0');
    await cooling.press('Enter');
    await expectRefusedAt(cooling, say(lang, 'errDaysRange'));
    // One refusal at a time, at the field it belongs to.
    await expect(minutes).not.toHaveAttribute('aria-invalid', 'true');
    const expiry = settings.getByLabel(say(lang, 'policyMinExpiry'));
    await expiry.fill('99999');
    await expiry.press('Enter');
    await expectRefusedAt(expiry, say(lang, 'errPolicyMinutesRange'));
    await shot(app, lang, 'settings-field-refused');
    await expiry.fill('120');
    await expiry.press('Enter');
    await onScreen(app, 'settings', 'saved');
    await expect(expiry).not.toHaveAttribute('aria-invalid', 'true');

    const agent = settings.getByTestId('agent-settings');
    await agent.getByLabel(say(lang, 'agentUrlOptional')).fill(server.url);
    await agent.getByTestId('agent-url-form').getByRole('button', { name: say(lang, 'save'), exact: true }).click();
    // An address without a token is not linked, in every place.
    await expect(navLink).toHaveAttribute('data-link', 'no-token');
    await expect(agent.getByTestId('agent-link-indicator')).toHaveAttribute('data-link', 'no-token');
    await agent.getByLabel(say(lang, 'agentToken')).fill(world.token);
    await agent.getByRole('button', { name: say(lang, 'useToken') }).click();
    await expect(agent.getByTestId('agent-link-indicator')).toHaveAttribute('data-link', 'authenticated');
    await expect(navLink).toHaveAttribute('data-link', 'authenticated');
    await expect(navLink).toHaveText(say(lang, 'agentLink_state_authenticated'));
    await shot(app, lang, 'settings-agent-authenticated-vault');
    await nav(app, lang, 'station');
    await expect(app.getByTestId('agent-link')).toHaveAttribute('data-link', 'authenticated');
  });
}
