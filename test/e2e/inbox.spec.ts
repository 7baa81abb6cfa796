import { renderPng } from '../../shared/qr/render';
import { framesFor } from '../../main/services/qr-files';
import { MESSAGES } from '../../main/services/messages';
import { meOf, nowSeconds, someoneElse, tamperSignature, TestAgent, type IssuedSet } from './lib/world';
import { assemble, dropFiles, expect, LANGS, nav, onScreen, pasteText, say, scanElement, shot, test, withVault } from './lib/ui';

// The inbox, shares and receipts in each language: a batch of envelopes with bad ones among the
// good (file dialog), one dropped as a QR picture, one pasted as QR text; the per-envelope result
// with every refusal in words; the shares filtered, one opened, all verified; receipts signed
// (accepted, rejected with a reason, rejected for refused envelopes), saved and shown as QR.
const BATCH = { en: 2000, 'zh-CN': 60 } as const;

for (const lang of LANGS) {
  test(`batch import with bad envelopes among good ones, verify all, receipts [${lang}]`, async ({ app, host }) => {
    test.setTimeout(120_000);
    const agent = new TestAgent();
    await withVault(app, host, lang);
    await host.ok('trust:pin', { card: { name: 'agent.custos', bytes: agent.card }, confirmCode: agent.code });
    await app.reload();
    const inbox = await onScreen(app, 'inbox', 'empty');
    await shot(app, lang, 'inbox-empty');

    const me = await meOf(host);
    const n = BATCH[lang];
    const sets: IssuedSet[] = [];
    const t0 = Date.now();
    for (let i = 0; i < n; i++) sets.push(await agent.issue(me, { keyId: `key-${String(Math.floor(i / 2)).padStart(4, '0')}`, nodeId: i % 2 === 0 ? 'node-a' : 'node-b' }));
    const tampered = tamperSignature((await agent.issue(me, { keyId: 'key-tampered' })).envelope);
    const elsewhere = (await agent.issue(await someoneElse(), { keyId: 'key-elsewhere' })).envelope;
    const expired = (await agent.issue(me, { keyId: 'key-expired', createdAt: nowSeconds() - 7200, notAfter: nowSeconds() - 3600 })).envelope;
    const files = sets.map((s, i) => ({ name: `envelope-${String(i + 1).padStart(4, '0')}.custos`, bytes: s.envelope }));
    files.splice(Math.floor(n / 3), 0, { name: 'tampered.custos', bytes: tampered });
    files.splice(Math.floor(n / 2), 0, { name: 'for-someone-else.custos', bytes: elsewhere });
    files.push({ name: 'expired.custos', bytes: expired });

    console.log(`generated ${String(n)} envelopes in ${String(Date.now() - t0)} ms`);
    await host.openFiles(files);
    const t1 = Date.now();
    await inbox.getByRole('button', { name: say(lang, 'chooseFiles') }).click();
    if (lang === 'en') {
      // Thousands take a moment: the progress bar shows how far it is.
      await expect(inbox.getByTestId('import-progress').locator('.progress-count')).toBeVisible();
      await shot(app, lang, 'inbox-importing');
    }
    await expect(app.locator('[data-screen="inbox"][data-state="done"]')).toBeVisible({ timeout: 60_000 });
    console.log(`imported in ${String(Date.now() - t1)} ms`);
    await expect(inbox.getByTestId('count-accepted')).toContainText(String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ','));
    await expect(inbox.getByTestId('count-refused')).toContainText('3');
    await shot(app, lang, 'inbox-done');

    // Every refusal names its reason in the current language (main's sentence for the code).
    await expect(inbox.getByTestId('refused-notice')).toContainText(say(lang, 'importRefusedSome', { n: 3 }));
    if (lang === 'en') await inbox.getByTestId('refused-notice').getByRole('button', { name: say(lang, 'showRefused') }).click();
    else await inbox.getByRole('button', { name: say(lang, 'filter_refused'), exact: true }).click();
    const refused = inbox.locator('tr[data-outcome="refused"]');
    await expect(refused).toHaveCount(3);
    await expect(refused.filter({ hasText: 'tampered.custos' })).toContainText(MESSAGES.SIGNATURE_INVALID[lang]);
    await expect(refused.filter({ hasText: 'for-someone-else.custos' })).toContainText(MESSAGES.WRONG_RECIPIENT[lang]);
    await expect(refused.filter({ hasText: 'expired.custos' })).toContainText(MESSAGES.EXPIRED[lang]);
    await shot(app, lang, 'inbox-refused');

    // One more as a picture of its QR code (dropped), one as pasted QR text.
    const pictured = await agent.issue(me, { keyId: 'key-from-picture' });
    // An envelope is several codes at the app's standard density (version 15): one picture each.
    const pngs = await Promise.all(framesFor('envelope', pictured.envelope).map((f) => renderPng(f)));
    expect(pngs.length).toBeGreaterThan(1);
    if (lang === 'en') {
      // PNGs: main reads them and puts the frames together.
      await dropFiles(
        inbox.locator('.dropzone'),
        pngs.map((bytes, i) => ({ name: `envelope-photo-${String(i + 1)}.png`, bytes, type: 'image/png' })),
      );
    } else {
      // JPEGs (as a phone camera makes): decoded in the window (the lazily loaded QR reader).
      const jpegs: string[] = [];
      for (const png of pngs) {
        jpegs.push(
          await app.evaluate(async (b64) => {
            const bitmap = await createImageBitmap(new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], { type: 'image/png' }));
            const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
            canvas.getContext('2d')?.drawImage(bitmap, 0, 0);
            const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.9 })).arrayBuffer());
            let bin = '';
            for (const x of bytes) bin += String.fromCharCode(x);
            return btoa(bin);
          }, Buffer.from(png).toString('base64')),
        );
      }
      await dropFiles(
        inbox.locator('.dropzone'),
        jpegs.map((b64, i) => ({ name: `envelope-photo-${String(i + 1)}.jpg`, bytes: Buffer.from(b64, 'base64'), type: 'image/jpeg' })),
      );
    }
    await expect(inbox.locator('tr[data-outcome="accepted"]').filter({ hasText: 'key-from-picture' })).toBeVisible();
    const pasted = await agent.issue(me, { keyId: 'key-from-paste' });
    await pasteText(app, framesFor('envelope', pasted.envelope).join('\n'));
    await expect(inbox.locator('tr[data-outcome="accepted"]').filter({ hasText: 'key-from-paste' })).toBeVisible();
    const total = n + 2;

    // Shares: filter, details, verify all.
    await nav(app, lang, 'shares');
    const shares = await onScreen(app, 'shares', 'list');
    await expect(shares.getByTestId('shares-count')).toContainText(String(total).replace(/\B(?=(\d{3})+(?!\d))/g, ','));
    await shot(app, lang, 'shares-list');
    await shares.getByLabel(say(lang, 'node'), { exact: true }).selectOption('node-b');
    await shares.getByLabel(say(lang, 'key'), { exact: true }).selectOption('key-0000');
    await expect(shares.getByTestId('shares-table').locator('tbody tr')).toHaveCount(1);
    await shares.getByTestId('shares-table').locator('tbody tr').first().getByRole('button').click();
    await expect(shares.getByTestId('share-details')).toContainText('key-0000 · node-b · #3');
    await shot(app, lang, 'shares-details');
    await shares.getByRole('button', { name: say(lang, 'clearFilters') }).click();
    await shares.getByRole('button', { name: say(lang, 'verifyAll') }).click();
    // Verify-all decrypts every share and checks its commitment: thousands of them take a while on a
    // loaded machine, so this state gets a longer wait than a screen change.
    await onScreen(app, 'shares', 'verified', { timeout: 90_000 });
    await expect(shares.getByTestId('verify-results')).toContainText(say(lang, 'verifiedAll', { n: total }));
    await shot(app, lang, 'shares-verified');

    // Receipts: reject one held share with a reason, accept the rest, reject the refused envelopes.
    await nav(app, lang, 'receipts');
    const receipts = await onScreen(app, 'receipts', 'ready');
    await shot(app, lang, 'receipts-ready');
    await receipts.getByRole('checkbox', { name: say(lang, 'selectShare', { key: 'key-0000', node: 'node-a', i: 3 }) }).check();
    await receipts.getByRole('button', { name: say(lang, 'rejectSelected', { n: 1 }) }).click();
    await receipts.getByLabel(say(lang, 'rejectReason')).selectOption('SHARE_COMMITMENT_MISMATCH');
    await receipts.getByLabel(say(lang, 'rejectNote')).fill(lang === 'en' ? 'Checked twice; call me.' : '已核对两次，请来电。');
    await shot(app, lang, 'receipts-reject-reason');
    await receipts.getByRole('button', { name: say(lang, 'signRejected', { n: 1 }) }).click();
    await onScreen(app, 'receipts', 'signed');
    await expect(receipts.getByTestId('signed-receipts')).toContainText(say(lang, 'reason_SHARE_COMMITMENT_MISMATCH'));
    await receipts.getByRole('button', { name: say(lang, 'saveReceipt') }).click();
    await expect(receipts.getByTestId('receipts-saved')).toBeVisible();
    await receipts.getByRole('button', { name: say(lang, 'done') }).click();

    await receipts.getByRole('button', { name: say(lang, 'acceptAll', { n: total - 1 }) }).click();
    await onScreen(app, 'receipts', 'signed');
    await expect(receipts.getByTestId('signed-receipts')).toContainText(say(lang, 'signedTitle', { n: total - 1 }));
    await shot(app, lang, 'receipts-signed');
    await receipts.getByRole('button', { name: say(lang, 'saveReceipts', { n: total - 1 }) }).click();
    await expect(receipts.getByTestId('receipts-saved')).toBeVisible();

    // One receipt as QR, read back by zbarimg: the same bytes as its file.
    const saved = (await host.saved()).saved;
    await receipts.getByRole('button', { name: say(lang, 'showQr') }).first().click();
    const player = await onScreen(app, 'qr-player');
    await shot(app, lang, 'receipts-qr');
    const scanned = assemble(await scanElement(player.getByTestId('player-qr')));
    expect(saved.some((f) => Buffer.from(f.bytes).equals(Buffer.from(scanned)))).toBe(true);
    await app.keyboard.press('Escape');
    await receipts.getByRole('button', { name: say(lang, 'done') }).click();

    await receipts.getByRole('button', { name: say(lang, 'rejectAllRefused', { n: 3 }) }).click();
    await onScreen(app, 'receipts', 'signed');
    await receipts.getByRole('button', { name: say(lang, 'saveReceipts', { n: 3 }) }).click();
    await expect(receipts.getByTestId('receipts-saved')).toBeVisible();
    await receipts.getByRole('button', { name: say(lang, 'done') }).click();
    await onScreen(app, 'receipts', 'empty');
    await shot(app, lang, 'receipts-empty');
    expect((await host.saved()).saved).toHaveLength(1 + (total - 1) + 3);
    const counts = (await host.ok('vault:status', {})).counts;
    // The rejected share stays 'received' (ops replace it, or the custodian deletes it); it is not offered again.
    expect(counts).toMatchObject({ received: 1, confirmed: total - 1, refused: 3 });
  });
}

// Issue 12: refusals in three classes with their own look and advice. A tampered (bad signature)
// or truncated envelope is a possible attack and is never advised to ask the sender again; one for
// another custodian or expired is "not for you / out of date"; a second copy of a file already
// imported and a stray notes.txt are harmless, and "sign rejected for all" leaves them out.
for (const lang of LANGS) {
  test(`refusal classes: attack, not for you, harmless; harmless never offered a rejection [${lang}]`, async ({ app, host }) => {
    const agent = new TestAgent();
    await withVault(app, host, lang);
    await host.ok('trust:pin', { card: { name: 'agent.custos', bytes: agent.card }, confirmCode: agent.code });
    await app.reload();
    const inbox = await onScreen(app, 'inbox', 'empty');
    const me = await meOf(host);
    const good = (await agent.issue(me, { keyId: 'key-good' })).envelope;
    const tampered = tamperSignature((await agent.issue(me, { keyId: 'key-tampered' })).envelope);
    const whole = (await agent.issue(me, { keyId: 'key-truncated' })).envelope;
    const elsewhere = (await agent.issue(await someoneElse(), { keyId: 'key-elsewhere' })).envelope;
    const expired = (await agent.issue(me, { keyId: 'key-expired', createdAt: nowSeconds() - 7200, notAfter: nowSeconds() - 3600 })).envelope;
    await host.openFiles([
      { name: 'good.custos', bytes: good },
      { name: 'tampered.custos', bytes: tampered },
      { name: 'truncated.custos', bytes: whole.slice(0, whole.length - 50) },
      { name: 'for-someone-else.custos', bytes: elsewhere },
      { name: 'expired.custos', bytes: expired },
      { name: 'good-again.custos', bytes: good },
      { name: 'notes.txt', bytes: new TextEncoder().encode('Call Bob about the lunch order on Friday.\n') },
    ]);
    await inbox.getByRole('button', { name: say(lang, 'chooseFiles') }).click();
    await onScreen(app, 'inbox', 'done');
    await expect(inbox.getByTestId('count-accepted')).toContainText('1');
    await expect(inbox.getByTestId('count-refused')).toContainText('6');

    const rows = inbox.locator('tr[data-outcome="refused"]');
    const classOf = async (name: string): Promise<string | null> => rows.filter({ hasText: name }).getAttribute('data-class');
    expect(await classOf('tampered.custos')).toBe('possible-attack');
    expect(await classOf('truncated.custos')).toBe('possible-attack');
    expect(await classOf('for-someone-else.custos')).toBe('not-for-you-or-outdated');
    expect(await classOf('expired.custos')).toBe('not-for-you-or-outdated');
    expect(await classOf('good-again.custos')).toBe('harmless');
    expect(await classOf('notes.txt')).toBe('harmless');
    await expect(rows.filter({ hasText: 'tampered.custos' })).toContainText(say(lang, 'inboxClass_possible-attack'));

    // The three looks, each with its count and its advice.
    const notice = inbox.getByTestId('refused-notice');
    await expect(notice).toHaveClass(/notice-error/);
    const attack = notice.getByTestId('class-possible-attack');
    await expect(attack).toContainText(say(lang, 'inboxClassCount_possible-attack', { n: 2 }));
    await expect(inbox.getByTestId('class-not-for-you-or-outdated')).toContainText(say(lang, 'inboxClassCount_not-for-you-or-outdated', { n: 2 }));
    await expect(inbox.getByTestId('class-harmless')).toContainText(say(lang, 'inboxClassCount_harmless', { n: 2 }));
    await expect(inbox.getByTestId('class-harmless')).toContainText(say(lang, 'inboxClassNoReceipt'));
    // An attack is never answered with "ask the sender for a fresh copy": report it to security.
    const attackText = (await attack.innerText()) + (await rows.filter({ hasText: 'tampered.custos' }).innerText());
    if (lang === 'en') {
      expect(attackText).toContain('report it to security');
      expect(attackText.toLowerCase()).not.toMatch(/ask the sender for a (fresh|new)|ask the sender again|send (you )?(a )?new/);
    } else {
      expect(attackText).toContain('报告安全团队');
      expect(attackText).not.toContain('索取新的副本');
    }
    await shot(app, lang, 'inbox-refusal-classes');

    // Receipts: the tampered, for-someone-else and expired envelopes are offered a rejection; the
    // truncated one cannot be named by a receipt; the duplicate and notes.txt are never listed.
    await nav(app, lang, 'receipts');
    const receipts = await onScreen(app, 'receipts', 'ready');
    const refused = receipts.getByTestId('refused-envelopes');
    await expect(refused).toContainText('tampered.custos');
    await expect(refused).not.toContainText('notes.txt');
    await expect(refused).not.toContainText('good-again.custos');
    await receipts.getByRole('button', { name: say(lang, 'rejectAllRefused', { n: 3 }) }).click();
    await onScreen(app, 'receipts', 'signed');
    await expect(receipts.getByTestId('signed-receipts')).toContainText(say(lang, 'signedTitle', { n: 3 }));
    await shot(app, lang, 'receipts-refusal-classes');
  });
}
