/**
 * Atomic, durable file writes for the vault (HANDBOOK: "Writes of anything that matters are atomic").
 *
 *   writeFileAtomic: temp file in the same folder (O_EXCL, mode 0600) → write → fsync → close →
 *                    rename over the target → fsync the folder.
 *   replaceKeepingPrevious: the same, but first the current file becomes the previous generation:
 *                    hard link current → temp name → rename over `previous` → rename the new temp
 *                    over current → fsync the folder. The current name never disappears, so at
 *                    every instant `current` holds the old or the new content and `previous` an
 *                    older complete one. (If the file system has no hard links, a copy is fsynced
 *                    instead.)
 *   replaceSettingAside: for when `current` is known to be bad and `previous` is the only good copy:
 *                    the new content goes to a temp file first; then the bad current is renamed to
 *                    an aside name (`previous` is never touched); fsync the folder; rename the temp
 *                    over current; fsync the folder. At every instant `previous` holds the good copy.
 *
 * A process killed at any step leaves the old or the new file, and maybe a `.name.*.tmp` file,
 * which `removeStaleTemps` clears. Power loss additionally depends on the file system honouring
 * fsync; the folder fsyncs make the renames themselves durable on POSIX.
 */
import { constants, promises as fsp } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { ServiceError } from './errors';

export type AtomicStep = 'open-temp' | 'write' | 'fsync-file' | 'close' | 'link-previous' | 'rename-previous' | 'set-aside' | 'rename' | 'fsync-dir';

export interface AtomicWriteOptions {
  /** File mode of the result (default 0o600). */
  readonly mode?: number;
  /** Called before each step (tests: observe the order, or throw to simulate a failure). */
  readonly onStep?: (step: AtomicStep) => void;
}

const TEMP_SUFFIX = '.tmp';

export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
}

async function writeTemp(path: string, data: Uint8Array, options: AtomicWriteOptions): Promise<string> {
  const step = options.onStep ?? ((): void => undefined);
  const mode = options.mode ?? 0o600;
  const temp = tempPathFor(path);
  step('open-temp');
  const fh = await fsp.open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await fh.chmod(mode);
    step('write');
    let at = 0;
    while (at < data.length) {
      const { bytesWritten } = await fh.write(data, at, data.length - at);
      at += bytesWritten;
    }
    step('fsync-file');
    await fh.sync();
  } catch (error) {
    await fh.close().catch(() => undefined);
    await fsp.unlink(temp).catch(() => undefined);
    throw error;
  }
  step('close');
  await fh.close();
  return temp;
}

export async function writeFileAtomic(path: string, data: Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const step = options.onStep ?? ((): void => undefined);
  const temp = await writeTemp(path, data, options);
  try {
    step('rename');
    await fsp.rename(temp, path);
  } catch (error) {
    await fsp.unlink(temp).catch(() => undefined);
    throw error;
  }
  step('fsync-dir');
  await fsyncDir(dirname(path));
}

/** Writes `data` to `path`, keeping what `path` held before as `previousPath`. */
export async function replaceKeepingPrevious(path: string, previousPath: string, data: Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const step = options.onStep ?? ((): void => undefined);
  const temp = await writeTemp(path, data, options);
  try {
    if (await exists(path)) {
      const prevTemp = tempPathFor(previousPath);
      step('link-previous');
      try {
        await fsp.link(path, prevTemp);
      } catch {
        // No hard links here (FAT, some network shares): a durable copy does the same job.
        await fsp.copyFile(path, prevTemp, constants.COPYFILE_EXCL);
        const fh = await fsp.open(prevTemp, 'r+');
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
      }
      step('rename-previous');
      try {
        await fsp.rename(prevTemp, previousPath);
      } catch (error) {
        await fsp.unlink(prevTemp).catch(() => undefined);
        throw error;
      }
      await fsyncDir(dirname(path));
    }
    step('rename');
    await fsp.rename(temp, path);
  } catch (error) {
    await fsp.unlink(temp).catch(() => undefined);
    throw error;
  }
  step('fsync-dir');
  await fsyncDir(dirname(path));
}

/**
 * Writes `data` to `path` WITHOUT rotating what `path` holds into the previous generation: that
 * content (if any) is renamed to `asidePath` first, and the previous generation is left alone.
 */
export async function replaceSettingAside(path: string, asidePath: string, data: Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const step = options.onStep ?? ((): void => undefined);
  const temp = await writeTemp(path, data, options);
  try {
    if (await exists(path)) {
      step('set-aside');
      await fsp.rename(path, asidePath);
      await fsyncDir(dirname(path));
    }
    step('rename');
    await fsp.rename(temp, path);
  } catch (error) {
    await fsp.unlink(temp).catch(() => undefined);
    throw error;
  }
  step('fsync-dir');
  await fsyncDir(dirname(path));
}

/** fsync a folder so renames and unlinks in it are durable. A no-op where folders cannot be opened (Windows). */
export async function fsyncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(dir, constants.O_RDONLY);
  } catch (error) {
    if (process.platform === 'win32') return;
    throw error;
  }
  try {
    await fh.sync();
  } catch (error) {
    if (!(isErrno(error, 'EINVAL') || isErrno(error, 'EPERM') || isErrno(error, 'EISDIR'))) throw error;
  } finally {
    await fh.close();
  }
}

/** Removes `.name.*.tmp` files left in `dir` by an interrupted write of `names`. */
export async function removeStaleTemps(dir: string, names: readonly string[]): Promise<number> {
  let removed = 0;
  for (const entry of await fsp.readdir(dir)) {
    if (!entry.endsWith(TEMP_SUFFIX)) continue;
    if (!names.some((n) => entry.startsWith(`.${n}.`))) continue;
    await fsp.unlink(join(dir, entry)).catch(() => undefined);
    removed++;
  }
  if (removed > 0) await fsyncDir(dir);
  return removed;
}

export async function exists(path: string): Promise<boolean> {
  try {
    await fsp.stat(path);
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return false;
    throw error;
  }
}

/** Reads a file; a missing file is `undefined`, any other failure IO_FAILED. */
export async function readIfExists(path: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await fsp.readFile(path));
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw new ServiceError('IO_FAILED', `${basename(path)} could not be read.`, { cause: error, details: { file: basename(path) } });
  }
}

export function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
