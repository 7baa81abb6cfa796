#!/usr/bin/env node
// Cuts the printable recovery sheet's CJK font (resources/fonts/custos-sheet-sc.ttf) out of Debian's
// WenQuanYi Micro Hei (fonts-wqy-microhei, Apache-2.0 or GPL-3+ with font exception; used here
// under Apache-2.0, see resources/fonts/README.md). Run once when the sheet's labels change:
//
//   apt-get install -y fonts-wqy-microhei fonttools
//   node scripts/make-sheet-font.mjs
//
// The subset keeps: ASCII, Latin-1, general and CJK punctuation, full-width forms, every CJK
// character in main/services/sheet.ts (the labels) and in the window's catalogs, and the 3,755 common characters of GB 2312
// level 1 (so custodian names in Chinese print). test/ipc/sheet.test.ts checks the labels are covered.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SOURCE = process.env.CUSTOS_WQY_FONT ?? '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc';
const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'resources/fonts/custos-sheet-sc.ttf');

const chars = new Set();
// GB 2312 level 1: rows 16-55 (bytes 0xB0-0xD7), 94 cells each; 0xD7FA-0xD7FE are unassigned.
const gbk = new TextDecoder('gbk');
for (let hi = 0xb0; hi <= 0xd7; hi++) {
  for (let lo = 0xa1; lo <= 0xfe; lo++) {
    if (hi === 0xd7 && lo > 0xf9) continue;
    const ch = gbk.decode(new Uint8Array([hi, lo]));
    if (ch.length === 1 && ch !== '\ufffd') chars.add(ch);
  }
}
const level1 = chars.size;
// The sheet's labels, and the custodian window's catalogs (scripts/make-ui-font.mjs cuts the UI font
// from this file at build time and fails when a catalog character is missing here).
for (const file of ['main/services/sheet.ts', 'renderer/src/locales/en.json', 'renderer/src/locales/zh-CN.json']) {
  for (const ch of readFileSync(join(root, file), 'utf8')) {
    if ((ch.codePointAt(0) ?? 0) >= 0x2e80) chars.add(ch);
  }
}
const dir = mkdtempSync(join(tmpdir(), 'custos-font-'));
try {
  const textFile = join(dir, 'chars.txt');
  writeFileSync(textFile, [...chars].join(''));
  execFileSync(
    'pyftsubset',
    [
      SOURCE,
      '--font-number=0',
      `--text-file=${textFile}`,
      '--unicodes=U+0020-007E,U+00A0-00FF,U+2000-206F,U+3000-303F,U+FF00-FFEF',
      // Keep the default layout features and the hinting: pdf-lib's own subsetting (fontkit) of a
      // font cut with --no-hinting or all layout features drops glyphs (checked by rendering).
      '--drop-tables+=FFTM',
      '--name-IDs=*',
      `--output-file=${out}`,
    ],
    { stdio: 'inherit' },
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`wrote ${out}: ${String(level1)} GB 2312 level-1 characters, ${String(chars.size - level1)} more from the sheet's labels, ${String(readFileSync(out).length)} bytes`);
