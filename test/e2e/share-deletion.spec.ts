import { meOf, TestAgent } from './lib/world';
import { expect, LANGS, nav, onScreen, say, shot, test, withVault } from './lib/ui';

// Soft delete and rollback in each language, from a share's details panel: the cooling period
// set in Settings, the share deleted with a reason, shown as "Deleted (cooling)" with the date
// until which it can be rolled back (the vault's purgeAfter, in the page's own date format),
// rolled back, and shown as it was before; the other share is never touched.
const COOLING_DAYS = 9;

for (const lang of LANGS) {
  test(`shares: soft delete from the details panel, cooling period, roll back [${lang}]`, async ({ app, host }) => {
    test.setTimeout(30_000);
    const agent = new TestAgent();
    await withVault(app, host, lang);
    await host.ok('trust:pin', { card: { name: 'agent.custos', bytes: agent.card }, confirmCode: agent.code });
    const me = await meOf(host);
    const kept = await agent.issue(me, { keyId: 'wallet-kept', nodeId: 'node-a' });
    const doomed = await agent.issue(me, { keyId: 'wallet-old', nodeId: 'node-b' });
    const imported = await host.ok('inbox:import', { opId: 'setup', files: [{ name: 'kept.custos', bytes: kept.envelope }, { name: 'old.custos', bytes: doomed.envelope }] });
    expect(imported.accepted).toBe(2);
    await app.reload();

    // The cooling period, in Settings.
    await nav(app, lang, 'settings');
    const settings = await onScreen(app, 'settings');
    const days = settings.getByLabel(say(lang, 'coolingDaysLabel'), { exact: true });
    await days.fill(String(COOLING_DAYS));
    await days.locator('xpath=ancestor::form').getByRole('button', { name: say(lang, 'save'), exact: true }).click();
    await expect.poll(async () => (await host.ok('settings:get', {})).settings.deletionCoolingDays).toBe(COOLING_DAYS);

    await nav(app, lang, 'shares');
    const shares = await onScreen(app, 'shares', 'list');
    const table = shares.getByTestId('shares-table');
    await table.getByRole('button', { name: say(lang, 'openShare', { key: 'wallet-old', node: 'node-b', i: 3 }) }).click();
    const panel = shares.getByTestId('share-details');
    await expect(panel.getByRole('heading', { level: 2 })).toHaveText('wallet-old · node-b · #3');
    await expect(panel.locator('.badge').first()).toHaveText(say(lang, 'status_received'));

    // Delete, with a reason for the audit log.
    await panel.getByRole('button', { name: say(lang, 'deleteShare') }).click();
    await panel.getByLabel(say(lang, 'deleteReason')).fill(lang === 'en' ? 'Node decommissioned' : '节点已停用');
    await shot(app, lang, 'shares-delete-confirm');
    await panel.getByRole('button', { name: say(lang, 'deleteConfirm'), exact: true }).click();

    // Marked deleted, with the date until which it can be rolled back.
    const row = table.locator('tbody tr').filter({ hasText: 'wallet-old' });
    await expect(row).toHaveAttribute('data-status', 'deleted');
    await expect(row.locator('.badge')).toHaveText(say(lang, 'status_deleted'));
    await expect(panel.locator('.badge').first()).toHaveText(say(lang, 'status_deleted'));
    const list = await host.ok('shares:list', { filter: { keyId: 'wallet-old' } });
    const details = await host.ok('shares:details', { id: list.shares[0]!.id });
    const deletion = details.deletion!;
    expect(deletion.purgeAfter - deletion.deletedAt).toBe(COOLING_DAYS * 86_400);
    expect(deletion.previousStatus).toBe('received');
    const until = await app.evaluate(([l, s]) => new Intl.DateTimeFormat(l, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(s * 1000)), [lang, deletion.purgeAfter] as const);
    const cooling = panel.locator('.notice').filter({ hasText: say(lang, 'deletedCooling', { date: until }) });
    await expect(cooling).toBeVisible();
    await expect(panel.locator('ol.history')).toContainText(say(lang, 'history_deleted'));
    // The history line gives the same date, formatted, never Unix seconds.
    await expect(panel.locator('ol.history')).toContainText(say(lang, 'detail_deletedUntil', { date: until }));
    await expect(panel.locator('ol.history')).not.toContainText(String(deletion.purgeAfter));
    expect((await host.ok('vault:status', {})).counts).toMatchObject({ received: 1, deleted: 1 });
    await shot(app, lang, 'shares-deleted-cooling');

    // The deleted filter finds it.
    await shares.getByLabel(say(lang, 'status'), { exact: true }).selectOption('deleted');
    await expect(table.locator('tbody tr')).toHaveCount(1);
    await expect(table.locator('tbody tr')).toHaveAttribute('data-status', 'deleted');
    await shares.getByRole('button', { name: say(lang, 'clearFilters') }).click();
    await expect(table.locator('tbody tr')).toHaveCount(2);

    // Roll back: restored to what it was, the delete button offered again.
    await cooling.getByRole('button', { name: say(lang, 'rollbackDelete') }).click();
    await expect(row).toHaveAttribute('data-status', 'received');
    await expect(row.locator('.badge')).toHaveText(say(lang, 'status_received'));
    await expect(panel.locator('.badge').first()).toHaveText(say(lang, 'status_received'));
    await expect(panel.locator('.notice')).toHaveCount(0);
    await expect(panel.getByRole('button', { name: say(lang, 'deleteShare') })).toBeVisible();
    await expect(panel.locator('ol.history')).toContainText(say(lang, 'history_rollback'));
    const after = await host.ok('shares:details', { id: list.shares[0]!.id });
    expect(after.status).toBe('received');
    expect(after.deletion).toBeUndefined();
    expect((await host.ok('vault:status', {})).counts).toMatchObject({ received: 2, deleted: 0 });
    await expect(table.locator('tbody tr').filter({ hasText: 'wallet-kept' })).toHaveAttribute('data-status', 'received');
    await shot(app, lang, 'shares-rolled-back');
  });
}
