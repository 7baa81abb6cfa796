/**
 * The custodian CLI's words in English and Simplified Chinese (issue 13, "Language"): one ICU
 * MessageFormat catalog per language, main/cli/locales/<lang>.json, in the same format as the
 * window's (renderer/src/locales/), so a translator edits one file per language. Numbers and plurals
 * go through Intl (intl-messageformat, the formatter react-intl uses in the window). Keys:
 * `help.*` the help's own words, `group.<name>` / `cmd.<command>` / `cmdHelp.<command>` the
 * command table's summaries (en.json equals the table, checked by test/custodian/cli-language.test.ts),
 * and `<command>.*` the lines a command prints. Error sentences stay in main/services/messages.ts.
 */
import { IntlMessageFormat, type PrimitiveType } from 'intl-messageformat';
import type { Command, Group } from '../../node/cli/runner';
import type { HelpText } from '../../node/cli/help';
import type { Language } from '../services/messages';
import { readFileSync } from 'node:fs';
import { LANGUAGES } from '../../shared/languages';

/** Read once at start from beside this file (the CLI runs from the source tree, through tsx). */
const load = (lang: Language): Readonly<Record<string, string>> => JSON.parse(readFileSync(new URL(`./locales/${lang}.json`, import.meta.url), 'utf8')) as Record<string, string>;
export const CATALOGS: Readonly<Record<Language, Readonly<Record<string, string>>>> = Object.fromEntries(LANGUAGES.map((l) => [l, load(l)])) as Record<Language, Record<string, string>>;

/** A message of the catalogs (every key is in every catalog: test/custodian/cli-language.test.ts). */
export type MessageKey = string;

const cache = new Map<string, IntlMessageFormat>();

/** The message `key` in `lang`, its arguments filled in (numbers and plurals through Intl). */
export function t(lang: Language, key: MessageKey, args: Readonly<Record<string, PrimitiveType>> = {}): string {
  const id = `${lang}\u0000${key}`;
  let f = cache.get(id);
  if (f === undefined) {
    const text = CATALOGS[lang][key] ?? CATALOGS.en[key];
    if (text === undefined) throw new Error(`The CLI catalog has no message ${key}.`);
    f = new IntlMessageFormat(text, lang, undefined, { ignoreTag: true });
    cache.set(id, f);
  }
  const out = f.format(args);
  return typeof out === 'string' ? out : String(out);
}

/** A key that may not be in the catalog (a command's help paragraph): undefined when it is not. */
function optional(lang: Language, key: string): string | undefined {
  return CATALOGS[lang][key];
}

/** The help's words in `lang`; the command table's English where a catalog lacks a summary (the catalog test catches it). */
export function helpTextIn(lang: Language): HelpText {
  return {
    title: t(lang, 'help.title'),
    usage: t(lang, 'help.usage'),
    synopsis: t(lang, 'help.synopsis'),
    hint: (invocation) => t(lang, 'help.hint', { invocation }),
    groupTitle: (title, group, summary) => t(lang, 'help.groupTitle', { title, group, summary }),
    commands: t(lang, 'help.commands'),
    options: t(lang, 'help.options'),
    everywhere: t(lang, 'help.everywhere'),
    details: (invocation, group) => t(lang, 'help.details', { invocation, group }),
    repeatable: t(lang, 'help.repeatable'),
    footer: t(lang, 'help.footer'),
    group: (g: Group) => optional(lang, `group.${g.name}`) ?? g.summary,
    command: (c: Command) => ({ summary: optional(lang, `cmd.${c.name}`) ?? c.summary, help: optional(lang, `cmdHelp.${c.name}`) ?? c.help }),
  };
}
