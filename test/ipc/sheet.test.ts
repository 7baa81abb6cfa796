// The printable recovery sheet: a multi-frame export of a real tss-lib ECDSA share (the fixture's
// secret record), exported through IPC with its sheet; the PDF is turned into PNG by poppler's
// pdftoppm at 150 dpi and EVERY QR code on every page is read back by zbarimg (an independent
// reader); the frames reassemble to the export file byte for byte. The text of the sheet is read
// back with pdftotext in both languages. Page images are kept in test-results/ to look at.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as fontkitModule from '@pdf-lib/fontkit';
import { describe, expect, it } from 'vitest';
import { encodeSecretRecord, parseKeydata, splitKeydata } from '../../shared/keydata';
import { FrameAssembler } from '../../shared/qr/ur';
import { makeRecoverySheet, SHEET_LABELS, sheetFrames } from '../../main/services/sheet';
import { makeAgent, makeSet, NOW, recoveryRequest, tempDir, testApproverCards } from '../custodian/helpers';
import { call, file, harness, ROOT, SHEET_FONT } from './helpers';

const fontkit = (fontkitModule as unknown as { default?: typeof fontkitModule }).default ?? fontkitModule;

function tool(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error !== undefined) throw new Error(`${cmd} is missing: apt-get install -y poppler-utils zbar-tools (${r.error.message})`);
  return r.stdout;
}

/** Every QR code on every page of `pdf`, read by zbarimg from pdftoppm's 150 dpi PNGs. */
function scanPdf(pdf: Uint8Array, keepAs: string): { frames: string[]; pages: string[] } {
  const dir = tempDir('custos-sheet-');
  writeFileSync(join(dir, 'sheet.pdf'), pdf);
  execFileSync('pdftoppm', ['-r', '150', '-png', join(dir, 'sheet.pdf'), join(dir, 'page')]);
  const pages = readdirSync(dir).filter((n) => n.startsWith('page') && n.endsWith('.png')).sort();
  mkdirSync(join(ROOT, 'test-results'), { recursive: true });
  const frames: string[] = [];
  for (const [i, p] of pages.entries()) {
    copyFileSync(join(dir, p), join(ROOT, 'test-results', `${keepAs}-page-${String(i + 1)}.png`));
    // The frames are QR alphanumeric text (upper-case UR), so --raw gives them exactly, one per line.
    frames.push(...tool('zbarimg', ['--raw', '-q', '-Sdisable', '-Sqrcode.enable', join(dir, p)]).split('\n').filter((l) => l !== ''));
  }
  return { frames, pages };
}

describe('printable recovery sheet', () => {
  it('prints a multi-frame ECDSA export that zbarimg reads back exactly, with the facts in English and Chinese', async () => {
    const keydata = parseKeydata(new Uint8Array(readFileSync(join(ROOT, 'test/fixtures/tss-lib/ecdsa/keygen_data_0.json'))));
    const secret = encodeSecretRecord(splitKeydata(keydata).secret);
    const h = harness();
    await call(h, 'vault:create', { name: '张伟 (冷存储) Zhang Wei', passphrase: 'correct horse battery staple' });
    const v = await h.ctx.vault();
    const agent = makeAgent();
    await call(h, 'trust:pin', { card: file('agent.custos', agent.card), confirmCode: agent.code });
    for (const a of testApproverCards()) await call(h, 'approvers:pin', { card: file('approver.custos', a.card), confirmCode: a.code });
    const set = await makeSet(agent.id, { fingerprint: v.fingerprint, ageRecipient: v.info.ageRecipient }, { keyId: 'btc-hot-1', nodeId: 'node-2', secret, curve: 'secp256k1' });
    await call(h, 'inbox:import', { opId: 'i', files: [file('e.custos', set.envelope)] });
    const session = await recoveryRequest(agent.id, set, { incident: 'INC-2026-0042' });
    const shown = await call(h, 'recovery:show', { request: file('req.custos', session.request) });
    const exported = await call(h, 'recovery:export', { request: file('req.custos', session.request), confirmation: shown.confirmation });
    const sheet = exported.sheet;
    expect(sheet).not.toBeNull();
    const expectedFrames = sheetFrames(exported.file.bytes);
    expect(expectedFrames.length).toBeGreaterThan(1);

    const { frames, pages } = scanPdf(sheet!.bytes, 'recovery-sheet-ecdsa');
    expect(pages.length).toBeGreaterThanOrEqual(1);
    // Every frame printed was read, nothing else was, and they reassemble the export exactly.
    expect(new Set(frames.map((f) => f.toLowerCase()))).toEqual(new Set(expectedFrames));
    const assembler = new FrameAssembler({ type: 'custos-recovery-export' });
    for (const f of frames) assembler.add(f);
    expect(assembler.result().payload).toEqual(exported.file.bytes);

    const dir = tempDir('custos-sheet-text-');
    writeFileSync(join(dir, 's.pdf'), sheet!.bytes);
    const text = tool('pdftotext', ['-layout', join(dir, 's.pdf'), '-']);
    for (const must of [
      'Custos recovery sheet',
      'Custos 恢复单',
      'INC-2026-0042',
      'btc-hot-1',
      'node-2',
      '事件编号',
      '指纹校验码',
      '张伟 (冷存储) Zhang Wei',
      v.info.code,
      exported.hash,
      shown.sessionId,
      'Alice (security)',
      '第 3 个，共 5 个，阈值 3',
      '仅外部',
      `${String(expectedFrames.length)} frames`,
      `Frame 1 of ${String(expectedFrames.length)}`,
    ]) {
      expect(text.replace(/\s+/g, ' '), must).toContain(must);
    }
    expect(text).toContain(new Date(NOW * 1000 + 3600_000).toISOString().slice(0, 16).replace('T', ' '));
  });

  it('covers its own labels with the subset font, and prints a character it lacks as its code point', async () => {
    const font = new Uint8Array(readFileSync(SHEET_FONT));
    const f = fontkit.create(font);
    const missing: string[] = [];
    for (const label of Object.values(SHEET_LABELS)) {
      for (const ch of label.zh + label.en) if (!f.hasGlyphForCodePoint(ch.codePointAt(0)!)) missing.push(ch);
    }
    expect(missing).toEqual([]);
    expect(font.length).toBeLessThan(1_000_000);

    const exportBytes = new Uint8Array(1500).map((_x, i) => (i * 13) % 256);
    const sheet = await makeRecoverySheet(
      {
        exportBytes,
        exportHash: 'ab'.repeat(32),
        incidentId: 'INC-1',
        keyId: 'k',
        nodeId: 'n',
        setId: 'cd'.repeat(16),
        epoch: 2,
        shareIndex: 4,
        threshold: 3,
        total: 5,
        mode: 'mixed',
        sessionId: 'ef'.repeat(16),
        custodianName: '𠀀 Ünïcødé 李',
        custodianCode: '1234 5678 9012 3456 7890 1234',
        approvals: [],
        createdAt: NOW,
        notAfter: NOW + 60,
      },
      font,
    );
    // The cut-down font is embedded whole (see sheet.ts): under a megabyte and a half in all.
    expect(sheet.pdf.length).toBeLessThan(1_500_000);
    const dir = tempDir('custos-sheet-u-');
    writeFileSync(join(dir, 's.pdf'), sheet.pdf);
    const text = tool('pdftotext', [join(dir, 's.pdf'), '-']);
    expect(text).toContain('U+20000 Ünïcødé 李');
    expect(text).toContain('混合');
    const scanned = scanPdf(sheet.pdf, 'recovery-sheet-synthetic');
    const a = new FrameAssembler();
    for (const fr of scanned.frames) a.add(fr);
    expect(a.result().payload).toEqual(exportBytes);
  });

  it('refuses before exporting when the sheet font is missing, so no share is exported without its sheet', async () => {
    const h = harness({ sheetFontPath: join(tempDir(), 'missing.ttf') });
    await call(h, 'vault:create', { name: 'Carol', passphrase: 'correct horse battery staple' });
    const v = await h.ctx.vault();
    const agent = makeAgent();
    await call(h, 'trust:pin', { card: file('agent.custos', agent.card), confirmCode: agent.code });
    for (const a of testApproverCards()) await call(h, 'approvers:pin', { card: file('approver.custos', a.card), confirmCode: a.code });
    const set = await makeSet(agent.id, { fingerprint: v.fingerprint, ageRecipient: v.info.ageRecipient });
    await call(h, 'inbox:import', { opId: 'i', files: [file('e.custos', set.envelope)] });
    const session = await recoveryRequest(agent.id, set);
    const shown = await call(h, 'recovery:show', { request: file('r', session.request) });
    const r = await (await import('../../main/dispatch')).dispatch('recovery:export', { request: file('r', session.request), confirmation: shown.confirmation }, h.ctx);
    expect(r.ok ? 'ok' : r.error.code).toBe('IO_FAILED');
    expect(r.ok ? '' : (r.error.detail ?? '')).toContain('custos-sheet-sc.ttf');
    expect((await call(h, 'shares:list', { filter: { status: 'exported' } })).shares).toHaveLength(0);
    // Without the sheet the export works.
    const plain = await call(h, 'recovery:export', { request: file('r', session.request), confirmation: shown.confirmation, sheet: false });
    expect(plain.sheet).toBeNull();
  });
});
