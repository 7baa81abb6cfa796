/**
 * The passphrase strength policy for a secret kept in an age passphrase (scrypt) file: the custodian
 * app's vault (main/services/passphrase.ts) and the approver's key file (approver/key.ts) judge a
 * passphrase the same way. Moved here from main/services/passphrase.ts so the approver program,
 * which may import only shared/ and node/, uses the one policy (issue 12).
 *
 * Strength: @zxcvbn-ts/core with its common and English dictionaries (as Bitwarden and KeePassXC
 * use zxcvbn) estimates how many guesses a smart attacker needs. Custos turns that into a time AT
 * THE FILE'S KDF COST, because the encrypted file is all an offline attacker needs:
 *
 *   seconds per guess on one core  = ONE_CORE_MS_AT_LOGN_14 · 2^(logN − 14) / 1000
 *   attacker guesses per second    = ATTACKER_FACTOR / seconds per guess on one core
 *   time to guess                  = zxcvbn guesses / attacker guesses per second
 *
 * ONE_CORE_MS_AT_LOGN_14 was measured on the development machine (node:crypto scrypt, N = 2^14,
 * r = 8, p = 1: the fastest of five runs, 34 ms; scrypt's time is linear in N). ATTACKER_FACTOR = 100
 * is a stated assumption for "one GPU-class attacker": scrypt at r = 8 needs 128·N·8 bytes a guess
 * (16 MiB at logN 14), so a GPU runs only as many guesses at once as its memory holds; published
 * hashcat figures for scrypt of this shape on one high-end GPU are in the tens of times one CPU
 * core, and 100× errs on the attacker's side. A passphrase is refused when zxcvbn scores it below 3
 * or when the time to guess is under MIN_GUESS_YEARS (100 years). The policy is evaluated at
 * max(logN, MIN_LOG_N): a test file's weaker KDF is an explicit opt-in and does not make the same
 * passphrase acceptable or not.
 */
import type { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { MIN_LOG_N } from './age-scrypt';

/** Shortest passphrase accepted, in characters as a person sees them (grapheme clusters). */
export const MIN_PASSPHRASE_LENGTH = 8;
/** Measured: node:crypto scrypt at N = 2^14, r = 8, p = 1, fastest of five on one core here. */
export const ONE_CORE_MS_AT_LOGN_14 = 34;
/** One GPU-class attacker, in multiples of one CPU core (an assumption: see the header). */
export const ATTACKER_FACTOR = 100;
/** A passphrase that this attacker guesses faster than this is refused. */
export const MIN_GUESS_YEARS = 100;
/** zxcvbn's score (0–4) below which a passphrase is refused whatever the KDF. */
export const MIN_ZXCVBN_SCORE = 3;

const SECONDS_PER_YEAR = 365.25 * 24 * 3600;

let factory: Promise<ZxcvbnFactory> | undefined;
/** zxcvbn and its dictionaries, loaded on first use (about 0.4 s: not on every CLI start). */
function estimator(): Promise<ZxcvbnFactory> {
  factory ??= (async () => {
    const [{ ZxcvbnFactory: Factory }, common, en] = await Promise.all([import('@zxcvbn-ts/core'), import('@zxcvbn-ts/language-common'), import('@zxcvbn-ts/language-en')]);
    return new Factory({
      translations: en.translations,
      graphs: common.adjacencyGraphs,
      dictionary: { ...common.dictionary, ...en.dictionary },
    });
  })();
  return factory;
}

export interface PassphraseStrength {
  readonly ok: boolean;
  /** zxcvbn's score, 0 (too guessable) to 4 (very unguessable). */
  readonly score: number;
  /** zxcvbn's estimate of the guesses needed, as log10. */
  readonly guessesLog10: number;
  /** The work factor the estimate is for (the file's, at least MIN_LOG_N). */
  readonly logN: number;
  /** The assumed attacker's guesses per second at that work factor. */
  readonly attackerGuessesPerSecond: number;
  /** How long that attacker needs, in seconds (may be Infinity-like large). */
  readonly guessSeconds: number;
  /** The same, said for a person ("3 hours", "about 2 million years"). */
  readonly guessTime: string;
  /** Why it is refused (empty when ok): zxcvbn's warning, or length / time reasons. */
  readonly reasons: readonly string[];
  /** zxcvbn's suggestions. */
  readonly suggestions: readonly string[];
}

/** Guesses per second of the assumed attacker against scrypt at this work factor. */
export function attackerGuessesPerSecond(logN: number): number {
  const secondsPerGuessOneCore = (ONE_CORE_MS_AT_LOGN_14 * 2 ** (logN - 14)) / 1000;
  return ATTACKER_FACTOR / secondsPerGuessOneCore;
}

/** A duration in words, rounded down to one unit ("less than a second", "5 days", "3.2 million years"). */
export function sayDuration(seconds: number): string {
  if (!(seconds >= 1)) return 'less than a second';
  const units: [number, string][] = [
    [SECONDS_PER_YEAR, 'year'],
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
    [1, 'second'],
  ];
  for (const [size, name] of units) {
    if (seconds >= size) {
      const n = seconds / size;
      if (name === 'year' && n >= 1e6) {
        const exp = Math.floor(Math.log10(n));
        if (exp >= 12) return `about 10^${String(exp)} years`;
        const [div, word] = exp >= 9 ? [1e9, 'billion'] : [1e6, 'million'];
        return `about ${(n / div).toFixed(1)} ${word} years`;
      }
      const whole = Math.floor(n);
      return `${new Intl.NumberFormat('en-US').format(whole)} ${name}${whole === 1 ? '' : 's'}`;
    }
  }
  return 'less than a second';
}

function graphemes(text: string): number {
  return Array.from(new Intl.Segmenter().segment(text)).length;
}

/**
 * Estimates a passphrase at a file's work factor. `userInputs` (a name, a folder) count as known to
 * the attacker; `file` names the encrypted file in the reason ("a copy of identity.age"). Never logs
 * or returns the passphrase.
 */
export async function passphraseStrength(passphrase: string, logN: number, userInputs: readonly string[] = [], file = 'identity.age'): Promise<PassphraseStrength> {
  const atLogN = Math.max(Number.isInteger(logN) ? logN : MIN_LOG_N, MIN_LOG_N);
  const result = (await estimator()).check(passphrase, userInputs.filter((s) => s.length > 0));
  const guessesLog10 = result.guessesLog10;
  const rate = attackerGuessesPerSecond(atLogN);
  const guessSeconds = 10 ** guessesLog10 / rate;
  const guessTime = sayDuration(guessSeconds);
  const reasons: string[] = [];
  if (graphemes(passphrase) < MIN_PASSPHRASE_LENGTH) reasons.push(`it is shorter than ${String(MIN_PASSPHRASE_LENGTH)} characters`);
  if (result.feedback.warning !== null && result.feedback.warning !== '') reasons.push(result.feedback.warning.replace(/\.$/, ''));
  if (result.score < MIN_ZXCVBN_SCORE && reasons.length === 0) reasons.push('it follows a pattern that is easy to guess');
  if (guessSeconds < MIN_GUESS_YEARS * SECONDS_PER_YEAR) {
    reasons.push(`an attacker with a copy of ${file} and one GPU-class machine would guess it in ${guessTime} (scrypt logN ${String(atLogN)}); at least ${String(MIN_GUESS_YEARS)} years is required`);
  }
  return {
    ok: reasons.length === 0,
    score: result.score,
    guessesLog10,
    logN: atLogN,
    attackerGuessesPerSecond: rate,
    guessSeconds,
    guessTime,
    reasons,
    suggestions: result.feedback.suggestions,
  };
}
