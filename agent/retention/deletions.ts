/**
 * Hard deletion of server-held shares (seeds SOP §6 软删除 → 冷静期 → 硬删除, 零保留确认): a
 * deletion is asked for soft-deleted shares, approved by two distinct registered approvers'
 * signatures over its details (`deletion-approval`, docs/protocol.md §4.11), and run only after
 * the cooling-off period; zero retention of the current set also needs every receipt and a passed
 * external-only recovery of that same set. Owns the `deletions` and `deletion_approvals` tables.
 */
import { randomBytes } from 'node:crypto';
import { fromHex, toHex } from '../../shared/bytes';
import { CustosError } from '../../shared/errors';
import {
  MIN_APPROVALS,
  decodeCanonical,
  deletionDetailsSchema,
  encodeCanonical,
  openDeletionApproval,
  parseWith,
  type DeletionDetails,
  type DeletionPurpose,
} from '../../shared/protocol';
import type { DeletionView, OpContext, PurgeResult, RequestDeletionOptions, RequestedDeletion, ServerShareSelector } from '../api';
import type { Backups } from '../backup/backup';
import type { Deliveries } from '../backup/delivery';
import { Capability, type AgentCore } from '../core/context';
import { blob, frameSignature, sec, setScope } from '../core/util';
import { inTransaction, type DeletionRow, type RetainedShareRow } from '../db';
import { AgentError } from '../errors';
import { checkBytes, checkDeletionId, checkKeyId, checkNodeId, checkShareIndex } from '../ids';
import type { Sessions } from '../recovery/sessions';
import { Approvals, approverList } from '../registry/approvals';
import type { Registry } from '../registry/registry';
import type { Settings } from '../settings/settings';
import type { ServerShares } from './server-shares';

/** How long after the cooling-off period a deletion's approvals stay valid. */
const DEFAULT_DELETION_TTL_S = 7 * 24 * 3600;
const MAX_DELETION_TTL_S = 30 * 24 * 3600;

export interface DeletionPeers {
  readonly registry: Pick<Registry, 'approver' | 'enabledApproverKeys' | 'enabledApproverFingerprints' | 'approverNames'>;
  readonly backup: Pick<Backups, 'setFor' | 'setById'>;
  readonly deliveries: Pick<Deliveries, 'countsOf'>;
  readonly shares: Pick<ServerShares, 'ofSet' | 'markDeleted' | 'serverSharesOfNode' | 'list'>;
  readonly settings: Pick<Settings, 'cooldownMs'>;
  readonly sessions: Pick<Sessions, 'externalOnlySession'>;
}

export class Deletions extends Capability<DeletionPeers> {
  readonly #approvals: Approvals;

  constructor(core: AgentCore, peers: DeletionPeers) {
    super(core, peers);
    this.#approvals = new Approvals(core, peers.registry, 'deletion');
  }

  /**
   * Cancels the open deletions of a set that include a share being rolled back (inside the
   * rollback's transaction).
   */
  cancelForRollback(setId: string, index: number, ctx: OpContext): void {
    for (const d of this.#liveDeletions(setId)) {
      if (!this.#deletionIndexes(d).includes(index)) continue;
      this.core.stmt("UPDATE deletions SET state = 'cancelled', ended_at = ?, outcome = 'rolled-back' WHERE deletion_id = ?").run(this.core.now(), d.deletion_id);
      this.core.audit({
        event: 'rollback',
        action: 'deletion-cancel',
        result: 'ok',
        ...setScope(d),
        shareIndex: index,
        operator: this.core.op(ctx),
        target: `deletion:${d.deletion_id}`,
        details: { reason: `share ${String(index)} was rolled back` },
      });
    }
  }

  /**
   * Asks for the hard deletion of soft-deleted server shares (default: every soft-deleted share of
   * the selected set). Returns the details two distinct registered approvers sign over with their
   * own keys (`approver sign`), then `approveDeletion` takes each signature and `purgeServerShares`
   * runs it after the cooling-off period. Nothing is destroyed here.
   */
  async request(sel: ServerShareSelector, options: RequestDeletionOptions = {}): Promise<RequestedDeletion> {
    const base = { event: 'delete', action: 'deletion-request', operator: this.core.op(options) } as const;
    return this.core.audited(base, () => {
      const k = checkKeyId(sel.keyId);
      const n = checkNodeId(sel.nodeId);
      const ttl = options.ttlSeconds ?? DEFAULT_DELETION_TTL_S;
      if (!Number.isInteger(ttl) || ttl < 3600 || ttl > MAX_DELETION_TTL_S) {
        throw new CustosError('INVALID_PARAMETERS', `A deletion's approvals stay valid 3600 to ${String(MAX_DELETION_TTL_S)} seconds after the cooling-off period.`, { details: { field: 'ttlSeconds' } });
      }
      const set = this.peers.backup.setFor(k, n, sel.setId);
      return this.core.locks.run(`node:${k}/${n}`, () => {
        const all = this.peers.shares.ofSet(set.set_id);
        let targets: RetainedShareRow[];
        if (sel.indexes === undefined) {
          targets = all.filter((r) => r.state === 'soft-deleted');
          if (targets.length === 0) {
            throw new AgentError('FAILED_PRECONDITION', `No server share of backup set epoch ${String(set.epoch)} is soft-deleted; soft-delete them first (delete soft), then ask for the hard delete.`, {
              details: { keyId: k, nodeId: n },
            });
          }
        } else {
          const wanted = [...new Set(sel.indexes.map((i) => checkShareIndex(i)))].sort((a, b) => a - b);
          if (wanted.length === 0) throw new CustosError('INVALID_PARAMETERS', 'Name at least one share index.');
          targets = wanted.map((index) => {
            const r = all.find((x) => x.share_index === index);
            if (r === undefined) throw new AgentError('NOT_FOUND', `Share ${String(index)} is not a server-held share of this set.`, { details: { shareIndex: index } });
            if (r.state !== 'soft-deleted') {
              throw new AgentError('FAILED_PRECONDITION', `Share ${String(index)} is ${r.state}; only a soft-deleted share can be hard-deleted (delete soft first).`, { details: { shareIndex: index } });
            }
            return r;
          });
        }
        const indexes = targets.map((r) => r.share_index);
        for (const d of this.#liveDeletions(set.set_id)) {
          const overlap = this.#deletionIndexes(d).filter((i) => indexes.includes(i));
          if (overlap.length > 0) {
            throw new AgentError('CONFLICT', `Deletion ${d.deletion_id} is already open for share(s) ${overlap.join(', ')}; approve or cancel that one.`, {
              details: { deletionId: d.deletion_id },
            });
          }
        }
        const remaining = all.filter((r) => r.state !== 'deleted' && !indexes.includes(r.share_index));
        const purpose: DeletionPurpose = set.state === 'superseded' ? 'superseded-set' : remaining.length === 0 ? 'zero-retention' : 'reduce-retention';
        const nowMs = this.core.now();
        const cooling = this.peers.settings.cooldownMs();
        const coolingEndsAt = Math.max(...targets.map((r) => Math.ceil(((r.soft_deleted_at ?? nowMs) + cooling) / 1000)));
        const deletionIdBytes = new Uint8Array(randomBytes(16));
        const deletionId = toHex(deletionIdBytes);
        const details: DeletionDetails = parseWith(
          deletionDetailsSchema,
          {
            deletion_id: deletionIdBytes,
            key_id: k,
            node_id: n,
            set_id: fromHex(set.set_id),
            epoch: set.epoch,
            share_indexes: indexes,
            purpose,
            cooling_ends_at: coolingEndsAt,
            not_after: Math.max(coolingEndsAt, sec(nowMs)) + ttl,
          },
          'deletion details',
        );
        const detailsCbor = encodeCanonical(details);
        inTransaction(this.core.db, () => {
          this.core.db
            .prepare(
              "INSERT INTO deletions (deletion_id, set_id, key_id, node_id, epoch, share_indexes, purpose, details, cooling_ends_at, not_after, state, operator, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'awaiting-approvals', ?, ?)",
            )
            .run(deletionId, set.set_id, k, n, set.epoch, JSON.stringify(indexes), purpose, detailsCbor, coolingEndsAt, details.not_after, this.core.op(options), nowMs);
          this.core.audit({
            ...base,
            result: 'ok',
            ...setScope(set),
            target: `deletion:${deletionId}`,
            details: { share_indexes: indexes, purpose, cooling_ends_at: coolingEndsAt, not_after: details.not_after },
          });
        });
        return Promise.resolve({ deletion: this.get(deletionId), details, detailsCbor });
      });
    });
  }

  get(deletionId: string): DeletionView {
    return this.#deletionView(this.#deletionRow(checkDeletionId(deletionId)));
  }

  /** The details approvers sign over, as the object and as canonical CBOR (for a file). */
  details(deletionId: string): { details: DeletionDetails; detailsCbor: Uint8Array } {
    const row = this.#deletionRow(checkDeletionId(deletionId));
    return { details: this.#deletionDetailsOf(row), detailsCbor: blob(row.details) };
  }

  list(filter: { keyId?: string; nodeId?: string } = {}): DeletionView[] {
    this.#expireDeletions();
    const k = filter.keyId === undefined ? null : checkKeyId(filter.keyId);
    const n = filter.nodeId === undefined ? null : checkNodeId(filter.nodeId);
    const rows = this.core.db
      .prepare('SELECT * FROM deletions WHERE (? IS NULL OR key_id = ?) AND (? IS NULL OR node_id = ?) ORDER BY created_at DESC, deletion_id')
      .all(k, k, n, n) as DeletionRow[];
    return rows.map((r) => this.#deletionView(r));
  }

  /** Records one approval of a deletion: a registered, enabled approver's signature over its details. */
  async approve(deletionId: string, approvalBytes: Uint8Array, ctx: OpContext = {}): Promise<DeletionView> {
    const base = { event: 'delete', action: 'approval-add', operator: this.core.op(ctx) } as const;
    return this.core.audited(base, () => {
      const did = checkDeletionId(deletionId);
      checkBytes(approvalBytes, 'deletion approval', 4096);
      const row = this.#liveDeletion(did);
      const opened = openDeletionApproval(approvalBytes, this.#deletionDetailsOf(row), this.peers.registry.enabledApproverKeys());
      const fp = toHex(opened.fingerprint);
      this.peers.registry.approver(fp);
      return Promise.resolve(
        inTransaction(this.core.db, () => {
          const approver = this.#approvals.add(did, approvalBytes, { fingerprint: fp, approverName: opened.body.approver_name, approvedAt: opened.body.approved_at });
          if (this.#approvals.valid(did).length >= MIN_APPROVALS) {
            this.core.stmt("UPDATE deletions SET state = 'approved' WHERE deletion_id = ? AND state = 'awaiting-approvals'").run(did);
          }
          this.core.audit({
            ...base,
            result: 'ok',
            ...setScope(row),
            approver: `${approver.name} (${fp})`,
            signature: frameSignature(approvalBytes),
            target: `deletion:${did}`,
            details: { share_indexes: this.#deletionIndexes(row), purpose: row.purpose },
          });
          return this.#deletionView(this.#deletionRow(did));
        }),
      );
    });
  }

  /** Cancels an open deletion; its shares stay soft-deleted (roll them back to keep them). */
  async cancel(deletionId: string, ctx: OpContext = {}): Promise<DeletionView> {
    const base = { event: 'rollback', action: 'deletion-cancel', operator: this.core.op(ctx) } as const;
    return this.core.audited(base, () => {
      const did = checkDeletionId(deletionId);
      const row = this.#liveDeletion(did);
      inTransaction(this.core.db, () => {
        this.core.stmt("UPDATE deletions SET state = 'cancelled', ended_at = ?, outcome = 'cancelled' WHERE deletion_id = ?").run(this.core.now(), did);
        this.core.audit({ ...base, result: 'ok', ...setScope(row), target: `deletion:${did}` });
      });
      return Promise.resolve(this.get(did));
    });
  }

  /**
   * Hard-deletes the shares of an approved deletion (seeds 硬删除): refused while the cooling-off
   * period runs (COOLING_OFF), without two valid approvals by distinct registered approvers
   * (APPROVAL_REQUIRED), and, for the active set, unless every external share is confirmed
   * (RECEIPTS_REQUIRED) and an external-only drill of this same set passed on this agent
   * (DRILL_REQUIRED). Every destroyed share is audited with the operator and both approvers; a
   * deletion that leaves the server with no share of the node is recorded as zero retention.
   */
  async purge(deletionId: string, ctx: OpContext = {}): Promise<PurgeResult> {
    const base = { event: 'delete', action: 'hard-delete', operator: this.core.op(ctx) } as const;
    return this.core.audited(base, () => {
      const did = checkDeletionId(deletionId);
      const first = this.#deletionRow(did);
      return this.core.locks.run(`node:${first.key_id}/${first.node_id}`, () => {
        const row = this.#liveDeletion(did);
        const [blocker] = this.#deletionBlockers(row);
        if (blocker !== undefined) throw blocker;
        const set = this.peers.backup.setById(row.set_id);
        const approverText = approverList(this.#approvals.valid(did));
        const indexes = this.#deletionIndexes(row);
        for (const index of indexes) {
          this.core.store.remove({ kind: 'retained-share', keyId: set.key_id, nodeId: set.node_id, setId: set.set_id, index });
          inTransaction(this.core.db, () => {
            this.peers.shares.markDeleted(set.set_id, index, this.core.now());
            this.core.audit({
              ...base,
              result: 'ok',
              ...setScope(set),
              shareIndex: index,
              approver: approverText,
              target: 'server',
              details: { deletion_id: did, purpose: row.purpose },
            });
          });
        }
        const zeroRetention = this.peers.shares.serverSharesOfNode(set.key_id, set.node_id) === 0;
        inTransaction(this.core.db, () => {
          this.core.stmt("UPDATE deletions SET state = 'completed', ended_at = ?, outcome = 'deleted' WHERE deletion_id = ?").run(this.core.now(), did);
          if (zeroRetention) {
            // Seeds SOP §6 零保留确认: the record compliance files.
            this.core.audit({
              event: 'delete',
              action: 'zero-retention',
              result: 'ok',
              ...setScope(set),
              operator: this.core.op(ctx),
              approver: approverText,
              target: 'server',
              details: { deletion_id: did, drill_session_id: this.peers.sessions.externalOnlySession(set.set_id) ?? null },
            });
          }
        });
        const shares = this.peers.shares.list(set.key_id, set.node_id).filter((s) => s.setId === set.set_id && indexes.includes(s.shareIndex));
        return Promise.resolve({ deletion: this.get(did), shares, zeroRetention });
      });
    });
  }

  // ── internals ──

  #deletionRow(did: string): DeletionRow {
    const row = this.core.stmt('SELECT * FROM deletions WHERE deletion_id = ?').get(did) as DeletionRow | undefined;
    if (row === undefined) throw new AgentError('NOT_FOUND', 'No deletion with this id.', { details: { deletionId: did } });
    return row;
  }

  #deletionIndexes(row: DeletionRow): number[] {
    const parsed: unknown = JSON.parse(row.share_indexes);
    return Array.isArray(parsed) ? parsed.filter((x): x is number => typeof x === 'number') : [];
  }

  #deletionDetailsOf(row: DeletionRow): DeletionDetails {
    return parseWith(deletionDetailsSchema, decodeCanonical(blob(row.details), 'deletion details'), 'deletion details');
  }

  #liveDeletions(setId: string): DeletionRow[] {
    return this.core.stmt("SELECT * FROM deletions WHERE set_id = ? AND state IN ('awaiting-approvals', 'approved') ORDER BY created_at").all(setId) as DeletionRow[];
  }

  /** A deletion that may still be approved or run; expires it (and throws EXPIRED) when its time is up. */
  #liveDeletion(did: string): DeletionRow {
    const row = this.#deletionRow(did);
    if (row.state === 'expired') throw new CustosError('EXPIRED', 'This deletion expired before it ran; soft-deleted shares stay as they are. Ask for a new deletion.', { details: { deletionId: did } });
    if (row.state === 'completed' || row.state === 'cancelled') {
      throw new AgentError('FAILED_PRECONDITION', `This deletion has ended (${row.state}).`, { details: { deletionId: did, state: row.state } });
    }
    if (this.core.now() > row.not_after * 1000) {
      this.#expireDeletion(row);
      throw new CustosError('EXPIRED', 'This deletion expired before it ran; soft-deleted shares stay as they are. Ask for a new deletion.', { details: { deletionId: did, notAfter: row.not_after } });
    }
    return row;
  }

  #expireDeletions(): void {
    const due = this.core.stmt("SELECT * FROM deletions WHERE state IN ('awaiting-approvals', 'approved') AND not_after * 1000 < ?").all(this.core.now()) as DeletionRow[];
    for (const row of due) this.#expireDeletion(row);
  }

  #expireDeletion(row: DeletionRow): void {
    inTransaction(this.core.db, () => {
      const changed = this.core.db
        .prepare("UPDATE deletions SET state = 'expired', ended_at = ?, outcome = 'expired' WHERE deletion_id = ? AND state IN ('awaiting-approvals', 'approved')")
        .run(this.core.now(), row.deletion_id).changes;
      if (changed > 0) {
        this.core.audit({ event: 'delete', action: 'deletion-expire', result: 'ok', ...setScope(row), target: `deletion:${row.deletion_id}`, operator: 'agent' });
      }
    });
  }

  /** What a hard delete of this deletion would be refused with now, in the order it is checked. */
  #deletionBlockers(row: DeletionRow): (AgentError | CustosError)[] {
    const out: (AgentError | CustosError)[] = [];
    const nowMs = this.core.now();
    const did = row.deletion_id;
    if (nowMs > row.not_after * 1000) out.push(new CustosError('EXPIRED', 'This deletion expired before it ran; ask for a new deletion.', { details: { deletionId: did } }));
    const indexes = this.#deletionIndexes(row);
    const shares = this.peers.shares.ofSet(row.set_id);
    const targets = indexes.map((i) => shares.find((r) => r.share_index === i));
    const notSoft = indexes.filter((_, j) => targets[j]?.state !== 'soft-deleted');
    if (notSoft.length > 0) {
      out.push(new AgentError('FAILED_PRECONDITION', `Share(s) ${notSoft.join(', ')} are no longer soft-deleted; this deletion cannot run.`, { details: { deletionId: did } }));
    }
    const cooling = this.peers.settings.cooldownMs();
    const until = Math.max(row.cooling_ends_at * 1000, ...targets.map((r) => (r?.soft_deleted_at ?? nowMs) + cooling));
    if (nowMs < until) {
      const hours = Math.ceil((until - nowMs) / 3_600_000);
      out.push(
        new AgentError(
          'COOLING_OFF',
          `Share(s) ${indexes.join(', ')} are in their cooling-off period until ${new Date(until).toISOString().replace('.000Z', 'Z')} (another ${String(hours)} hour(s)); they can still be rolled back and cannot be destroyed before then.`,
          { details: { deletionId: did, coolingEndsAt: sec(until) } },
        ),
      );
    }
    const approvals = this.#approvals.valid(did).length;
    if (approvals < MIN_APPROVALS) {
      out.push(
        new CustosError('APPROVAL_REQUIRED', `${String(approvals)} approval(s) of the ${String(MIN_APPROVALS)} a hard delete needs from different registered approvers.`, {
          details: { deletionId: did, have: approvals, need: MIN_APPROVALS },
        }),
      );
    }
    const set = this.peers.backup.setById(row.set_id);
    if (set.state === 'active') {
      const { confirmed } = this.peers.deliveries.countsOf(set.set_id);
      const externals = set.total - set.retain;
      if (confirmed < externals) {
        out.push(
          new AgentError('RECEIPTS_REQUIRED', `Only ${String(confirmed)} of the ${String(externals)} external shares of this set are confirmed by their custodians; deleting server shares of the current set needs every receipt.`, {
            details: { deletionId: did, confirmed, externals },
          }),
        );
      }
      if (this.peers.sessions.externalOnlySession(set.set_id) === undefined) {
        out.push(
          new AgentError(
            'DRILL_REQUIRED',
            `Zero retention needs a passed external-only recovery drill of this same backup set (epoch ${String(set.epoch)}) on this agent first: open an external-only session for it and complete it with --drill. A drill of another set, or one only recorded by hand, does not count.`,
            { details: { deletionId: did, setId: set.set_id } },
          ),
        );
      }
    }
    return out;
  }

  #deletionView(row: DeletionRow): DeletionView {
    const approvals = this.#approvals.list(row.deletion_id);
    const live = row.state === 'awaiting-approvals' || row.state === 'approved';
    return {
      deletionId: row.deletion_id,
      ...setScope(row),
      shareIndexes: this.#deletionIndexes(row),
      purpose: row.purpose,
      state: row.state,
      coolingEndsAt: row.cooling_ends_at,
      notAfter: row.not_after,
      approvals,
      operator: row.operator,
      createdAt: sec(row.created_at),
      ...(row.ended_at === null ? {} : { endedAt: sec(row.ended_at) }),
      blockers: live ? this.#deletionBlockers(row).map((e) => ({ code: e.code, message: e.message })) : [],
    };
  }
}
