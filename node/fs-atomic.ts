/**
 * Atomic, durable file writes for the agent and the custodian app (HANDBOOK: "Writes of anything
 * that matters are atomic"). ONE write path: every operation below is written once, as a sequence
 * of file-system steps (a generator yielding {@link Op}s), and run either synchronously
 * ({@link runSync}: the agent's few small writes, which then cannot interleave in its process) or
 * asynchronously ({@link runAsync}: the app's vault, which must not block the Electron main process).
 * The two variants therefore cannot drift apart in their order, their fsyncs or their clean-up.
 *
 *   writeFileAtomic[Sync]: temp file in the SAME folder (`.<name>.<random>.tmp`, O_EXCL, the final
 *                    mode, set exactly whatever the umask) → write → fsync → close → rename over the
 *                    target (atomic on POSIX within one file system) → fsync the folder.
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
 * A failure at any step removes the temp file and leaves the target as it was; a process killed at
 * any step leaves the old or the new file, and maybe a `.name.*.tmp` file, which `removeStaleTemps`
 * clears. Power loss additionally depends on the file system honouring fsync; the folder fsyncs make
 * the renames themselves durable on POSIX. Where a folder cannot be fsynced (Windows: it cannot be
 * opened, or fsync says EISDIR/EPERM/EINVAL) that step is skipped: the OS gives no such guarantee.
 */
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { FileError } from './errors';

const { constants } = fs;

export type AtomicStep = 'open-temp' | 'write' | 'fsync-file' | 'close' | 'link-previous' | 'rename-previous' | 'set-aside' | 'rename' | 'fsync-dir';

export interface AtomicWriteOptions {
  /** File mode of the result (default 0o600: secrets are the common case). Not subject to umask. */
  readonly mode?: number;
  /** Refuse (CONFLICT) when the target exists already, instead of replacing it. */
  readonly noOverwrite?: boolean;
  /**
   * Called before each step with the temp file's path; for tests (to observe the order, or to throw
   * and simulate a crash between steps). Never used in production code.
   */
  readonly onStep?: (step: AtomicStep, tempPath: string) => void;
}

const TEMP_SUFFIX = '.tmp';

/** The temp name used for `path`; starts with a dot so no identifier-derived name can clash with it. */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
}

export function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

// ---- the public operations ------------------------------------------------------------------------

/** Writes `data` to `path` atomically and durably (see the module header). */
export async function writeFileAtomic(path: string, data: Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  await runAsync(writeSteps(path, data, options));
}

/** The synchronous twin of {@link writeFileAtomic}: the same steps, run with blocking calls. */
export function writeFileAtomicSync(path: string, data: Uint8Array, options: AtomicWriteOptions = {}): void {
  runSync(writeSteps(path, data, options));
}

/** Writes `data` to `path`, keeping what `path` held before as `previousPath`. */
export async function replaceKeepingPrevious(path: string, previousPath: string, data: Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  await runAsync(replaceKeepingPreviousSteps(path, previousPath, data, options));
}

/**
 * Writes `data` to `path` WITHOUT rotating what `path` holds into the previous generation: that
 * content (if any) is renamed to `asidePath` first, and the previous generation is left alone.
 */
export async function replaceSettingAside(path: string, asidePath: string, data: Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  await runAsync(replaceSettingAsideSteps(path, asidePath, data, options));
}

/** fsync a folder so renames and unlinks in it are durable (skipped where the OS cannot). */
export async function fsyncDir(dir: string): Promise<void> {
  await runAsync(fsyncDirSteps(dir));
}

/** The synchronous twin of {@link fsyncDir}. */
export function fsyncDirSync(dir: string): void {
  runSync(fsyncDirSteps(dir));
}

/** Creates `dir` and its missing parents with `mode` (default 0o700), and fsyncs the parent. CONFLICT if it is a file. */
export function ensureDir(dir: string, mode = 0o700): void {
  runSync(ensureDirSteps(dir, mode));
}

/** Removes a file durably (unlink, fsync its folder). A missing file is not an error (false). */
export function removeFileDurable(path: string): boolean {
  return runSync(removeDurableSteps(path));
}

/** Removes `.name.*.tmp` files left in `dir` by an interrupted write of `names`. */
export async function removeStaleTemps(dir: string, names: readonly string[]): Promise<number> {
  return runAsync(removeStaleTempsSteps(dir, names));
}

/** Whether `path` exists; unlike `fs.existsSync`, any failure but ENOENT/ENOTDIR is thrown. */
export async function exists(path: string): Promise<boolean> {
  return runAsync(existsSteps(path));
}

/** The synchronous twin of {@link exists}. */
export function existsSync(path: string): boolean {
  return runSync(existsSteps(path));
}

/** Reads a file; a missing file is `undefined`, any other failure IO_FAILED. */
export async function readIfExists(path: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await fs.promises.readFile(path));
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw new FileError('IO_FAILED', `${basename(path)} could not be read.`, { cause: error, details: { file: basename(path) } });
  }
}

// ---- the steps, written once ------------------------------------------------------------------------

/** One file-system call; {@link runSync} and {@link runAsync} each know how to perform every kind. */
type Op =
  | { readonly op: 'open'; readonly path: string; readonly flags: number; readonly mode?: number }
  | { readonly op: 'fchmod'; readonly fd: number; readonly mode: number }
  | { readonly op: 'write'; readonly fd: number; readonly data: Uint8Array; readonly offset: number }
  | { readonly op: 'fsync'; readonly fd: number }
  | { readonly op: 'close'; readonly fd: number }
  | { readonly op: 'rename'; readonly from: string; readonly to: string }
  | { readonly op: 'link'; readonly from: string; readonly to: string }
  | { readonly op: 'copyFile'; readonly from: string; readonly to: string }
  | { readonly op: 'unlink'; readonly path: string }
  | { readonly op: 'stat'; readonly path: string }
  | { readonly op: 'mkdir'; readonly path: string; readonly mode: number }
  | { readonly op: 'readdir'; readonly path: string };

/** What each kind of step gives back to the sequence. */
interface OpResult {
  open: number;
  fchmod: undefined;
  write: number;
  fsync: undefined;
  close: undefined;
  rename: undefined;
  link: undefined;
  copyFile: undefined;
  unlink: undefined;
  stat: fs.Stats;
  mkdir: undefined;
  readdir: string[];
}

type Steps<T> = Generator<Op, T, unknown>;

/** Yields one step and returns its result, typed by its kind. */
function* call<O extends Op>(op: O): Steps<OpResult[O['op']]> {
  return (yield op) as OpResult[O['op']];
}

function* quietly(steps: Steps<unknown>): Steps<void> {
  try {
    yield* steps;
  } catch {
    // already failing, or best-effort clean-up: the original outcome is what matters
  }
}

function* existsSteps(path: string): Steps<boolean> {
  try {
    yield* call({ op: 'stat', path });
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return false;
    throw error;
  }
}

function* fsyncDirSteps(dir: string): Steps<void> {
  let fd: number;
  try {
    fd = yield* call({ op: 'open', path: dir, flags: constants.O_RDONLY });
  } catch (error) {
    if (process.platform === 'win32') return;
    throw error;
  }
  try {
    yield* call({ op: 'fsync', fd });
  } catch (error) {
    if (!(isErrno(error, 'EINVAL') || isErrno(error, 'EPERM') || isErrno(error, 'EISDIR'))) throw error;
  } finally {
    yield* call({ op: 'close', fd });
  }
}

function conflict(path: string, why: string): FileError {
  return new FileError('CONFLICT', `Refusing to overwrite ${basename(path)}: ${why}.`, { details: { file: basename(path) } });
}

/** Writes `data` to a fresh temp file next to `path` (open, write, fsync, close) and returns its name. */
function* writeTempSteps(path: string, data: Uint8Array, options: AtomicWriteOptions): Steps<string> {
  const mode = options.mode ?? 0o600;
  const temp = tempPathFor(path);
  const step = (s: AtomicStep): void => options.onStep?.(s, temp);
  let fd: number | undefined;
  try {
    step('open-temp');
    fd = yield* call({ op: 'open', path: temp, flags: constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode });
    yield* call({ op: 'fchmod', fd, mode }); // the umask may have cleared bits we asked for
    step('write');
    let at = 0;
    while (at < data.length) at += yield* call({ op: 'write', fd, data, offset: at });
    step('fsync-file');
    yield* call({ op: 'fsync', fd });
    step('close');
    const open = fd;
    fd = undefined;
    yield* call({ op: 'close', fd: open });
    return temp;
  } catch (error) {
    if (fd !== undefined) yield* quietly(call({ op: 'close', fd }));
    yield* quietly(call({ op: 'unlink', path: temp }));
    throw error;
  }
}

/**
 * The common frame of every replacing write: the temp file, then `beforeRename` (whatever must
 * happen to the current file first), the rename over `path`, the folder fsync. Until the rename, a
 * failure removes the temp file.
 */
function* replaceSteps(path: string, data: Uint8Array, options: AtomicWriteOptions, beforeRename?: (temp: string) => Steps<void>): Steps<void> {
  if (options.noOverwrite === true && (yield* existsSteps(path))) throw conflict(path, 'it exists already');
  const temp = yield* writeTempSteps(path, data, options);
  const step = (s: AtomicStep): void => options.onStep?.(s, temp);
  try {
    if (options.noOverwrite === true && (yield* existsSteps(path))) throw conflict(path, 'it appeared while it was being written');
    if (beforeRename !== undefined) yield* beforeRename(temp);
    step('rename');
    yield* call({ op: 'rename', from: temp, to: path });
  } catch (error) {
    yield* quietly(call({ op: 'unlink', path: temp }));
    throw error;
  }
  step('fsync-dir');
  yield* fsyncDirSteps(dirname(path));
}

function writeSteps(path: string, data: Uint8Array, options: AtomicWriteOptions): Steps<void> {
  return replaceSteps(path, data, options);
}

function replaceKeepingPreviousSteps(path: string, previousPath: string, data: Uint8Array, options: AtomicWriteOptions): Steps<void> {
  return replaceSteps(path, data, options, function* keepPrevious(temp) {
    if (!(yield* existsSteps(path))) return;
    const step = (s: AtomicStep): void => options.onStep?.(s, temp);
    const prevTemp = tempPathFor(previousPath);
    step('link-previous');
    try {
      yield* call({ op: 'link', from: path, to: prevTemp });
    } catch {
      // No hard links here (FAT, some network shares): a durable copy does the same job.
      yield* call({ op: 'copyFile', from: path, to: prevTemp });
      const fd = yield* call({ op: 'open', path: prevTemp, flags: constants.O_RDWR });
      try {
        yield* call({ op: 'fsync', fd });
      } finally {
        yield* call({ op: 'close', fd });
      }
    }
    try {
      step('rename-previous');
      yield* call({ op: 'rename', from: prevTemp, to: previousPath });
    } catch (error) {
      yield* quietly(call({ op: 'unlink', path: prevTemp }));
      throw error;
    }
    yield* fsyncDirSteps(dirname(path));
  });
}

function replaceSettingAsideSteps(path: string, asidePath: string, data: Uint8Array, options: AtomicWriteOptions): Steps<void> {
  return replaceSteps(path, data, options, function* setAside(temp) {
    if (!(yield* existsSteps(path))) return;
    options.onStep?.('set-aside', temp);
    yield* call({ op: 'rename', from: path, to: asidePath });
    yield* fsyncDirSteps(dirname(path));
  });
}

function* ensureDirSteps(dir: string, mode: number): Steps<void> {
  if (yield* existsSteps(dir)) {
    if (!(yield* call({ op: 'stat', path: dir })).isDirectory()) throw new FileError('CONFLICT', `${basename(dir)} exists and is not a directory.`);
    return;
  }
  yield* call({ op: 'mkdir', path: dir, mode });
  yield* fsyncDirSteps(dirname(dir));
}

function* removeDurableSteps(path: string): Steps<boolean> {
  try {
    yield* call({ op: 'unlink', path });
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
  yield* fsyncDirSteps(dirname(path));
  return true;
}

function* removeStaleTempsSteps(dir: string, names: readonly string[]): Steps<number> {
  let removed = 0;
  for (const entry of yield* call({ op: 'readdir', path: dir })) {
    if (!entry.endsWith(TEMP_SUFFIX)) continue;
    if (!names.some((n) => entry.startsWith(`.${n}.`))) continue;
    yield* quietly(call({ op: 'unlink', path: join(dir, entry) }));
    removed++;
  }
  if (removed > 0) yield* fsyncDirSteps(dir);
  return removed;
}

// ---- the two ways to run them -----------------------------------------------------------------------

function performSync(op: Op): unknown {
  switch (op.op) {
    case 'open':
      return fs.openSync(op.path, op.flags, op.mode);
    case 'write':
      return fs.writeSync(op.fd, op.data, op.offset, op.data.length - op.offset);
    case 'stat':
      return fs.statSync(op.path);
    case 'readdir':
      return fs.readdirSync(op.path);
    case 'fchmod':
      fs.fchmodSync(op.fd, op.mode);
      break;
    case 'fsync':
      fs.fsyncSync(op.fd);
      break;
    case 'close':
      fs.closeSync(op.fd);
      break;
    case 'rename':
      fs.renameSync(op.from, op.to);
      break;
    case 'link':
      fs.linkSync(op.from, op.to);
      break;
    case 'copyFile':
      fs.copyFileSync(op.from, op.to, constants.COPYFILE_EXCL);
      break;
    case 'unlink':
      fs.unlinkSync(op.path);
      break;
    case 'mkdir':
      fs.mkdirSync(op.path, { recursive: true, mode: op.mode });
      break;
  }
  return undefined;
}

/** Node's callback API on plain descriptors, as promises (fs.promises works on FileHandles instead). */
function performAsync(op: Op): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const done = (error: NodeJS.ErrnoException | null, value?: unknown): void => {
      if (error === null) resolve(value);
      else reject(error);
    };
    switch (op.op) {
      case 'open':
        fs.open(op.path, op.flags, op.mode, done);
        return;
      case 'fchmod':
        fs.fchmod(op.fd, op.mode, done);
        return;
      case 'write':
        fs.write(op.fd, op.data, op.offset, op.data.length - op.offset, null, done);
        return;
      case 'fsync':
        fs.fsync(op.fd, done);
        return;
      case 'close':
        fs.close(op.fd, done);
        return;
      case 'rename':
        fs.rename(op.from, op.to, done);
        return;
      case 'link':
        fs.link(op.from, op.to, done);
        return;
      case 'copyFile':
        fs.copyFile(op.from, op.to, constants.COPYFILE_EXCL, done);
        return;
      case 'unlink':
        fs.unlink(op.path, done);
        return;
      case 'stat':
        fs.stat(op.path, done);
        return;
      case 'mkdir':
        fs.mkdir(op.path, { recursive: true, mode: op.mode }, done);
        return;
      case 'readdir':
        fs.readdir(op.path, done);
        return;
    }
  });
}

/** Runs a sequence with blocking calls; a failed call is thrown into the sequence at that step. */
function runSync<T>(steps: Steps<T>): T {
  let next = steps.next();
  while (next.done !== true) {
    let result: unknown;
    try {
      result = performSync(next.value);
    } catch (error) {
      next = steps.throw(error);
      continue;
    }
    next = steps.next(result);
  }
  return next.value;
}

/** Runs the same sequence with non-blocking calls. */
async function runAsync<T>(steps: Steps<T>): Promise<T> {
  let next = steps.next();
  while (next.done !== true) {
    let result: unknown;
    try {
      result = await performAsync(next.value);
    } catch (error) {
      next = steps.throw(error);
      continue;
    }
    next = steps.next(result);
  }
  return next.value;
}
