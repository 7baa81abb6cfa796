/**
 * The printable recovery sheet (issue 4, "Recovery export": "a printable recovery sheet (PDF with
 * the QR frames, the metadata in human-readable form and the fingerprint code)").
 *
 * A4 pages made with pdf-lib (pure JavaScript): page 1 carries the facts of the export in English
 * and Simplified Chinese (incident, key, node, backup set, epoch, share index, mode, session,
 * custodian name, the custodian's fingerprint code, created, expiry, the approvers each with their
 * standing as the review screen shows it (verified against a pinned approver, unknown, changed key,
 * disabled) and the verified count, an override with its typed reason, the export's SHA-256)
 * and how to use the sheet; then every QR frame of the export, 200 pt (about 7 cm) wide, six to a
 * page, each labelled "frame i of n". The frames are made for paper: each fits a version-15 QR code
 * at level M (modules of about 0.8 mm), so a phone or webcam reads them easily. Any order scans.
 *
 * Chinese text needs a CJK font in the PDF. The sheet embeds WenQuanYi Micro Hei (Apache-2.0),
 * shipped in resources/fonts/ already cut down to ASCII, Latin-1, punctuation, the sheet's own
 * labels and the 3,755 common characters of GB 2312 level 1 (scripts/make-sheet-font.mjs), so
 * custodian names in Chinese print too. A character the font lacks prints as its code point
 * (`U+XXXX`), never as an empty box: nothing on the sheet is silently lost.
 */
import { promises as fsp } from 'node:fs';
import * as fontkitModule from '@pdf-lib/fontkit';
import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';
import { renderPng } from '../../shared/qr/render';
import { framesAt, STANDARD_DENSITY } from '../../shared/qr/loop';
import { fallbackLines } from '../../shared/qr/fallback';
import { ServiceError } from './errors';
import type { ApprovalVerdict } from './recovery';

/** The file name of the sheet font in resources/fonts/. */
export const SHEET_FONT_FILE = 'custos-sheet-sc.ttf';
/** QR version the sheet's frames fit (level M): the app's standard density, so the sheet, the player and the PNG files count the same frames. */
export const SHEET_QR_VERSION = STANDARD_DENSITY.version;
export const SHEET_UR_TYPE = 'custos-recovery-export';

type FontkitFont = ReturnType<typeof fontkitModule.create>;
interface FontkitLike {
  create(buffer: Uint8Array, postscriptName?: string): FontkitFont;
}
// @pdf-lib/fontkit is a UMD bundle with a default export under bundlers and a CommonJS namespace
// under Node: take whichever carries `create`.
const fontkit: FontkitLike = (fontkitModule as unknown as { default?: FontkitLike }).default ?? fontkitModule;

/** Every label on the sheet, in both languages (the font subset is cut to cover these). */
export const SHEET_LABELS = {
  title: { en: 'Custos recovery sheet', zh: 'Custos 恢复单' },
  warning: {
    en: 'This sheet carries one key share sealed to one recovery session: only that session\'s one-time key opens it. Keep it out of sight until the recovery is done, then destroy it.',
    zh: '本单载有一个密钥分片，仅加密给一个恢复会话：只有该会话的一次性密钥能打开它。恢复完成前请妥善保管，完成后请销毁。',
  },
  incident: { en: 'Incident', zh: '事件编号' },
  incidentTitle: { en: 'Incident title', zh: '事件名称' },
  key: { en: 'Key', zh: '密钥' },
  node: { en: 'Node', zh: '节点' },
  set: { en: 'Backup set', zh: '备份集' },
  epoch: { en: 'Epoch', zh: '纪元' },
  share: { en: 'Share index', zh: '分片序号' },
  mode: { en: 'Recovery mode', zh: '恢复模式' },
  session: { en: 'Recovery session', zh: '恢复会话' },
  custodian: { en: 'Custodian', zh: '托管人' },
  code: { en: 'Fingerprint code', zh: '指纹校验码' },
  created: { en: 'Created', zh: '创建时间' },
  expires: { en: 'Expires', zh: '过期时间' },
  approvers: { en: 'Approved by', zh: '审批人' },
  // Each approval's standing, worded as the review screen words it (issue 12).
  verdict_verified: { en: 'Verified: an approver you pinned', zh: '已验证：您已信任的审批人' },
  'verdict_changed-key': { en: 'Changed key: not the key you pinned for this name', zh: '密钥已变：不是您为此姓名信任的密钥' },
  verdict_disabled: { en: 'Disabled in the approver roster', zh: '已在审批人名单中停用' },
  verdict_unknown: { en: 'Unknown approver: not pinned in this vault', zh: '未知审批人：未在本保险库中信任' },
  pinnedAs: { en: 'You pinned {n} with code {c}.', zh: '您信任的 {n} 校验码为 {c}。' },
  verifiedCount: { en: '{v} of the {r} approvals needed verify against approvers you pinned.', zh: '所需 {r} 个审批中，{v} 个经您已信任的审批人验证。' },
  override: { en: 'Override', zh: '越过审批人检查' },
  overrideValue: { en: 'Exported without two verified approvers. The reason typed:', zh: '在不足两位已验证审批人的情况下导出。所填理由：' },
  hash: { en: 'Export SHA-256', zh: '导出文件 SHA-256' },
  frames: { en: 'QR codes', zh: '二维码' },
  mixed: { en: 'mixed (server and custodian shares)', zh: '混合（服务器分片与托管人分片）' },
  externalOnly: { en: 'external only (custodian shares only)', zh: '仅外部（只用托管人分片）' },
  shareOf: { en: '{i} of {n}, threshold {t}', zh: '第 {i} 个，共 {n} 个，阈值 {t}' },
  framesValue: { en: '{n} frames, any order', zh: '共 {n} 帧，顺序不限' },
  instructions: {
    en: 'At the recovery station, scan every QR code on this sheet (any order), or open the export file. Before you hand it over, compare the fingerprint code above with ops.',
    zh: '在恢复站扫描本单上的全部二维码（顺序不限），或打开导出文件。交出前，请与运维核对上方的指纹校验码。',
  },
  frame: { en: 'Frame {i} of {n}', zh: '第 {i} 帧，共 {n} 帧' },
  page: { en: 'Page {p} of {n}', zh: '第 {p} 页，共 {n} 页' },
  utc: { en: 'UTC', zh: '协调世界时' },
  handover: { en: 'Hand-over and sign-off', zh: '交接与签收' },
  printedBy: { en: 'Printed by (name, signature)', zh: '打印人（姓名、签字）' },
  receivedBy: { en: 'Received by (name, signature)', zh: '接收人（姓名、签字）' },
  when: { en: 'Date and time of hand-over', zh: '交接日期与时间' },
  fallbackTitle: { en: 'Text fallback', zh: '文字备用码' },
  fallbackHelp: {
    en: 'If a QR code is damaged, type these lines in at the recovery station instead: the header line and every numbered line, words separated by spaces. Each line ends with its own check words, so a mistyped line is named.',
    zh: '如果二维码损坏，请在恢复站改为输入以下各行：标题行和每一个编号行，单词之间用空格分隔。每行末尾有本行的校验词，输错的行会被指出。',
  },
} as const;

export interface SheetInput {
  /** The signed recovery export file. */
  readonly exportBytes: Uint8Array;
  /** SHA-256 of the export file, hex. */
  readonly exportHash: string;
  readonly incidentId: string;
  /** The session's free-text incident title (issue 13), when it has one. */
  readonly incidentTitle?: string;
  readonly keyId: string;
  readonly nodeId: string;
  readonly setId: string;
  readonly epoch: number;
  readonly shareIndex: number;
  readonly threshold: number;
  readonly total: number;
  readonly mode: 'mixed' | 'external-only';
  readonly sessionId: string;
  readonly custodianName: string;
  /** The custodian's 24-digit fingerprint code. */
  readonly custodianCode: string;
  /** Each approval with its standing against the approvers the vault pinned (the review screen's verdict). */
  readonly approvals: readonly { readonly name: string; readonly code: string; readonly verdict?: ApprovalVerdict; readonly pinned?: { readonly name: string; readonly code: string } }[];
  /** How many distinct approvers verified, and how many are required (printed under the approvals). */
  readonly verifiedApprovals?: number;
  readonly requiredApprovals?: number;
  /** The override carried in the signed export, when the custodian exported below the verified minimum. */
  readonly override?: { readonly reason: string };
  /** Unix seconds. */
  readonly createdAt: number;
  /** Unix seconds: the session's expiry. */
  readonly notAfter: number;
}

export interface Sheet {
  readonly pdf: Uint8Array;
  /** The UR frames printed, in order. */
  readonly frames: readonly string[];
  readonly pages: number;
}

/** Reads the sheet font; IO_FAILED with a clear sentence when it is missing. */
export async function loadSheetFont(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await fsp.readFile(path));
  } catch (error) {
    throw new ServiceError('IO_FAILED', `The font for the printable recovery sheet (${SHEET_FONT_FILE}) is missing from this installation; reinstall Custos. The export file and QR frames still work.`, {
      cause: error,
    });
  }
}

/** The frames printed on a sheet: pure multipart frames that each fit a version-15 QR code. */
export function sheetFrames(exportBytes: Uint8Array): string[] {
  return framesAt(exportBytes, SHEET_UR_TYPE, SHEET_QR_VERSION);
}

const fill = (template: string, values: Record<string, string | number>): string => template.replace(/\{([a-z])\}/g, (_m, k: string) => String(values[k] ?? '…'));

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z').replace('T', ' ');

const A4: [number, number] = [595.28, 841.89];
const MARGIN = 40;
const QR_SIZE = 200;
const GRID_GAP_X = 35;
const CELL_H = QR_SIZE + 30;
const INK = rgb(0, 0, 0);
const GREY = rgb(0.35, 0.35, 0.35);

class Writer {
  readonly #cjk: PDFFont;
  readonly #coverage: FontkitFont;

  constructor(cjk: PDFFont, coverage: FontkitFont) {
    this.#cjk = cjk;
    this.#coverage = coverage;
  }

  /** `text` with every character the font lacks written as U+XXXX. */
  printable(text: string): string {
    let out = '';
    for (const ch of text) {
      const cp = ch.codePointAt(0) ?? 0x3f;
      if (cp < 0x20 || cp === 0x7f) out += ' ';
      else if (this.#coverage.hasGlyphForCodePoint(cp)) out += ch;
      else out += `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
    }
    return out;
  }

  width(text: string, size: number, font: PDFFont = this.#cjk): number {
    return font.widthOfTextAtSize(font === this.#cjk ? this.printable(text) : text, size);
  }

  /** Wraps at spaces for Latin text and between any two characters for CJK. */
  wrap(text: string, size: number, maxWidth: number, font: PDFFont = this.#cjk): string[] {
    const source = font === this.#cjk ? this.printable(text) : text;
    const tokens = source.match(/[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+|\s+/g) ?? [];
    const lines: string[] = [];
    let line = '';
    for (const t of tokens) {
      const next = line + t;
      if (line !== '' && font.widthOfTextAtSize(next.trimEnd(), size) > maxWidth) {
        lines.push(line.trimEnd());
        line = /^\s+$/.test(t) ? '' : t;
      } else {
        line = next;
      }
      // A single token wider than the line (a long hex string): cut it.
      while (font.widthOfTextAtSize(line, size) > maxWidth && line.length > 1) {
        let cut = line.length - 1;
        while (cut > 1 && font.widthOfTextAtSize(line.slice(0, cut), size) > maxWidth) cut--;
        lines.push(line.slice(0, cut));
        line = line.slice(cut);
      }
    }
    if (line.trim() !== '') lines.push(line.trimEnd());
    return lines;
  }

  draw(page: PDFPage, text: string, x: number, y: number, size: number, font: PDFFont = this.#cjk, color = INK): void {
    page.drawText(font === this.#cjk ? this.printable(text) : text, { x, y, size, font, color });
  }
}

/** Builds the sheet. `font` is the TrueType sheet font (loadSheetFont). */
export async function makeRecoverySheet(input: SheetInput, font: Uint8Array): Promise<Sheet> {
  const frames = sheetFrames(input.exportBytes);
  const pdf = await PDFDocument.create();
  pdf.registerFontkit(fontkit);
  pdf.setTitle(`Custos recovery sheet - ${input.incidentId} - ${input.keyId}/${input.nodeId} share ${String(input.shareIndex)}`);
  pdf.setSubject('Custos recovery export (QR frames)');
  pdf.setCreator('Custos');
  pdf.setProducer('Custos (pdf-lib)');
  const created = new Date(input.createdAt * 1000);
  pdf.setCreationDate(created);
  pdf.setModificationDate(created);
  let cjk: PDFFont;
  let coverage: FontkitFont;
  try {
    coverage = fontkit.create(font);
    // The whole (already cut down) font is embedded: fontkit's per-document subsetting drops
    // glyphs of a font this size (seen rendering with pdftoppm: most Latin letters vanished),
    // while text extraction still looked right. About 750 KB per sheet, every glyph intact.
    cjk = await pdf.embedFont(font, { subset: false });
  } catch (error) {
    throw new ServiceError('INTERNAL', 'The sheet font could not be read.', { cause: error });
  }
  const mono = await pdf.embedFont(StandardFonts.Courier);
  const monoBold = await pdf.embedFont(StandardFonts.CourierBold);
  const w = new Writer(cjk, coverage);
  const L = SHEET_LABELS;
  const contentWidth = A4[0] - 2 * MARGIN;

  // ---- page 1: the facts -------------------------------------------------------------------------
  const first = pdf.addPage(A4);
  let y = A4[1] - MARGIN - 20;
  w.draw(first, L.title.en, MARGIN, y, 20);
  w.draw(first, L.title.zh, MARGIN + w.width(L.title.en, 20) + 14, y, 16);
  y -= 22;
  for (const line of [...w.wrap(L.warning.en, 8.5, contentWidth), ...w.wrap(L.warning.zh, 8.5, contentWidth)]) {
    w.draw(first, line, MARGIN, y, 8.5, undefined, GREY);
    y -= 11.5;
  }
  y -= 6;
  first.drawLine({ start: { x: MARGIN, y }, end: { x: A4[0] - MARGIN, y }, thickness: 0.6, color: GREY });
  y -= 16;

  const mode = input.mode === 'mixed' ? L.mixed : L.externalOnly;
  const shareValues = { i: input.shareIndex, n: input.total, t: input.threshold };
  const approvals = input.approvals.flatMap((a) => {
    const v = a.verdict === undefined ? undefined : L[`verdict_${a.verdict}`];
    const pinned = a.verdict === 'changed-key' && a.pinned !== undefined ? { n: a.pinned.name, c: a.pinned.code } : undefined;
    return [
      `${a.name} (${a.code})`,
      ...(v === undefined ? [] : [`  ${v.en}`, `  ${v.zh}`]),
      ...(pinned === undefined ? [] : [`  ${fill(L.pinnedAs.en, pinned)}`, `  ${fill(L.pinnedAs.zh, pinned)}`]),
    ];
  });
  if (input.verifiedApprovals !== undefined && input.requiredApprovals !== undefined) {
    const counts = { v: input.verifiedApprovals, r: input.requiredApprovals };
    approvals.push(fill(L.verifiedCount.en, counts), fill(L.verifiedCount.zh, counts));
  }
  type Row = { label: { en: string; zh: string }; values: string[]; font?: PDFFont; size?: number };
  const rows: Row[] = [
    { label: L.incident, values: [input.incidentId] },
    ...(input.incidentTitle === undefined ? [] : [{ label: L.incidentTitle, values: [input.incidentTitle] }]),
    { label: L.key, values: [input.keyId] },
    { label: L.node, values: [input.nodeId] },
    { label: L.set, values: [input.setId], font: mono },
    { label: L.epoch, values: [String(input.epoch)] },
    { label: L.share, values: [fill(L.shareOf.en, shareValues), fill(L.shareOf.zh, shareValues)] },
    { label: L.mode, values: [mode.en, mode.zh] },
    { label: L.session, values: [input.sessionId], font: mono },
    { label: L.custodian, values: [input.custodianName] },
    { label: L.code, values: [input.custodianCode], font: monoBold, size: 13 },
    { label: L.created, values: [`${iso(input.createdAt)} ${L.utc.en}`] },
    { label: L.expires, values: [`${iso(input.notAfter)} ${L.utc.en}`] },
    { label: L.approvers, values: approvals.length > 0 ? approvals : ['-'] },
    ...(input.override === undefined ? [] : [{ label: L.override, values: [L.overrideValue.en, L.overrideValue.zh, `"${input.override.reason}"`] }]),
    { label: L.hash, values: [input.exportHash], font: mono, size: 8.5 },
    { label: L.frames, values: [fill(L.framesValue.en, { n: frames.length }), fill(L.framesValue.zh, { n: frames.length })] },
  ];
  const labelWidth = 150;
  const valueX = MARGIN + labelWidth;
  const valueWidth = contentWidth - labelWidth;
  for (const row of rows) {
    const size = row.size ?? 10;
    const lineH = Math.max(size + 3.5, 13);
    w.draw(first, row.label.en, MARGIN, y, 9.5);
    w.draw(first, row.label.zh, MARGIN, y - 11, 8.5, undefined, GREY);
    let vy = y;
    for (const value of row.values) {
      for (const line of w.wrap(value, size, valueWidth, row.font)) {
        w.draw(first, line, valueX, vy, size, row.font);
        vy -= lineH;
      }
    }
    y = Math.min(vy, y - 24) - 5;
  }
  y -= 2;
  for (const line of [...w.wrap(L.instructions.en, 9, contentWidth), ...w.wrap(L.instructions.zh, 9, contentWidth)]) {
    w.draw(first, line, MARGIN, y, 9);
    y -= 12.5;
  }
  y -= 10;

  // ---- the QR frames -----------------------------------------------------------------------------
  const pages: PDFPage[] = [first];
  let page = first;
  let col = 0;
  const top = A4[1] - MARGIN - 26;
  const bottom = MARGIN + 22;
  for (const [i, frame] of frames.entries()) {
    if (col === 0 && y - CELL_H < bottom) {
      page = pdf.addPage(A4);
      pages.push(page);
      w.draw(page, `${input.incidentId} · ${input.keyId}/${input.nodeId} · ${L.share.en} ${String(input.shareIndex)} / ${L.share.zh} ${String(input.shareIndex)}`, MARGIN, A4[1] - MARGIN - 8, 9, undefined, GREY);
      y = top;
    }
    const cellX = MARGIN + col * ((contentWidth - GRID_GAP_X) / 2 + GRID_GAP_X);
    const cellW = (contentWidth - GRID_GAP_X) / 2;
    const png = await pdf.embedPng(await renderPng(frame, { scale: 8 }));
    const qrX = cellX + (cellW - QR_SIZE) / 2;
    page.drawImage(png, { x: qrX, y: y - QR_SIZE, width: QR_SIZE, height: QR_SIZE });
    const caption = `${fill(L.frame.en, { i: i + 1, n: frames.length })}  ·  ${fill(L.frame.zh, { i: i + 1, n: frames.length })}`;
    w.draw(page, caption, cellX + (cellW - w.width(caption, 8.5)) / 2, y - QR_SIZE - 13, 8.5);
    col++;
    if (col === 2) {
      col = 0;
      y -= CELL_H;
    }
  }

  // ---- hand-over fields and the text fallback (typed in when a code is damaged) ------------------
  page = pdf.addPage(A4);
  pages.push(page);
  y = A4[1] - MARGIN - 16;
  w.draw(page, `${L.handover.en} · ${L.handover.zh}`, MARGIN, y, 12);
  y -= 22;
  for (const field of [L.printedBy, L.receivedBy, L.when]) {
    w.draw(page, field.en, MARGIN, y, 9.5);
    w.draw(page, field.zh, MARGIN, y - 11, 8.5, undefined, GREY);
    page.drawLine({ start: { x: MARGIN + 190, y: y - 10 }, end: { x: A4[0] - MARGIN, y: y - 10 }, thickness: 0.6, color: GREY });
    y -= 34;
  }
  y -= 4;
  w.draw(page, `${L.fallbackTitle.en} · ${L.fallbackTitle.zh}`, MARGIN, y, 12);
  y -= 16;
  for (const line of [...w.wrap(L.fallbackHelp.en, 8.5, contentWidth), ...w.wrap(L.fallbackHelp.zh, 8.5, contentWidth)]) {
    w.draw(page, line, MARGIN, y, 8.5, undefined, GREY);
    y -= 11.5;
  }
  y -= 6;
  for (const line of fallbackLines(SHEET_UR_TYPE, input.exportBytes)) {
    if (y < bottom) {
      page = pdf.addPage(A4);
      pages.push(page);
      y = A4[1] - MARGIN - 16;
    }
    page.drawText(line, { x: MARGIN, y, size: 8, font: mono, color: INK });
    y -= 11;
  }

  // ---- footers -----------------------------------------------------------------------------------
  for (const [p, pg] of pages.entries()) {
    const footer = `${fill(L.page.en, { p: p + 1, n: pages.length })} · ${fill(L.page.zh, { p: p + 1, n: pages.length })} · SHA-256 ${input.exportHash.slice(0, 16)}…`;
    w.draw(pg, footer, MARGIN, MARGIN - 14, 7.5, undefined, GREY);
  }

  return { pdf: await pdf.save({ useObjectStreams: true }), frames, pages: pages.length };
}
