// The sheet's text fallback typed back in (issue 13): a sheet made by makeRecoverySheet, its text
// taken out of the PDF by poppler's pdftotext (what a person reads off the paper), parsed back to
// the exact export; a mistyped word is named by its line, a one-letter slip in a word's middle
// still reads (BC-UR reads bytewords by first and last letter); the hand-over fields print in both
// languages. The page images go to test-results/ to look at.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeRecoverySheet, SHEET_UR_TYPE } from '../../main/services/sheet';
import { fallbackLines, parseFallback } from '../../shared/qr/fallback';
import { NOW, tempDir } from '../custodian/helpers';
import { ROOT, SHEET_FONT } from '../ipc/helpers';

const exportBytes = Uint8Array.from({ length: 1500 }, (_x, i) => (i * 29 + 3) % 256);

describe('the sheet\'s text fallback', () => {
  it('types back in from the PDF\'s text to the exact export, with hand-over fields in both languages', async () => {
    const sheet = await makeRecoverySheet(
      {
        exportBytes,
        exportHash: 'ab'.repeat(32),
        incidentId: 'INC-7',
        keyId: 'k',
        nodeId: 'n',
        setId: 'cd'.repeat(16),
        epoch: 1,
        shareIndex: 3,
        threshold: 3,
        total: 5,
        mode: 'external-only',
        sessionId: 'ef'.repeat(16),
        custodianName: '吴晓',
        custodianCode: '1234 5678 9012 3456 7890 1234',
        approvals: [],
        createdAt: NOW,
        notAfter: NOW + 60,
      },
      new Uint8Array(readFileSync(SHEET_FONT)),
    );
    const dir = tempDir('custos-sheet-fallback-');
    writeFileSync(join(dir, 's.pdf'), sheet.pdf);
    const text = execFileSync('pdftotext', ['-layout', join(dir, 's.pdf'), '-'], { encoding: 'utf8' });
    for (const must of ['Hand-over and sign-off', '交接与签收', 'Printed by', '打印人', 'Received by', '接收人', '交接日期与时间', 'Text fallback', '文字备用码']) expect(text).toContain(must);
    expect(parseFallback(text, SHEET_UR_TYPE)).toEqual(exportBytes);
    // Keep the pages to look at.
    execFileSync('pdftoppm', ['-r', '60', '-png', join(dir, 's.pdf'), join(dir, 'page')]);
    const keep = join(ROOT, 'test-results', 'sheet-fallback');
    mkdirSync(keep, { recursive: true });
    for (const p of readdirSync(dir).filter((n) => n.endsWith('.png'))) copyFileSync(join(dir, p), join(keep, p));
  });

  it('names the line of a wrong word and of a missing line; a slip in a word\'s middle letters still reads', () => {
    const lines = fallbackLines(SHEET_UR_TYPE, exportBytes);
    expect(lines[1]).toMatch(/^001 \| (?:[a-z]{4} ){3}[a-z]{4} {2}.* \| [a-z]{4} [a-z]{4}$/);
    const words = (l: string): string[] => l.split(' ');
    // Line 5's first word swapped for another byteword: its checksum catches it.
    const wrong = [...lines];
    const w5 = words(wrong[5]!);
    w5[2] = w5[2] === 'able' ? 'acid' : 'able';
    wrong[5] = w5.join(' ');
    expect(() => parseFallback(wrong.join('\n'), SHEET_UR_TYPE)).toThrow(/Line\(s\) 5 do not match/);
    const missing = lines.filter((_l, i) => i !== 7);
    expect(() => parseFallback(missing.join('\n'), SHEET_UR_TYPE)).toThrow(/Line\(s\) 7 are missing/);
    // A middle letter mistyped (first and last letters right), upper case, extra spaces: still exact.
    const sloppy = lines.map((l, i) => {
      if (i !== 3) return l.toUpperCase();
      const w = words(l);
      const x = w[2]!;
      w[2] = `${x[0]!}zz${x[3]!}`;
      return `   ${w.join('   ')}`;
    });
    expect(parseFallback(sloppy.join('\n'), SHEET_UR_TYPE)).toEqual(exportBytes);
    expect(() => parseFallback('no header', SHEET_UR_TYPE)).toThrow(/header/);
  });
});
