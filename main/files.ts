/**
 * The disk side of the file dialogs, in plain Node: reading the files a person picked (names only
 * go back to the renderer, never paths), and writing files into a chosen place atomically, never
 * over an existing file when saving a batch into a folder. main/dialogs.ts (Electron) asks the
 * questions; the test host uses these functions directly.
 */
import { promises as fsp } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { MAX_FILE_BYTES, type FileIn, type FileOut } from '../shared/ipc/contract';
import { ServiceError } from './services/errors';
import { exists, writeFileAtomic } from '../node/fs-atomic';

/** The most bytes one `files:open` may read in total. */
export const MAX_OPEN_TOTAL_BYTES = 512 * 1024 * 1024;

/** Reads picked files; refuses (IO_FAILED) one that is too large, a folder, or unreadable. */
export async function readPicked(paths: readonly string[]): Promise<FileIn[]> {
  const out: FileIn[] = [];
  let total = 0;
  for (const p of paths) {
    const name = basename(p);
    try {
      const st = await fsp.stat(p);
      if (!st.isFile()) throw new ServiceError('IO_FAILED', `"${name}" is not a file.`);
      if (st.size > MAX_FILE_BYTES) throw new ServiceError('IO_FAILED', `"${name}" is ${String(st.size)} bytes: larger than any Custos file or QR image (${String(MAX_FILE_BYTES)}).`);
      total += st.size;
      if (total > MAX_OPEN_TOTAL_BYTES) throw new ServiceError('IO_FAILED', 'The chosen files are too large together; open fewer at a time.');
      out.push({ name, bytes: new Uint8Array(await fsp.readFile(p)) });
    } catch (error) {
      if (error instanceof ServiceError) throw error;
      throw new ServiceError('IO_FAILED', `"${name}" could not be read.`, { cause: error });
    }
  }
  return out;
}

/** Writes one file where the person chose (atomically; mode 0600: exports may be sensitive). */
export async function writeChosen(path: string, file: FileOut): Promise<string> {
  try {
    await writeFileAtomic(path, file.bytes, { mode: 0o600 });
  } catch (error) {
    throw new ServiceError('IO_FAILED', `"${basename(path)}" could not be written.`, { cause: error });
  }
  return basename(path);
}

/** A name in `dir` that does not exist yet: `name`, else `name (2)`, `name (3)`, … */
export async function freeName(dir: string, name: string): Promise<string> {
  const ext = extname(name);
  const stem = name.slice(0, name.length - ext.length);
  for (let n = 1; n < 10_000; n++) {
    const candidate = n === 1 ? name : `${stem} (${String(n)})${ext}`;
    if (!(await exists(join(dir, candidate)))) return candidate;
  }
  throw new ServiceError('IO_FAILED', `The folder already holds too many files named like "${name}".`);
}

/** Writes every file into `dir`, never overwriting; the names written. */
export async function writeAllInto(dir: string, files: readonly FileOut[]): Promise<string[]> {
  const names: string[] = [];
  for (const f of files) {
    const name = await freeName(dir, f.name);
    await writeChosen(join(dir, name), f);
    names.push(name);
  }
  return names;
}
