/**
 * File names Custos suggests or writes (exports, receipts, cards, sheets, QR frames): made from
 * names people gave (an incident "支付网关故障", a key, a custodian "Carol Wu"), so they keep every
 * letter and digit of any script, and are safe on every system:
 *
 *   - only letters, marks and digits of any script, `.`, `-` and `_`; anything else (spaces,
 *     `<>:"/\|?*`, control and invisible characters, bidirectional overrides that could disguise an
 *     extension, punctuation) becomes `_`;
 *   - Unicode NFC (macOS stores decomposed names; two spellings of "é" must not be two files);
 *   - no leading dot (no hidden file), no trailing dot or space (Windows drops them);
 *   - no Windows device name (CON, PRN, AUX, NUL, COM1-9, LPT1-9, with any extension): prefixed `_`;
 *   - at most MAX_NAME_BYTES bytes of UTF-8 for the whole name (file systems count bytes: 255 on
 *     ext4, APFS and NTFS), leaving room for " (2)" and "-qr-01.png"; cut between graphemes.
 */

/** The longest name this function makes, in UTF-8 bytes (below every file system's 255). */
export const MAX_NAME_BYTES = 200;

const RESERVED = /^(?:con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$/i;
const ALLOWED = /^[\p{L}\p{M}\p{N}._-]$/u;
const utf8 = new TextEncoder();
const bytesOf = (s: string): number => utf8.encode(s).length;

function graphemes(s: string): string[] {
  return Array.from(new Intl.Segmenter('und', { granularity: 'grapheme' }).segment(s), (g) => g.segment);
}

/** `text` as the stem of a file name: allowed characters only, no leading dot, `fallback` if empty. */
export function safeFileStem(text: string, fallback = 'custos'): string {
  const cleaned = Array.from(text.normalize('NFC'), (ch) => (ALLOWED.test(ch) ? ch : '_')).join('');
  const stem = cleaned.replace(/^[._]+/, '').replace(/[.]+$/, '');
  return stem === '' ? fallback : stem;
}

/**
 * A whole file name from a stem made of people's words and an extension (".custos", "-sheet.pdf"),
 * within `maxBytes` UTF-8 bytes: the stem is cut, never the extension.
 */
export function safeFileName(stem: string, extension = '', maxBytes = MAX_NAME_BYTES): string {
  if (!/^(?:\.[A-Za-z0-9]+)*$/.test(extension)) throw new RangeError(`safeFileName: expected an extension like ".custos" or ".tar.gz", got "${extension}"`);
  let base = safeFileStem(stem);
  if (RESERVED.test(base.split('.')[0] ?? '')) base = `_${base}`;
  const room = maxBytes - bytesOf(extension);
  if (room < 8) throw new RangeError(`safeFileName: expected room for a name in ${String(maxBytes)} bytes, the extension "${extension}" leaves ${String(room)}`);
  if (bytesOf(base) > room) {
    let cut = '';
    for (const g of graphemes(base)) {
      if (bytesOf(cut + g) > room) break;
      cut += g;
    }
    base = cut.replace(/[.]+$/, '') || 'custos';
  }
  return `${base}${extension}`;
}

/** Whether `name` is a name safeFileName could have made (what the IPC accepts from the window). */
export function isSafeFileName(name: string): boolean {
  if (name === '' || bytesOf(name) > MAX_NAME_BYTES) return false;
  if (name !== name.normalize('NFC')) return false;
  if (!Array.from(name).every((ch) => ALLOWED.test(ch))) return false;
  if (name.startsWith('.') || name.endsWith('.')) return false;
  return !RESERVED.test(name.split('.')[0] ?? '');
}
