import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameAssembler } from '../../shared/qr/ur';
import { meOf, TestAgent } from './lib/world';
import { expect, LANGS, nav, onScreen, say, shot, test, withVault } from './lib/ui';

// Receipts for more shares than one list shows, and a receipt's QR played as the UR tools play it
// (issue 13), in each language: 205 shares wait; "Show more" reaches every row; all are signed; a
// receipt's code at the coarse density becomes several frames, the player runs past them into mixed
// frames, and frames captured from the screen (zbarimg on screenshots, every other one dropped)
// reassemble the receipt; then all 205 receipts open as one QR sequence.
const N = 205;

for (const lang of LANGS) {
  test(`receipts: every share reachable, a receipt played as an endless loop at a chosen density [${lang}]`, async ({ app, host }) => {
    test.setTimeout(180_000);
    await withVault(app, host, lang);
    const agent = new TestAgent();
    await host.ok('trust:pin', { card: { name: 'agent.custos', bytes: agent.card }, confirmCode: agent.code });
    const me = await meOf(host);
    const files = [];
    for (let i = 0; i < N; i++) files.push({ name: `envelope-${String(i)}.custos`, bytes: (await agent.issue(me, { keyId: `wallet-${String(i)}`, nodeId: 'node-1' })).envelope });
    expect((await host.ok('inbox:import', { opId: 'seed', files })).accepted).toBe(N);
    await app.reload();
    await nav(app, lang, 'receipts');
    const screen = await onScreen(app, 'receipts');
    const waiting = screen.getByTestId('waiting-shares');
    await expect(waiting.locator('tbody tr')).toHaveCount(200);
    await expect(waiting.getByTestId('show-more')).toContainText(say(lang, 'moreNotShown', { n: N - 200 }));
    await waiting.getByRole('button', { name: say(lang, 'receipts_showMore', { k: N - 200 }) }).click();
    await expect(waiting.locator('tbody tr')).toHaveCount(N);
    await expect(waiting.getByTestId('show-more')).toHaveCount(0);
    await waiting.getByRole('button', { name: say(lang, 'acceptAll', { n: N }) }).click();
    const signed = screen.getByTestId('signed-receipts');
    await expect(signed.locator('.receipt-list li')).toHaveCount(20);
    await signed.getByRole('button', { name: say(lang, 'receipts_showMore', { k: 185 }) }).click();
    await expect(signed.locator('.receipt-list li')).toHaveCount(N);
    await shot(app, lang, 'receipts-all-signed');

    await signed.getByRole('button', { name: say(lang, 'showQr') }).first().click();
    const player = app.locator('[data-screen="qr-player"]');
    await expect(player).toBeVisible();
    await player.getByTestId('player-density').selectOption('10');
    await expect(player).toHaveAttribute('data-version', '10');
    const seqLen = Number(await player.getAttribute('data-frames'));
    expect(seqLen).toBeGreaterThan(1);
    const dir = mkdtempSync(join(tmpdir(), 'custos-player-'));
    try {
      const assembler = new FrameAssembler({ type: 'custos-receipt' });
      let n = 1;
      // Step through the frames as a camera would see them, keeping every other one. The mixed
      // frames' fragments are chosen pseudo-randomly from the message's checksum (BC-UR), so how
      // many it takes varies from run to run: 6 × seqLen ran out once in CI; the loop stops as soon
      // as the message is whole, so the generous bound costs nothing when it is not needed.
      for (; !assembler.progress.complete && n <= 30 * seqLen; n++) {
        await expect(player).toHaveAttribute('data-seq', String(n));
        if (n % 2 === 1) {
          const png = join(dir, `f${String(n)}.png`);
          writeFileSync(png, await player.getByTestId('player-qr').screenshot());
          assembler.add(execFileSync('zbarimg', ['--raw', '-q', '-Sdisable', '-Sqrcode.enable', png], { encoding: 'utf8' }).trim());
        }
        if (n === seqLen + 1) {
          await expect(player.getByTestId('player-count')).toHaveText(say(lang, 'qrMixedFrame', { k: 1, n: seqLen }));
          await shot(app, lang, 'receipt-qr-mixed-frame');
        }
        await player.getByRole('button', { name: say(lang, 'nextFrame') }).click();
      }
      expect(assembler.progress.complete).toBe(true);
      expect(n).toBeGreaterThan(seqLen); // it needed mixed frames: half the pure ones were dropped
      expect(assembler.result().payload.length).toBeGreaterThan(100);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await app.keyboard.press('Escape');
    await expect(player).toHaveCount(0);

    // All 205 as one sequence: one player for every receipt of the batch, its caption counting both.
    await signed.getByRole('button', { name: say(lang, 'receipts_showAllQr', { n: N }) }).click();
    await expect(player).toHaveAttribute('data-messages', String(N));
    const frames = Number(await player.getAttribute('data-frames'));
    expect(frames).toBeGreaterThanOrEqual(N);
    // At the standard density each receipt is one code: the sequence cycles, no mixed frames promised.
    await expect(player.getByTestId('player-sub')).toHaveText(say(lang, frames === N ? 'receipts_seqCaptionCycle' : 'receipts_seqCaption', { n: N, f: frames }));
    await shot(app, lang, 'receipts-sequence-205');
  });
}
