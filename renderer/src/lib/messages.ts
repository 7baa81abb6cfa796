/**
 * Turning what the person gave (files, pictures, pasted UR text, camera frames) into what a channel
 * takes. Nothing is trusted here: the main process verifies every message.
 */
import type { FileIn, FrameIn, IpcError } from '../../../shared/ipc/contract';
import { custos } from '../api';
import { isOtherImage, isPng, urTextOf } from './files';
import { localError } from '../i18n';

export interface Given {
  readonly files: readonly FileIn[];
  /** UR frames (pasted text, camera). */
  readonly frames: readonly string[];
}

export type One = { readonly ok: true; readonly file: FileIn } | { readonly ok: false; readonly error: IpcError };

async function pictureFrame(f: FileIn): Promise<string | null | IpcError> {
  if (isPng(f.bytes)) {
    const r = await custos().qr.decodeImage({ image: f });
    return r.ok ? r.value.frame : r.error;
  }
  const { decodePictureBytes } = await import('./qr-scan');
  try {
    return await decodePictureBytes(f.bytes);
  } catch {
    return localError('errImageUnreadable');
  }
}

const isError = (x: unknown): x is IpcError => typeof x === 'object' && x !== null && 'code' in x;

/** One message for a screen that takes one file (agent card, notice, recovery request, challenge). */
export async function oneMessage(given: Given): Promise<One> {
  const frames: string[] = [...given.frames];
  for (const f of given.files) {
    if (isPng(f.bytes) || isOtherImage(f.bytes)) {
      const frame = await pictureFrame(f);
      if (isError(frame)) return { ok: false, error: frame };
      if (frame === null) return { ok: false, error: localError('errNoQrInImage') };
      frames.push(frame);
      continue;
    }
    const text = urTextOf(f.bytes);
    if (text !== null) {
      frames.push(...text);
      continue;
    }
    return { ok: true, file: f };
  }
  if (frames.length === 0) return { ok: false, error: localError('errNothingReadable') };
  const r = await custos().qr.assemble({ frames: frames.map((frame, i) => ({ name: `frame ${String(i + 1)}`, frame })) });
  if (!r.ok) return { ok: false, error: r.error };
  const m = r.value.messages[0];
  if (m !== undefined) return { ok: true, file: { name: 'qr', bytes: m.bytes } };
  const p = r.value.problems[0];
  return { ok: false, error: p?.problem ?? localError('errNothingReadable') };
}

/**
 * For the inbox and the station: PNG images and UR text files go to main as they are (it reads
 * them); other picture formats are decoded here into frames.
 */
export async function importInputs(given: Given): Promise<{ files: FileIn[]; frames: FrameIn[]; unreadable: string[] }> {
  const files: FileIn[] = [];
  const frames: FrameIn[] = given.frames.map((frame, i) => ({ name: `frame ${String(i + 1)}`, frame }));
  const unreadable: string[] = [];
  for (const f of given.files) {
    if (isOtherImage(f.bytes)) {
      const frame = await pictureFrame(f);
      if (typeof frame === 'string') frames.push({ name: f.name, frame });
      else unreadable.push(f.name);
    } else files.push(f);
  }
  return { files, frames, unreadable };
}
