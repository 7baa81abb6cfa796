/** The current language for every component, with the helpers that format for it (all through `Intl`). */
import { createContext, useContext } from 'react';
import { message, type Language, type StringKey, type Values } from '../i18n';

export interface I18n {
  readonly lang: Language;
  /** The message for `key` in the current language, placeholders filled (ICU: plurals, numbers). */
  readonly t: (key: StringKey, vars?: Values) => string;
  /** Unix seconds → a date and time in the current language. */
  readonly date: (seconds: number) => string;
  /** Unix seconds → "in 3 hours" / "2 days ago". */
  readonly relative: (seconds: number, nowSeconds?: number) => string;
  readonly num: (n: number) => string;
  /** A size in bytes → "512 B", "1.5 kB", "3.2 MB" (decimal units, as `Intl` names them). */
  readonly size: (bytes: number) => string;
}

export function makeI18n(lang: Language): I18n {
  const dateFmt = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' });
  const numFmt = new Intl.NumberFormat(lang);
  const rel = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
  const unit = (u: string) => new Intl.NumberFormat(lang, { style: 'unit', unit: u, unitDisplay: 'short', maximumFractionDigits: 1 });
  const sizes = [unit('byte'), unit('kilobyte'), unit('megabyte'), unit('gigabyte')] as const;
  return {
    lang,
    t: (key, vars) => message(lang, key, vars),
    date: (s) => dateFmt.format(new Date(s * 1000)),
    relative: (s, now = Math.floor(Date.now() / 1000)) => {
      const d = s - now;
      const a = Math.abs(d);
      if (a < 60) return rel.format(Math.round(d), 'second');
      if (a < 3600) return rel.format(Math.round(d / 60), 'minute');
      if (a < 86_400 * 2) return rel.format(Math.round(d / 3600), 'hour');
      return rel.format(Math.round(d / 86_400), 'day');
    },
    num: (n) => numFmt.format(n),
    size: (bytes) => {
      let i = 0;
      let v = bytes;
      while (v >= 1000 && i < sizes.length - 1) {
        v /= 1000;
        i++;
      }
      return sizes[i as 0 | 1 | 2 | 3].format(v);
    },
  };
}

export const I18nContext = createContext<I18n>(makeI18n('en'));
export const useI18n = (): I18n => useContext(I18nContext);
