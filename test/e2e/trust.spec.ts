import { TestAgent } from './lib/world';
import { framesFor } from '../../main/services/qr-files';
import { digits, expect, LANGS, onScreen, pasteText, say, shot, test, withVault } from './lib/ui';

// Trust in each language: the agent's card opened (file dialog in one language, pasted as QR text
// in the other), its code compared (a wrong code keeps "Pin" disabled), pinned; a key replacement notice
// from another key refused, the one signed by the pinned key applied.
for (const lang of LANGS) {
  test(`pin the agent after comparing its code, then a key replacement [${lang}]`, async ({ app, host }) => {
    const agent = new TestAgent(lang === 'en' ? 'Agent prod-eu-1' : '代理 生产-华东-1');
    await withVault(app, host, lang);
    const trust = await onScreen(app, 'trust', 'none');

    if (lang === 'en') {
      await host.openFiles([{ name: 'agent-card.custos', bytes: agent.card }]);
      await trust.getByRole('button', { name: say(lang, 'chooseFile') }).click();
    } else {
      // Pasted as QR text (what a scanner app gives).
      await pasteText(app, framesFor('agent-card', agent.card).join('\n'));
    }
    await onScreen(app, 'trust', 'preview');
    expect(digits(await trust.getByTestId('agent-code').textContent())).toBe(digits(agent.code));
    await shot(app, lang, 'trust-preview');

    const field = trust.getByLabel(say(lang, 'typeCode'));
    const pin = trust.getByRole('button', { name: say(lang, 'pinAgent') });
    const wrong = digits(agent.code).replace(/^./, (d) => String((Number(d) + 1) % 10));
    await field.fill(wrong);
    await expect(trust.getByTestId('code-match')).toHaveAttribute('data-match', 'no');
    await expect(pin).toBeDisabled();
    await shot(app, lang, 'trust-code-mismatch');

    await field.fill(agent.code.replace(/ /g, ''));
    await expect(trust.getByTestId('code-match')).toHaveAttribute('data-match', 'yes');
    await pin.click();
    await onScreen(app, 'trust', 'pinned');
    expect((await host.ok('trust:status', {})).agent?.code).toBe(agent.code);
    await shot(app, lang, 'trust-pinned');

    // A replacement notice signed by some other key changes nothing.
    const stranger = new TestAgent('Not our agent');
    await host.openFiles([{ name: 'rotation.custos', bytes: stranger.rotationTo(new TestAgent('Intruder')) }]);
    await trust.getByTestId('rotation-input').getByRole('button', { name: say(lang, 'chooseFile') }).click();
    await expect(trust.getByTestId('problem')).toBeVisible();
    await shot(app, lang, 'trust-rotation-refused');
    expect((await host.ok('trust:status', {})).agent?.code).toBe(agent.code);

    const next = new TestAgent(lang === 'en' ? 'Agent prod-eu-2' : '代理 生产-华东-2');
    await host.openFiles([{ name: 'rotation.custos', bytes: agent.rotationTo(next) }]);
    await trust.getByTestId('rotation-input').getByRole('button', { name: say(lang, 'chooseFile') }).click();
    await onScreen(app, 'trust', 'rotated');
    await expect(trust.getByTestId('rotated')).toContainText(next.code);
    const status = await host.ok('trust:status', {});
    expect(status.agent?.code).toBe(next.code);
    expect(status.previous.map((p) => p.code)).toEqual([agent.code]);
    await shot(app, lang, 'trust-rotated');
  });
}
