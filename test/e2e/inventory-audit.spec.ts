import { openMessage, attestationSchema, trustKey } from '../../shared/protocol';
import { fromHex, randomBytes } from '../../shared/bytes';
import { verifyAuditJsonl } from '../../main/services/audit';
import { meOf, TestAgent } from './lib/world';
import { expectMixedFrame } from './lib/player';
import { assemble, expect, LANGS, nav, onScreen, say, scanElement, shot, test, withVault } from './lib/ui';

// Inventory and audit in each language: the agent's challenge answered (two shares held, one it
// believes held but never received), the attestation saved and shown as QR; the audit log listed,
// verified, exported for auditors (and the export verifies on its own).
for (const lang of LANGS) {
  test(`inventory challenge answered; audit log verified and exported [${lang}]`, async ({ app, host }) => {
    const agent = new TestAgent();
    await withVault(app, host, lang);
    await host.ok('trust:pin', { card: { name: 'agent.custos', bytes: agent.card }, confirmCode: agent.code });
    const me = await meOf(host);
    const a = await agent.issue(me, { keyId: 'key-treasury', nodeId: 'node-1' });
    const b = await agent.issue(me, { keyId: 'key-treasury', nodeId: 'node-2' });
    await host.ok('inbox:import', { opId: 'setup', files: [{ name: 'a.custos', bytes: a.envelope }, { name: 'b.custos', bytes: b.envelope }] });
    const challenge = agent.challenge(me, [a, b], [{ key_id: 'key-payroll', node_id: 'node-1', set_id: randomBytes(16), epoch: 1, share_index: 3 }]);

    await app.reload();
    await nav(app, lang, 'inventory');
    const inv = await onScreen(app, 'inventory', 'empty');
    await shot(app, lang, 'inventory-empty');
    await host.openFiles([{ name: 'inventory-challenge.custos', bytes: challenge }]);
    await inv.getByRole('button', { name: say(lang, 'chooseFile') }).click();
    await onScreen(app, 'inventory', 'loaded');
    // Issue 12: before signing, what is asked (each item and its state here), by which agent, until when.
    const review = inv.getByTestId('inventory-review');
    await expect(review.getByTestId('inventory-review-facts')).toContainText('Agent prod-eu-1');
    await expect(review.getByTestId('inventory-review-facts')).toContainText(agent.code);
    await expect(review.getByTestId('inventory-review-facts')).toContainText(say(lang, 'inventoryReviewExpires'));
    await expect(review.getByTestId('inventory-review-count')).toContainText(say(lang, 'inventoryReviewCount', { n: 3, held: 2 }));
    await expect(review.getByTestId('inventory-review-table').locator('tr[data-local="held"]')).toHaveCount(2);
    await expect(review.getByTestId('inventory-review-table').locator('tr[data-local="not-held"]')).toContainText('key-payroll');
    // Nothing was signed by opening it.
    expect((await host.ok('audit:list', {})).entries.some((e) => 'entry' in e && e.entry.fields.event === 'inventory')).toBe(false);
    await shot(app, lang, 'inventory-loaded');
    await inv.getByRole('button', { name: say(lang, 'signAttestation') }).click();
    await onScreen(app, 'inventory', 'answered');
    await expect(inv.getByTestId('inventory-table').locator('tr[data-answer="held"]')).toHaveCount(2);
    await expect(inv.getByTestId('inventory-table').locator('tr[data-answer="missing"]')).toHaveCount(1);
    await shot(app, lang, 'inventory-answered');
    await inv.getByRole('button', { name: say(lang, 'saveAttestation') }).click();
    await expect(inv.getByTestId('attestation-saved')).toBeVisible();
    const attestation = (await host.saved()).saved[0]!.bytes;
    const signKey = fromHex((await host.ok('vault:status', {})).info!.signKey);
    expect(openMessage(attestation, 'inventory-attestation', attestationSchema, trustKey(signKey)).body.items).toHaveLength(3);
    await inv.getByRole('button', { name: say(lang, 'showQr') }).click();
    const player = await onScreen(app, 'qr-player');
    const frames: string[] = [];
    const count = Number(await player.getAttribute('data-frames'));
    if (count > 1) await player.getByRole('button', { name: say(lang, 'pause') }).click();
    for (let i = 0; i < count; i++) {
      frames.push(...(await scanElement(player.getByTestId('player-qr'))));
      if (count > 1) {
        await player.getByRole('button', { name: say(lang, 'nextFrame') }).click();
        await expect(player).toHaveAttribute('data-frame', String(i + 1)); // endless: mixed frames follow the numbered ones
      }
    }
    expect(Buffer.from(assemble(frames)).equals(Buffer.from(attestation))).toBe(true);
    // Played as the UR tools play it: a density selector, and mixed frames after the numbered ones.
    await expectMixedFrame(player, lang);
    await shot(app, lang, 'attestation-qr-mixed-frame');
    await app.keyboard.press('Escape');

    await nav(app, lang, 'audit');
    const audit = await onScreen(app, 'audit', 'intact');
    const total = (await host.ok('audit:list', {})).total;
    await expect(audit.getByTestId('audit-table').locator('tbody tr')).toHaveCount(total);
    await expect(audit.getByTestId('audit-verdict')).toContainText(say(lang, 'chainIntact', { n: total }));
    await audit.getByRole('button', { name: say(lang, 'verifyLog') }).click();
    await expect(audit.getByTestId('audit-verdict')).toContainText(say(lang, 'verifiedAt', { date: '' }).trim());
    await shot(app, lang, 'audit-intact');
    await audit.getByRole('button', { name: say(lang, 'exportLog') }).click();
    await expect(audit.getByTestId('audit-saved')).toBeVisible();
    const files = (await host.saved()).saved.slice(1);
    expect(files.map((f) => f.name)).toEqual([expect.stringMatching(/\.jsonl$/), expect.stringMatching(/-head\.json$/)]);
    const head = JSON.parse(Buffer.from(files[1]!.bytes).toString('utf8')) as { head: { seq: number; hash: string } };
    expect(verifyAuditJsonl(Buffer.from(files[0]!.bytes).toString('utf8'), head.head)).toMatchObject({ ok: true, entries: total });
    await shot(app, lang, 'audit-exported');
  });
}
