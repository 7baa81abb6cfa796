/**
 * The window's words: one ICU MessageFormat catalog per language, `locales/<lang>.json` (the model
 * of Signal's `_locales/<lang>/messages.json`), formatted with FormatJS (react-intl). A translator
 * edits one JSON file; plurals are ICU plurals (`{n, plural, one {…} other {…}}`) and every number,
 * date and duration goes through `Intl` (`{n, number}`, `{s, number, ::unit/second}`).
 *
 * The English catalog defines the keys: the Chinese one is typed by them, so a missing key fails the
 * typecheck, and test/renderer/catalogs.test.ts fails on a key missing either way, on a message that
 * does not parse, and on placeholders that differ between the languages.
 *
 * Refusals from the main process already carry both sentences (`error.message[lang]`,
 * main/services/messages.ts); these catalogs hold the window's own words.
 */
import { createIntl, createIntlCache, type IntlShape } from 'react-intl';
import type { IpcError } from '../../shared/ipc/contract';
import en from './locales/en.json' with { type: 'json' };
import zhCNJson from './locales/zh-CN.json' with { type: 'json' };

import { LANGUAGES, type Language } from '../../shared/languages';

export { LANGUAGES, type Language };

export type StringKey = keyof typeof en;
const zhCN: Readonly<Record<StringKey, string>> = zhCNJson;

/** Every catalog, by language (the raw ICU messages). */
export const catalogs: Readonly<Record<Language, Readonly<Record<StringKey, string>>>> = { en, 'zh-CN': zhCN };

/** Values for a message's placeholders: numbers stay numbers, so plural rules and `Intl` apply. */
export type Values = Readonly<Record<string, string | number>>;

// The argument kinds of @formatjs/icu-messageformat-parser's AST (TYPE.number, TYPE.plural, TYPE.select).
const NUMBER = 2;
const SELECT = 5;
const PLURAL = 6;
interface AstElement {
  readonly type: number;
  readonly value?: unknown;
  readonly options?: Readonly<Record<string, { readonly value: readonly AstElement[] }>>;
}

/** Names of the arguments that must be numbers (`{n, number}`, `{n, plural, …}`), nested ones too. */
function numericArguments(ast: readonly AstElement[], into = new Set<string>()): Set<string> {
  for (const el of ast) {
    if ((el.type === NUMBER || el.type === PLURAL) && typeof el.value === 'string') into.add(el.value);
    if ((el.type === PLURAL || el.type === SELECT) && el.options !== undefined) {
      for (const o of Object.values(el.options)) numericArguments(o.value, into);
    }
  }
  return into;
}

const cache = createIntlCache();
const intls = new Map<Language, IntlShape>();

/** The FormatJS `intl` object of a language (one per language, its formatters cached). */
export function intlFor(lang: Language): IntlShape {
  let intl = intls.get(lang);
  if (intl === undefined) {
    intl = createIntl(
      {
        locale: lang,
        defaultLocale: 'en',
        messages: catalogs[lang],
        // A message that cannot be formatted is a bug: say so where the e2e guard sees it.
        onError: (e) => {
          console.error(`i18n (${lang}): ${e.message}`);
        },
      },
      cache,
    );
    intls.set(lang, intl);
  }
  return intl;
}

const numericOf = new Map<string, Set<string>>();

/** The message `key` in `lang`, its placeholders filled (numbers and plurals formatted for `lang`). */
export function message(lang: Language, key: StringKey, values?: Values): string {
  const intl = intlFor(lang);
  const memo = `${lang}\u0000${key}`;
  let numeric = numericOf.get(memo);
  if (numeric === undefined) {
    numeric = numericArguments(intl.formatters.getMessageFormat(catalogs[lang][key], lang).getAst());
    numericOf.set(memo, numeric);
  }
  for (const name of numeric) {
    // A string given for a number would print "NaN" or pick the wrong plural form.
    if (typeof values?.[name] !== 'number') console.error(`i18n (${lang}): "${key}" needs a number for {${name}}, got ${typeof values?.[name]}`);
  }
  return intl.formatMessage({ id: key }, values);
}

/** A refusal made in the window (no readable QR code, no camera…), in both languages like main's. */
export function localError(key: StringKey): IpcError {
  return { code: 'INVALID_PARAMETERS', message: { en: message('en', key), 'zh-CN': message('zh-CN', key) }, details: {} };
}
