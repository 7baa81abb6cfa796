/**
 * The QR player as the UR tools play it (issue 13), checked the same way on every screen that opens
 * it: a density selector, and past the numbered frames a fountain-mixed frame that reads off the
 * screen as frame seqLen+k of the same message.
 */
import type { Locator } from '@playwright/test';
import type { Language } from '../../../renderer/src/i18n';
import { expect, say, scanElement } from './ui';

/**
 * Pauses the player, steps it past its numbered frames (at the coarse density when the message is
 * one code at the standard one) and checks the mixed frame shown: its caption and its code.
 * Returns the number of numbered frames.
 */
export async function expectMixedFrame(player: Locator, lang: Language): Promise<number> {
  const density = player.getByTestId('player-density');
  await expect(density).toBeVisible();
  if ((await player.getAttribute('data-state')) === 'playing') await player.getByRole('button', { name: say(lang, 'pause') }).click();
  await expect(player).toHaveAttribute('data-state', 'paused');
  if (Number(await player.getAttribute('data-frames')) < 2) {
    await density.selectOption('10');
    await expect(player).toHaveAttribute('data-version', '10');
  }
  const count = Number(await player.getAttribute('data-frames'));
  expect(count, 'the message spans several codes').toBeGreaterThan(1);
  let seq = Number(await player.getAttribute('data-seq'));
  for (; seq <= count; seq++) {
    await player.getByRole('button', { name: say(lang, 'nextFrame') }).click();
    await expect(player).toHaveAttribute('data-seq', String(seq + 1));
  }
  await expect(player.getByTestId('player-count')).toHaveText(say(lang, 'qrMixedFrame', { k: seq - count, n: count }));
  const read = await scanElement(player.getByTestId('player-qr'));
  expect(read).toHaveLength(1);
  expect(read[0]!.toLowerCase().startsWith('ur:')).toBe(true);
  expect(read[0]!.toLowerCase().split('/')[1]).toBe(`${String(seq)}-${String(count)}`);
  return count;
}
