/**
 * The window's catalogs (renderer/src/locales/<lang>.json): the same keys in every language (both
 * ways), every message valid ICU MessageFormat with the same arguments in every language, plurals
 * instead of "(s)", numbers given to `Intl` rather than printed raw, and no English left in Chinese.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createIntl } from 'react-intl';
import { describe, expect, it } from 'vitest';

const LANGS = ['en', 'zh-CN'] as const;
const root = join(import.meta.dirname, '..', '..');
const catalog = (lang: string): Record<string, string> => JSON.parse(readFileSync(join(root, 'renderer/src/locales', `${lang}.json`), 'utf8')) as Record<string, string>;
const catalogs = Object.fromEntries(LANGS.map((l) => [l, catalog(l)])) as Record<(typeof LANGS)[number], Record<string, string>>;

interface El {
  readonly type: number;
  readonly value?: unknown;
  readonly options?: Record<string, { readonly value: readonly El[] }>;
}
/** Argument name → kind ("argument", "number", "plural", "select", "date", …) of a parsed message. */
function argumentsOf(ast: readonly El[], into = new Map<string, string>()): Map<string, string> {
  const kinds: Record<number, string> = { 1: 'argument', 2: 'number', 3: 'date', 4: 'time', 5: 'select', 6: 'plural' };
  for (const el of ast) {
    const kind = kinds[el.type];
    if (kind !== undefined && typeof el.value === 'string') into.set(el.value, kind);
    for (const o of Object.values(el.options ?? {})) argumentsOf(o.value, into);
  }
  return into;
}
const parse = (lang: string, message: string): readonly El[] => createIntl({ locale: lang, messages: {} }).formatters.getMessageFormat(message, lang).getAst();

describe('catalogs', () => {
  it('every key is in every language, both ways', () => {
    const en = Object.keys(catalogs.en).sort();
    for (const lang of LANGS) {
      const keys = Object.keys(catalogs[lang]).sort();
      expect(en.filter((k) => !keys.includes(k)), `keys missing from ${lang}.json`).toEqual([]);
      expect(keys.filter((k) => !en.includes(k)), `keys in ${lang}.json that en.json does not have`).toEqual([]);
      for (const k of keys) expect(catalogs[lang][k]?.trim(), `${lang}: ${k} is empty`).not.toBe('');
    }
  });

  it('every message parses, with the same arguments in every language; counts are numbers', () => {
    const problems: string[] = [];
    for (const key of Object.keys(catalogs.en)) {
      const en = argumentsOf(parse('en', catalogs.en[key] ?? ''));
      for (const lang of LANGS) {
        const args = argumentsOf(parse(lang, catalogs[lang][key] ?? ''));
        const names = (m: Map<string, string>) => [...m.keys()].sort().join(',');
        if (names(args) !== names(en)) problems.push(`${lang} ${key}: arguments {${names(args)}}, English has {${names(en)}}`);
        // A count printed raw ({n}) skips Intl's digit grouping; plurals and numbers must be formatted.
        for (const [name, kind] of args) {
          if (kind === 'argument' && /^(n|i|k|m|s|a|r|ok|bad|total|seq|index)$/.test(name)) problems.push(`${lang} ${key}: {${name}} is a number: write {${name}, number} or a plural`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('English uses plural rules, never "(s)"', () => {
    const bad = Object.entries(catalogs.en).filter(([, v]) => /\w\(s\)/.test(v)).map(([k]) => k);
    expect(bad).toEqual([]);
    const intl = createIntl({ locale: 'en', messages: catalogs.en });
    expect(intl.formatMessage({ id: 'signedTitle' }, { n: 1 })).toBe('1 receipt signed');
    expect(intl.formatMessage({ id: 'signedTitle' }, { n: 1234 })).toBe('1,234 receipts signed');
  });

  it('Chinese has no English words (only names, abbreviations and file names kept as they are)', () => {
    const allowed = new Set(['Custos', 'scrypt', 'API', 'SHA', 'PDF', 'Ctrl', 'Esc', 'QR', 'USB', 'U', 'v', 'English']);
    const bad: string[] = [];
    for (const [key, value] of Object.entries(catalogs['zh-CN'])) {
      const text = value.replace(/\{[^{}]*\}/g, ' ');
      const words = text.split(/[^A-Za-z0-9._\-:+]+/).filter((w) => /[A-Za-z]/.test(w) && !/[0-9._\-:+]/.test(w) && !allowed.has(w));
      if (words.length > 0) bad.push(`${key}: ${words.join(' ')}`);
    }
    expect(bad).toEqual([]);
  });
});

describe('UI font', () => {
  it('the shipped source font has a glyph for every character the catalogs use (the build cuts the UI font from it)', async () => {
    const { default: fontkit } = await import('@pdf-lib/fontkit');
    const font = fontkit.create(readFileSync(join(root, 'resources/fonts/custos-sheet-sc.ttf')));
    const chars = new Set<string>();
    for (const lang of LANGS) for (const v of Object.values(catalogs[lang])) for (const c of v) if ((c.codePointAt(0) ?? 0) >= 0x2e80) chars.add(c);
    expect(chars.size).toBeGreaterThan(300);
    expect([...chars].filter((c) => !font.hasGlyphForCodePoint(c.codePointAt(0) ?? 0))).toEqual([]);
  });
});
