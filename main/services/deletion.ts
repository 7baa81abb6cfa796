/**
 * Deletion as the seed SOP asks (§6: 软删除 → 冷却期 → 硬删除, rollback meanwhile):
 *
 *   softDelete      status → deleted; the share stays in the vault until `purgeAfter`
 *                   (now + cooling period, 7 days by default, settings.deletionCoolingDays).
 *   rollbackDelete  during the cooling period: back to the status it had.
 *   purgeDue        hard-deletes every share whose cooling period is over (the share and envelope
 *                   leave the vault; a tombstone without secrets stays, so the envelope is refused
 *                   if it comes back), and moves superseded shares whose `destroy_after` has passed
 *                   into soft deletion. After a purge the vault is saved twice, so that the
 *                   previous generation (shares.prev.age) does not keep the purged share either.
 *
 * Every step is audited. Times come from the vault's clock, so tests control them.
 */
import { ServiceError } from './errors';
import { findShare, summarize, type ShareSummary } from './shares';
import type { LiveStatus, ShareRecord } from './state';
import type { Vault, VaultTx } from './vault';

export const DEFAULT_COOLING_DAYS = 7;
const DAY = 86_400;

export interface DeletionOptions {
  /** Cooling period in days (default 7). */
  readonly coolingDays?: number;
}

function coolingSeconds(options: DeletionOptions): number {
  const days = options.coolingDays ?? DEFAULT_COOLING_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > 365) {
    throw new ServiceError('SETTINGS_INVALID', `The cooling period must be 1 to 365 days; got ${String(days)}.`);
  }
  return days * DAY;
}

function auditFor(r: ShareRecord): { key_id: string; node_id: string; set_id: string; share_index: number; envelope_hash: string } {
  return { key_id: r.keyId, node_id: r.nodeId, set_id: r.setId, share_index: r.shareIndex, envelope_hash: r.id };
}

/**
 * A share's history keeps facts, not sentences: the window says them in the reader's language and
 * formats the times (renderer/src/lib/details.ts). The audit log keeps its English sentences.
 */
const facts = (values: Readonly<Record<string, string | number | boolean>>): string => JSON.stringify(values);

function softDeleteTx(tx: VaultTx, r: ShareRecord, reason: string | undefined, cooling: number, destroyAfterReached = false): void {
  if (r.status === 'deleted') throw new ServiceError('INVALID_STATE', `Share ${String(r.shareIndex)} of ${r.keyId}/${r.nodeId} is already deleted.`);
  const previousStatus: LiveStatus = r.status;
  r.deletion = { deletedAt: tx.now, purgeAfter: tx.now + cooling, previousStatus, ...(reason === undefined ? {} : { reason }) };
  r.status = 'deleted';
  r.history.push({
    at: tx.now,
    event: 'deleted',
    detail: facts({ purgeAfter: tx.now + cooling, ...(destroyAfterReached ? { destroyAfterReached: true } : reason === undefined ? {} : { reason }) }),
  });
  tx.audit({ event: 'delete', result: 'ok', ...auditFor(r), detail: `soft delete, cooling until ${String(tx.now + cooling)}`, ...(reason === undefined ? {} : { reason }) });
}

export async function softDelete(vault: Vault, id: string, options: DeletionOptions & { reason?: string } = {}): Promise<ShareSummary> {
  const cooling = coolingSeconds(options);
  if (options.reason !== undefined && options.reason.length > 500) throw new ServiceError('USAGE', 'A deletion reason is at most 500 characters.');
  return vault.update((tx) => {
    const r = findShare(tx.state.shares, id);
    softDeleteTx(tx, r, options.reason, cooling);
    return summarize(r);
  });
}

export async function rollbackDelete(vault: Vault, id: string): Promise<ShareSummary> {
  return vault.update((tx) => {
    const r = findShare(tx.state.shares, id);
    if (r.status !== 'deleted' || r.deletion === undefined) {
      throw new ServiceError('INVALID_STATE', `Share ${String(r.shareIndex)} of ${r.keyId}/${r.nodeId} is not deleted; there is nothing to roll back.`);
    }
    if (tx.now >= r.deletion.purgeAfter) {
      throw new ServiceError('INVALID_STATE', `The cooling period of share ${String(r.shareIndex)} of ${r.keyId}/${r.nodeId} is over; it can no longer be rolled back.`, {
        details: { purgeAfter: r.deletion.purgeAfter },
      });
    }
    const restored = r.deletion.previousStatus;
    r.status = restored;
    delete r.deletion;
    r.history.push({ at: tx.now, event: 'rollback', detail: facts({ restored }) });
    tx.audit({ event: 'rollback', result: 'ok', ...auditFor(r), detail: `deletion rolled back; status ${restored}` });
    return summarize(r);
  });
}

export interface PurgeResult {
  /** Hard-deleted now. */
  readonly purged: readonly ShareSummary[];
  /** Superseded shares whose destroy_after passed, now soft-deleted (cooling starts). */
  readonly scheduled: readonly ShareSummary[];
  /** Still cooling: id and when hard deletion becomes possible. */
  readonly cooling: readonly { id: string; purgeAfter: number }[];
}

export async function purgeDue(vault: Vault, options: DeletionOptions = {}): Promise<PurgeResult> {
  const cooling = coolingSeconds(options);
  const result = await vault.update((tx): PurgeResult => {
    const scheduled: ShareSummary[] = [];
    for (const r of tx.state.shares) {
      if (r.status === 'superseded' && r.superseded !== undefined && tx.now >= r.superseded.destroyAfter) {
        softDeleteTx(tx, r, 'superseded: destroy_after reached', cooling, true);
        scheduled.push(summarize(r));
      }
    }
    const purged: ShareSummary[] = [];
    const keep: ShareRecord[] = [];
    for (const r of tx.state.shares) {
      if (r.status === 'deleted' && r.deletion !== undefined && tx.now >= r.deletion.purgeAfter) {
        purged.push(summarize(r));
        tx.state.purged.push({ id: r.id, keyId: r.keyId, nodeId: r.nodeId, setId: r.setId, epoch: r.epoch, shareIndex: r.shareIndex, purgedAt: tx.now });
        tx.audit({ event: 'delete', result: 'ok', ...auditFor(r), detail: 'hard delete: share and envelope removed from the vault' });
        r.share.fill(0);
      } else {
        keep.push(r);
      }
    }
    if (purged.length > 0) tx.state.shares = keep;
    const stillCooling = keep.flatMap((r) => (r.status === 'deleted' && r.deletion !== undefined ? [{ id: r.id, purgeAfter: r.deletion.purgeAfter }] : []));
    return { purged, scheduled, cooling: stillCooling };
  });
  // shares.prev.age still holds the purged shares: save once more so no generation on disk does.
  // (Blocks freed by the file system are not overwritten; full-disk encryption covers that.)
  if (result.purged.length > 0) await vault.save();
  return result;
}
