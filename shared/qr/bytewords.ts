/**
 * Bytewords, minimal style (BCR-2020-012): each byte becomes the first and last letter of one of 256
 * four-letter words, and the body ends with the CRC-32 of the data (4 bytes, big-endian) encoded the
 * same way. Minimal style is what UR bodies use (BCR-2020-005 §"Encoding"); its alphabet is a-z, so an
 * upper-cased UR fits the QR alphanumeric mode.
 */
import { assertBytes, constantTimeEqual, describe } from '../bytes';
import { CustosError } from '../errors';
import { crc32Bytes } from './crc32';

// The 256 words of BCR-2020-012, in byte order (0x00 = "able" ... 0xff = "zoom").
const WORDS: readonly string[] = [
  'able acid also apex aqua arch atom aunt away axis back bald barn belt beta bias',
  'blue body brag brew bulb buzz calm cash cats chef city claw code cola cook cost',
  'crux curl cusp cyan dark data days deli dice diet door down draw drop drum dull',
  'duty each easy echo edge epic even exam exit eyes fact fair fern figs film fish',
  'fizz flap flew flux foxy free frog fuel fund gala game gear gems gift girl glow',
  'good gray grim guru gush gyro half hang hard hawk heat help high hill holy hope',
  'horn huts iced idea idle inch inky into iris iron item jade jazz join jolt jowl',
  'judo jugs jump junk jury keep keno kept keys kick kiln king kite kiwi knob lamb',
  'lava lazy leaf legs liar limp lion list logo loud love luau luck lung main many',
  'math maze memo menu meow mild mint miss monk nail navy need news next noon note',
  'numb obey oboe omit onyx open oval owls paid part peck play plus poem pool pose',
  'puff puma purr quad quiz race ramp real redo rich road rock roof ruby ruin runs',
  'rust safe saga scar sets silk skew slot soap solo song stub surf swan taco task',
  'taxi tent tied time tiny toil tomb toys trip tuna twin ugly undo unit urge user',
  'vast very veto vial vibe view visa void vows wall wand warm wasp wave waxy webs',
  'what when whiz wolf work yank yawn yell yoga yurt zaps zero zest zinc zone zoom',
]
  .join(' ')
  .split(' ');

const MINIMAL: readonly string[] = WORDS.map((w) => `${w.charAt(0)}${w.charAt(3)}`);

const MINIMAL_TO_BYTE: ReadonlyMap<string, number> = new Map(MINIMAL.map((pair, byte) => [pair, byte]));

if (WORDS.length !== 256 || MINIMAL_TO_BYTE.size !== 256) {
  throw new Error('bytewords: the word table is corrupt (expected 256 distinct minimal words).');
}

/** Encodes `data` plus its CRC-32 as minimal bytewords (2 lower-case letters per byte). */
export function encodeMinimal(data: Uint8Array): string {
  assertBytes(data, 'bytewords input');
  const out: string[] = [];
  for (const byte of data) out.push(MINIMAL[byte] ?? '');
  for (const byte of crc32Bytes(data)) out.push(MINIMAL[byte] ?? '');
  return out.join('');
}

/**
 * Decodes minimal bytewords and checks the trailing CRC-32. Upper case is accepted (QR scanners
 * return the upper-cased form). Throws MALFORMED on anything else, naming what was wrong but not
 * the data.
 */
export function decodeMinimal(text: string): Uint8Array {
  if (typeof text !== 'string') {
    throw new CustosError('MALFORMED', `Bytewords must be text; got ${describe(text)}.`);
  }
  const lower = text.toLowerCase();
  if (lower.length % 2 !== 0) {
    throw new CustosError('MALFORMED', `Bytewords text has an odd number of letters (${String(lower.length)}); part of it is missing.`);
  }
  const byteCount = lower.length / 2;
  if (byteCount < 5) {
    throw new CustosError('MALFORMED', 'Bytewords text is too short to hold data and its 4-byte checksum.');
  }
  const bytes = new Uint8Array(byteCount);
  for (let i = 0; i < byteCount; i++) {
    const byte = MINIMAL_TO_BYTE.get(lower.slice(2 * i, 2 * i + 2));
    if (byte === undefined) {
      throw new CustosError('MALFORMED', `Bytewords text has an invalid word at position ${String(i + 1)}; the code was misread.`);
    }
    bytes[i] = byte;
  }
  const data = bytes.slice(0, byteCount - 4);
  if (!constantTimeEqual(bytes.subarray(byteCount - 4), crc32Bytes(data))) {
    throw new CustosError('MALFORMED', 'Bytewords checksum does not match; the code was misread or damaged.');
  }
  return data;
}

/** The four-letter word of each byte (BCR-2020-012 standard style), for text a person reads or types. */
export function byteWord(byte: number): string {
  const word = WORDS[byte];
  if (word === undefined) throw new CustosError('INVALID_PARAMETERS', `A byte is 0..255; got ${String(byte)}.`);
  return word;
}

/**
 * The byte of a typed word, read as BC-UR reads bytewords: by its first and last letters (so a typo
 * in the middle two still reads), or a two-letter minimal word; undefined when it is no byteword.
 */
export function byteOfWord(word: string): number | undefined {
  const w = word.toLowerCase();
  if (!/^[a-z]{2}$|^[a-z]{4}$/.test(w)) return undefined;
  return MINIMAL_TO_BYTE.get(`${w.charAt(0)}${w.charAt(w.length - 1)}`);
}
