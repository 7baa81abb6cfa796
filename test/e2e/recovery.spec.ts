import { openMessage, recoveryExportSchema, trustKey } from '../../shared/protocol';
import { fromHex } from '../../shared/bytes';
import { meOf, someoneElse, TestAgent } from './lib/world';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { writeMessageFiles } from '../../main/services/qr-files';
import { FrameAssembler } from '../../shared/qr/ur';
import { expectMixedFrame } from './lib/player';
import { assemble, expect, LANGS, nav, onScreen, say, scanElement, scanPdf, shot, test, withVault } from './lib/ui';

// Recovery export in each language: the agent's signed request described in plain words, the
// deliberate confirmation (tick + type the incident id), the export saved as a file, shown as QR
// frames full-screen (every frame read back by zbarimg from the screen and reassembled), and the
// printable sheet (PDF → pdftoppm → zbarimg, every QR on it reassembled). An expired request is
// refused in words.
for (const lang of LANGS) {
  test(`recovery export: request, confirmation, file, QR frames, PDF sheet [${lang}]`, async ({ app, host }) => {
    test.setTimeout(90_000);
    const agent = new TestAgent();
    await withVault(app, host, lang);
    await host.ok('trust:pin', { card: { name: 'agent.custos', bytes: agent.card }, confirmCode: agent.code });
    const approvers = lang === 'en' ? ['Alice Zhang (security)', 'Bob Li (business owner)'] : ['张敏（安全）', '李博（业务负责人）'];
    for (const name of approvers) {
      const c = agent.approverCard(name);
      await host.ok('approvers:pin', { card: { name: 'approver.custos', bytes: c.card }, confirmCode: c.code });
    }
    const me = await meOf(host);
    // A large share (a big key record), so its export needs several QR frames.
    const set = await agent.issue(me, { keyId: 'wallet-hot-7', nodeId: 'node-sg-2', secretBytes: 3000 });
    const imported = await host.ok('inbox:import', { opId: 'setup', files: [{ name: 'envelope.custos', bytes: set.envelope }] });
    expect(imported.accepted).toBe(1);
    const incident = lang === 'en' ? 'INC-2026-0042' : 'INC-2026-0043';
    const request = await agent.recoveryRequest(set, { incident, approvers });

    await app.reload();
    await nav(app, lang, 'recovery');
    const screen = await onScreen(app, 'recovery', 'empty');
    await shot(app, lang, 'recovery-empty');
    await host.openFiles([{ name: 'recovery-request.custos', bytes: request }]);
    await screen.getByRole('button', { name: say(lang, 'chooseFile') }).click();
    await onScreen(app, 'recovery', 'review');
    const summary = screen.getByTestId('request-summary');
    await expect(summary.getByTestId('plain-words')).toHaveText(say(lang, 'requestPlain', { agent: 'Agent prod-eu-1', index: 3, key: 'wallet-hot-7', node: 'node-sg-2', incident }));
    await expect(summary.getByTestId('approvals').locator('li')).toHaveCount(2);
    await expect(summary.getByTestId('approvals').locator('li[data-verdict="verified"]')).toHaveCount(2);
    await expect(summary.getByTestId('verified-count')).toHaveText(say(lang, 'verifiedApprovals', { verified: 2, need: 2 }));
    await expect(screen.getByTestId('override')).toHaveCount(0);
    await expect(summary).toContainText(say(lang, 'modeExternal'));
    await shot(app, lang, 'recovery-review');

    // The export stays disabled until the tick AND the exact incident id.
    const exportButton = screen.getByRole('button', { name: say(lang, 'exportShare') });
    await expect(exportButton).toBeDisabled();
    await screen.getByLabel(say(lang, 'confirmCheck')).check();
    const typed = screen.getByLabel(say(lang, 'typeIncident', { incident }));
    await typed.fill('INC-2026-0000');
    await expect(exportButton).toBeDisabled();
    await expect(screen.getByText(say(lang, 'incidentDiffers'))).toBeVisible();
    await typed.fill(incident);
    await expect(exportButton).toBeEnabled();
    await shot(app, lang, 'recovery-confirm');
    await exportButton.click();
    await onScreen(app, 'recovery', 'exported');
    await shot(app, lang, 'recovery-exported');
    expect((await host.ok('vault:status', {})).counts?.exported).toBe(1);

    // As a file.
    await screen.getByRole('button', { name: say(lang, 'saveExportFile') }).click();
    await expect(screen.getByTestId('export-saved')).toBeVisible();
    const file = (await host.saved()).saved[0]!.bytes;
    const mine = fromHex((await host.ok('vault:status', {})).info!.signKey);
    const opened = openMessage(file, 'recovery-export', recoveryExportSchema, trustKey(mine));
    expect(opened.body.share_index).toBe(3);

    // As QR frames, full-screen: paused, stepped through; each frame read back from the screen.
    await screen.getByRole('button', { name: say(lang, 'showFullScreen') }).click();
    const player = await onScreen(app, 'qr-player', 'playing');
    const count = Number(await player.getAttribute('data-frames'));
    expect(count).toBeGreaterThan(1);
    await shot(app, lang, 'recovery-qr-playing');
    await player.getByRole('button', { name: say(lang, 'pause') }).click();
    await onScreen(app, 'qr-player', 'paused');
    await player.getByRole('button', { name: say(lang, 'faster') }).click();
    await expect(player.getByText(say(lang, 'framesPerSecond', { n: 4 }))).toBeVisible();
    await expect(screen.getByText(say(lang, 'asQrFramesHelp', { n: count }))).toBeVisible();
    // Wherever the paused player is, the frames from there on (numbered, then mixed) complete the export.
    const assembler = new FrameAssembler();
    for (let i = 0; !assembler.progress.complete && i < 3 * count; i++) {
      const at = Number(await player.getAttribute('data-frame'));
      const scanned = await scanElement(player.getByTestId('player-qr'));
      expect(scanned, `frame ${String(at + 1)} reads`).toHaveLength(1);
      assembler.add(scanned[0]!.toLowerCase());
      await player.getByRole('button', { name: say(lang, 'nextFrame') }).click();
      await expect(player).toHaveAttribute('data-frame', String(at + 1)); // endless: mixed frames follow the numbered ones
    }
    await shot(app, lang, 'recovery-qr-paused');
    expect(Buffer.from(assembler.result().payload).equals(Buffer.from(file))).toBe(true);
    expect(await expectMixedFrame(player, lang)).toBe(count);
    await shot(app, lang, 'recovery-qr-mixed-frame');
    await app.keyboard.press('Escape');
    await expect(app.locator('[data-screen="qr-player"]')).toHaveCount(0);

    // As the printed sheet: every QR code on every page, reassembled, is the export file.
    await screen.getByRole('button', { name: say(lang, 'saveSheet') }).click();
    await expect(screen.getByTestId('sheet-saved')).toBeVisible();
    const sheet = (await host.saved()).saved.find((f) => f.name.endsWith('.pdf'))!.bytes;
    const scannedSheet = scanPdf(sheet, `test-results/screens/${lang}/recovery-sheet-page1.png`);
    expect(scannedSheet.frames.length).toBeGreaterThanOrEqual(count);
    expect(Buffer.from(assemble(scannedSheet.frames)).equals(Buffer.from(file))).toBe(true);
    // The screen, the sheet and the file names agree on the frame count (issue 13): the sheet says
    // so in words and under its last code, and the QR files the custodian CLI writes for this export
    // (main/services/qr-files.ts) carry it in every name.
    const tmp = mkdtempSync(join(tmpdir(), 'custos-export-frames-'));
    try {
      writeFileSync(join(tmp, 'sheet.pdf'), sheet);
      const text = execFileSync('pdftotext', ['-layout', join(tmp, 'sheet.pdf'), '-'], { encoding: 'utf8' }).replace(/\s+/g, ' ');
      expect(text).toContain(`${String(count)} frames, any order`);
      expect(text).toContain(`Frame ${String(count)} of ${String(count)}`);
      expect(text).not.toContain(`Frame ${String(count + 1)} of`);
      const written = await writeMessageFiles(join(tmp, 'files'), 'export', 'recovery-export', file, { png: true });
      const of = String(count).padStart(2, '0');
      expect(written.png.map((p) => basename(p))).toEqual(Array.from({ length: count }, (_x, i) => `export-qr-${String(i + 1).padStart(2, '0')}-of-${of}.png`));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }

    // A request for a backup set this vault holds no share of: described, but not exportable.
    await screen.getByRole('button', { name: say(lang, 'done') }).click();
    const notMine = await agent.recoveryRequest(await agent.issue(await someoneElse(), { keyId: 'wallet-cold-2' }), { incident: 'INC-2026-0077' });
    await host.openFiles([{ name: 'other-request.custos', bytes: notMine }]);
    await screen.getByRole('button', { name: say(lang, 'chooseFile') }).click();
    await onScreen(app, 'recovery', 'refused');
    await expect(screen.getByTestId('not-exportable')).toBeVisible();
    await shot(app, lang, 'recovery-refused');
    await screen.getByRole('button', { name: say(lang, 'openAnother') }).click();

    // A request past its expiry: refused in words, nothing exported.
    const later = await agent.recoveryRequest(set, { incident: 'INC-2026-0099' });
    await host.advanceClock(5 * 3600);
    await host.openFiles([{ name: 'old-request.custos', bytes: later }]);
    await screen.getByRole('button', { name: say(lang, 'chooseFile') }).click();
    await expect(screen.getByTestId('problem').or(screen.getByTestId('not-exportable'))).toBeVisible();
    await shot(app, lang, 'recovery-expired');
    expect((await host.ok('vault:status', {})).counts?.exported).toBe(1);
  });
}

// The checks that stop social engineering, in each language: a second request for the share already
// exported, for another incident, in mixed mode, minutes from expiry, approved by a pinned approver's
// name under another key and by someone never pinned. Each approval says how it stands, each warning
// says what to do and whom to call back (the contact recorded when pinning), and the export stays
// disabled until a reason of at least 20 characters is typed; the reason reaches the export.
for (const lang of LANGS) {
  test(`recovery review: unverified approvers, warnings with the call-back contact, a typed override [${lang}]`, async ({ app, host }) => {
    test.setTimeout(90_000);
    const agent = new TestAgent();
    await withVault(app, host, lang);
    await host.ok('trust:pin', { card: { name: 'agent.custos', bytes: agent.card }, confirmCode: agent.code });
    const ops = lang === 'en' ? { name: 'Li Wei (ops on call)', reach: '+86 21 5555 0100' } : { name: '王芳（值班运维）', reach: '+86 21 5555 0100' };
    await host.ok('approvers:setAgentContact', { contact: ops });
    const alice = lang === 'en' ? 'Alice Zhang (security)' : '张敏（安全）';
    const bob = lang === 'en' ? 'Bob Li (business owner)' : '李博（业务负责人）';
    for (const [name, reach] of [[alice, '+86 10 5555 0199'], [bob, '+86 10 5555 0142']] as const) {
      const c = agent.approverCard(name);
      await host.ok('approvers:pin', { card: { name: 'approver.custos', bytes: c.card }, confirmCode: c.code, contact: { name, reach } });
    }
    // The recovery policy, set on the Settings screen.
    await app.reload();
    await nav(app, lang, 'settings');
    const settings = await onScreen(app, 'settings');
    const policy = settings.getByTestId('recovery-policy');
    await policy.getByLabel(say(lang, 'policyMinExpiry')).fill('90');
    await policy.getByRole('button', { name: say(lang, 'save') }).click();
    await expect(settings.getByTestId('settings-saved')).toBeVisible();
    await policy.getByLabel(say(lang, 'policyExternalOnly')).check();
    await expect(policy.getByLabel(say(lang, 'policyExternalOnly'))).toBeChecked();
    await expect.poll(async () => (await host.ok('settings:get', {})).settings.recoveryExpectMode).toBe('external-only');
    await shot(app, lang, 'settings-recovery-policy');
    expect((await host.ok('settings:get', {})).settings).toMatchObject({ recoveryMinExpiryMinutes: 90, recoveryExpectMode: 'external-only' });
    const set = await agent.issue(await meOf(host), { keyId: 'wallet-cold-1', nodeId: 'node-hk-1' });
    expect((await host.ok('inbox:import', { opId: 'setup', files: [{ name: 'envelope.custos', bytes: set.envelope }] })).accepted).toBe(1);
    // The first, legitimate recovery: exported.
    const first = await agent.recoveryRequest(set, { incident: 'INC-2026-0100', approvers: [alice, bob] });
    const shown = await host.ok('recovery:show', { request: { name: 'r.custos', bytes: first } });
    await host.ok('recovery:export', { request: { name: 'r.custos', bytes: first }, confirmation: shown.confirmation, sheet: false });

    const mallory = lang === 'en' ? 'Mallory Chen (finance)' : '陈默（财务）';
    const attack = await agent.recoveryRequest(set, { incident: 'INC-2026-0101', mode: 'mixed', notAfter: Math.floor(Date.now() / 1000) + 600, approvers: [alice, mallory], forge: [alice] });
    await app.reload();
    await nav(app, lang, 'recovery');
    const screen = await onScreen(app, 'recovery', 'empty');
    await host.openFiles([{ name: 'recovery-request.custos', bytes: attack }]);
    await screen.getByRole('button', { name: say(lang, 'chooseFile') }).click();
    await onScreen(app, 'recovery', 'review');
    const approvals = screen.getByTestId('approvals');
    await expect(approvals.locator('li[data-verdict="changed-key"]')).toContainText(say(lang, 'approverVerdict_changed-key'));
    await expect(approvals.locator('li[data-verdict="changed-key"]')).toContainText(say(lang, 'recCallBack', { name: alice, reach: '+86 10 5555 0199' }));
    await expect(approvals.locator('li[data-verdict="unknown"]')).toContainText(say(lang, 'approverVerdict_unknown'));
    await expect(screen.getByTestId('verified-count')).toHaveText(say(lang, 'verifiedApprovals', { verified: 0, need: 2 }));
    const warnings = screen.getByTestId('recovery-warnings');
    for (const code of ['approver-key-changed', 'approvers-unverified', 'exported-other-session', 'short-expiry', 'mixed-mode']) {
      await expect(warnings.locator(`li[data-warning="${code}"]`), code).toBeVisible();
    }
    await expect(warnings.locator('li[data-warning="exported-other-session"]')).toContainText('INC-2026-0100');
    await expect(warnings.locator('li[data-warning="exported-other-session"]')).toContainText(say(lang, 'recWarnDo_exported-other-session'));
    await expect(warnings.locator('li[data-warning="mixed-mode"]')).toContainText(say(lang, 'recCallBack', ops));
    await shot(app, lang, 'recovery-review-warnings', { fullPage: true });

    // The export needs the tick, the incident id AND a reason of at least 20 characters.
    const exportButton = screen.getByRole('button', { name: say(lang, 'exportShare') });
    await screen.getByLabel(say(lang, 'confirmCheck')).check();
    await screen.getByLabel(say(lang, 'typeIncident', { incident: 'INC-2026-0101' })).fill('INC-2026-0101');
    const reasonField = screen.getByLabel(say(lang, 'overrideLabel'));
    await reasonField.fill('called them');
    await expect(exportButton).toBeDisabled();
    await expect(screen.getByTestId('override')).toContainText(say(lang, 'overrideTooShort', { left: 9 }));
    await expect(warnings.locator('li[data-warning="short-expiry"]')).toContainText(/\b90\b/);
    await shot(app, lang, 'recovery-override-short');
    const reason = lang === 'en' ? 'Called Alice and the CFO on their desk phones; both confirmed this incident.' : '已致电张敏和财务总监的座机，两人都确认了此事件和审批。';
    await reasonField.fill(reason);
    await expect(exportButton).toBeEnabled();
    await shot(app, lang, 'recovery-override-ready');
    await exportButton.click();
    await onScreen(app, 'recovery', 'exported');
    await screen.getByRole('button', { name: say(lang, 'saveExportFile') }).click();
    await expect(screen.getByTestId('export-saved')).toBeVisible();
    const file = (await host.saved()).saved[0]!.bytes;
    const mine = fromHex((await host.ok('vault:status', {})).info!.signKey);
    expect(openMessage(file, 'recovery-export', recoveryExportSchema, trustKey(mine)).body.override).toEqual({ reason: reason.replace(/\s+/g, ' '), verified_approvals: 0 });
    const audit = await host.ok('audit:list', {});
    expect(JSON.stringify(audit)).toContain(reason.replace(/\s+/g, ' '));
  });
}
