// The strength meter's reading of main's estimate (shared/passphrase-meter.ts), against the real
// policy (node/passphrase-policy.ts: zxcvbn at the vault's KDF cost) that vault:create enforces.
import { describe, expect, it } from 'vitest';
import { passphraseStrength } from '../../node/passphrase-policy';
import { guessTimeOf, levelOf, reasonsOf, type Check } from '../../shared/passphrase-meter';

async function check(p: string): Promise<Check> {
  const s = await passphraseStrength(p, 15);
  return { ok: s.ok, score: s.score, logN: s.logN, guessTime: s.guessTime, guessSeconds: s.guessSeconds, reasons: [...s.reasons], suggestions: [...s.suggestions] };
}

describe('strength meter', () => {
  it('marks what main refuses as weak, with the reasons, and what it accepts as fair or strong', async () => {
    expect(levelOf('', null)).toBe('empty');
    expect(levelOf('short', null)).toBe('too-short');
    expect(reasonsOf('short', null)).toEqual(['short']);
    expect(levelOf('password1234', null)).toBe('checking');
    for (const weak of ['password1234', 'aaaaaaaaaaaa', 'qwertyuiop12']) {
      const c = await check(weak);
      expect(c.ok).toBe(false);
      expect(levelOf(weak, c)).toBe('weak');
      expect(reasonsOf(weak, c)).toContain('time');
    }
    const good = 'disparity sneak dribble backboard vocally arose';
    const c = await check(good);
    expect(c.ok).toBe(true);
    expect(levelOf(good, c)).toBe('strong');
    expect(reasonsOf(good, c)).toEqual([]);
  });

  it('says the guessing time in either language through Intl', () => {
    expect(guessTimeOf('en', 0.5)).toBeNull();
    expect(guessTimeOf('en', 90)).toBe('1 minute');
    expect(guessTimeOf('en', 3 * 86_400 + 5)).toBe('3 days');
    expect(guessTimeOf('zh-CN', 3 * 86_400 + 5)).toBe('3天');
    expect(guessTimeOf('en', 3.2e6 * 365.25 * 86_400)).toBe('3.2M years');
    expect(guessTimeOf('zh-CN', 3.2e6 * 365.25 * 86_400)).toContain('年');
  });
});
