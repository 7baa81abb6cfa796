/** The current language for every component, with the helpers that format for it. */
import { createContext, useContext } from 'react';
import { format, strings, type Language, type StringKey } from '../i18n';

export interface I18n {
  readonly lang: Language;
  /** The sentence for `key` in the current language, `{name}` placeholders filled. */
  readonly t: (key: StringKey, vars?: Readonly<Record<string, string | number>>) => string;
  /** Unix seconds → a date and time in the current language. */
  readonly date: (seconds: number) => string;
  /** Unix seconds → "in 3 hours" / "2 days ago". */
  readonly relative: (seconds: number, nowSeconds?: number) => string;
  readonly num: (n: number) => string;
}

export function makeI18n(lang: Language): I18n {
  const dateFmt = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' });
  const numFmt = new Intl.NumberFormat(lang);
  const rel = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
  return {
    lang,
    t: (key, vars) => format(strings[lang][key], vars),
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
  };
}

export const I18nContext = createContext<I18n>(makeI18n('en'));
export const useI18n = (): I18n => useContext(I18nContext);
