import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestAgent } from './lib/world';
import { expect, LANGS, nav, onScreen, PASSPHRASE, say, shot, test, useLanguage, withVault } from './lib/ui';

// The guided vault backup in the window (issue 13), in each language: the reminder on the Shares
// screen leads to Settings; a wrong passphrase at the verification is an error at the field and no
// copy is left or counted; the right one copies the sealed vault into the folder picked in the
// (scripted) system dialog and the card shows what was verified; a change brings the reminder back;
// a place that is not a folder is refused with the window's sentence. And at the end of first run.

/** A stand-in for a removable drive: a new folder on this machine the dialog answers with. */
function drive(name: string): string {
  const d = join(mkdtempSync(join(tmpdir(), 'custos-e2e-usb-')), name);
  mkdirSync(d);
  return d;
}
const copiesIn = (dir: string): string[] => readdirSync(dir).filter((n) => n.startsWith('custos-vault-'));

for (const lang of LANGS) {
  test(`back up from Settings, verified, reminded after a change [${lang}]`, async ({ app, host }) => {
    await withVault(app, host, lang);
    // A drive named in the person's language (a Chinese folder name goes through main and back).
    const name = lang === 'en' ? 'USB-STICK' : 'U盘备份';
    const usb = drive(name);

    // Never backed up: the Shares screen says so quietly, and leads to the backup card.
    await nav(app, lang, 'shares');
    const reminder = app.getByTestId('backup-reminder');
    await expect(reminder).toContainText(say(lang, 'backup_reminderNever'));
    await shot(app, lang, 'shares-backup-reminder');
    await reminder.getByRole('button', { name: say(lang, 'backup_reminderGo') }).click();
    await onScreen(app, 'settings');
    const card = app.getByTestId('vault-backup');
    await expect(card).toHaveAttribute('data-due', 'true');
    await expect(card.getByTestId('backup-due')).toContainText(say(lang, 'backup_never'));
    const start = card.getByRole('button', { name: say(lang, 'backup_start') });
    await expect(start).toBeDisabled();
    await shot(app, lang, 'settings-backup-never');

    // A wrong passphrase: the copy is opened with it and refused; the error is at the field, no copy is left.
    const field = card.getByLabel(say(lang, 'backup_passphrase'));
    await field.fill(`${PASSPHRASE} wrong`);
    await host.chooseFolder(usb);
    await start.click();
    await expect(card).toHaveAttribute('data-state', 'wrong');
    await expect(card.getByTestId('backup-wrong-passphrase')).toContainText(say(lang, 'backup_wrongPassphrase'));
    await expect(field).toHaveAttribute('aria-invalid', 'true');
    expect(copiesIn(usb)).toEqual([]);
    expect((await host.ok('backup:status', {})).last).toBeNull();
    await expect(card).toHaveAttribute('data-due', 'true');
    await shot(app, lang, 'settings-backup-wrong-passphrase');

    // The right one (once main's wait after the wrong try is over): copied, read back, opened, verified.
    await field.fill(PASSPHRASE);
    await expect(start).toBeEnabled({ timeout: 10_000 });
    await host.chooseFolder(usb);
    await start.click();
    const done = card.getByTestId('backup-done');
    await expect(done).toBeVisible();
    const [copy] = copiesIn(usb);
    expect(copy).toBeDefined();
    const status = await host.ok('backup:status', {});
    expect(status.due).toBe(false);
    expect(status.last?.folder).toBe(copy);
    expect(status.last?.drive).toBe(name);
    const files = status.last?.files ?? 0;
    expect(readdirSync(join(usb, copy!, 'store')).length).toBeGreaterThan(0);
    expect(readFileSync(join(usb, copy!, 'identity.age')).subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    await expect(done).toContainText(say(lang, 'backup_doneIdentity'));
    await expect(done).toContainText(copy!);
    await expect(card).toHaveAttribute('data-due', 'false');
    await expect(card.getByTestId('backup-current')).toBeVisible();
    await expect(card.getByTestId('backup-last')).toContainText(say(lang, 'backup_whereValue', { folder: copy!, drive: name }));
    expect(files).toBeGreaterThanOrEqual(4);
    await card.scrollIntoViewIfNeeded();
    await shot(app, lang, 'settings-backup-done');

    // Back on Shares: no reminder while the backup holds the vault as it is.
    await nav(app, lang, 'shares');
    await onScreen(app, 'shares', 'empty');
    await expect(app.getByTestId('backup-reminder')).toHaveCount(0);

    // A change (the agent pinned is a save): the reminder is back, with the backup's date.
    const agent = new TestAgent();
    await host.ok('trust:pin', { card: { name: 'agent-card.custos', bytes: agent.card }, confirmCode: agent.code });
    await nav(app, lang, 'inbox');
    await nav(app, lang, 'shares');
    await expect(app.getByTestId('backup-reminder')).toBeVisible();
    await expect(app.getByTestId('backup-reminder')).not.toContainText(say(lang, 'backup_reminderNever'));
    await shot(app, lang, 'shares-backup-stale');
    await nav(app, lang, 'settings');
    await expect(card).toHaveAttribute('data-due', 'true');
    await expect(card.getByTestId('backup-due')).toBeVisible();
    await card.scrollIntoViewIfNeeded();
    await shot(app, lang, 'settings-backup-stale');

    // A place that is not a folder (the drive gone, a file picked): the window's sentence, nothing counted.
    const notFolder = join(usb, 'notes.txt');
    writeFileSync(notFolder, 'x');
    await field.fill(PASSPHRASE);
    await host.chooseFolder(notFolder);
    await card.getByRole('button', { name: say(lang, 'backup_start') }).click();
    await expect(card.getByTestId('backup-problem')).toContainText(say(lang, 'backup_err_notFolder'));
    expect(copiesIn(usb)).toEqual([copy]);
    expect((await host.ok('backup:status', {})).last?.folder).toBe(copy);
    await card.scrollIntoViewIfNeeded();
    await shot(app, lang, 'settings-backup-not-folder');

    // Cancelling the folder dialog copies nothing.
    await host.chooseFolder(null);
    await card.getByRole('button', { name: say(lang, 'backup_start') }).click();
    await expect(card.getByTestId('backup-cancelled')).toHaveText(say(lang, 'backup_cancelled'));
    expect(copiesIn(usb)).toEqual([copy]);
  });

  test(`first run offers the backup after the enrollment card [${lang}]`, async ({ app, host }) => {
    await useLanguage(app, host, lang);
    const usb = drive(lang === 'en' ? 'BACKUP' : '备份');
    const form = await onScreen(app, 'first-run', 'form');
    await form.getByLabel(say(lang, 'yourName')).fill('Carol Wu (cold storage)');
    await form.getByTestId('new-passphrase').getByTestId('passphrase-generate').click();
    const passInput = form.getByLabel(say(lang, 'passphrase'), { exact: true });
    await expect(passInput).toHaveAttribute('type', 'text');
    const pass = await passInput.inputValue();
    expect(pass.split(' ')).toHaveLength(6);
    await form.getByRole('button', { name: say(lang, 'createVault') }).click();
    const enrollment = await onScreen(app, 'enrollment');
    const card = enrollment.getByTestId('vault-backup');
    await expect(card.getByRole('heading', { name: say(lang, 'backup_titleFirstRun') })).toBeVisible();
    await expect(card.getByTestId('backup-due')).toContainText(say(lang, 'backup_never'));
    await card.getByLabel(say(lang, 'backup_passphrase')).fill(pass);
    await host.chooseFolder(usb);
    await card.getByRole('button', { name: say(lang, 'backup_start') }).click();
    await expect(card.getByTestId('backup-done')).toBeVisible();
    expect(copiesIn(usb)).toHaveLength(1);
    expect((await host.ok('backup:status', {})).due).toBe(false);
    await card.scrollIntoViewIfNeeded();
    await shot(app, lang, 'enrollment-backup-done');
  });
}
