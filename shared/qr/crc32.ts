/**
 * CRC-32 (ISO-HDLC: the zlib/PNG/Ethernet CRC, reflected polynomial 0xEDB88320), as BCR-2020-005
 * (Uniform Resources) and BCR-2020-012 (Bytewords) use it: the checksum a bytewords body ends with
 * and the checksum of a whole multipart message. It detects scanning errors; it authenticates nothing.
 */
import { assertBytes } from '../bytes';

const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** The CRC-32 of `data` as an unsigned 32-bit integer. */
export function crc32(data: Uint8Array): number {
  assertBytes(data, 'crc32 input');
  let crc = 0xffffffff;
  for (const byte of data) crc = (TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The CRC-32 of `data` as 4 big-endian bytes (the form bytewords appends). */
export function crc32Bytes(data: Uint8Array): Uint8Array {
  const value = crc32(data);
  return new Uint8Array([value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff]);
}
