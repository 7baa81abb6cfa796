/**
 * The vault backup part of the preload API (issue 13): the last verified backup, and backing up to
 * a folder the person picks in main's system dialog (the passphrase verifies the copy), and (H2)
 * restoring a vault from such a backup when the profile has none.
 * Each function calls one channel of the contract (shared/ipc/contract.ts) through `invoke`.
 */
import type { Invoke, RequestOf } from '../shared/ipc/contract';

export const backupApi = (invoke: Invoke) =>
  ({
    /** When the vault was last backed up and verified, and whether it changed since (no passphrase). */
    status: () => invoke('backup:status', {}),
    /** Asks for a folder, copies the sealed vault there and opens the copy with the passphrase. */
    toFolder: (request: RequestOf<'backup:toFolder'>) => invoke('backup:toFolder', request),
    /** (H2) First run: asks for a backup folder, verifies it with the passphrase and puts it in place as this profile's vault, then unlocks it. */
    restore: (request: RequestOf<'backup:restore'>) => invoke('backup:restore', request),
  }) as const;
