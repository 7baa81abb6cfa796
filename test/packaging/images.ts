/**
 * Readers for the containers the packaging tests look into, written against the formats (no
 * dependency, so a test cannot pass because a library guessed): PNG IHDR, ICO directories, ICNS
 * element lists and the asar header.
 */

export interface PngInfo {
  readonly width: number;
  readonly height: number;
  /** PNG colour type: 6 = RGBA, 2 = RGB, … */
  readonly colorType: number;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width, height and colour type from a PNG's IHDR chunk (PNG spec §11.2.2). */
export function readPng(data: Buffer): PngInfo {
  if (data.length < 33 || !data.subarray(0, 8).equals(PNG_SIGNATURE)) {
    throw new Error(`not a PNG file: expected the 8-byte PNG signature, got ${data.subarray(0, 8).toString('hex')}`);
  }
  if (data.toString('latin1', 12, 16) !== 'IHDR') throw new Error('PNG without IHDR as first chunk');
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20), colorType: data.readUInt8(25) };
}

export interface IcoEntry {
  /** Size from the directory entry (0 in the file means 256). */
  readonly width: number;
  readonly height: number;
  /** The image itself, when it is a PNG (Windows Vista and later). */
  readonly png: PngInfo | null;
}

/** The images of a Windows .ico file: ICONDIR, then 16-byte ICONDIRENTRY records. */
export function readIco(data: Buffer): IcoEntry[] {
  if (data.readUInt16LE(0) !== 0 || data.readUInt16LE(2) !== 1) throw new Error('not an ICO file (reserved 0, type 1 expected)');
  const count = data.readUInt16LE(4);
  const entries: IcoEntry[] = [];
  for (let i = 0; i < count; i++) {
    const at = 6 + 16 * i;
    const w = data.readUInt8(at);
    const h = data.readUInt8(at + 1);
    const size = data.readUInt32LE(at + 8);
    const offset = data.readUInt32LE(at + 12);
    if (offset + size > data.length) throw new Error(`ICO entry ${String(i)} points past the end of the file`);
    const image = data.subarray(offset, offset + size);
    entries.push({ width: w === 0 ? 256 : w, height: h === 0 ? 256 : h, png: image.subarray(0, 8).equals(PNG_SIGNATURE) ? readPng(image) : null });
  }
  return entries;
}

export interface IcnsElement {
  readonly type: string;
  readonly png: PngInfo | null;
}

/** The elements of an Apple .icns file: 'icns' + big-endian length, then type + length + data. */
export function readIcns(data: Buffer): IcnsElement[] {
  if (data.toString('latin1', 0, 4) !== 'icns') throw new Error('not an ICNS file (magic "icns" expected)');
  if (data.readUInt32BE(4) !== data.length) throw new Error(`ICNS length field ${String(data.readUInt32BE(4))} differs from the file size ${String(data.length)}`);
  const elements: IcnsElement[] = [];
  let at = 8;
  while (at < data.length) {
    const type = data.toString('latin1', at, at + 4);
    const length = data.readUInt32BE(at + 4);
    if (length < 8 || at + length > data.length) throw new Error(`ICNS element ${type} has a bad length ${String(length)}`);
    const body = data.subarray(at + 8, at + length);
    elements.push({ type, png: body.subarray(0, 8).equals(PNG_SIGNATURE) ? readPng(body) : null });
    at += length;
  }
  return elements;
}

interface AsarNode {
  files?: Record<string, AsarNode>;
  size?: number;
}

/**
 * Every file path in an asar archive. Layout (electron/asar): a pickle holding the header size,
 * then the header pickle: payload size, string length, the JSON directory tree.
 */
export function listAsar(data: Buffer): string[] {
  const jsonLength = data.readUInt32LE(12);
  const header = JSON.parse(data.toString('utf8', 16, 16 + jsonLength)) as AsarNode;
  const out: string[] = [];
  const walk = (node: AsarNode, prefix: string): void => {
    for (const [name, child] of Object.entries(node.files ?? {})) {
      const path = prefix === '' ? name : `${prefix}/${name}`;
      if (child.files) walk(child, path);
      else out.push(path);
    }
  };
  walk(header, '');
  return out.sort();
}
