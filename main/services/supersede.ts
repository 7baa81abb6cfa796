/**
 * Supersede notices (docs/protocol.md §4.8): when a key and node get a new backup set, the agent
 * tells each holder of the old set. Applying the notice marks the old shares `superseded`, records
 * the notice (so envelopes of the old set are refused from then on, SET_SUPERSEDED, and the new set
 * no longer conflicts), and schedules destruction: from `destroy_after` on, `purgeDue` moves the
 * old share into soft deletion (cooling period, rollback possible), and hard-deletes it after that.
 * A notice with `reason: "reshared"` says the old set is stale (the node's keydata was reshared):
 * the result, the share's history and the audit entry say so.
 */
import { toHex } from '../../shared/bytes';
import { fileHash } from '../../shared/crypto/hash';
import { openSupersede } from '../../shared/protocol/supersede';
import { pinnedAgentKey } from './trust';
import type { Vault, VaultTx } from './vault';

export interface SupersedeResult {
  readonly noticeHash: string;
  readonly keyId: string;
  readonly nodeId: string;
  readonly oldSetId: string;
  readonly oldEpoch: number;
  readonly newSetId: string;
  readonly newEpoch: number;
  readonly destroyAfter: number;
  /** The notice says the old set is stale (a tss-lib resharing replaced the node's keydata), not merely rotated. */
  readonly stale: boolean;
  /** Envelope ids of the shares marked superseded now. */
  readonly affected: readonly string[];
  readonly alreadyApplied: boolean;
}

/** Applies a notice inside a running change (the inbox uses this for notices in a batch). */
export function applySupersedeTx(tx: VaultTx, bytes: Uint8Array, agentKey: Uint8Array): SupersedeResult {
  const notice = openSupersede(bytes, agentKey, tx.fingerprint);
  const b = notice.body;
  const noticeHash = toHex(fileHash(bytes));
  const base = {
    noticeHash,
    keyId: b.key_id,
    nodeId: b.node_id,
    oldSetId: toHex(b.old_set_id),
    oldEpoch: b.old_epoch,
    newSetId: toHex(b.new_set_id),
    newEpoch: b.new_epoch,
    destroyAfter: b.destroy_after,
  };
  const stale = b.reason === 'reshared';
  const staleNote = stale ? '; stale: reshared' : '';
  if (tx.state.supersedes.some((s) => s.noticeHash === noticeHash)) return { ...base, stale, affected: [], alreadyApplied: true };
  tx.state.supersedes.push({ ...base, newManifestHash: toHex(b.new_manifest_hash), appliedAt: tx.now });
  const affected: string[] = [];
  for (const r of tx.state.shares) {
    if (r.keyId !== b.key_id || r.nodeId !== b.node_id || r.setId !== base.oldSetId || r.epoch !== b.old_epoch) continue;
    r.superseded = {
      newSetId: base.newSetId,
      newEpoch: b.new_epoch,
      newManifestHash: toHex(b.new_manifest_hash),
      destroyAfter: b.destroy_after,
      noticeHash,
      appliedAt: tx.now,
    };
    if (r.status === 'deleted' && r.deletion !== undefined) r.deletion = { ...r.deletion, previousStatus: 'superseded' };
    else r.status = 'superseded';
    // Facts, not a sentence: the window says them in the reader's language (renderer/src/lib/details.ts).
    r.history.push({ at: tx.now, event: 'superseded', detail: JSON.stringify({ newSetId: base.newSetId, newEpoch: b.new_epoch, destroyAfter: b.destroy_after, ...(stale ? { reason: 'reshared' } : {}) }) });
    affected.push(r.id);
    tx.audit({
      event: 'rotate',
      result: 'ok',
      key_id: r.keyId,
      node_id: r.nodeId,
      set_id: r.setId,
      share_index: r.shareIndex,
      envelope_hash: r.id,
      signature: noticeHash,
      detail: `superseded by set ${base.newSetId} epoch ${String(b.new_epoch)}; destroy after ${String(b.destroy_after)}${staleNote}`,
    });
  }
  if (affected.length === 0) {
    tx.audit({
      event: 'rotate',
      result: 'ok',
      key_id: b.key_id,
      node_id: b.node_id,
      set_id: base.oldSetId,
      signature: noticeHash,
      detail: `supersede notice recorded (no share of the old set held): set ${base.oldSetId} epoch ${String(b.old_epoch)} -> set ${base.newSetId} epoch ${String(b.new_epoch)}${staleNote}`,
    });
  }
  return { ...base, stale, affected, alreadyApplied: false };
}

/** Verifies a supersede notice against the pinned agent key and applies it. */
export async function applySupersede(vault: Vault, bytes: Uint8Array): Promise<SupersedeResult> {
  const agentKey = pinnedAgentKey(vault);
  return vault.update((tx) => applySupersedeTx(tx, bytes, agentKey));
}
