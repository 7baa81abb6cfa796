/**
 * Where a custodian's share stands (docs/custodian-vault.md): received into the vault, its receipt
 * confirmed, exported for a recovery, superseded by a newer set, deleted. One list for the vault's
 * state, the IPC contract and the custodian CLI's `--status`.
 */
export const SHARE_STATUSES = ['received', 'confirmed', 'exported', 'superseded', 'deleted'] as const;
export type ShareStatus = (typeof SHARE_STATUSES)[number];
