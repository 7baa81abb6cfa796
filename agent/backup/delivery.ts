/**
 * Delivery of the external shares (seeds §生成与分发流程, docs/protocol.md receipts): handing out
 * a share's signed envelope, taking the custodian's signed receipt (accepted or rejected) for the
 * exact envelope issued, and the status of each share. Owns the `deliveries` table, including the
 * inventory columns the inventory module records its verdicts in through {@link recordVerdict}.
 */
import { constantTimeEqual, toHex } from '../../shared/bytes';
import { CustosError } from '../../shared/errors';
import { openReceipt, parseWith, receiptSchema } from '../../shared/protocol';
import type { OpContext, ShareRef, ShareStatus } from '../api';
import { Capability } from '../core/context';
import { blob, frameSignature, peekBody, sec, setScope, sha256Hex } from '../core/util';
import { inTransaction, type BackupSetRow, type DeliveryRow, type InventoryResult } from '../db';
import { AgentError } from '../errors';
import { checkBytes, checkKeyId, checkNodeId, checkShareIndex } from '../ids';
import type { Registry } from '../registry/registry';
import type { Backups } from './backup';

export interface DeliveryPeers {
  readonly registry: Pick<Registry, 'custodian'>;
  readonly backup: Pick<Backups, 'setFor' | 'setByIdOrUndefined'>;
}

/** A delivered or confirmed share of an active set, as the inventory lists it. */
export interface HeldShare {
  readonly key_id: string;
  readonly node_id: string;
  readonly set_id: string;
  readonly epoch: number;
  readonly share_index: number;
}

export class Deliveries extends Capability<DeliveryPeers> {


  /** RequestShareDelivery: hands out a share's signed envelope and marks it delivered. */
  async request(ref: ShareRef, ctx: OpContext = {}): Promise<{ envelope: Uint8Array; status: ShareStatus }> {
    const core = this.core;
    const mod = this.peers;
    const base = { event: 'deliver', action: 'envelope', operator: core.op(ctx) } as const;
    return core.audited(base, () => {
      const k = checkKeyId(ref.keyId);
      const n = checkNodeId(ref.nodeId);
      const index = checkShareIndex(ref.shareIndex);
      const set = mod.backup.setFor(k, n, ref.setId);
      return Promise.resolve(
        inTransaction(core.db, () => {
          const d = this.delivery(set, index);
          const now = core.now();
          if (d.status === 'pending') {
            core.db.prepare("UPDATE deliveries SET status = 'delivered', delivered_at = ?, updated_at = ? WHERE set_id = ? AND share_index = ?").run(now, now, set.set_id, index);
          }
          const custodian = mod.registry.custodian(d.custodian);
          core.audit({
            ...base,
            result: 'ok',
            ...setScope(set),
            shareIndex: index,
            envelopeSha256: d.envelope_sha256,
            signature: frameSignature(d.envelope),
            target: `custodian:${d.custodian} (${custodian.label})`,
            details: { status: d.status === 'pending' ? 'delivered' : d.status },
          });
          return { envelope: blob(d.envelope), status: this.shareStatus(set, this.delivery(set, index)) };
        }),
      );
    });
  }

  /**
   * ConfirmShareDelivery: accepts a receipt only when it is signed by the registered custodian the
   * share was addressed to and names the exact envelope the agent issued for that share.
   */
  async confirm(receiptBytes: Uint8Array, ctx: OpContext = {}): Promise<ShareStatus> {
    const core = this.core;
    const mod = this.peers;
    const base = { event: 'confirm', action: 'receipt', operator: core.op(ctx) } as const;
    return core.audited(base, () => {
      checkBytes(receiptBytes, 'receipt', 8192);
      const claimed = parseWith(receiptSchema, peekBody(receiptBytes, 'delivery receipt'), 'delivery receipt');
      const setId = toHex(claimed.set_id);
      const set = mod.backup.setByIdOrUndefined(setId);
      if (set === undefined) throw new AgentError('NOT_FOUND', 'The receipt is for a backup set this agent does not know.', { details: { setId } });
      const d = this.delivery(set, claimed.share_index);
      const custodian = mod.registry.custodian(d.custodian);
      const receipt = openReceipt(receiptBytes, blob(custodian.sign_key)).body;
      if (custodian.enabled !== 1) {
        throw new AgentError('FAILED_PRECONDITION', `Custodian ${custodian.label} is disabled; their receipt is not accepted.`, { details: { fingerprint: custodian.fingerprint } });
      }
      if (receipt.key_id !== set.key_id || receipt.node_id !== set.node_id || receipt.epoch !== set.epoch) {
        throw new CustosError('SET_MISMATCH', `The receipt for share ${String(receipt.share_index)} names another key, node or epoch than its backup set.`, {
          details: { shareIndex: receipt.share_index },
        });
      }
      if (toHex(receipt.envelope_hash) !== d.envelope_sha256) {
        throw new AgentError('ENVELOPE_MISMATCH', `The receipt for share ${String(receipt.share_index)} is for a different envelope than the one issued for that share.`, {
          details: { shareIndex: receipt.share_index },
        });
      }
      if (d.receipt !== null) {
        // Receipts are not secret: an old one replayed must not undo a newer answer.
        const stored = blob(d.receipt);
        if (constantTimeEqual(stored, receiptBytes)) return Promise.resolve(this.shareStatus(set, d));
        const previous = parseWith(receiptSchema, peekBody(stored, 'delivery receipt'), 'delivery receipt');
        if (receipt.received_at < previous.received_at) {
          throw new AgentError(
            'CONFLICT',
            `This receipt for share ${String(receipt.share_index)} is older than the one already recorded (${previous.status}); it was not applied. Ask the custodian for a fresh receipt.`,
            { details: { shareIndex: receipt.share_index } },
          );
        }
      }
      const now = core.now();
      const status = receipt.status === 'accepted' ? 'confirmed' : 'rejected';
      return Promise.resolve(
        inTransaction(core.db, () => {
          core.db
            .prepare('UPDATE deliveries SET status = ?, reason = ?, note = ?, receipt = ?, confirmed_at = ?, updated_at = ?, delivered_at = COALESCE(delivered_at, ?) WHERE set_id = ? AND share_index = ?')
            .run(status, receipt.reason ?? null, receipt.note ?? null, receiptBytes, now, now, now, set.set_id, receipt.share_index);
          core.audit({
            ...base,
            result: 'ok',
            ...setScope(set),
            shareIndex: receipt.share_index,
            envelopeSha256: d.envelope_sha256,
            signature: frameSignature(receiptBytes),
            target: `custodian:${custodian.fingerprint} (${custodian.label})`,
            details: { status, ...(receipt.reason === undefined ? {} : { custodian_reason: receipt.reason }), received_at: receipt.received_at },
          });
          return this.shareStatus(set, this.delivery(set, receipt.share_index));
        }),
      );
    });
  }

  /** QueryShareStatus: every external share of a node's set (default active), or one of them. */
  query(query: { keyId: string; nodeId: string; setId?: string; shareIndex?: number }): ShareStatus[] {
    const mod = this.peers;
    const k = checkKeyId(query.keyId);
    const n = checkNodeId(query.nodeId);
    const set = mod.backup.setFor(k, n, query.setId);
    if (query.shareIndex !== undefined) return [this.shareStatus(set, this.delivery(set, checkShareIndex(query.shareIndex)))];
    return this.ofSet(set.set_id).map((d) => this.shareStatus(set, d));
  }



  // ── for the other modules ──

  /** The delivery record of an external share; NOT_FOUND when the index is not external. */
  delivery(set: BackupSetRow, index: number): DeliveryRow {
    const d = this.core.stmt('SELECT * FROM deliveries WHERE set_id = ? AND share_index = ?').get(set.set_id, index) as DeliveryRow | undefined;
    if (d === undefined) {
      throw new AgentError('NOT_FOUND', `Share ${String(index)} of backup set epoch ${String(set.epoch)} is not an external share.`, { details: { shareIndex: index } });
    }
    return d;
  }

  shareStatus(set: BackupSetRow, d: DeliveryRow): ShareStatus {
    return {
      ...setScope(set),
      shareIndex: d.share_index,
      custodian: d.custodian,
      status: d.status,
      envelopeSha256: d.envelope_sha256,
      ...(d.reason === null ? {} : { reason: d.note === null ? d.reason : `${d.reason}: ${d.note}` }),
      updatedAt: sec(d.updated_at),
    };
  }

  /** Every external share of a set, by index. */
  ofSet(setId: string): DeliveryRow[] {
    return this.core.stmt('SELECT * FROM deliveries WHERE set_id = ? ORDER BY share_index').all(setId) as DeliveryRow[];
  }

  /** Records a new set's envelope as pending (inside the backup's transaction). */
  addPending(e: { setId: string; shareIndex: number; custodian: string; envelope: Uint8Array; envelopeFile: string | null; at: number }): void {
    this.core.db
      .prepare(
        "INSERT INTO deliveries (set_id, share_index, custodian, envelope, envelope_sha256, envelope_file, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
      )
      .run(e.setId, e.shareIndex, e.custodian, e.envelope, sha256Hex(e.envelope), e.envelopeFile, e.at, e.at);
  }

  /** How many external shares of a set reached their custodian, and how many are confirmed. */
  countsOf(setId: string): { delivered: number; confirmed: number } {
    const counts = this.core.db
      .prepare("SELECT SUM(status IN ('delivered', 'confirmed')) AS delivered, SUM(status = 'confirmed') AS confirmed FROM deliveries WHERE set_id = ?")
      .get(setId) as { delivered: number | null; confirmed: number | null };
    return { delivered: counts.delivered ?? 0, confirmed: counts.confirmed ?? 0 };
  }

  /** The shares of active sets a custodian holds (delivered or confirmed), as a challenge lists them. */
  heldBy(custodian: string): HeldShare[] {
    return this.core.db
      .prepare(
        "SELECT s.key_id, s.node_id, s.set_id, s.epoch, d.share_index FROM deliveries d JOIN backup_sets s ON s.set_id = d.set_id WHERE d.custodian = ? AND s.state = 'active' AND d.status IN ('delivered', 'confirmed') ORDER BY s.key_id, s.node_id, d.share_index",
      )
      .all(custodian) as HeldShare[];
  }

  /** The delivery records of the shares a custodian holds in active sets. */
  heldRowsOf(custodian: string): DeliveryRow[] {
    return this.core.db
      .prepare("SELECT d.* FROM deliveries d JOIN backup_sets s ON s.set_id = d.set_id WHERE d.custodian = ? AND s.state = 'active' AND d.status IN ('delivered', 'confirmed')")
      .all(custodian) as DeliveryRow[];
  }

  /** Records an inventory verdict on a share (inside the inventory's transaction). */
  recordVerdict(setId: string, index: number, custodian: string, result: InventoryResult, at: number): void {
    if (result === 'proven') {
      this.core.stmt("UPDATE deliveries SET last_proven_at = ?, inventory_result = 'proven', inventory_at = ? WHERE set_id = ? AND share_index = ? AND custodian = ?").run(at, at, setId, index, custodian);
    } else {
      this.core.stmt('UPDATE deliveries SET inventory_result = ?, inventory_at = ? WHERE set_id = ? AND share_index = ? AND custodian = ?').run(result, at, setId, index, custodian);
    }
  }
}
