import { openCustodianCard } from '../../shared/protocol';
import { assemble, digits, expect, hold, LANGS, onScreen, PASSPHRASE, say, scanElement, shot, test, useLanguage } from './lib/ui';

// First run in each language: the form (empty, invalid, filled), the vault created, the
// enrollment card with its code in large type, its QR code read back by zbarimg, the card saved.
for (const lang of LANGS) {
  test(`first run: create the vault and show the enrollment card [${lang}]`, async ({ app, host }) => {
    await useLanguage(app, host, lang);
    // The very first moment: the app waits for main to say whether a vault exists.
    const status = await hold(app, 'vault:status');
    await app.reload();
    await status.arrived;
    await onScreen(app, 'loading', 'loading');
    await shot(app, lang, 'app-loading');
    status.release();
    const form = await onScreen(app, 'first-run', 'form');
    await shot(app, lang, 'first-run-empty');
    await expect(form.getByRole('button', { name: say(lang, 'createVault') })).toBeDisabled();

    await form.getByLabel(say(lang, 'yourName')).fill(lang === 'en' ? 'Carol Wu (cold storage)' : '吴晓（冷存储）');
    await form.getByLabel(say(lang, 'passphrase'), { exact: true }).fill('short');
    await form.getByLabel(say(lang, 'passphraseAgain')).fill('shorter');
    await expect(form.locator('[data-strength="too-short"]')).toBeVisible();
    await expect(form.getByText(say(lang, 'passphraseMismatch'))).toBeVisible();
    await shot(app, lang, 'first-run-invalid');

    await form.getByLabel(say(lang, 'passphrase'), { exact: true }).fill(PASSPHRASE);
    await form.getByLabel(say(lang, 'passphraseAgain')).fill(PASSPHRASE);
    await expect(form.locator('[data-strength="strong"]')).toBeVisible();
    await shot(app, lang, 'first-run-filled');
    // The key derivation takes about a second in the app (the test host's KDF is deliberately weak):
    // the call is held so the progress can be seen.
    const creating = await hold(app, 'vault:create');
    await form.getByRole('button', { name: say(lang, 'createVault') }).click();
    await creating.arrived;
    await onScreen(app, 'first-run', 'creating');
    await expect(form.getByTestId('create-progress')).toBeVisible();
    await shot(app, lang, 'first-run-creating');
    creating.release();

    const card = await onScreen(app, 'enrollment', 'shown');
    const vault = await host.ok('vault:status', {});
    expect(vault.unlocked).toBe(true);
    expect(digits(await card.getByTestId('my-code').textContent())).toBe(digits(vault.info?.code ?? 'none'));
    await shot(app, lang, 'enrollment-shown');

    // The QR code on the screen, as another machine's scanner sees it, is the enrollment card.
    const qrCard = assemble(await scanElement(card.getByTestId('enrollment-qr')));
    expect(openCustodianCard(qrCard).code).toBe(vault.info?.code);

    await card.getByRole('button', { name: say(lang, 'saveCardFile') }).click();
    await expect(app.locator('[data-screen="enrollment"][data-state="saved"]')).toBeVisible();
    const { saved } = await host.saved();
    expect(saved).toHaveLength(1);
    expect(saved[0]?.bytes).toEqual(qrCard);
    // The name the person gave survives into the suggested file name, Chinese included (shared/file-name.ts).
    expect(saved[0]?.name).toBe(lang === 'en' ? 'enrollment-card-Carol_Wu__cold_storage_.custos' : 'enrollment-card-吴晓_冷存储_.custos');
    await shot(app, lang, 'enrollment-saved');

    await app.getByTestId('enrollment-continue').click();
    await onScreen(app, 'trust', 'none');
    await shot(app, lang, 'trust-none');
  });
}
