/**
 * Errors as they cross IPC (shared/ipc/contract.ts `ipcError`): a code, both sentences
 * (messages.ts `explain`), the specific English sentence and non-secret details. Never a stack or
 * a cause, and no file-system path: the renderer has no use for where the vault lives, and a
 * compromised renderer should learn nothing it could aim at.
 */
import { CustosError, type ErrorDetails } from '../shared/errors';
import type { IpcError } from '../shared/ipc/contract';
import { explain, sentences, type Explained } from './services/messages';

/** Detail keys that may hold a path: dropped. */
const PATH_KEYS = new Set(['dir', 'file', 'path', 'folder']);

/** Absolute POSIX or Windows paths (and file URLs) inside a sentence. */
const ABSOLUTE_PATH = /(?<![\w.:/-])(?:file:\/\/)?(?:[A-Za-z]:\\|\\\\|\/)(?:[^\s"'`<>|]+)/g;

export function scrubPaths(text: string): string {
  return text.replace(ABSOLUTE_PATH, '…');
}

function scrubDetails(details: ErrorDetails): IpcError['details'] {
  const out: Record<string, IpcError['details'][string]> = {};
  for (const [k, v] of Object.entries(details)) {
    if (PATH_KEYS.has(k)) continue;
    if (typeof v === 'string') out[k] = scrubPaths(v);
    else if (typeof v === 'number' || typeof v === 'boolean') out[k] = v;
    else out[k] = v.map((x) => (typeof x === 'string' ? scrubPaths(x) : x));
  }
  return out;
}

/** An explained error (messages.ts) in its IPC form. */
export function publicProblem(e: Explained): IpcError {
  return {
    code: e.code,
    message: { en: scrubPaths(e.message.en), 'zh-CN': scrubPaths(e.message['zh-CN']) },
    ...(e.detail === undefined ? {} : { detail: scrubPaths(e.detail) }),
    details: scrubDetails(e.details),
  };
}

/** Anything thrown, in its IPC form (uncoded errors become INTERNAL; their cause stays here). */
export function toIpcError(error: unknown): IpcError {
  return publicProblem(explain(error));
}

/** A request that does not match the contract: INVALID_PARAMETERS naming the field, never its value. */
export function badRequest(channel: string, issue: { path: readonly PropertyKey[]; message: string } | undefined): IpcError {
  const field = issue !== undefined && issue.path.length > 0 ? issue.path.map(String).join('.') : '(payload)';
  const e = new CustosError('INVALID_PARAMETERS', `${channel}: "${field}" ${issue?.message ?? 'is not valid'}.`, { details: { channel, field } });
  return { code: 'INVALID_PARAMETERS', message: sentences('INVALID_PARAMETERS', e.details), detail: e.message, details: { channel, field } };
}
