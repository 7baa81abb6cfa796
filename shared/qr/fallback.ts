/**
 * The text fallback printed under a sheet's QR codes, for when a code is damaged: the export in
 * bytewords (BCR-2020-012 standard words, as BC-UR shows them), 16 words a line in groups of four,
 * each line numbered and ending in a two-word checksum (CRC-32 of its number and bytes), so a typo
 * is caught at its line; a header gives the length and the CRC-32 of the whole. Typed back, each
 * word is read by its first and last letters (as BC-UR does), so one wrong middle letter still reads.
 */
import { CustosError } from '../errors';
import { crc32Bytes } from './crc32';
import { byteOfWord, byteWord } from './bytewords';

const PER_LINE = 16;
const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

function lineCheck(n: number, bytes: Uint8Array): Uint8Array {
  const input = new Uint8Array(2 + bytes.length);
  input[0] = (n >> 8) & 0xff;
  input[1] = n & 0xff;
  input.set(bytes, 2);
  return crc32Bytes(input).subarray(0, 2);
}

/** The fallback text of `bytes` under the UR type `type`: a header line, then numbered lines. */
export function fallbackLines(type: string, bytes: Uint8Array): string[] {
  const count = Math.ceil(bytes.length / PER_LINE);
  const width = Math.max(3, String(count).length);
  const out = [`${type} ${String(bytes.length)} bytes ${String(count)} lines crc ${hex(crc32Bytes(bytes))}`];
  for (let n = 1; n <= count; n++) {
    const chunk = bytes.subarray((n - 1) * PER_LINE, n * PER_LINE);
    const words = Array.from(chunk, byteWord);
    const groups: string[] = [];
    for (let i = 0; i < words.length; i += 4) groups.push(words.slice(i, i + 4).join(' '));
    out.push(`${String(n).padStart(width, '0')} | ${groups.join('  ')} | ${Array.from(lineCheck(n, chunk), byteWord).join(' ')}`);
  }
  return out;
}

/**
 * Reads typed (or extracted) fallback text back into the exact bytes. Lines not in the format are
 * ignored (page headers, captions); a line whose checksum fails, a missing line or a whole that does
 * not match its header is refused, naming the lines to check.
 */
export function parseFallback(text: string, type: string): Uint8Array {
  const header = new RegExp(`${type.replace(/[-]/g, '\\-')}\\s+(\\d+)\\s+bytes\\s+(\\d+)\\s+lines\\s+crc\\s+([0-9a-f]{8})`, 'i').exec(text);
  if (header === null) throw new CustosError('MALFORMED', `The text has no "${type} … bytes … lines crc …" header line; type it in as printed.`);
  const length = Number(header[1]);
  const count = Number(header[2]);
  if (count !== Math.ceil(length / PER_LINE) || length > 1024 * 1024) throw new CustosError('MALFORMED', 'The header line does not add up; check its numbers.');
  const lines = new Map<number, Uint8Array>();
  const bad: number[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*(\d{1,6})\s*\|([a-z\s]+)\|([a-z\s]+)$/i.exec(raw);
    if (m === null) continue;
    const n = Number(m[1]);
    const words = (m[2] ?? '').trim().split(/\s+/).map(byteOfWord);
    const check = (m[3] ?? '').trim().split(/\s+/).map(byteOfWord);
    const expected = n === count ? length - (count - 1) * PER_LINE : PER_LINE;
    if (n < 1 || n > count) continue;
    if (words.length !== expected || check.length !== 2 || [...words, ...check].some((b) => b === undefined)) {
      bad.push(n);
      continue;
    }
    const bytes = Uint8Array.from(words as number[]);
    const want = lineCheck(n, bytes);
    if (want[0] !== check[0] || want[1] !== check[1]) bad.push(n);
    else lines.set(n, bytes);
  }
  const missing: number[] = [];
  for (let n = 1; n <= count; n++) if (!lines.has(n) && !bad.includes(n)) missing.push(n);
  if (bad.length > 0) throw new CustosError('MALFORMED', `Line(s) ${bad.join(', ')} do not match their checksum; check the words of each against the sheet.`, { details: { lines: bad } });
  if (missing.length > 0) throw new CustosError('INCOMPLETE', `Line(s) ${missing.join(', ')} are missing; type every numbered line.`, { details: { lines: missing } });
  const out = new Uint8Array(length);
  for (let n = 1; n <= count; n++) out.set(lines.get(n) ?? new Uint8Array(0), (n - 1) * PER_LINE);
  if (hex(crc32Bytes(out)) !== (header[3] ?? '').toLowerCase()) throw new CustosError('MALFORMED', 'The lines read, but the whole does not match the header\'s checksum; check the header line.');
  return out;
}
