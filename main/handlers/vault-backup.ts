/**
 * IPC handlers for the guided vault backup in the window (issue 13): the status of the last
 * verified backup, and "back up to removable media" (the folder chosen with the system dialog, the
 * passphrase typed again for the verification). The work is main/services/vault-backup.ts, the
 * same service as `custos backup`; these handlers only pick the folder, keep its path in main (the
 * renderer gets folder NAMES), and give every refusal a `details.reason` the window turns into a
 * sentence a person can act on:
 *
 *   inside-vault   the chosen folder is the vault folder or inside it;
 *   not-folder     the chosen path is not a folder (the drive was removed);
 *   not-writable   the copy could not be written (read-only, full, removed);
 *   read-back      a copied file reads back differently (failing media);
 *   not-verified   the copy does not open as this vault (another identity, damaged, wrong save).
 *
 * WRONG_PASSPHRASE passes through with the service's `delaySeconds` (it counts like an unlock).
 */
import { basename, dirname } from 'node:path';
import type { HandlerResultOf } from '../../shared/ipc/contract';
import { ServiceError } from '../services/errors';
import { backupStatus, backupVault, type BackupRecord } from '../services/vault-backup';
import type { HandlersFor } from './types';

type RecordView = NonNullable<HandlerResultOf<'backup:status'>['last']>;

function recordView(r: BackupRecord): RecordView {
  return { verifiedAt: r.verifiedAt, generation: r.generation, folder: basename(r.folder), drive: basename(dirname(r.folder)), files: r.files, bytes: r.bytes };
}

type Reason = 'inside-vault' | 'not-folder' | 'not-writable' | 'read-back' | 'not-verified';

/** The reason of a service refusal (by its code and details), or undefined for one passed on as it is. */
function reasonOf(error: ServiceError): Reason | undefined {
  if (error.code === 'USAGE') return 'inside-vault';
  if (error.code === 'VAULT_CORRUPT') return 'not-verified';
  if (error.code === 'IO_FAILED') {
    if (typeof error.details['file'] === 'string') return 'read-back';
    if (error.message.includes('is not a folder')) return 'not-folder';
    return 'not-writable';
  }
  return undefined;
}

const SENTENCES: Record<Reason, string> = {
  'inside-vault': 'The chosen folder is inside the vault folder. Choose a folder on the removable drive.',
  'not-folder': 'The chosen place is not a folder any more (was the drive removed?). Insert the drive and choose a folder on it.',
  'not-writable': 'The backup could not be written there (read-only, full or removed?). Nothing in the vault changed; choose another folder or drive.',
  'read-back': 'A copied file reads back differently: the drive may be failing. The copy was removed; use another drive.',
  'not-verified': 'The copy does not open as this vault, so it was removed and is not counted as a backup. Try again, on another drive if it happens again.',
};

export const backupHandlers = {
  'backup:status': async (_req, ctx) => {
    const v = await ctx.vault();
    const s = await backupStatus(v.dir);
    return { last: s.last === null ? null : recordView(s.last), generation: s.generation, due: s.due };
  },
  'backup:toFolder': async (req, ctx) => {
    const v = await ctx.vault();
    const target = await ctx.host.dialogs.chooseFolder('vault-backup');
    if (target === null) return { saved: false };
    try {
      // The vault's own clock, sleep and KDF (the test host injects them; the app uses the defaults).
      const { clock, sleep, kdf } = ctx.host.vaultOptions ?? {};
      const r = await backupVault(v, target, req.passphrase, { ...(clock === undefined ? {} : { clock }), ...(sleep === undefined ? {} : { sleep }), ...(kdf === undefined ? {} : { kdf }) });
      ctx.host.log('vault-backup', { files: String(r.files), generation: String(r.generation) });
      return { saved: true, backup: { ...recordView(r), shares: r.shares, hashesMatch: true as const, identityMatches: true as const } };
    } catch (error) {
      if (!(error instanceof ServiceError)) throw error;
      const reason = reasonOf(error);
      if (reason === undefined) throw error;
      // The service's sentence names the path: it stays in main's log, the window gets the reason.
      ctx.host.log('vault-backup-refused', { reason, code: error.code });
      throw new ServiceError(error.code === 'USAGE' ? 'IO_FAILED' : error.code, SENTENCES[reason], { cause: error, details: { reason } });
    }
  },
} satisfies HandlersFor<'backup'>;
