import { meOf, TestAgent } from './lib/world';
import { expect, LANGS, nav, onScreen, say, shot, test, withVault } from './lib/ui';

// Issue 13: a recovery request whose session has a free-text incident title, in each language. The
// review shows the title beside the incident id (heading and facts), the confirmation still asks
// for the id, and the saved export file is named with the id and the title, its Chinese kept and
// "/" made safe.
const TITLE = '交易所热钱包事故 2026/12';

for (const lang of LANGS) {
  test(`recovery review and export name with an incident title [${lang}]`, async ({ app, host }) => {
    test.setTimeout(60_000);
    const agent = new TestAgent();
    await withVault(app, host, lang);
    await host.ok('trust:pin', { card: { name: 'agent.custos', bytes: agent.card }, confirmCode: agent.code });
    const approvers = lang === 'en' ? ['Alice Zhang (security)', 'Bob Li (business owner)'] : ['张敏（安全）', '李博（业务负责人）'];
    for (const name of approvers) {
      const c = agent.approverCard(name);
      await host.ok('approvers:pin', { card: { name: 'approver.custos', bytes: c.card }, confirmCode: c.code });
    }
    const set = await agent.issue(await meOf(host), { keyId: 'wallet-hot-7', nodeId: 'node-sg-2' });
    expect((await host.ok('inbox:import', { opId: 'setup', files: [{ name: 'envelope.custos', bytes: set.envelope }] })).accepted).toBe(1);
    const incident = 'INC-2026-0042';
    const request = await agent.recoveryRequest(set, { incident, title: TITLE, approvers });

    await app.reload();
    await nav(app, lang, 'recovery');
    const screen = await onScreen(app, 'recovery', 'empty');
    await host.openFiles([{ name: 'recovery-request.custos', bytes: request }]);
    await screen.getByRole('button', { name: say(lang, 'chooseFile') }).click();
    await onScreen(app, 'recovery', 'review');
    const summary = screen.getByTestId('request-summary');
    await expect(summary.getByTestId('request-title')).toHaveText(say(lang, 'requestTitleNamed', { incident, title: TITLE }));
    await expect(summary.getByTestId('incident-title')).toHaveText(TITLE);
    await expect(summary).toContainText(say(lang, 'incidentTitle'));
    await shot(app, lang, 'recovery-review-titled');

    // The confirmation names the id (what the ticket and ops use), not the title.
    const exportButton = screen.getByRole('button', { name: say(lang, 'exportShare') });
    await screen.getByLabel(say(lang, 'confirmCheck')).check();
    await screen.getByLabel(say(lang, 'typeIncident', { incident })).fill(incident);
    await expect(exportButton).toBeEnabled();
    await exportButton.click();
    await onScreen(app, 'recovery', 'exported');
    await screen.getByRole('button', { name: say(lang, 'saveExportFile') }).click();
    await expect(screen.getByTestId('export-saved')).toBeVisible();
    const saved = (await host.saved()).saved[0]!;
    expect(saved.name).toBe('recovery-export-INC-2026-0042-交易所热钱包事故_2026_12-wallet-hot-7-node-sg-2-s3.custos');
    await shot(app, lang, 'recovery-exported-titled');
  });
}
