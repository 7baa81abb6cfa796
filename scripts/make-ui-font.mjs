// The custodian window's CJK font, cut at build time from the font the repository already ships
// (resources/fonts/custos-sheet-sc.ttf, WenQuanYi Micro Hei, Apache-2.0: see resources/fonts/README.md),
// so Chinese renders on a machine without any CJK system font and every new catalog string is covered.
//
// Two faces of one family, "Custos UI", each limited by `unicode-range` (a browser downloads a face
// only when the page shows one of its characters):
//   - `custos-ui-sc.woff2`: every CJK character (U+2E80 and up) of the catalogs and the renderer's
//     sources (renderer/src/locales/*.json, renderer/src/**/*.ts(x): the 简体中文 switch too);
//   - `custos-ui-sc-names.woff2`: the rest of the source font's GB 2312 level-1 characters, for names,
//     incidents and notes people type in Chinese; loaded only when such a character is on screen.
// The build fails, saying what to do, when a catalog character is not in the source font.
//
// electron.config.ts runs this as a Vite plugin (`uiFontPlugin`) before the renderer's CSS is
// processed; it writes renderer/src/generated/ (ignored by git), imported by renderer/src/main.tsx.
// By hand: `node scripts/make-ui-font.mjs` (prints what it wrote).
import fontkit from '@pdf-lib/fontkit';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import subsetFont from 'subset-font';

const root = fileURLToPath(new URL('..', import.meta.url));
export const SOURCE_FONT = join(root, 'resources/fonts/custos-sheet-sc.ttf');
export const OUT_DIR = join(root, 'renderer/src/generated');
export const FAMILY = 'Custos UI';

const isWide = (cp) => cp >= 0x2e80;

function filesUnder(dir, ok) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (p === OUT_DIR) continue;
    if (statSync(p).isDirectory()) out.push(...filesUnder(p, ok));
    else if (ok(name)) out.push(p);
  }
  return out;
}

/** Every CJK (and other wide) character the window can show from its own words, sorted. */
export function catalogCharacters() {
  const chars = new Set();
  const files = filesUnder(join(root, 'renderer/src'), (n) => /\.(json|tsx?)$/.test(n));
  for (const f of files) {
    for (const ch of readFileSync(f, 'utf8')) if (isWide(ch.codePointAt(0) ?? 0)) chars.add(ch);
  }
  return [...chars].sort();
}

/** GB 2312 level 1 (rows 16-55): the 3,755 common characters of names. */
function level1Characters() {
  const gbk = new TextDecoder('gbk');
  const chars = [];
  for (let hi = 0xb0; hi <= 0xd7; hi++) {
    for (let lo = 0xa1; lo <= 0xfe; lo++) {
      if (hi === 0xd7 && lo > 0xf9) continue;
      const ch = gbk.decode(new Uint8Array([hi, lo]));
      if (ch.length === 1 && ch !== '\ufffd') chars.push(ch);
    }
  }
  return chars;
}

/** `unicode-range` of a set of characters: consecutive code points merged into ranges. */
export function unicodeRange(chars) {
  const cps = [...new Set(chars.map((c) => c.codePointAt(0) ?? 0))].sort((a, b) => a - b);
  const parts = [];
  for (let i = 0; i < cps.length; ) {
    let j = i;
    while (j + 1 < cps.length && cps[j + 1] === cps[j] + 1) j++;
    const hex = (n) => n.toString(16).toUpperCase();
    parts.push(i === j ? `U+${hex(cps[i])}` : `U+${hex(cps[i])}-${hex(cps[j])}`);
    i = j + 1;
  }
  return parts.join(', ');
}

/** Cuts both faces and writes them with their @font-face CSS into `outDir`. */
export async function buildUiFont(outDir = OUT_DIR) {
  const source = readFileSync(SOURCE_FONT);
  const font = fontkit.create(source);
  const catalog = catalogCharacters();
  const missing = catalog.filter((c) => !font.hasGlyphForCodePoint(c.codePointAt(0) ?? 0));
  if (missing.length > 0) {
    throw new Error(
      `make-ui-font: ${String(missing.length)} character(s) of the window's words are not in ${relative(root, SOURCE_FONT)}: ${missing.join('')}. ` +
        'Cut that font again with scripts/make-sheet-font.mjs (it takes the catalogs\u2019 characters too), then build again.',
    );
  }
  const inCatalog = new Set(catalog);
  const names = level1Characters().filter((c) => !inCatalog.has(c) && font.hasGlyphForCodePoint(c.codePointAt(0) ?? 0));
  const [main, rest] = await Promise.all([
    subsetFont(source, catalog.join(''), { targetFormat: 'woff2' }),
    subsetFont(source, names.join(''), { targetFormat: 'woff2' }),
  ]);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'custos-ui-sc.woff2'), main);
  writeFileSync(join(outDir, 'custos-ui-sc-names.woff2'), rest);
  writeFileSync(join(outDir, '.gitignore'), '# Made by scripts/make-ui-font.mjs at build time.\n*\n');
  const face = (file, chars) =>
    `@font-face {\n  font-family: '${FAMILY}';\n  src: url('./${file}') format('woff2');\n  font-display: swap;\n  unicode-range: ${unicodeRange(chars)};\n}\n`;
  writeFileSync(
    join(outDir, 'ui-font.css'),
    `/* Made by scripts/make-ui-font.mjs from the catalogs; do not edit. */\n${face('custos-ui-sc.woff2', catalog)}${face('custos-ui-sc-names.woff2', names)}`,
  );
  return { catalog: catalog.length, names: names.length, bytes: main.length, namesBytes: rest.length };
}

/** The Vite plugin: cuts the font before the renderer's modules (and its CSS) are loaded. */
export function uiFontPlugin() {
  return {
    name: 'custos-ui-font',
    async buildStart() {
      const r = await buildUiFont();
      this.info?.(`UI font: ${String(r.catalog)} catalog characters (${String(r.bytes)} bytes), ${String(r.names)} more for names (${String(r.namesBytes)} bytes)`);
    },
  };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = await buildUiFont();
  console.log(`wrote ${relative(root, OUT_DIR)}: ${String(r.catalog)} catalog characters in ${String(r.bytes)} bytes, ${String(r.names)} more for names in ${String(r.namesBytes)} bytes`);
}
