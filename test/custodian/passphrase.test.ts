// The passphrase policy (main/services/passphrase.ts): weak passphrases refused by vault creation
// and passphrase change with the reason and the guessing time at the vault's KDF cost, nothing
// written; the diceware generator draws from the EFF long list, unbiased; the shipped word list is
// exactly the EFF file.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EFF_LARGE_WORDLIST, EFF_LARGE_WORDLIST_SHA256 } from '../../main/services/data/eff-large-wordlist';
import { ServiceError } from '../../main/services/errors';
import {
  attackerGuessesPerSecond,
  generatePassphrase,
  MIN_GUESS_YEARS,
  passphraseStrength,
  randomIndex,
  sayDuration,
} from '../../main/services/passphrase';
import { Vault } from '../../main/services/vault';
import { codeOf, createVault, PASSPHRASE, TEST_LOG_N, tempDir } from './helpers';

async function refusal(fn: () => Promise<unknown>): Promise<ServiceError> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof ServiceError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('passphrase policy', () => {
  it('refuses "password" and "aaaaaaaaaaaa" at vault creation with the reason and the guessing time, and creates nothing', async () => {
    for (const weak of ['password', 'aaaaaaaaaaaa', 'Tr0ub4dour&3', 'qwertyuiop12']) {
      const dir = join(tempDir(), 'v');
      const e = await refusal(() => Vault.create(dir, { name: 'Carol', passphrase: weak }, { kdfLogN: TEST_LOG_N, allowWeakKdf: true }));
      expect(e.code).toBe('WEAK_PASSPHRASE');
      expect(e.message).toMatch(/too weak: .*guess it in .* \(scrypt logN 15\); at least 100 years is required\. Use five or more random words/);
      if (weak !== 'password') expect(e.message).not.toContain(weak);
      expect(e.details).toMatchObject({ logN: 15, minGuessYears: MIN_GUESS_YEARS });
      expect(typeof e.details['guessTime']).toBe('string');
      expect(existsSync(dir)).toBe(false);
    }
    const e = await refusal(() => Vault.create(join(tempDir(), 'v'), { name: 'Carol', passphrase: 'password' }, { kdfLogN: TEST_LOG_N, allowWeakKdf: true }));
    expect(e.message).toContain('This is a heavily used password');
    const a = await refusal(() => Vault.create(join(tempDir(), 'v'), { name: 'Carol', passphrase: 'aaaaaaaaaaaa' }, { kdfLogN: TEST_LOG_N, allowWeakKdf: true }));
    expect(a.message).toContain('Repeated characters');
  });

  it('counts the custodian name as known to the attacker', async () => {
    const alone = await passphraseStrength('Wilhelmina Oyelaran-Quist', 15);
    const named = await passphraseStrength('Wilhelmina Oyelaran-Quist', 15, ['Wilhelmina Oyelaran-Quist']);
    expect(named.guessesLog10).toBeLessThan(alone.guessesLog10);
    expect(named.ok).toBe(false);
  });

  it('refuses a weak new passphrase before trying the current one (no attempt counted), and accepts a strong one', async () => {
    const v = await createVault();
    const e = await refusal(() => v.changePassphrase('not even the right one', 'password1'));
    expect(e.code).toBe('WEAK_PASSPHRASE');
    expect(await v.unlockDelayMs()).toBe(0);
    const next = generatePassphrase(5).passphrase;
    await v.changePassphrase(PASSPHRASE, next);
    await v.lock();
    expect(await codeOf(() => v.unlock(PASSPHRASE))).toBe('WRONG_PASSPHRASE');
  });

  it('judges at the vault KDF cost: a costlier KDF makes the attacker slower by 2^Δ, and never below the floor', async () => {
    expect(attackerGuessesPerSecond(15) / attackerGuessesPerSecond(17)).toBeCloseTo(4, 10);
    const p = 'benchmark passphrase';
    const at15 = await passphraseStrength(p, 15);
    const at20 = await passphraseStrength(p, 20);
    expect(at20.guessSeconds / at15.guessSeconds).toBeCloseTo(32, 6);
    expect((await passphraseStrength(p, 1)).logN).toBe(15);
    expect(at15.ok).toBe(false);
    expect(at20.ok).toBe(true);
  });

  it('says durations for a person', () => {
    expect(sayDuration(0.2)).toBe('less than a second');
    expect(sayDuration(90)).toBe('1 minute');
    expect(sayDuration(3 * 86400 + 5)).toBe('3 days');
    expect(sayDuration(16946 * 365.25 * 86400)).toBe('16,946 years');
    expect(sayDuration(4.3e9 * 365.25 * 86400)).toBe('about 4.3 billion years');
    expect(sayDuration(1e21 * 365.25 * 86400)).toBe('about 10^21 years');
  });
});

describe('diceware generator', () => {
  it('ships the EFF long list unchanged (7,776 words, the file and its hash)', () => {
    const file = readFileSync(join(__dirname, '../../main/services/data/eff_large_wordlist.txt'));
    expect(createHash('sha256').update(file).digest('hex')).toBe(EFF_LARGE_WORDLIST_SHA256);
    const lines = file.toString('utf8').trimEnd().split('\n');
    expect(lines.map((l) => l.split('\t')[1])).toEqual(EFF_LARGE_WORDLIST);
    expect(new Set(EFF_LARGE_WORDLIST).size).toBe(7776);
    // The dice column: line i is i written in base 6 with digits 1-6.
    lines.forEach((l, i) => {
      expect(l.split('\t')[0]).toBe(i.toString(6).padStart(5, '0').replace(/[0-5]/g, (d) => String(Number(d) + 1)));
    });
  });

  it('generates words from the list that pass the policy', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const g = generatePassphrase();
      expect(g.words).toBe(6);
      expect(g.entropyBits).toBeCloseTo(77.5, 1);
      const words = g.passphrase.split(' ');
      expect(words).toHaveLength(6);
      for (const w of words) expect(EFF_LARGE_WORDLIST).toContain(w);
      seen.add(g.passphrase);
      expect((await passphraseStrength(g.passphrase, 15)).ok).toBe(true);
    }
    expect(seen.size).toBe(20);
    expect(generatePassphrase(4, '-').passphrase.split('-')).toHaveLength(4);
    expect(() => generatePassphrase(3)).toThrow(/from 4 to 12 words/);
  });

  it('draws indices without modulo bias (values at or above 7776·8 are drawn again)', () => {
    const values = [62208, 65535, 62207, 0, 7776];
    const fake = (out: Uint16Array): Uint16Array => {
      out[0] = values.shift() ?? 0;
      return out;
    };
    expect(randomIndex(7776, fake)).toBe(62207 % 7776);
    expect(values).toEqual([0, 7776]);
    expect(randomIndex(7776, fake)).toBe(0);
    expect(randomIndex(7776, fake)).toBe(0);
    // Every index is reachable and roughly uniform over many draws of the real source.
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60000; i++) counts[randomIndex(6)]!++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(600);
  });
});
