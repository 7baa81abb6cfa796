/**
 * Writing a signed message as files: the message itself (`NAME.custos`) and, on request, its QR
 * frames through shared/qr (BC-UR type `custos-<message type>`, docs/protocol.md §7): one PNG and/or
 * SVG per frame, and a text file with one UR frame per line (for a display that loops them, or for a
 * scanner test). Names are made from identifiers, with anything outside [A-Za-z0-9._-] replaced, so
 * they are valid on every file system.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { safeFileName } from '../../shared/file-name';
import { utf8 } from '../../shared/bytes';
import type { MessageType } from '../../shared/protocol/frame';
import { framesAt, STANDARD_DENSITY } from '../../shared/qr/loop';
import { urTypeOf } from '../../shared/qr/types';
import { renderPng, renderSvg } from '../../shared/qr/render';
import { isCodedError, ServiceError } from './errors';
import { writeFileAtomic } from '../../node/fs-atomic';

export interface QrOptions {
  readonly png?: boolean;
  readonly svg?: boolean;
}

export interface WrittenFiles {
  readonly file: string;
  readonly frames: readonly string[];
  readonly png: readonly string[];
  readonly svg: readonly string[];
  readonly framesFile?: string;
}

/** A file name's stem from identifiers and people's words (non-ASCII letters kept; shared/file-name.ts), with room for "-qr-01-of-12.png". */
export const safeName = (text: string): string => safeFileName(text, '', 180);

/**
 * The UR frames of a message (one, or several multipart frames), each fitting a version-15 QR code:
 * the density the player starts at and the printed sheet uses, so files, screen and sheet count the
 * same frames (shared/qr/loop.ts).
 */
export function framesFor(type: MessageType, bytes: Uint8Array): string[] {
  return framesAt(bytes, urTypeOf(type), STANDARD_DENSITY.version);
}

/** Writes the QR frames of a message next to it: `BASE-qr-NN-of-MM.png|svg` (the count in every name) and `BASE-qr-frames.txt`. */
export async function writeQrFiles(outDir: string, baseName: string, type: MessageType, bytes: Uint8Array, qr: QrOptions): Promise<Omit<WrittenFiles, 'file'>> {
  return guardIo(outDir, async () => {
    await fsp.mkdir(outDir, { recursive: true, mode: 0o700 });
    const base = safeName(baseName);
    const frames = framesFor(type, bytes);
    const png: string[] = [];
    const svg: string[] = [];
    const width = Math.max(2, String(frames.length).length);
    const of = String(frames.length).padStart(width, '0');
    for (const [i, frame] of frames.entries()) {
      const n = `${String(i + 1).padStart(width, '0')}-of-${of}`;
      if (qr.png === true) {
        const p = join(outDir, `${base}-qr-${n}.png`);
        await writeFileAtomic(p, await renderPng(frame), { mode: 0o600 });
        png.push(p);
      }
      if (qr.svg === true) {
        const p = join(outDir, `${base}-qr-${n}.svg`);
        await writeFileAtomic(p, utf8(await renderSvg(frame)), { mode: 0o600 });
        svg.push(p);
      }
    }
    const framesFile = join(outDir, `${base}-qr-frames.txt`);
    await writeFileAtomic(framesFile, utf8(frames.join('\n') + '\n'), { mode: 0o600 });
    return { frames, png, svg, framesFile };
  });
}

/** Writes `BASE.custos`, and its QR frames when `qr` asks for PNG and/or SVG. */
export async function writeMessageFiles(outDir: string, baseName: string, type: MessageType, bytes: Uint8Array, qr: QrOptions | undefined): Promise<WrittenFiles> {
  const file = await guardIo(outDir, async () => {
    await fsp.mkdir(outDir, { recursive: true, mode: 0o700 });
    const path = join(outDir, `${safeName(baseName)}.custos`);
    await writeFileAtomic(path, bytes, { mode: 0o600 });
    return path;
  });
  if (qr === undefined || (qr.png !== true && qr.svg !== true)) return { file, frames: [], png: [], svg: [] };
  return { file, ...(await writeQrFiles(outDir, baseName, type, bytes, qr)) };
}

async function guardIo<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (isCodedError(error)) throw error;
    throw new ServiceError('IO_FAILED', `The files could not be written to ${dir}.`, { cause: error, details: { dir } });
  }
}
