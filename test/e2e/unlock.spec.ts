import { expect, hold, LANGS, nav, onScreen, PASSPHRASE, say, shot, test, withVault } from './lib/ui';
import { meOf, TestAgent } from './lib/world';

// Locking and unlocking in each language: "Lock now", wrong passphrases with a countdown that
// grows, the right one, auto-lock after the idle time set in Settings, and the Settings screen
// (language, auto-lock, the optional agent URL and what it means for the network).
for (const lang of LANGS) {
  test(`lock now, wrong passphrase with growing delays, unlock [${lang}]`, async ({ app, host }) => {
    await withVault(app, host, lang);
    await app.getByTestId('lock-now').click();
    const unlock = await onScreen(app, 'unlock', 'ready');
    await expect(unlock).toHaveAttribute('data-locked-reason', 'request');
    await shot(app, lang, 'unlock-locked');

    const field = unlock.getByLabel(say(lang, 'passphrase'));
    const button = unlock.getByRole('button', { name: new RegExp(`^(${say(lang, 'unlock')}|${say(lang, 'unlockWait', { s: 7 }).replace('7', '\\d+')})$`) });
    const seen: string[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      await expect(unlock).toHaveAttribute('data-countdown', 'none', { timeout: 10_000 });
      await field.fill(`wrong passphrase ${String(attempt)}`);
      await button.click();
      await expect(app.locator('[data-screen="unlock"][data-state="wrong"][data-countdown="active"]')).toBeVisible();
      await expect(unlock.getByTestId('wrong-passphrase')).toBeVisible();
      seen.push((await unlock.getByTestId('countdown').textContent()) ?? '');
      if (attempt === 1) await shot(app, lang, 'unlock-wrong');
      if (attempt === 3) {
        await expect(unlock.getByText(say(lang, 'wrongPassphraseMany', { n: 3 }))).toBeVisible();
        await expect(button).toBeDisabled();
        await shot(app, lang, 'unlock-wrong-3');
      }
    }
    // 0.5 s, 1 s, 2 s: the displayed wait (whole seconds) grows.
    const secs = seen.map((s) => Number(/\d+/.exec(s)?.[0]));
    expect(secs[2]).toBeGreaterThan(secs[0]!);
    const events = await host.events();
    expect(events.filter((e) => e.event === 'vault:locked')).toHaveLength(1);

    await expect(unlock).toHaveAttribute('data-countdown', 'none', { timeout: 10_000 });
    await field.fill(PASSPHRASE);
    const unlocking = await hold(app, 'vault:unlock');
    await button.click();
    await unlocking.arrived;
    await onScreen(app, 'unlock', 'unlocking');
    await expect(unlock.getByTestId('unlock-progress')).toBeVisible();
    await shot(app, lang, 'unlock-unlocking');
    unlocking.release();
    await expect(app.locator('main[data-state="unlocked"]')).toBeVisible();
    await onScreen(app, 'trust', 'none');
  });

  test(`unlock shows the records being read on a progress bar, then the shares [${lang}]`, async ({ app, host }) => {
    const agent = new TestAgent();
    await withVault(app, host, lang);
    await host.ok('trust:pin', { card: { name: 'agent.custos', bytes: agent.card }, confirmCode: agent.code });
    const me = await meOf(host);
    const sets = [];
    for (const node of ['node-1', 'node-2', 'node-3']) sets.push(await agent.issue(me, { keyId: 'key-treasury', nodeId: node }));
    await host.ok('inbox:import', { opId: 'setup', files: sets.map((x, i) => ({ name: `e${String(i)}.custos`, bytes: x.envelope })) });
    await app.reload();
    await app.getByTestId('lock-now').click();
    const unlock = await onScreen(app, 'unlock', 'ready');

    // The main process holds the unlock after its first record file: the bar shows how far it is.
    await host.holdUnlock(true);
    await unlock.getByLabel(say(lang, 'passphrase')).fill(PASSPHRASE);
    await unlock.getByRole('button', { name: say(lang, 'unlock') }).click();
    await onScreen(app, 'unlock', 'unlocking');
    const bar = unlock.getByTestId('unlock-progress');
    const meter = bar.getByRole('progressbar');
    await expect(meter).toHaveAttribute('aria-valuenow', '1');
    const total = Number(await meter.getAttribute('aria-valuemax'));
    expect(total).toBeGreaterThan(1);
    await expect(bar).toContainText(say(lang, 'unlockReading'));
    await expect(bar).toContainText(`1 / ${String(total)}`);
    await expect(unlock.getByLabel(say(lang, 'passphrase'))).toBeDisabled();
    await shot(app, lang, 'unlock-reading');
    await host.holdUnlock(false);

    await expect(app.locator('main[data-state="unlocked"]')).toBeVisible();
    const reading = (await host.events()).filter((e) => e.event === 'progress' && (e.payload as { channel: string; phase: string }).channel === 'vault:unlock').map((e) => (e.payload as { phase: string }).phase);
    expect(reading[0]).toBe('deriving');
    expect(reading).toContain('reading');
    await nav(app, lang, 'shares');
    const shares = await onScreen(app, 'shares', 'list');
    await expect(shares.getByTestId('shares-table').locator('tbody tr')).toHaveCount(3);
    await shot(app, lang, 'unlock-then-shares');
  });

  test(`auto-lock after the idle time set in Settings [${lang}]`, async ({ app, host }) => {
    await withVault(app, host, lang);
    await nav(app, lang, 'settings');
    const settings = await onScreen(app, 'settings', 'ready');
    await expect(settings.getByText(say(lang, 'offlineNow'))).toBeVisible();
    await shot(app, lang, 'settings-ready');

    await settings.getByLabel(say(lang, 'autoLockMinutes')).fill('1');
    await settings.getByLabel(say(lang, 'autoLockMinutes')).press('Enter');
    await onScreen(app, 'settings', 'saved');
    expect((await host.ok('settings:get', {})).settings.autoLockMinutes).toBe(1);

    // A bad value is refused in words, nothing changes.
    await settings.getByLabel(say(lang, 'autoLockMinutes')).fill('5000');
    await settings.getByLabel(say(lang, 'autoLockMinutes')).press('Enter');
    await onScreen(app, 'settings', 'error');
    // At the field (issue 13): the input is marked invalid and names the refusal under it.
    await expect(settings.getByTestId('field-problem')).toContainText(say(lang, 'errMinutesRange'));
    await expect(settings.getByLabel(say(lang, 'autoLockMinutes'))).toHaveAttribute('aria-invalid', 'true');
    await shot(app, lang, 'settings-error');
    expect((await host.ok('settings:get', {})).settings.autoLockMinutes).toBe(1);

    // The idle timer fires (the host triggers the same lock and event): the unlock screen says why.
    await host.idle();
    const unlock = await onScreen(app, 'unlock', 'ready');
    await expect(unlock).toHaveAttribute('data-locked-reason', 'idle');
    await expect(unlock.getByTestId('locked-idle')).toHaveText(say(lang, 'lockedIdle', { n: 1 }));
    await shot(app, lang, 'unlock-idle');
    expect((await host.ok('vault:status', {})).unlocked).toBe(false);
  });

  test(`empty screens, keyboard navigation; settings: language and the optional linked agent [${lang}]`, async ({ app, host }) => {
    await withVault(app, host, lang);
    // Every screen's empty state, reached with the keyboard: the navigation is buttons, the
    // new screen's heading takes the focus.
    for (const [screen, state] of [['inbox', 'empty'], ['shares', 'empty'], ['receipts', 'empty'], ['recovery', 'empty'], ['inventory', 'empty'], ['station', 'empty'], ['audit', 'intact']] as const) {
      await app.locator(`[data-nav="${screen}"]`).focus();
      await app.keyboard.press('Enter');
      await onScreen(app, screen, state);
      await expect(app.locator(`#h-${screen}`)).toBeFocused();
      await shot(app, lang, `${screen}-${state}`);
    }
    await nav(app, lang, 'settings');
    const settings = await onScreen(app, 'settings');
    const url = settings.getByLabel(say(lang, 'agentUrlOptional'));
    await url.fill('https://agent.example.internal:8443');
    await url.press('Enter');
    await onScreen(app, 'settings', 'saved');
    await expect(settings.getByText(say(lang, 'linkedNow', { url: 'https://agent.example.internal:8443' }))).toBeVisible();
    // An address without a token is not a link (issue 13): the navigation says what is missing.
    await expect(app.getByTestId('agent-link-nav')).toHaveText(say(lang, 'agentLink_state_no-token'));
    await shot(app, lang, 'settings-linked');
    await settings.getByRole('button', { name: say(lang, 'unlinkAgent') }).click();
    await expect(settings.getByText(say(lang, 'offlineNow'))).toBeVisible();
    expect((await host.ok('settings:get', {})).settings.agentUrl).toBeNull();

    // Switch language from Settings: every label follows.
    const other = lang === 'en' ? 'zh-CN' : 'en';
    await settings.getByRole('radio', { name: other === 'en' ? 'English' : '简体中文' }).check();
    await expect(app.locator(`.app[data-lang="${other}"]`)).toBeAttached();
    await expect(app.getByRole('heading', { name: say(other, 'settingsTitle') })).toBeVisible();
    await expect.poll(async () => (await host.ok('settings:get', {})).settings.language).toBe(other);
  });
}
