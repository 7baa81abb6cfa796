import { mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { meOf, TestAgent } from './lib/world';
import { expect, LANGS, onScreen, PASSPHRASE, say, shot, test, useLanguage, withVault } from './lib/ui';

// Restoring the vault from a backup in the window (issue 13, H2), in each language, as a custodian
// whose laptop disk was lost: a vault with two shares is made and backed up to a "drive"; then a
// fresh profile (an empty vault folder) starts on the first screen, which offers the restore. The
// wrong passphrase and the drive picked instead of the backup on it are refused with the window's
// sentences and restore nothing; the right passphrase and the backup folder bring the vault back,
// unlocked, on the Shares screen with both shares. Locked again, the unlock screen says how a
// backup would be restored (never over this vault).

/** A stand-in for a removable drive: a new folder on this machine the dialog answers with. */
function drive(name: string): string {
  const d = join(mkdtempSync(join(tmpdir(), 'custos-e2e-usb-')), name);
  mkdirSync(d);
  return d;
}

for (const lang of LANGS) {
  test(`restore a vault from a backup on the first screen [${lang}]`, async ({ app, host }) => {
    test.setTimeout(60_000);
    // The vault as it was on the lost laptop: an agent pinned, two shares, backed up and verified.
    await withVault(app, host, lang);
    const agent = new TestAgent();
    await host.ok('trust:pin', { card: { name: 'agent.custos', bytes: agent.card }, confirmCode: agent.code });
    const me = await meOf(host);
    const a = await agent.issue(me, { keyId: 'wallet-hot', nodeId: 'node-a' });
    const b = await agent.issue(me, { keyId: 'wallet-cold', nodeId: 'node-b' });
    expect((await host.ok('inbox:import', { opId: 'setup', files: [{ name: 'a.custos', bytes: a.envelope }, { name: 'b.custos', bytes: b.envelope }] })).accepted).toBe(2);
    const fingerprint = (await host.ok('vault:status', {})).info?.fingerprint;
    const usb = drive(lang === 'en' ? 'USB-STICK' : 'U盘备份');
    await host.chooseFolder(usb);
    const backup = (await host.ok('backup:toFolder', { passphrase: PASSPHRASE })).backup!;
    const copy = join(usb, backup.folder);

    // The new laptop: an empty vault folder, the person's language chosen on the first screen.
    await host.reset();
    await useLanguage(app, host, lang);
    const first = await onScreen(app, 'first-run', 'form');
    await expect(first.getByTestId('restore-offer')).toContainText(say(lang, 'restore_offer'));
    await shot(app, lang, 'first-run-restore-offer');
    await first.getByRole('button', { name: say(lang, 'restore_open') }).click();
    const screen = await onScreen(app, 'restore', 'ready');
    await expect(screen.getByRole('heading', { level: 1 })).toHaveText(say(lang, 'restore_title'));
    const field = screen.getByLabel(say(lang, 'restore_passphrase'));
    const start = screen.getByRole('button', { name: say(lang, 'restore_start') });
    await expect(start).toBeDisabled();
    await shot(app, lang, 'restore-form');

    // Cancelling the folder dialog restores nothing.
    await field.fill(PASSPHRASE);
    await host.chooseFolder(null);
    await start.click();
    await expect(screen.getByTestId('restore-cancelled')).toHaveText(say(lang, 'restore_cancelled'));
    expect((await host.ok('vault:status', {})).exists).toBe(false);

    // A wrong passphrase: an error at the field, nothing restored.
    await field.fill(`${PASSPHRASE} wrong`);
    await host.chooseFolder(copy);
    await start.click();
    await onScreen(app, 'restore', 'wrong');
    await expect(screen.getByTestId('restore-wrong-passphrase')).toHaveText(say(lang, 'restore_wrongPassphrase'));
    await expect(field).toHaveAttribute('aria-invalid', 'true');
    await expect(field).toHaveValue('');
    expect((await host.ok('vault:status', {})).exists).toBe(false);
    await shot(app, lang, 'restore-wrong-passphrase');

    // The drive picked instead of the backup folder on it: the window's sentence says which to pick.
    await field.fill(PASSPHRASE);
    await host.chooseFolder(usb);
    await start.click();
    await onScreen(app, 'restore', 'error');
    await expect(screen.getByTestId('restore-problem')).toContainText(say(lang, 'restore_err_notBackup'));
    expect((await host.ok('vault:status', {})).exists).toBe(false);
    expect(readdirSync(usb)).toEqual([backup.folder]);
    await shot(app, lang, 'restore-not-backup');

    // The backup folder and the right passphrase: verified, put in place, unlocked, the shares are back.
    await host.chooseFolder(copy);
    await start.click();
    const shares = await onScreen(app, 'shares', 'list', { timeout: 20_000 });
    const rows = shares.getByTestId('shares-table').locator('tbody tr');
    await expect(rows).toHaveCount(2);
    await expect(rows.filter({ hasText: 'wallet-hot' })).toHaveCount(1);
    await expect(rows.filter({ hasText: 'wallet-cold' })).toHaveCount(1);
    const status = await host.ok('vault:status', {});
    expect(status).toMatchObject({ exists: true, unlocked: true, counts: { received: 2 } });
    expect(status.info?.fingerprint).toBe(fingerprint);
    expect(status.agent?.code).toBe(agent.code);
    await expect(app.locator(`.app[data-lang="${lang}"]`)).toBeAttached();
    // The backup it came from counts as its verified backup: no reminder.
    expect((await host.ok('backup:status', {})).due).toBe(false);
    await expect(shares.getByTestId('shares-count')).toBeVisible();
    await expect(app.getByTestId('backup-reminder')).toHaveCount(0);
    await shot(app, lang, 'restore-done-shares');

    // Locked: the unlock screen says how a backup is restored, and that it never goes over this vault.
    await host.ok('vault:lock', {});
    await app.reload();
    const unlock = await onScreen(app, 'unlock');
    const hint = unlock.getByTestId('restore-elsewhere');
    await hint.getByText(say(lang, 'unlock_restoreTitle')).click();
    await expect(hint).toContainText(say(lang, 'unlock_restoreNever'));
    await expect(hint).toContainText(say(lang, 'unlock_restoreHow'));
    await shot(app, lang, 'unlock-restore-hint');
    // And the restored vault unlocks with its passphrase.
    await unlock.getByLabel(say(lang, 'passphrase'), { exact: true }).fill(PASSPHRASE);
    await unlock.getByRole('button', { name: say(lang, 'unlock'), exact: true }).click();
    await expect(app.locator('main[data-state="unlocked"]')).toBeVisible();
  });
}
