/**
 * The server-held backup shares (seeds "服务器保留分片", SOP §6 soft delete and rollback): one
 * encrypted file per retained share (`backup/<key>/<node>/<set>/<i>.enc`) and its record, held →
 * soft-deleted (no longer used for recovery, cooling off) → deleted (by ./deletions.ts only), or
 * back to held by a rollback. Owns the `retained_shares` table.
 */
import { toHex } from '../../shared/bytes';
import type { OpContext, ServerShareRecord, ServerShareSelector } from '../api';
import type { Backups } from '../backup/backup';
import { Capability } from '../core/context';
import { sec, setScope } from '../core/util';
import { inTransaction, type BackupSetRow, type RetainedShareRow } from '../db';
import { AgentError } from '../errors';
import { checkKeyId, checkNodeId, checkShareIndex } from '../ids';
import type { Keyshares } from '../keyshare/keyshare';
import type { Deletions } from './deletions';

export interface ServerSharePeers {
  readonly keyshare: Pick<Keyshares, 'node'>;
  readonly backup: Pick<Backups, 'setFor' | 'setsOf'>;
  readonly deletions: Pick<Deletions, 'cancelForRollback'>;
}

export class ServerShares extends Capability<ServerSharePeers> {

  /** ListBackupShares: the server-held share records of every set of a node, never their secrets. */
  list(keyId: string, nodeId: string): ServerShareRecord[] {
    const mod = this.peers;
    const k = checkKeyId(keyId);
    const n = checkNodeId(nodeId);
    mod.keyshare.node(k, n);
    return mod.backup.setsOf(k, n).flatMap((set) => this.ofSet(set.set_id).map((r) => serverShare(set, r)));
  }

  /** Marks server-held shares for deletion (seeds 软删除). They are no longer used for recovery. */
  async softDelete(sel: ServerShareSelector, ctx: OpContext = {}): Promise<ServerShareRecord[]> {
    return this.#change(sel, ctx, 'delete', 'soft-delete', 'held', (set, index, now) => {
      this.core.stmt("UPDATE retained_shares SET state = 'soft-deleted', soft_deleted_at = ? WHERE set_id = ? AND share_index = ?").run(now, set.set_id, index);
    });
  }

  /**
   * Restores soft-deleted shares (seeds 回滚), during the cooling-off period or after it, as long as
   * they were not hard-deleted. A deletion still open for any of them is cancelled.
   */
  async rollback(sel: ServerShareSelector, ctx: OpContext = {}): Promise<ServerShareRecord[]> {
    return this.#change(sel, ctx, 'rollback', 'restore', 'soft-deleted', (set, index) => {
      this.core.stmt("UPDATE retained_shares SET state = 'held', soft_deleted_at = NULL WHERE set_id = ? AND share_index = ?").run(set.set_id, index);
      this.peers.deletions.cancelForRollback(set.set_id, index, ctx);
    });
  }

  async #change(
    sel: ServerShareSelector,
    ctx: OpContext,
    event: 'delete' | 'rollback',
    action: string,
    from: RetainedShareRow['state'],
    apply: (set: BackupSetRow, index: number, now: number, row: RetainedShareRow) => void,
  ): Promise<ServerShareRecord[]> {
    const core = this.core;
    const mod = this.peers;
    const base = { event, action, operator: core.op(ctx) } as const;
    return core.audited(base, () => {
      const k = checkKeyId(sel.keyId);
      const n = checkNodeId(sel.nodeId);
      const set = mod.backup.setFor(k, n, sel.setId);
      const all = this.ofSet(set.set_id);
      let targets: RetainedShareRow[];
      if (sel.indexes === undefined) {
        targets = all.filter((r) => r.state === from);
      } else {
        targets = sel.indexes.map((i) => {
          const index = checkShareIndex(i);
          const r = all.find((x) => x.share_index === index);
          if (r === undefined) throw new AgentError('NOT_FOUND', `Share ${String(index)} is not a server-held share of this set.`, { details: { shareIndex: index } });
          if (r.state !== from) throw new AgentError('FAILED_PRECONDITION', `Share ${String(index)} is ${r.state}, not ${from}.`, { details: { shareIndex: index } });
          return r;
        });
      }
      if (targets.length === 0) throw new AgentError('FAILED_PRECONDITION', `No server-held share of this set is ${from}.`);
      return core.locks.run(`node:${k}/${n}`, () => {
        const now = core.now();
        for (const r of targets) {
          inTransaction(core.db, () => {
            apply(set, r.share_index, now, r);
            core.audit({ ...base, result: 'ok', ...setScope(set), shareIndex: r.share_index, target: 'server' });
          });
        }
        return Promise.resolve(this.list(k, n).filter((s) => s.setId === set.set_id && targets.some((t) => t.share_index === s.shareIndex)));
      });
    });
  }

  // ── for the other modules ──

  /** Every retained share record of a set, by index. */
  ofSet(setId: string): RetainedShareRow[] {
    return this.core.stmt('SELECT * FROM retained_shares WHERE set_id = ? ORDER BY share_index').all(setId) as RetainedShareRow[];
  }

  /** The indexes of a set's shares still held (usable for a mixed recovery). */
  heldIndexes(setId: string): number[] {
    return (this.core.stmt("SELECT share_index FROM retained_shares WHERE set_id = ? AND state = 'held' ORDER BY share_index").all(setId) as { share_index: number }[]).map(
      (r) => r.share_index,
    );
  }

  countsOf(setId: string): { held: number; softDeleted: number } {
    const count = (state: RetainedShareRow['state']): number =>
      (this.core.stmt('SELECT COUNT(*) AS c FROM retained_shares WHERE set_id = ? AND state = ?').get(setId, state) as { c: number }).c;
    return { held: count('held'), softDeleted: count('soft-deleted') };
  }

  /** Server shares (held or soft-deleted) of a key and node, across every backup set. */
  serverSharesOfNode(k: string, n: string): number {
    return this.peers.backup.setsOf(k, n).reduce((sum, set) => sum + this.ofSet(set.set_id).filter((r) => r.state === 'held' || r.state === 'soft-deleted').length, 0);
  }

  /** When the last of these sets' shares was hard-deleted, if any was. */
  lastDeletedAt(setIds: readonly string[]): number | undefined {
    let last: number | undefined;
    for (const id of setIds) {
      const at = (this.core.stmt('SELECT MAX(deleted_at) AS at FROM retained_shares WHERE set_id = ?').get(id) as { at: number | null }).at;
      if (at !== null) last = Math.max(last ?? at, at);
    }
    return last;
  }

  /** Records a new set's retained share as held (inside the backup's transaction). */
  addHeld(setId: string, index: number, commitment: Uint8Array, at: number): void {
    this.core.stmt("INSERT INTO retained_shares (set_id, share_index, commitment, state, created_at) VALUES (?, ?, ?, 'held', ?)").run(setId, index, commitment, at);
  }

  /** Soft-deletes a held share of a superseded set (inside the rotation's transaction). */
  softDeleteHeld(setId: string, index: number, at: number): void {
    this.core.stmt("UPDATE retained_shares SET state = 'soft-deleted', soft_deleted_at = ? WHERE set_id = ? AND share_index = ? AND state = 'held'").run(at, setId, index);
  }

  /** Records a share as hard-deleted (its file is removed by the caller first). */
  markDeleted(setId: string, index: number, at: number): void {
    this.core.stmt("UPDATE retained_shares SET state = 'deleted', deleted_at = ? WHERE set_id = ? AND share_index = ?").run(at, setId, index);
  }
}

function serverShare(set: BackupSetRow, r: RetainedShareRow): ServerShareRecord {
  return {
    keyId: set.key_id,
    nodeId: set.node_id,
    setId: r.set_id,
    epoch: set.epoch,
    shareIndex: r.share_index,
    commitment: toHex(r.commitment),
    state: r.state,
    createdAt: sec(r.created_at),
    setState: set.state,
    ...(r.soft_deleted_at === null ? {} : { softDeletedAt: sec(r.soft_deleted_at) }),
    ...(r.deleted_at === null ? {} : { deletedAt: sec(r.deleted_at) }),
  };
}
