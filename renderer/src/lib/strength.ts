/**
 * A plain hint about a passphrase's strength (length and variety; no dictionary). The vault's KDF
 * makes every guess cost about a second; length is what matters most.
 */
export type Strength = 'empty' | 'too-short' | 'weak' | 'fair' | 'strong';

export const MIN_PASSPHRASE_CHARS = 8;

export function strengthOf(passphrase: string): Strength {
  const chars = Array.from(new Intl.Segmenter().segment(passphrase)).length;
  if (chars === 0) return 'empty';
  if (chars < MIN_PASSPHRASE_CHARS) return 'too-short';
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9\s]/, /\s/].filter((r) => r.test(passphrase)).length;
  const words = passphrase.trim().split(/\s+/).filter((w) => w.length >= 3).length;
  const distinct = new Set(passphrase).size;
  if (distinct < 5) return 'weak';
  if (chars >= 20 || words >= 4 || (chars >= 16 && classes >= 3)) return 'strong';
  if (chars >= 12 && classes >= 2) return 'fair';
  return 'weak';
}
