import { meOf, nowSeconds, TestAgent } from './lib/world';
import { expect, LANGS, nav, onScreen, say, shot, test, withVault } from './lib/ui';

// A replacement backup set arriving through the inbox in each language: the agent's envelope of
// the new set (epoch 2) and its signed supersede notice for the old set come in one batch (file
// dialog); the notice is applied first, the new envelope accepted (no conflict), and the old share
// is shown as superseded, with the date after which it is destroyed.
const DESTROY_IN_DAYS = 30;

for (const lang of LANGS) {
  test(`inbox: a new backup set and the supersede notice for the old one [${lang}]`, async ({ app, host }) => {
    test.setTimeout(30_000);
    const agent = new TestAgent();
    await withVault(app, host, lang);
    await host.ok('trust:pin', { card: { name: 'agent.custos', bytes: agent.card }, confirmCode: agent.code });
    const me = await meOf(host);
    const old = await agent.issue(me, { keyId: 'wallet-hot-7', nodeId: 'node-sg-2' });
    const other = await agent.issue(me, { keyId: 'wallet-cold-1', nodeId: 'node-sg-2' });
    const setup = await host.ok('inbox:import', { opId: 'setup', files: [{ name: 'old.custos', bytes: old.envelope }, { name: 'other.custos', bytes: other.envelope }] });
    expect(setup.accepted).toBe(2);

    const next = await agent.issue(me, { keyId: 'wallet-hot-7', nodeId: 'node-sg-2', epoch: 2 });
    const destroyAfter = nowSeconds() + DESTROY_IN_DAYS * 86_400;
    const notice = agent.supersede(me, old, next, destroyAfter);

    await app.reload();
    const inbox = await onScreen(app, 'inbox', 'empty');
    // The envelope first in the batch: the notice is still applied before it.
    await host.openFiles([
      { name: 'wallet-hot-7-e2.custos', bytes: next.envelope },
      { name: 'wallet-hot-7-e1.supersede.cbor', bytes: notice },
    ]);
    await inbox.getByRole('button', { name: say(lang, 'chooseFiles') }).click();
    await onScreen(app, 'inbox', 'done');
    const applied = inbox.locator('tr[data-outcome="applied"]');
    await expect(applied).toHaveCount(1);
    await expect(applied).toContainText('wallet-hot-7-e1.supersede.cbor');
    await expect(applied).toContainText(say(lang, 'supersedeOf', { key: 'wallet-hot-7', node: 'node-sg-2' }));
    await expect(applied).toContainText(say(lang, 'outcome_applied'));
    await expect(applied).toContainText(say(lang, 'supersedeApplied'));
    const accepted = inbox.locator('tr[data-outcome="accepted"]');
    await expect(accepted).toHaveCount(1);
    await expect(accepted).toContainText('wallet-hot-7 · node-sg-2 · #3');
    await expect(inbox.locator('tr[data-outcome="refused"]')).toHaveCount(0);
    await shot(app, lang, 'inbox-supersede');

    // The shares: the old one superseded, the new one received, the unrelated one untouched.
    await nav(app, lang, 'shares');
    const shares = await onScreen(app, 'shares', 'list');
    const table = shares.getByTestId('shares-table');
    await expect(table.locator('tbody tr')).toHaveCount(3);
    const oldSet = Buffer.from(old.setId).toString('hex');
    const newSet = Buffer.from(next.setId).toString('hex');
    await shares.getByLabel(say(lang, 'status'), { exact: true }).selectOption('superseded');
    const row = table.locator('tbody tr');
    await expect(row).toHaveCount(1);
    await expect(row).toHaveAttribute('data-status', 'superseded');
    await expect(row.locator('.badge')).toHaveText(say(lang, 'status_superseded'));
    await expect(row).toContainText('wallet-hot-7');
    await expect(row).toContainText(oldSet.slice(0, 8));
    await row.getByRole('button', { name: say(lang, 'openShare', { key: 'wallet-hot-7', node: 'node-sg-2', i: 3 }) }).click();
    const panel = shares.getByTestId('share-details');
    await expect(panel.locator('.badge').first()).toHaveText(say(lang, 'status_superseded'));
    await expect(panel).toContainText(oldSet);
    // The history line says the new set, its epoch and the destroy-after date in the reader's language
    // (main records the facts, the window formats the date with Intl).
    const destroyDate = await app.evaluate(([l, s]) => new Intl.DateTimeFormat(l, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(s * 1000)), [lang, destroyAfter] as const);
    const history = panel.locator('ol.history li').filter({ hasText: say(lang, 'history_superseded') });
    await expect(history).toContainText(say(lang, 'detail_supersededBy', { set: newSet.slice(0, 8), epoch: 2, date: destroyDate }));
    await expect(history).not.toContainText(String(destroyAfter));
    await shot(app, lang, 'shares-superseded');

    const list = await host.ok('shares:list', { filter: { setId: oldSet } });
    const details = await host.ok('shares:details', { id: list.shares[0]!.id });
    expect(details.status).toBe('superseded');
    expect(details.superseded).toMatchObject({ newSetId: newSet, newEpoch: 2, destroyAfter });

    await shares.getByLabel(say(lang, 'status'), { exact: true }).selectOption('received');
    await expect(table.locator('tbody tr')).toHaveCount(2);
    await expect(table.locator('tbody tr').filter({ hasText: newSet.slice(0, 8) })).toContainText('wallet-hot-7');
    await expect(table.locator('tbody tr').filter({ hasText: 'wallet-cold-1' })).toHaveAttribute('data-status', 'received');
    expect((await host.ok('vault:status', {})).counts).toMatchObject({ received: 2, superseded: 1 });
  });
}
