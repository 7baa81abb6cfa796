/**
 * Atomic, durable file writes (HANDBOOK "Writes of anything that matters are atomic"):
 *
 *   1. create a temp file in the SAME directory (`.<name>.<random>.tmp`, O_EXCL, the final mode),
 *   2. write all bytes, 3. fsync the file, 4. close, 5. rename over the target (atomic on POSIX
 *   within one file system), 6. fsync the directory so the rename itself survives a crash.
 *
 * A reader sees the old content or the new content, never a mixture; a failure at any step removes
 * the temp file and leaves the target as it was. Synchronous on purpose: the agent's writes are
 * few and small, and a synchronous sequence cannot interleave with another write of the same file
 * in this process.
 */
import { closeSync, fchmodSync, fsyncSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync, constants } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { AgentError } from './errors';

export type AtomicStep = 'open-temp' | 'write' | 'fsync-file' | 'close' | 'rename' | 'fsync-dir';

export interface AtomicWriteOptions {
  /** File mode of the result (default 0o600: secrets are the common case). Not subject to umask. */
  readonly mode?: number;
  /** Refuse (CONFLICT) when the target exists already, instead of replacing it. */
  readonly noOverwrite?: boolean;
  /**
   * Called before each step; for tests (to observe the order, or to throw and simulate a crash
   * between steps). Never used in production code.
   */
  readonly onStep?: (step: AtomicStep, tempPath: string) => void;
}

/** The temp name used for `path`; starts with a dot so no identifier-derived name can clash with it. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

export function writeFileAtomic(path: string, data: Uint8Array, options: AtomicWriteOptions = {}): void {
  const mode = options.mode ?? 0o600;
  const step = options.onStep ?? ((): void => undefined);
  if (options.noOverwrite === true && exists(path)) {
    throw new AgentError('CONFLICT', `Refusing to overwrite ${basename(path)}: it exists already.`, { details: { file: basename(path) } });
  }
  const temp = tempPathFor(path);
  let fd: number | undefined;
  let renamed = false;
  try {
    step('open-temp', temp);
    fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
    fchmodSync(fd, mode); // the umask may have cleared bits we asked for; set exactly `mode`
    step('write', temp);
    let at = 0;
    while (at < data.length) at += writeSync(fd, data, at, data.length - at);
    step('fsync-file', temp);
    fsyncSync(fd);
    step('close', temp);
    closeSync(fd);
    fd = undefined;
    if (options.noOverwrite === true && exists(path)) {
      throw new AgentError('CONFLICT', `Refusing to overwrite ${basename(path)}: it appeared while it was being written.`, { details: { file: basename(path) } });
    }
    step('rename', temp);
    renameSync(temp, path);
    renamed = true;
    step('fsync-dir', temp);
    fsyncDir(dirname(path));
  } catch (error) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already failing; the original error is what matters
      }
    }
    if (!renamed) removeQuietly(temp);
    throw error;
  }
}

/** fsync a directory, making renames and unlinks in it durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Creates `dir` and its missing parents with `mode` (default 0o700), and fsyncs the parent. */
export function ensureDir(dir: string, mode = 0o700): void {
  if (exists(dir)) {
    if (!statSync(dir).isDirectory()) throw new AgentError('CONFLICT', `${basename(dir)} exists and is not a directory.`);
    return;
  }
  mkdirSync(dir, { recursive: true, mode });
  fsyncDir(dirname(dir));
}

/** Removes a file durably (unlink, fsync its directory). Missing files are not an error. */
export function removeFileDurable(path: string): boolean {
  try {
    unlinkSync(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
  fsyncDir(dirname(path));
  return true;
}

export function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return false;
    throw error;
  }
}

export function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // the temp file may not exist yet (failure before open)
  }
}
