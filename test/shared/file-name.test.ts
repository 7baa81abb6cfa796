/** shared/file-name.ts: names people gave survive into file names, made safe for every system. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSafeFileName, MAX_NAME_BYTES, safeFileName, safeFileStem } from '../../shared/file-name';
import { fileName } from '../../shared/ipc/schemas';

const bytes = (s: string): number => new TextEncoder().encode(s).length;

describe('safeFileName', () => {
  it('keeps Chinese and other scripts: an incident name survives into an export name', () => {
    expect(safeFileName('recovery-export-支付网关故障-wallet-hot-7-node-sg-2-s3', '.custos')).toBe('recovery-export-支付网关故障-wallet-hot-7-node-sg-2-s3.custos');
    expect(safeFileName('enrollment-card-Zoë Ångström', '.custos')).toBe('enrollment-card-Zoë_Ångström.custos');
    expect(safeFileName('enrollment-card-王小明（冷存储）', '.custos')).toBe('enrollment-card-王小明_冷存储_.custos');
  });

  it('keeps what the ASCII-only rule made for ASCII identifiers', () => {
    expect(safeFileName('receipt-key-0000-node-a-s3-0123456789ab', '.custos')).toBe('receipt-key-0000-node-a-s3-0123456789ab.custos');
    expect(safeFileName('enrollment-card-Carol Wu (cold storage)', '.custos')).toBe('enrollment-card-Carol_Wu__cold_storage_.custos');
  });

  it('replaces separators, forbidden, control, invisible and bidirectional characters', () => {
    expect(safeFileName('a/b\\c:d*e?f"g<h>i|j', '.pdf')).toBe('a_b_c_d_e_f_g_h_i_j.pdf');
    expect(safeFileName('x\u0000y\u001fz\u007f', '.custos')).toBe('x_y_z_.custos');
    // "report‮fdp.exe" would show as "reportexe.pdf": the override is gone.
    expect(safeFileName('report\u202efdp.exe', '')).toBe('report_fdp.exe');
    expect(safeFileName('a\u200bb\ufeffc', '')).toBe('a_b_c');
    expect(safeFileName('../../etc/passwd', '')).toBe('etc_passwd');
  });

  it('no hidden names, no trailing dots, never empty', () => {
    expect(safeFileName('.bashrc', '')).toBe('bashrc');
    expect(safeFileName('name...', '.txt')).toBe('name.txt');
    expect(safeFileName('', '.custos')).toBe('custos.custos');
    expect(safeFileName('///', '.custos')).toBe('custos.custos');
  });

  it('Windows device names get a prefix, whatever the case and extension', () => {
    for (const n of ['CON', 'con', 'Nul', 'aux', 'PRN', 'COM1', 'lpt9', 'COM¹']) expect(safeFileName(n, '.custos')).toBe(`_${n}.custos`);
    expect(safeFileName('con.tar', '.gz')).toBe('_con.tar.gz');
    expect(safeFileName('console', '.custos')).toBe('console.custos');
  });

  it('NFC: a decomposed name (as macOS stores it) gives the composed one', () => {
    expect(safeFileName('Zoe\u0308', '')).toBe('Zoë');
  });

  it('cuts the stem by UTF-8 bytes, between graphemes, never the extension', () => {
    const long = safeFileName('事'.repeat(300), '.custos');
    expect(bytes(long)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    expect(long.endsWith('.custos')).toBe(true);
    expect(long).toBe(`${'事'.repeat(Math.floor((MAX_NAME_BYTES - 7) / 3))}.custos`);
    // A combining mark stays with its letter.
    const marks = safeFileName('e\u0301'.repeat(100).normalize('NFD').replace(/e/g, 'q'), '', 21);
    expect(marks).toBe('q\u0301'.repeat(7));
  });

  it('refuses an extension that is not one', () => {
    expect(() => safeFileName('a', '/../x')).toThrow(RangeError);
  });

  it('property: every name it makes is safe, within its bytes, and accepted by the IPC schema', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), fc.constantFrom('', '.custos', '.pdf', '.tar.gz'), (stem, ext) => {
        const name = safeFileName(stem, ext);
        expect(isSafeFileName(name)).toBe(true);
        expect(fileName.safeParse(name).success).toBe(true);
        expect(bytes(name)).toBeLessThanOrEqual(MAX_NAME_BYTES);
        expect(safeFileName(safeFileStem(name.slice(0, name.length - ext.length)), ext)).toBe(name);
      }),
      { numRuns: 500 },
    );
  });

  it('the IPC schema refuses unsafe names', () => {
    for (const bad of ['', '.hidden', 'a/b', 'a\\b', 'CON.txt', 'name.', 'a b', 'x'.repeat(MAX_NAME_BYTES + 1), 'Zoe\u0308']) expect(fileName.safeParse(bad).success, bad).toBe(false);
  });
});
