/**
 * The strength meter's live estimate from main (vault:checkPassphrase); the meter's reading of it
 * is shared/passphrase-meter.ts.
 */
import { useEffect, useState } from 'react';
import { graphemes, MIN_PASSPHRASE_CHARS, type Check } from '../../../shared/passphrase-meter';
import { custos } from '../api';

export { guessTimeOf, levelOf, reasonsOf, type Check, type Level, type Reason } from '../../../shared/passphrase-meter';

/**
 * Asks main for the estimate as the person types (after a short pause; an older answer never
 * replaces a newer one). `null` while there is nothing to check or the answer is on its way.
 */
export function usePassphraseCheck(passphrase: string, name?: string): Check | null {
  const [state, setState] = useState<{ for: string; check: Check } | null>(null);
  useEffect(() => {
    if (graphemes(passphrase) < MIN_PASSPHRASE_CHARS) return undefined;
    let live = true;
    const timer = setTimeout(() => {
      void custos()
        .vault.checkPassphrase({ passphrase, ...(name === undefined || name === '' ? {} : { name: name.slice(0, 1000) }) })
        .then((r) => {
          if (live && r.ok) setState({ for: passphrase, check: r.value });
        });
    }, 120);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [passphrase, name]);
  return state !== null && state.for === passphrase ? state.check : null;
}
