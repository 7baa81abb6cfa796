/**
 * The checks made before a file holding a secret is used (the agent's KEK file, API token and
 * approver keys): a regular file, not a symlink, owned by this user, and not accessible to group or
 * others. The checks are made on the open descriptor, so the file cannot be swapped between check
 * and read. NOT_FOUND when it is missing, PERMISSION_DENIED when it is unsafe.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync } from 'node:fs';
import { FileError } from './errors';
import { isErrno } from './fs-atomic';

/**
 * Refuses a file that holds a secret unless it is a regular file (not a symlink), owned by this
 * user, and not accessible to group or others. Returns an open read-only descriptor of it (the
 * checks are made on that descriptor, so the file cannot be swapped between check and read).
 */
export function openPrivateFile(path: string, name: string): number {
  let link;
  try {
    link = lstatSync(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) {
      throw new FileError('NOT_FOUND', `${name} is missing: this is not an initialised agent data directory, or the file was removed.`, { details: { file: name } });
    }
    throw error;
  }
  if (link.isSymbolicLink() || !link.isFile()) {
    throw new FileError('PERMISSION_DENIED', `${name} must be a regular file, not a link or anything else.`, { details: { file: name } });
  }
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new FileError('PERMISSION_DENIED', `${name} must be a regular file.`, { details: { file: name } });
    if ((st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8);
      throw new FileError('PERMISSION_DENIED', `${name} is accessible to group or others (mode ${mode}); refusing to use it. Run: chmod 600 ${name}`, {
        details: { file: name, mode },
      });
    }
    const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
    if (uid !== undefined && st.uid !== uid) {
      throw new FileError('PERMISSION_DENIED', `${name} belongs to another user (uid ${String(st.uid)}); refusing to use it.`, { details: { file: name } });
    }
    return fd;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** {@link openPrivateFile} for a check only. */
export function assertPrivateFile(path: string, name: string): void {
  closeSync(openPrivateFile(path, name));
}

