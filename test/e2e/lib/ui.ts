/**
 * What the screen tests share: the host fixtures plus a guard against page errors and CSP
 * violations, screenshots under test-results/screens/<lang>/<screen>-<state>.png, the app's own
 * strings (tests click what a person reads, in either language), dropping and pasting files the
 * way a browser delivers them, and reading QR codes back with zbarimg.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { FrameAssembler } from '../../../shared/qr/ur';
import { message, type Language, type StringKey, type Values } from '../../../renderer/src/i18n';
import { expect, test as hostTest } from '../host/fixture';
import type { HostControl } from '../host/control';

export const LANGS: readonly Language[] = ['en', 'zh-CN'];
export const PASSPHRASE = 'correct horse battery staple';

export const test = hostTest.extend<{ guard: undefined }>({
  viewport: { width: 1280, height: 860 },
  // Every page error, console error and CSP violation fails the test.
  guard: [
    async ({ page }, use) => {
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error' || /Content Security Policy|Refused to/i.test(m.text())) problems.push(`console ${m.type()}: ${m.text()}`);
      });
      await use(undefined);
      expect(problems, 'page errors, console errors or CSP violations').toEqual([]);
    },
    { auto: true },
  ],
});
export { expect };

/** The app's sentence in a language, placeholders filled (the same ICU formatting as the window's). */
export const say = (lang: Language, key: StringKey, vars?: Values): string => message(lang, key, vars);

/** A screenshot of the whole page, to be looked at: test-results/screens/<lang>/<name>.png */
export async function shot(page: Page, lang: Language, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  const dir = join('test-results', 'screens', lang);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  // Overlays (camera, QR player) cover the window: the window is what a person sees then.
  const overlay = (await page.locator('.overlay, .player').count()) > 0;
  // Nothing may stick out sideways (long Chinese or English words, codes, hex): the page never scrolls horizontally.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, `${name}: the page overflows horizontally`).toBeLessThanOrEqual(0);
  if (lang === 'zh-CN') await expectChinese(page, name);
  await page.screenshot({ path, fullPage: options.fullPage ?? !overlay, animations: 'disabled', caret: 'hide' });
  return path;
}

/**
 * Words a Chinese screen may show in Latin letters: the product's name, abbreviations people use as
 * they are, keys, and what the tests' own data is called (names, ids, file names are data, not words).
 */
const LATIN_ALLOWED = new Set(['Custos', 'scrypt', 'English', 'API', 'SHA', 'PDF', 'Ctrl', 'Esc', 'QR', 'USB', 'UR', 'URL', 'ID', 'v', 'U', 'B', 'kB', 'MB', 'GB', 'https', 'http', 'linux', 'darwin', 'win32']);
const TEST_DATA = ['Carol Wu (cold storage)', 'Alice Zhang (security)', 'Bob Li (business owner)', 'Agent prod-eu-1', 'Agent prod-eu-2', 'Agent prod-eu-1 (new key)'];

/**
 * A Chinese screen as a person reads it: no English words left (anything in Latin letters but
 * identifiers, file names, hex, codes and the allow-list above), and every Chinese character drawn
 * with a real glyph (the window's own font: the test browser has no CJK system font, see
 * playwright.config.ts), never the empty box a missing glyph gives.
 */
export async function expectChinese(page: Page, name: string): Promise<void> {
  const found = await page.evaluate(
    async ({ data }) => {
      let text = document.body.innerText;
      for (const d of data) text = text.split(d).join(' ');
      // Identifiers and data: URLs, UR text, anything with a digit, a dot, a dash or an underscore in it, hex.
      const words = text
        .replace(/https?:\/\/\S+/g, ' ')
        .replace(/ur:\S+/gi, ' ')
        .split(/[^A-Za-z0-9._\-:/#+]+/)
        .filter((w) => /[A-Za-z]/.test(w) && !/[0-9._\-:/#+]/.test(w));
      const cjk = [...new Set(Array.from(document.body.innerText.matchAll(/[\u2e80-\u{10ffff}]/gu), (m) => m[0]))];
      // Draw each character and the box of a code point no font has: the same pixels = no glyph.
      const canvas = document.createElement('canvas');
      canvas.width = 40;
      canvas.height = 40;
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      if (ctx === null) return { words, missing: ['(no canvas)'] };
      const family = getComputedStyle(document.body).fontFamily;
      const font = `24px ${family}`;
      await document.fonts.load(font, cjk.join(''));
      await document.fonts.ready;
      const draw = (c: string): string => {
        ctx.clearRect(0, 0, 40, 40);
        ctx.font = font;
        ctx.fillText(c, 4, 30);
        return Array.from(ctx.getImageData(0, 0, 40, 40).data).join(',');
      };
      const box = draw('\u{10FFFD}');
      const missing = cjk.filter((c) => draw(c) === box);
      // A face that just arrived is painted in the next frames: the screenshot comes after them.
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      return { words, missing };
    },
    { data: TEST_DATA },
  );
  const english = [...new Set(found.words.filter((w) => !LATIN_ALLOWED.has(w)))];
  expect(english, `${name}: English words on a Chinese screen`).toEqual([]);
  expect(found.missing, `${name}: Chinese characters drawn without a glyph`).toEqual([]);
}

/** The screen element with its state, once it is there. */
export async function onScreen(page: Page, screen: string, state?: string, options: { timeout?: number } = {}): Promise<Locator> {
  const loc = page.locator(`[data-screen="${screen}"]`);
  await expect(state === undefined ? loc : page.locator(`[data-screen="${screen}"][data-state="${state}"]`)).toBeVisible(options);
  return loc;
}

/**
 * The window size per language: English at 1280 × 860, Chinese at 1024 × 768 (smaller than the
 * app's default 1200 × 800), so both a roomy and a tight layout are looked at.
 */
export async function sizeFor(page: Page, lang: Language): Promise<void> {
  await page.setViewportSize(lang === 'en' ? { width: 1280, height: 860 } : { width: 1024, height: 768 });
}

/** Settings language, then a fresh load of the app. */
export async function useLanguage(page: Page, host: HostControl, lang: Language): Promise<void> {
  await sizeFor(page, lang);
  await host.ok('settings:set', { change: { language: lang } });
  await page.reload();
  await expect(page.locator(`.app[data-lang="${lang}"]`)).toBeAttached();
}

/** A vault made through IPC (left unlocked) in the given language, the app reloaded. */
export async function withVault(page: Page, host: HostControl, lang: Language, name = 'Carol Wu (cold storage)'): Promise<void> {
  await sizeFor(page, lang);
  await host.ok('settings:set', { change: { language: lang } });
  await host.ok('vault:create', { name, passphrase: PASSPHRASE });
  await page.reload();
  await expect(page.locator('main[data-state="unlocked"]')).toBeVisible();
}

export async function nav(page: Page, lang: Language, screen: 'inbox' | 'shares' | 'receipts' | 'recovery' | 'inventory' | 'trust' | 'station' | 'audit' | 'settings'): Promise<void> {
  await page.getByRole('button', { name: say(lang, `nav_${screen}`), exact: false }).first().click();
  await expect(page.locator(`[data-screen="${screen}"]`)).toBeVisible();
}

export interface TestFile {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly type?: string;
}

/** Drops files on an element as a browser does (DataTransfer with File objects). */
export async function dropFiles(target: Locator, files: readonly TestFile[]): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, type: f.type ?? 'application/octet-stream', b64: Buffer.from(f.bytes).toString('base64') }));
  const dt = await target.page().evaluateHandle((list) => {
    const d = new DataTransfer();
    for (const f of list) {
      const bin = atob(f.b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      d.items.add(new File([bytes], f.name, { type: f.type }));
    }
    return d;
  }, payload);
  await target.dispatchEvent('dragenter', { dataTransfer: dt });
  await target.dispatchEvent('dragover', { dataTransfer: dt });
  await target.dispatchEvent('drop', { dataTransfer: dt });
}

/** Pastes text (Ctrl+V) into the page. */
export async function pasteText(page: Page, text: string): Promise<void> {
  await page.evaluate((t) => {
    const d = new DataTransfer();
    d.setData('text/plain', t);
    document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: d, bubbles: true, cancelable: true }));
  }, text);
}

/** Every QR code zbarimg finds in a PNG file, as text (UR frames are ASCII). */
export function zbar(path: string): string[] {
  let out: string;
  try {
    out = execFileSync('zbarimg', ['--raw', '-q', '-Sdisable', '-Sqrcode.enable', path], { encoding: 'utf8' });
  } catch {
    return [];
  }
  return out.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
}

/** One element's picture, read by zbarimg. */
export async function scanElement(el: Locator): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'custos-zbar-'));
  const path = join(dir, 'qr.png');
  try {
    await el.screenshot({ path });
    return zbar(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Reassembles UR frames (any order) into the message bytes. */
export function assemble(frames: readonly string[]): Uint8Array {
  const a = new FrameAssembler();
  for (const f of frames) a.add(f.toLowerCase());
  return a.result().payload;
}

/** The PDF's pages as PNG (pdftoppm), each read by zbarimg: the frames on every page. */
export function scanPdf(pdf: Uint8Array, keepFirstPageAs?: string): { pages: number; frames: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'custos-pdf-'));
  try {
    const file = join(dir, 'sheet.pdf');
    writeFileSync(file, pdf);
    execFileSync('pdftoppm', ['-r', '150', '-png', file, join(dir, 'page')]);
    const pages = readdirSync(dir).filter((f) => f.startsWith('page') && f.endsWith('.png')).sort();
    const frames: string[] = [];
    for (const p of pages) frames.push(...zbar(join(dir, p)));
    if (keepFirstPageAs !== undefined && pages[0] !== undefined) {
      mkdirSync(join(keepFirstPageAs, '..'), { recursive: true });
      execFileSync('cp', [join(dir, pages[0]), keepFirstPageAs]);
    }
    return { pages: pages.length, frames };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Holds the page's next call of `channel` until `release()` is called: the app's in-between state
 * (loading, deriving the key) can then be looked at without sleeping or racing.
 */
export async function hold(page: Page, channel: string): Promise<{ release: () => void; arrived: Promise<void> }> {
  let release = (): void => undefined;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  let arrivedResolve = (): void => undefined;
  const arrived = new Promise<void>((r) => {
    arrivedResolve = r;
  });
  const pattern = `**/ipc/${encodeURIComponent(channel)}`;
  await page.route(pattern, async (route) => {
    arrivedResolve();
    await gate;
    await page.unroute(pattern);
    await route.fallback();
  }, { times: 1 });
  return { release, arrived };
}

/** Digits only (comparison codes are shown in groups). */
export const digits = (s: string | null): string => (s ?? '').replace(/[^0-9]/g, '');
