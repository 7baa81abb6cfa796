import { openCustodianCard } from '../../shared/protocol';
import { FrameAssembler } from '../../shared/qr/ur';
import { expectMixedFrame } from './lib/player';
import { digits, expect, hold, LANGS, onScreen, PASSPHRASE, say, scanElement, shot, test, useLanguage } from './lib/ui';

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
    const field = form.getByTestId('new-passphrase');
    const passInput = form.getByLabel(say(lang, 'passphrase'), { exact: true });
    await passInput.fill('short');
    await form.getByLabel(say(lang, 'passphraseAgain')).fill('shorter');
    await expect(form.locator('[data-strength="too-short"]')).toBeVisible();
    await expect(form.getByText(say(lang, 'passphraseMismatch'))).toBeVisible();
    await shot(app, lang, 'first-run-invalid');

    // Long enough but common: main's policy (zxcvbn at the vault's KDF cost) refuses it at the field,
    // with the reason and the guessing time, and the create button stays disabled.
    await passInput.fill('password1234');
    await form.getByLabel(say(lang, 'passphraseAgain')).fill('password1234');
    await expect(field.locator('[data-strength="weak"]')).toBeVisible();
    await expect(passInput).toHaveAttribute('aria-invalid', 'true');
    await expect(field.getByTestId('strength-reasons')).toContainText(say(lang, 'pass_reason_pattern'));
    await expect(field.getByTestId('strength-reasons')).toContainText(say(lang, 'pass_reason_time', { years: 100 }));
    await expect(field.locator('.strength-time')).toBeVisible();
    await expect(form.getByRole('button', { name: say(lang, 'createVault') })).toBeDisabled();
    // Caps Lock while typing: the warning shows, and goes when it is off again. Headless Chromium has
    // no Caps Lock state of its own (Playwright's CapsLock key does not set it), so the key events
    // carry it as the OS would (KeyboardEvent's modifierCapsLock), read by getModifierState.
    await passInput.focus();
    await passInput.dispatchEvent('keydown', { key: 'A', code: 'KeyA', modifierCapsLock: true, bubbles: true });
    await expect(field.getByTestId('caps-lock')).toHaveText(say(lang, 'pass_capsLock'));
    await shot(app, lang, 'first-run-weak-capslock');
    await passInput.dispatchEvent('keyup', { key: 'a', code: 'KeyA', modifierCapsLock: false, bubbles: true });
    await expect(field.getByTestId('caps-lock')).toBeHidden();

    // Generate: six EFF words fill both fields, shown so they can be written down; hide masks them again.
    await field.getByTestId('passphrase-generate').click();
    await expect(passInput).toHaveAttribute('type', 'text');
    const generated = await passInput.inputValue();
    expect(generated.split(' ')).toHaveLength(6);
    await expect(form.getByLabel(say(lang, 'passphraseAgain'))).toHaveValue(generated);
    await expect(field.locator('[data-strength="strong"]')).toBeVisible();
    await expect(field.getByTestId('guess-time')).toContainText(lang === 'en' ? 'years' : '年');
    await expect(form.getByRole('button', { name: say(lang, 'createVault') })).toBeEnabled();
    await shot(app, lang, 'first-run-generated');
    await field.getByTestId('passphrase-toggle').click();
    await expect(passInput).toHaveAttribute('type', 'password');

    await passInput.fill(PASSPHRASE);
    await form.getByLabel(say(lang, 'passphraseAgain')).fill(PASSPHRASE);
    await expect(field.locator('[data-strength="strong"], [data-strength="fair"]')).toBeVisible();
    await expect(form.getByRole('button', { name: say(lang, 'createVault') })).toBeEnabled();
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
    // At version 15 (the app's QR density) the card may span more than one frame: then the player
    // is opened and its frames are scanned as a phone would, until the message is whole.
    const first = await scanElement(card.getByTestId('enrollment-qr'));
    const assembler = new FrameAssembler();
    for (const f of first) assembler.add(f.toLowerCase());
    if (assembler.progress.expected > 1) {
      await card.getByRole('button', { name: say(lang, 'showQrFrames', { n: assembler.progress.expected }) }).click();
      const player = await onScreen(app, 'qr-player');
      for (let i = 0; i < 60 && assembler.progress.received < assembler.progress.expected; i++) {
        for (const f of await scanElement(player.getByTestId('player-qr'))) assembler.add(f.toLowerCase());
      }
      // Played as the UR tools play it: a density selector, and mixed frames after the numbered ones.
      await expectMixedFrame(player, lang);
      await shot(app, lang, 'enrollment-qr-mixed-frame');
      await app.keyboard.press('Escape');
    }
    const qrCard = assembler.result().payload;
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
