/**
 * Files the person gives the window (drop, paste, <input type=file>) as the contract's `FileIn`:
 * bytes and a display name, never a path. UR text (`ur:custos-…` frames, one per line) is found in
 * pasted or dropped text.
 */
import type { FileIn } from '../../../shared/ipc/contract';
import { framesInText } from '../../../shared/qr/assemble';
import { isPng } from '../../../shared/qr/png';

// One definition of each, shared with the main process and the CLIs (shared/qr/).
export { framesInText, isPng };

export async function readFiles(files: Iterable<File>): Promise<FileIn[]> {
  const out: FileIn[] = [];
  for (const f of files) out.push({ name: f.name || 'pasted', bytes: new Uint8Array(await f.arrayBuffer()) });
  return out;
}

const isJpeg = (b: Uint8Array): boolean => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
const isGif = (b: Uint8Array): boolean => b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46;
const isWebp = (b: Uint8Array): boolean => b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45;
const isBmp = (b: Uint8Array): boolean => b[0] === 0x42 && b[1] === 0x4d;
/** A picture format the main process does not read (it reads PNG): decoded in the window instead. */
export const isOtherImage = (b: Uint8Array): boolean => isJpeg(b) || isGif(b) || isWebp(b) || isBmp(b);

/** The file's text when it is plain UTF-8 text holding UR frames, else null. */
export function urTextOf(bytes: Uint8Array): string[] | null {
  if (bytes.length > 4 * 1024 * 1024 || bytes.length < 4) return null;
  const head = String.fromCharCode(...bytes.subarray(0, 3)).toLowerCase();
  if (head !== 'ur:' && !new TextDecoder().decode(bytes.subarray(0, Math.min(bytes.length, 4096))).toLowerCase().includes('ur:custos-')) return null;
  const frames = framesInText(new TextDecoder().decode(bytes));
  return frames.length > 0 ? frames : null;
}
