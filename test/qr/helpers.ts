// Node-only helpers for the QR tests: PNG files to RGBA (pngjs), the zbarimg reader, and a seeded
// shuffle so property tests stay reproducible from fast-check's seed.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { isCustosError, type ErrorCode } from '../../shared/errors';

export function readPngRgba(path: string): { data: Uint8ClampedArray; width: number; height: number } {
  const png = PNG.sync.read(readFileSync(path));
  return { data: new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), width: png.width, height: png.height };
}

/** Fails (never skips) when zbarimg is missing: a QR code is not done until an independent reader read it. */
export function requireZbarimg(): void {
  const probe = spawnSync('zbarimg', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error('zbarimg is not installed, so the QR codes cannot be checked by an independent reader: run `apt-get install -y zbar-tools`.');
  }
}

/**
 * QR codes only: with every symbology on, zbar now and then also "finds" a DataBar code in a dense
 * QR code's modules (1 in about 40 random version-40 codes) and prints it as a second line.
 */
export const ZBAR_QR_ONLY = ['--raw', '-q', '-Sdisable', '-Sqrcode.enable'] as const;

/** Reads one PNG with zbarimg; `binary` adds -Sbinary (exact bytes, no trailing newline). */
export function zbarimg(path: string, binary: boolean): string {
  const args = [...ZBAR_QR_ONLY, ...(binary ? ['-Sbinary'] : []), path];
  const run = spawnSync('zbarimg', args, { encoding: 'latin1' });
  if (run.error !== undefined) throw run.error;
  if (run.status !== 0) throw new Error(`zbarimg ${args.join(' ')} exited ${String(run.status)}: ${run.stderr}`);
  return binary ? run.stdout : run.stdout.replace(/\n$/, '');
}

/** A deterministic shuffle (xorshift32) so a failing property replays from its seed. */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0 || 0x9e3779b9;
  for (let i = out.length - 1; i > 0; i--) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    const j = s % (i + 1);
    const a = out[i] as T;
    out[i] = out[j] as T;
    out[j] = a;
  }
  return out;
}

/** Runs `fn`; returns the CustosError code it threw, or undefined if it returned. Any other throw fails. */
export function codeOf(fn: () => unknown): ErrorCode | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (isCustosError(error)) return error.code;
    throw new Error(`expected only CustosError, got ${String(error)}`, { cause: error });
  }
}
