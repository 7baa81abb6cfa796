/**
 * The passphrase strength meter's reading of main's estimate (issue 13): vault:checkPassphrase is
 * zxcvbn at the vault's KDF cost (node/passphrase-policy.ts), the policy vault:create and
 * vault:changePassphrase enforce. This turns it into a meter level, reason codes for the catalogs
 * (zxcvbn's own warnings are English only) and a guessing time said through `Intl`. Pure: the
 * renderer's field (renderer/src/ui/PassphraseField.tsx) and tests use it.
 */
import type { ResponseOf } from './ipc/contract';

export type Check = ResponseOf<'vault:checkPassphrase'>;
export type Level = 'empty' | 'too-short' | 'checking' | 'weak' | 'fair' | 'strong';
export type Reason = 'short' | 'pattern' | 'time';

/** The policy's floors (node/passphrase-policy.ts): main refuses below them whatever this says. */
export const MIN_PASSPHRASE_CHARS = 8;
export const MIN_GUESS_YEARS = 100;
const SECONDS_PER_YEAR = 365.25 * 24 * 3600;

export function graphemes(text: string): number {
  return Array.from(new Intl.Segmenter().segment(text)).length;
}

/** The meter: empty, too short (no estimate needed), checking, refused (weak), accepted (fair: zxcvbn 3, strong: 4). */
export function levelOf(passphrase: string, check: Check | null): Level {
  if (passphrase.length === 0) return 'empty';
  if (graphemes(passphrase) < MIN_PASSPHRASE_CHARS) return 'too-short';
  if (check === null) return 'checking';
  if (!check.ok) return 'weak';
  return check.score >= 4 ? 'strong' : 'fair';
}

/** Why main refuses it, as codes for the catalog (the same three tests as node/passphrase-policy.ts). */
export function reasonsOf(passphrase: string, check: Pick<Check, 'ok' | 'score' | 'guessSeconds'> | null): Reason[] {
  if (passphrase.length === 0 || check === null || check.ok) return graphemes(passphrase) < MIN_PASSPHRASE_CHARS && passphrase.length > 0 ? ['short'] : [];
  const r: Reason[] = [];
  if (graphemes(passphrase) < MIN_PASSPHRASE_CHARS) r.push('short');
  if (check.score < 3) r.push('pattern');
  if (check.guessSeconds < MIN_GUESS_YEARS * SECONDS_PER_YEAR) r.push('time');
  if (r.length === 0) r.push('pattern');
  return r;
}

/**
 * How long the assumed attacker needs, in the window's language: the largest whole unit, years in
 * compact notation ("3.2 million years", "320万年"), scientific beyond 10^12 years. `null` under a second.
 */
export function guessTimeOf(lang: string, seconds: number): string | null {
  if (!(seconds >= 1)) return null;
  const units: [number, string][] = [
    [SECONDS_PER_YEAR, 'year'],
    [86_400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
    [1, 'second'],
  ];
  for (const [size, unit] of units) {
    if (seconds < size) continue;
    const n = seconds / size;
    const notation = unit === 'year' && n >= 1e12 ? 'scientific' : unit === 'year' && n >= 1e6 ? 'compact' : 'standard';
    return new Intl.NumberFormat(lang, { style: 'unit', unit, unitDisplay: 'long', notation, maximumFractionDigits: notation === 'standard' ? 0 : 1, roundingMode: 'floor' } as Intl.NumberFormatOptions).format(notation === 'standard' ? Math.floor(n) : n);
  }
  return null;
}

