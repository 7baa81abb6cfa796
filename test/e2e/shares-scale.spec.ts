import type { Locator, Page } from '@playwright/test';
import { toHex } from '../../shared/bytes';
import { fileHash } from '../../shared/crypto/hash';
import type { Language } from '../../shared/languages';
import type { HostControl } from './host/control';
import { meOf, TestAgent } from './lib/world';
import { expect, LANGS, nav, onScreen, say, shot, test, withVault } from './lib/ui';

// The Shares and Audit screens with more shares than one page (issues 10 and 13), in each language,
// as a person uses them: the main process hands one page at a time (the window never gets the whole
// list), the pager turns pages, the arrow and page keys move between rows, a column header sorts,
// the search and the status and history-event filters narrow the list, and no match says so. The
// table keeps every column readable with the details panel open at 1024 and 1280 px, and a 24-digit
// code never wraps inside a group of four. The audit log is searched and filtered by event.
const N = 230;
const PAGE = 100;
const keyOf = (i: number): string => `wallet-${String(i % 23).padStart(2, '0')}`;
const nodeOf = (i: number): string => `node-${String(i % 10)}`;

const rows = (table: Locator): Locator => table.locator('tbody tr');

/** Every cell of the first rows shows its whole content (nothing cut off or scrolled inside a cell), and the table fits its box. */
async function expectReadable(page: Page, table: Locator, name: string): Promise<void> {
  const r = await table.evaluate((t) => {
    const wrap = t.parentElement;
    const cells = [...t.querySelectorAll('thead th, tbody tr:nth-child(-n+5) td')].map((c) => ({ text: c.textContent, over: c.scrollWidth - c.clientWidth, width: c.getBoundingClientRect().width }));
    return { tableOver: wrap === null ? 0 : wrap.scrollWidth - wrap.clientWidth, cells };
  });
  expect(r.tableOver, `${name}: the table scrolls sideways`).toBeLessThanOrEqual(0);
  for (const c of r.cells) {
    expect(c.over, `${name}: cell "${c.text}" is cut off`).toBeLessThanOrEqual(0);
    expect(c.width, `${name}: cell "${c.text}" is too narrow to read`).toBeGreaterThan(24);
  }
  // The details panel is beside or below the table, never over it.
  const panel = page.getByTestId('share-details');
  const [tb, pb] = [await table.locator('xpath=..').boundingBox(), await panel.boundingBox()];
  if (tb !== null && pb !== null) expect(pb.x >= tb.x + tb.width - 1 || pb.y >= tb.y + tb.height - 1, `${name}: the details panel covers the table`).toBe(true);
}

/** No group of four digits of a comparison code is split over two lines, anywhere on the page. */
async function expectCodeGroupsWhole(page: Page, name: string): Promise<number> {
  const r = await page.evaluate(() => {
    const broken: string[] = [];
    let seen = 0;
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n !== null; n = walker.nextNode()) {
      const text = n.textContent ?? '';
      for (const m of text.matchAll(/\d{4}(?:[ -]\d{4}){5}|\d{4}/g)) {
        if (m[0].length !== 4 && m[0].length !== 29) continue;
        // A lone group counts only inside a code's group element; a whole code is checked group by group.
        const groups = m[0].length === 4 ? ((n.parentElement?.classList.contains('code-group') ?? false) ? [m.index] : []) : [0, 5, 10, 15, 20, 25].map((k) => m.index + k);
        for (const at of groups) {
          const range = document.createRange();
          range.setStart(n, at);
          range.setEnd(n, at + 4);
          const lines = new Set([...range.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.top)));
          seen++;
          if (lines.size > 1) broken.push(text.slice(at, at + 4));
        }
      }
    }
    return { broken, seen };
  });
  expect(r.broken, `${name}: code groups split over two lines`).toEqual([]);
  return r.seen;
}

async function seed(host: HostControl): Promise<{ agent: TestAgent; ids: string[] }> {
  const agent = new TestAgent();
  await host.ok('trust:pin', { card: { name: 'agent.custos', bytes: agent.card }, confirmCode: agent.code });
  const me = await meOf(host);
  const files = [];
  const ids: string[] = [];
  for (let i = 0; i < N; i++) {
    let set = await agent.issue(me, { keyId: keyOf(i), nodeId: nodeOf(i) });
    // The table shows a set id's first 8 hex digits: all letters (a–f) would read as an English
    // word to the Chinese-screen check (lib/ui.ts expectChinese), so such a set is drawn again.
    while (!/[0-9]/.test(toHex(set.setId).slice(0, 8))) set = await agent.issue(me, { keyId: keyOf(i), nodeId: nodeOf(i) });
    files.push({ name: `envelope-${String(i)}.custos`, bytes: set.envelope });
    ids.push(toHex(fileHash(set.envelope)));
  }
  const imported = await host.ok('inbox:import', { opId: 'seed', files });
  expect(imported.accepted).toBe(N);
  // Receipts for the shares of wallet-07: confirmed, with a receipt-accepted history line.
  await host.ok('receipts:sign', { ids: ids.filter((_x, i) => keyOf(i) === 'wallet-07'), status: 'accepted' });
  return { agent, ids };
}

const count = (lang: Language, n: number, total: number): string => say(lang, 'sharesShown', { n, total });

for (const lang of LANGS) {
  test(`shares: ${String(N)} shares paged, sorted, searched and filtered in main; keyboard; details at 1024 and 1280 px [${lang}]`, async ({ app, host }) => {
    test.setTimeout(120_000);
    await withVault(app, host, lang);
    await seed(host);
    await app.reload();
    // Every page the window asks for, to check it never asks for the whole list.
    const asked: { offset: number; limit: number }[] = [];
    app.on('request', (r) => {
      if (decodeURIComponent(r.url()).endsWith('/ipc/shares:page')) asked.push(JSON.parse(r.postData() ?? '{}') as { offset: number; limit: number });
      // The old whole-list channel is never used by this screen.
      if (decodeURIComponent(r.url()).endsWith('/ipc/shares:list')) asked.push({ offset: -1, limit: -1 });
    });
    await app.setViewportSize({ width: 1280, height: 860 });
    await nav(app, lang, 'shares');
    const shares = await onScreen(app, 'shares', 'list');
    const table = shares.getByTestId('shares-table');
    const pager = shares.getByTestId('shares-pager');
    await expect(shares.getByTestId('shares-count')).toHaveText(count(lang, N, N));
    await expect(rows(table)).toHaveCount(PAGE);
    await expect(pager).toContainText(say(lang, 'pager_rows', { from: 1, to: PAGE, total: N, page: 1, pages: 3 }));
    // Too many nodes and keys? No: 23 keys and 10 nodes keep their menus.
    await expect(shares.getByLabel(say(lang, 'key'), { exact: true })).toBeVisible();
    await shot(app, lang, 'shares-scale-page1');

    // Keyboard: ↓ to the next row, End to the last, Page Down to the next page's first row.
    const first = rows(table).first().getByRole('button');
    await first.focus();
    await app.keyboard.press('ArrowDown');
    await expect(rows(table).nth(1).getByRole('button')).toBeFocused();
    await app.keyboard.press('End');
    await expect(rows(table).nth(PAGE - 1).getByRole('button')).toBeFocused();
    await app.keyboard.press('PageDown');
    await expect(pager).toContainText(say(lang, 'pager_rows', { from: PAGE + 1, to: 2 * PAGE, total: N, page: 2, pages: 3 }));
    await expect(rows(table).first().getByRole('button')).toBeFocused();
    await expect(rows(table).first().getByRole('button')).toHaveAccessibleName(say(lang, 'openShare', { key: keyOf(PAGE), node: nodeOf(PAGE), i: 3 }));
    await app.keyboard.press('PageUp');
    await expect(pager).toContainText(say(lang, 'pager_rows', { from: 1, to: PAGE, total: N, page: 1, pages: 3 }));
    await expect(rows(table).last().getByRole('button')).toBeFocused();

    // The pager's buttons: last page (30 rows), back to the first.
    await pager.getByRole('button', { name: say(lang, 'pager_last') }).click();
    await expect(rows(table)).toHaveCount(N - 2 * PAGE);
    await expect(rows(table).last()).toContainText(keyOf(N - 1));
    await expect(pager.getByRole('button', { name: say(lang, 'pager_next') })).toBeDisabled();
    await pager.getByRole('button', { name: say(lang, 'pager_first') }).click();
    await expect(rows(table).first()).toContainText(keyOf(0));

    // Sort by key: ascending, then descending (the header says which).
    const keyHeader = table.locator('thead th').first();
    await keyHeader.getByRole('button').click();
    await expect(keyHeader).toHaveAttribute('aria-sort', 'ascending');
    await expect(rows(table).first()).toContainText('wallet-00');
    await keyHeader.getByRole('button').click();
    await expect(keyHeader).toHaveAttribute('aria-sort', 'descending');
    await expect(rows(table).first()).toContainText('wallet-22');
    await shot(app, lang, 'shares-scale-sorted');

    // Search: two words, both must match (any case); the count and the rows follow.
    const search = shares.getByLabel(say(lang, 'sharesPage_search'), { exact: true });
    await search.fill('WALLET-05 node-5');
    const wanted = [...Array(N).keys()].filter((i) => keyOf(i) === 'wallet-05' && nodeOf(i) === 'node-5').length;
    await expect(shares.getByTestId('shares-count')).toHaveText(count(lang, wanted, N));
    await expect(rows(table)).toHaveCount(wanted);
    for (const row of await rows(table).all()) await expect(row).toContainText('wallet-05');
    await expect(pager).toHaveCount(0);
    await shot(app, lang, 'shares-scale-search');
    // Status and history event: the receipts signed for wallet-07.
    await shares.getByRole('button', { name: say(lang, 'clearFilters') }).click();
    await expect(search).toHaveValue('');
    await expect(shares.getByTestId('shares-count')).toHaveText(count(lang, N, N));
    const signed = [...Array(N).keys()].filter((i) => keyOf(i) === 'wallet-07').length;
    await shares.getByLabel(say(lang, 'sharesPage_event'), { exact: true }).selectOption('receipt-accepted');
    await expect(shares.getByTestId('shares-count')).toHaveText(count(lang, signed, N));
    for (const row of await rows(table).all()) await expect(row).toHaveAttribute('data-status', 'confirmed');
    await shares.getByLabel(say(lang, 'sharesPage_event'), { exact: true }).selectOption('');
    await shares.getByLabel(say(lang, 'status'), { exact: true }).selectOption('received');
    await expect(shares.getByTestId('shares-count')).toHaveText(count(lang, N - signed, N));
    await expect(pager).toContainText(say(lang, 'pager_rows', { from: 1, to: PAGE, total: N - signed, page: 1, pages: 3 }));
    // Nothing matches: said so, the filters stay to be cleared.
    await search.fill('no-such-wallet');
    await expect(shares.getByTestId('shares-none')).toHaveText(say(lang, 'sharesPage_none'));
    await expect(table).toHaveCount(0);
    await shot(app, lang, 'shares-scale-none');
    await shares.getByRole('button', { name: say(lang, 'clearFilters') }).click();
    await expect(rows(table)).toHaveCount(PAGE);

    // The details panel open beside (1280) or under (1024) the table: every column readable.
    await rows(table).nth(3).getByRole('button').click();
    const panel = shares.getByTestId('share-details');
    await expect(panel.getByRole('heading', { level: 2 })).toContainText('· #3');
    for (const width of [1280, 1024]) {
      await app.setViewportSize({ width, height: width === 1280 ? 860 : 768 });
      await expectReadable(app, table, `${lang} ${String(width)}`);
      await shot(app, lang, `shares-scale-details-${String(width)}`);
    }

    // The window only ever asked for pages, never the whole list.
    expect(asked.length).toBeGreaterThan(5);
    for (const a of asked) expect(a.limit).toBe(PAGE);
  });

  test(`audit: searched and filtered by event, paged [${lang}]`, async ({ app, host }) => {
    test.setTimeout(90_000);
    await withVault(app, host, lang);
    await seed(host);
    await app.reload();
    await nav(app, lang, 'audit');
    const audit = await onScreen(app, 'audit', 'intact');
    const table = audit.getByTestId('audit-table');
    const total = (await host.ok('audit:list', { limit: 1 })).total;
    expect(total).toBeGreaterThan(N);
    await expect(rows(table)).toHaveCount(PAGE);
    await expect(audit.getByTestId('audit-pager')).toContainText(say(lang, 'pager_rows', { from: 1, to: PAGE, total, page: 1, pages: Math.ceil(total / PAGE) }));
    // Newest first: the receipts on top. Keyboard: Tab to the first row, ↓ to the next.
    await expect(rows(table).first()).toHaveAttribute('data-event', 'receipt');
    await rows(table).first().focus();
    await app.keyboard.press('ArrowDown');
    await expect(rows(table).nth(1)).toBeFocused();

    await audit.getByLabel(say(lang, 'event'), { exact: true }).selectOption('import');
    await expect(audit.getByTestId('audit-count')).toHaveText(say(lang, 'auditPage_shown', { n: N, total }));
    for (const row of await rows(table).all()) await expect(row).toHaveAttribute('data-event', 'import');
    await audit.getByLabel(say(lang, 'auditPage_search'), { exact: true }).fill('wallet-07');
    const ofKey = [...Array(N).keys()].filter((i) => keyOf(i) === 'wallet-07').length;
    await expect(audit.getByTestId('audit-count')).toHaveText(say(lang, 'auditPage_shown', { n: ofKey, total }));
    await expect(rows(table)).toHaveCount(ofKey);
    await shot(app, lang, 'audit-search');
    await audit.getByLabel(say(lang, 'auditPage_search'), { exact: true }).fill('nothing-of-the-sort');
    await expect(audit.getByTestId('audit-none')).toHaveText(say(lang, 'auditPage_none'));
    await audit.getByRole('button', { name: say(lang, 'clearFilters') }).click();
    await expect(rows(table)).toHaveCount(PAGE);
  });

  test(`the 24-digit codes never break inside a group of four, at 1024 and 1280 px [${lang}]`, async ({ app, host }) => {
    test.setTimeout(60_000);
    await withVault(app, host, lang, lang === 'en' ? 'Carol Wu, Cold Storage Operations, Frankfurt' : '吴卡罗尔（法兰克福冷存储运营部）');
    await seed(host);
    await app.reload();
    for (const width of [1024, 1280]) {
      await app.setViewportSize({ width, height: 768 });
      await nav(app, lang, 'trust');
      await onScreen(app, 'trust', 'pinned');
      // The pinned agent's code (and any other code on the screen), group by group.
      expect(await expectCodeGroupsWhole(app, `${lang} trust ${String(width)}`)).toBeGreaterThanOrEqual(6);
      await shot(app, lang, `codes-trust-${String(width)}`);
      await nav(app, lang, 'settings');
      const settings = await onScreen(app, 'settings');
      await settings.getByRole('button', { name: say(lang, 'showEnrollmentCard') }).click();
      await expect(settings.locator('.code-big .code-group')).toHaveCount(6);
      expect(await expectCodeGroupsWhole(app, `${lang} settings ${String(width)}`)).toBeGreaterThanOrEqual(6);
      await shot(app, lang, `codes-card-${String(width)}`);
    }
  });
}
