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
 *
 * (H2) "Restore a vault from a backup" on the first screen: `backup:restore` asks for the backup
 * folder, and `restoreBackup` verifies it with the passphrase and renames it into the app's vault
 * folder only when that folder holds no vault (never over one: VAULT_EXISTS, checked before the
 * dialog too). The language the person chose on the first screen stays; the other settings are
 * the restored vault's own. Then the vault is unlocked with the same passphrase. Its refusals'
 * reasons (the window has a sentence for each, in both languages):
 *
 *   vault-exists   this profile has a vault already;
 *   not-empty      the vault folder holds other files than the settings;
 *   same-folder    the chosen folder is the vault folder, or inside it, or holds it;
 *   not-backup     the chosen folder has no vault.json and identity.age (the drive, not the copy?);
 *   damaged        a record file or vault.json cannot be used (changed, cut short);
 *   other-identity the records are another custodian's than the backup's identity;
 *   rollback       the records are older than the backup's identity.age says (store/ put back alone);
 *   read-back      the copy reads back differently (failing disk);
 *   not-writable   the copy could not be written or put in place;
 *   busy           a restore is running already.
 */
import { basename, dirname } from 'node:path';
import type { HandlerResultOf } from '../../shared/ipc/contract';
import { exists } from '../../node/fs-atomic';
import type { AppContext } from '../context';
import { ServiceError } from '../services/errors';
import { readSettingsOrDefaults, updateSettings } from '../services/settings';
import { backupStatus, backupVault, restoreBackup, type BackupRecord } from '../services/vault-backup';
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

const RESTORE_REASONS = ['vault-exists', 'not-empty', 'same-folder', 'not-backup', 'damaged', 'other-identity', 'rollback', 'read-back', 'not-writable', 'busy'] as const;
type RestoreReason = (typeof RESTORE_REASONS)[number];

/** The service's English sentences name paths: these are what the IPC detail says instead (the window has its own, in both languages). */
const RESTORE_SENTENCES: Record<RestoreReason, string> = {
  'vault-exists': 'This profile has a vault already, so nothing was restored over it.',
  'not-empty': 'The vault folder holds other files, so nothing was restored into it.',
  'same-folder': 'The chosen folder is the vault folder itself, or inside it.',
  'not-backup': 'The chosen folder is not a vault backup (no vault.json and identity.age).',
  damaged: 'The backup is damaged or was changed: it does not open as a whole vault. Nothing was restored.',
  'other-identity': "The backup's records belong to another custodian identity than its identity.age. Nothing was restored.",
  rollback: "The backup's records are older than its identity.age says: it would be refused as a rollback. Nothing was restored.",
  'read-back': 'The restored copy read back differently: the disk may be failing. Nothing was restored.',
  'not-writable': 'The restored copy could not be written beside the vault folder or put in place. Nothing was restored.',
  busy: 'A restore is running already.',
};

/** Contexts with a restore running (a second one would remove the first one's temporary folder). */
const restoring = new WeakSet<AppContext>();

function restoreRefusal(error: ServiceError): ServiceError {
  const reason = RESTORE_REASONS.find((r) => r === error.details['reason']);
  if (reason === undefined) return error;
  // USAGE is the CLI's word for a wrong folder; in the window it is a place that cannot be used.
  return new ServiceError(error.code === 'USAGE' ? 'IO_FAILED' : error.code, RESTORE_SENTENCES[reason], { cause: error, details: { reason } });
}

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
  'backup:restore': async (req, ctx) => {
    if (restoring.has(ctx)) throw new ServiceError('INVALID_STATE', RESTORE_SENTENCES.busy, { details: { reason: 'busy' } });
    // Never over a vault: say so before the person looks for the backup.
    if ((await ctx.vaultIfExists()) !== null) throw new ServiceError('VAULT_EXISTS', RESTORE_SENTENCES['vault-exists'], { details: { reason: 'vault-exists' } });
    const chosenLanguage = (await exists(ctx.settingsPath)) ? (await ctx.settings()).language : null;
    restoring.add(ctx);
    let from: string | null;
    let verified: Awaited<ReturnType<typeof restoreBackup>>;
    try {
      from = await ctx.host.dialogs.chooseFolder('vault-restore', chosenLanguage ?? (await ctx.settings()).language);
      if (from === null) return { restored: false };
      const { kdf, clock } = ctx.host.vaultOptions ?? {};
      verified = await restoreBackup(from, ctx.host.vaultDir, req.passphrase, { ...(kdf === undefined ? {} : { kdf }), ...(clock === undefined ? {} : { clock }) });
    } catch (error) {
      if (!(error instanceof ServiceError)) throw error;
      ctx.host.log('vault-restore-refused', { code: error.code, reason: String(error.details['reason'] ?? '') });
      throw restoreRefusal(error);
    } finally {
      restoring.delete(ctx);
    }
    ctx.host.log('vault-restore', { generation: String(verified.generation), shares: String(verified.shares) });
    // The restored vault's settings, but the language the person chose on the first screen.
    let settings = (await readSettingsOrDefaults(ctx.settingsPath)).settings;
    if (chosenLanguage !== null && settings.language !== chosenLanguage) settings = await updateSettings(ctx.settingsPath, { language: chosenLanguage });
    ctx.settingsChanged(settings);
    // Unlocked with the passphrase that verified it; if that fails (it should not), the unlock screen follows.
    let unlocked = false;
    try {
      await (await ctx.vault()).unlock(req.passphrase);
      await ctx.startAutoLock();
      unlocked = true;
    } catch (error) {
      ctx.host.log('vault-restore-unlock-failed', { code: error instanceof ServiceError ? error.code : 'INTERNAL' });
    }
    return { restored: true, restore: { folder: basename(from), drive: basename(dirname(from)), generation: verified.generation, shares: verified.shares, unlocked } };
  },
} satisfies HandlersFor<'backup'>;
