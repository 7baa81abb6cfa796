#!/usr/bin/env node
// Generates every application icon from build/icon.svg (the generated files are committed, so
// packaging and the tests never need this script; run it after changing the SVG):
//
//   build/icons/NxN.png   Linux (electron-builder's `linux.icon` folder), N = 16 … 1024
//   build/icon.png        1024×1024, electron-builder's fallback icon
//   build/icon.ico        Windows: 16, 24, 32, 48, 64, 128, 256, each entry a PNG (Vista and later)
//   build/icon.icns       macOS: icp4 … ic14, each entry a PNG (the types Apple defines for PNG data)
//
// The SVG is rendered by `rsvg-convert` (Debian: apt-get install -y librsvg2-bin), which installs
// offline from Debian's repositories; the two containers are small enough to write here:
//  - ICO: ICONDIR (6 bytes) + one 16-byte ICONDIRENTRY per image + the PNG files
//    (https://learn.microsoft.com/en-us/previous-versions/ms997538(v=msdn.10); width/height 0 = 256);
//  - ICNS: 'icns' + total length (big-endian), then per image a 4-byte type, an 8-byte-inclusive
//    length and the PNG file (Apple's Icon Services types; ic10 is the 512@2x = 1024 image).
// test/packaging/builder-config.test.ts reads every size back from the committed files, and
// independent readers check them when installed (`icns2png -l` from icnsutils, `identify` from
// imagemagick): this script runs both when they are on the PATH.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const svg = join(here, 'icon.svg');
const PNG_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024];
const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256];
/** ICNS types that hold PNG data, with the pixel size of each. */
const ICNS_TYPES = [
  ['icp4', 16],
  ['icp5', 32],
  ['icp6', 64],
  ['ic07', 128],
  ['ic08', 256],
  ['ic09', 512],
  ['ic10', 1024],
  ['ic11', 32],
  ['ic12', 64],
  ['ic13', 256],
  ['ic14', 512],
];

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

if (!have('rsvg-convert')) {
  console.error('make-icons: rsvg-convert is missing; install it with: apt-get install -y librsvg2-bin');
  process.exit(1);
}

/** Renders the SVG at size×size and returns the PNG bytes. */
function render(size) {
  return execFileSync('rsvg-convert', ['--width', String(size), '--height', String(size), '--format', 'png', svg], {
    maxBuffer: 64 * 1024 * 1024,
  });
}

const pngs = new Map(PNG_SIZES.map((size) => [size, render(size)]));
const png = (size) => {
  const data = pngs.get(size);
  if (data === undefined) throw new Error(`make-icons: no ${String(size)}px rendering`);
  return data;
};

mkdirSync(join(here, 'icons'), { recursive: true });
for (const size of PNG_SIZES) writeFileSync(join(here, 'icons', `${String(size)}x${String(size)}.png`), png(size));
writeFileSync(join(here, 'icon.png'), png(1024));

function ico(sizes) {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0); // reserved
  header.writeUInt16LE(1, 2); // 1 = icon
  header.writeUInt16LE(sizes.length, 4);
  const entries = [];
  let offset = 6 + 16 * sizes.length;
  for (const size of sizes) {
    const data = png(size);
    const e = Buffer.alloc(16);
    e.writeUInt8(size >= 256 ? 0 : size, 0); // width (0 means 256)
    e.writeUInt8(size >= 256 ? 0 : size, 1); // height
    e.writeUInt8(0, 2); // no palette
    e.writeUInt8(0, 3); // reserved
    e.writeUInt16LE(1, 4); // colour planes
    e.writeUInt16LE(32, 6); // bits per pixel
    e.writeUInt32LE(data.length, 8);
    e.writeUInt32LE(offset, 12);
    entries.push(e);
    offset += data.length;
  }
  return Buffer.concat([header, ...entries, ...sizes.map(png)]);
}

function icns(types) {
  const chunks = types.map(([type, size]) => {
    const data = png(size);
    const head = Buffer.alloc(8);
    head.write(type, 0, 'latin1');
    head.writeUInt32BE(8 + data.length, 4);
    return Buffer.concat([head, data]);
  });
  const body = Buffer.concat(chunks);
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'latin1');
  head.writeUInt32BE(8 + body.length, 4);
  return Buffer.concat([head, body]);
}

writeFileSync(join(here, 'icon.ico'), ico(ICO_SIZES));
writeFileSync(join(here, 'icon.icns'), icns(ICNS_TYPES));
console.log(`make-icons: wrote build/icons/{${PNG_SIZES.join(',')}}.png, build/icon.png, build/icon.ico, build/icon.icns`);

// Independent readers, when present.
if (have('icns2png')) {
  // libicns 0.8 (Debian) lists every element but decodes only ic08, ic09 and ic10 of the PNG types;
  // it complains on stderr about the others, which macOS (10.7 and later) reads.
  const listing = execFileSync('icns2png', ['-l', join(here, 'icon.icns')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  console.log(listing.trim());
}
if (have('identify')) {
  const listing = execFileSync('identify', [join(here, 'icon.ico')], { encoding: 'utf8' });
  console.log(listing.trim());
}
// A sanity check on what was just written, whatever is installed.
const written = readFileSync(join(here, 'icon.icns'));
if (written.toString('latin1', 0, 4) !== 'icns' || written.readUInt32BE(4) !== written.length) {
  throw new Error('make-icons: the ICNS file just written is malformed');
}
