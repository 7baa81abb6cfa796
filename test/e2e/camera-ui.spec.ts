import { framesFor } from '../../main/services/qr-files';
import { MESSAGES } from '../../main/services/messages';
import { tempVideoPath, writeQrY4m } from './host/fake-camera';
import { someoneElse, TestAgent } from './lib/world';
import { digits, expect, LANGS, nav, onScreen, say, shot, test, withVault } from './lib/ui';

// The camera path of the screens with Chromium's fake camera, in each language. The video (written
// before the browser starts) loops the agent's card (one QR code) and a large envelope (several
// frames, any order). The trust screen's scanner takes only agent cards: it opens the card, whose
// code is then compared and pinned. The inbox's scanner takes envelopes: the frames reassemble
// (with a progress bar) and the envelope is imported and refused in words, because it was
// addressed to another custodian.
const agent = new TestAgent('Agent prod-eu-1');
const other = await someoneElse();
const foreign = await agent.issue(other, { keyId: 'key-camera', nodeId: 'node-1', secretBytes: 2200 });
const envelopeFrames = framesFor('envelope', foreign.envelope);
const video = tempVideoPath('custos-camera-ui-');
writeQrY4m(video, [...framesFor('agent-card', agent.card), ...envelopeFrames], { width: 800, height: 600, fps: 10, holdFrames: 2 });

test.use({
  launchOptions: {
    executablePath: process.env['CUSTOS_CHROMIUM'] ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--disable-background-networking', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${video}`],
  },
});

for (const lang of LANGS) {
  test(`camera: scan the agent card to pin it, scan a multi-frame envelope into the inbox [${lang}]`, async ({ app, host }) => {
    expect(envelopeFrames.length).toBeGreaterThan(1);
    await withVault(app, host, lang);
    const trust = await onScreen(app, 'trust', 'none');
    await trust.getByRole('button', { name: say(lang, 'scanWithCamera') }).click();
    await onScreen(app, 'camera', 'scanning');
    // One code: the scanner closes by itself once the card is read.
    await onScreen(app, 'trust', 'preview');
    expect(digits(await trust.getByTestId('agent-code').textContent())).toBe(digits(agent.code));
    await trust.getByLabel(say(lang, 'typeCode')).fill(agent.code);
    await trust.getByRole('button', { name: say(lang, 'pinAgent') }).click();
    await onScreen(app, 'trust', 'pinned');

    await nav(app, lang, 'inbox');
    const inbox = await onScreen(app, 'inbox', 'empty');
    await inbox.getByRole('button', { name: say(lang, 'scanWithCamera') }).click();
    const camera = await onScreen(app, 'camera', 'scanning');
    await expect(camera.getByTestId('camera-progress')).toBeVisible();
    await shot(app, lang, 'camera-scanning');
    await expect(camera).toHaveAttribute('data-messages', '1', { timeout: 30_000 });
    await expect(camera.getByTestId('camera-messages')).toBeVisible();
    await shot(app, lang, 'camera-complete');
    await camera.getByRole('button', { name: say(lang, 'done') }).click();
    await onScreen(app, 'inbox', 'done');
    const row = inbox.locator('tr[data-outcome="refused"]');
    await expect(row).toHaveCount(1);
    await expect(row).toContainText(MESSAGES.WRONG_RECIPIENT[lang]);
    await shot(app, lang, 'camera-inbox-result');
  });
}
