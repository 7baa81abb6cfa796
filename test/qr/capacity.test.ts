// Capacity facts the transport relies on, checked against the `qrcode` encoder itself.
//
// Largest single-frame payload (type `custos-export`, level M, version 40): 1680 bytes. A 600-byte
// payload is one frame (a version-23 code). Multipart frames default to version 20 or less.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MULTIPART_VERSION,
  EC_LEVELS,
  alphanumericCapacity,
  maxFragmentLengthFor,
  maxSinglePartPayload,
  singlePartFrameLength,
  smallestVersionFor,
} from '../../shared/qr/capacity';
import { qrMatrix } from '../../shared/qr/render';
import { FrameEncoder, encodeFrames } from '../../shared/qr/ur';
import { codeOf } from './helpers';

const TYPE = 'custos-export';
const require = createRequire(import.meta.url);

interface QrcodeInternals {
  getCapacity: (version: number, level: unknown, mode: unknown) => number;
}

describe('QR capacity', () => {
  it('matches the qrcode encoder for every version and level (alphanumeric)', () => {
    const version = require('qrcode/lib/core/version') as QrcodeInternals;
    const ecl = require('qrcode/lib/core/error-correction-level') as { from: (l: string) => unknown };
    const mode = require('qrcode/lib/core/mode') as { ALPHANUMERIC: unknown };
    for (let v = 1; v <= 40; v++) {
      for (const level of EC_LEVELS) expect(alphanumericCapacity(v, level)).toBe(version.getCapacity(v, ecl.from(level), mode.ALPHANUMERIC));
    }
    expect([alphanumericCapacity(40, 'L'), alphanumericCapacity(40, 'M'), alphanumericCapacity(40, 'Q'), alphanumericCapacity(40, 'H')]).toEqual([
      4296, 3391, 2420, 1852,
    ]);
  });

  it('a 600-byte payload is one frame at level M', () => {
    const frames = encodeFrames(new Uint8Array(600).fill(7), { type: TYPE });
    expect(frames).toHaveLength(1);
    const frame = frames[0] ?? '';
    expect(frame.length).toBe(singlePartFrameLength(TYPE, 600));
    expect(qrMatrix(frame).version).toBe(23);
    expect(smallestVersionFor(frame.length, 'M')).toBe(23);
  });

  it('the largest single-frame payload is 1680 bytes (version 40, level M)', () => {
    expect(maxSinglePartPayload(TYPE)).toBe(1680);
    const largest = encodeFrames(new Uint8Array(1680).fill(0xa5), { type: TYPE });
    expect(largest).toHaveLength(1);
    expect(qrMatrix(largest[0] ?? '').version).toBe(40);
    expect(encodeFrames(new Uint8Array(1681), { type: TYPE }).length).toBeGreaterThan(1);
    // Asking for smaller single codes: version 25 holds 710 bytes.
    expect(maxSinglePartPayload(TYPE, 'M', 25)).toBe(710);
    expect(encodeFrames(new Uint8Array(711), { type: TYPE, singleFrameMaxVersion: 25 }).length).toBeGreaterThan(1);
  });

  it('default multipart frames fit a version-20 code, whatever their sequence number', () => {
    expect(maxFragmentLengthFor(TYPE, DEFAULT_MULTIPART_VERSION)).toBe(437);
    const encoder = new FrameEncoder(crypto.getRandomValues(new Uint8Array(16 * 1024)), { type: TYPE });
    expect(encoder.seqLen).toBe(38);
    for (const seq of [1, 2, encoder.seqLen, encoder.seqLen + 1, 1000, 0xffffffff]) {
      expect(qrMatrix(encoder.frame(seq)).version).toBeLessThanOrEqual(DEFAULT_MULTIPART_VERSION);
    }
    // The largest fragment a caller may ask for still fits version 40.
    const big = new FrameEncoder(crypto.getRandomValues(new Uint8Array(8000)), { type: TYPE, maxFragmentLength: maxFragmentLengthFor(TYPE, 40) });
    expect(qrMatrix(big.frame(0xffffffff)).version).toBe(40);
  });

  it('refuses frames a QR code cannot hold', () => {
    expect(codeOf(() => qrMatrix(`ur:${TYPE}/${'ae'.repeat(1700)}`))).toBe('TOO_LARGE');
    expect(codeOf(() => qrMatrix('hello world'))).toBe('INVALID_PARAMETERS');
    expect(codeOf(() => alphanumericCapacity(41, 'M'))).toBe('INVALID_PARAMETERS');
    expect(codeOf(() => alphanumericCapacity(10, 'X' as 'M'))).toBe('INVALID_PARAMETERS');
  });
});
