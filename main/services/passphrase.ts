/**
 * The vault passphrase policy and the diceware generator (issue 13). The policy's estimator and
 * figures live in node/passphrase-policy.ts (shared with the approver's key file) and are
 * re-exported here; what follows describes it as the vault applies it.
 *
 * Strength: @zxcvbn-ts/core with its common and English dictionaries (as Bitwarden and KeePassXC
 * use zxcvbn) estimates how many guesses a smart attacker needs. Custos turns that into a time AT
 * THE VAULT'S KDF COST, because identity.age is all an offline attacker needs (docs/custodian-vault.md,
 * "Only the KDF stops an offline attacker"):
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
 * max(logN, MIN_LOG_N): a test vault's weaker KDF is an explicit opt-in and does not make the same
 * passphrase acceptable or not.
 *
 * Generation: words from the EFF long list (7,776 words, log2 = 12.92 bits each), each index drawn
 * by rejection sampling from 16-bit values of WebCrypto's getRandomValues (unbiased: values at or
 * above 7776·8 = 62,208 are drawn again). Six words give 77.5 bits.
 */
import { EFF_LARGE_WORDLIST } from './data/eff-large-wordlist';
import { ServiceError } from './errors';
import { scryptLogNOf } from './kdf';
import { MIN_GUESS_YEARS, MIN_PASSPHRASE_LENGTH, passphraseStrength } from '../../node/passphrase-policy';
import { readIfExists } from '../../node/fs-atomic';
import { join } from 'node:path';

export const DEFAULT_WORDS = 6;

// The strength policy itself is in node/passphrase-policy.ts, shared with the approver's key file.
export {
  ATTACKER_FACTOR,
  attackerGuessesPerSecond,
  MIN_GUESS_YEARS,
  MIN_PASSPHRASE_LENGTH,
  MIN_ZXCVBN_SCORE,
  ONE_CORE_MS_AT_LOGN_14,
  passphraseStrength,
  sayDuration,
  type PassphraseStrength,
} from '../../node/passphrase-policy';

/**
 * Refuses a weak passphrase with WEAK_PASSPHRASE: the reasons and the estimated guessing time at
 * the vault's work factor, and what to do instead. Used by vault creation and passphrase change.
 */
export async function assertStrongPassphrase(passphrase: unknown, logN: number, userInputs: readonly string[] = []): Promise<void> {
  if (typeof passphrase !== 'string' || passphrase.length === 0) {
    throw new ServiceError('WEAK_PASSPHRASE', 'No passphrase was given. Choose one of several random words, for example one from `custos passphrase generate`.', {
      details: { min: MIN_PASSPHRASE_LENGTH },
    });
  }
  const s = await passphraseStrength(passphrase, logN, userInputs);
  if (s.ok) return;
  throw new ServiceError(
    'WEAK_PASSPHRASE',
    `This passphrase is too weak: ${s.reasons.join('; ')}. Use five or more random words, for example from \`custos passphrase generate\`.`,
    {
      details: {
        min: MIN_PASSPHRASE_LENGTH,
        score: s.score,
        guessesLog10: Math.round(s.guessesLog10 * 100) / 100,
        logN: s.logN,
        guessSeconds: s.guessSeconds,
        guessTime: s.guessTime,
        minGuessYears: MIN_GUESS_YEARS,
      },
    },
  );
}

/** An unbiased index in [0, n) from WebCrypto randomness (rejection sampling over 16-bit values). */
export function randomIndex(n: number, random: (out: Uint16Array) => Uint16Array = (out) => globalThis.crypto.getRandomValues(out)): number {
  if (!Number.isInteger(n) || n < 1 || n > 65536) throw new RangeError(`randomIndex needs a whole number from 1 to 65536; got ${String(n)}.`);
  const limit = 65536 - (65536 % n);
  const buf = new Uint16Array(1);
  for (;;) {
    const v = random(buf)[0] ?? 0;
    if (v < limit) return v % n;
  }
}

export interface GeneratedPassphrase {
  readonly passphrase: string;
  readonly words: number;
  /** log2(7776^words). */
  readonly entropyBits: number;
  readonly list: 'EFF long word list (CC BY 3.0)';
}

/** A diceware passphrase: `words` words (4–12, default 6) of the EFF long list, separated by `separator`. */
export function generatePassphrase(words: number = DEFAULT_WORDS, separator = ' '): GeneratedPassphrase {
  if (!Number.isInteger(words) || words < 4 || words > 12) {
    throw new ServiceError('USAGE', `A generated passphrase has from 4 to 12 words; got ${String(words)}.`, { details: { min: 4, max: 12 } });
  }
  const picked: string[] = [];
  for (let i = 0; i < words; i++) picked.push(EFF_LARGE_WORDLIST[randomIndex(EFF_LARGE_WORDLIST.length)] ?? '');
  return { passphrase: picked.join(separator), words, entropyBits: Math.round(words * Math.log2(EFF_LARGE_WORDLIST.length) * 10) / 10, list: 'EFF long word list (CC BY 3.0)' };
}

/** The scrypt work factor of the vault in `dir` (identity.age's stanza), or undefined when there is none. */
export async function vaultKdfLogN(dir: string): Promise<number | undefined> {
  const file = await readIfExists(join(dir, 'identity.age'));
  return file === undefined ? undefined : scryptLogNOf(file);
}
