/**
 * Backup sets (seeds §生成与分发流程, SOP §4.5 rotation): splitting a node's secret record into a
 * new set, keeping `retain` shares on the server, sealing one envelope per custodian, signing the
 * manifest, writing the files (and their QR frames), and superseding the previous set with a
 * signed notice per custodian. Also the status of a node's current set. Owns the `backup_sets`
 * table; its deliveries are ./delivery.ts, its server-held shares agent/retention/.
 */
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { constantTimeEqual, fromHex, toHex, wipe } from '../../shared/bytes';
import { fileHash } from '../../shared/crypto/hash';
import { checkShamirParams } from '../../shared/crypto/shamir';
import { CustosError } from '../../shared/errors';
import { decodeSecretRecord, groupKeyOf, regenerateKeydata, writeKeydata } from '../../shared/keydata';
import { createBackup, makeSupersede, manifestHash, manifestShare, openManifest, type Manifest } from '../../shared/protocol';
import type { BackupOptions, BackupParams, BackupResult, BackupStatus, InventorySummary } from '../api';
import { Capability } from '../core/context';
import { blob, frameSignature, sec, setScope, sha256Hex } from '../core/util';
import { inTransaction, type BackupSetRow } from '../db';
import { AgentError } from '../errors';
import { ensureDir, existsSync as exists, removeFileDurable, writeFileAtomicSync as writeFileAtomic } from '../../node/fs-atomic';
import { checkFingerprint, checkKeyId, checkNodeId, checkSetId } from '../ids';
import type { Inventory } from '../inventory/inventory';
import type { Keyshares } from '../keyshare/keyshare';
import { UR_TYPES, qrPngFrames } from '../../node/qr-files';
import type { Drills } from '../recovery/drills';
import type { Registry } from '../registry/registry';
import type { ServerShares } from '../retention/server-shares';
import type { Settings } from '../settings/settings';
import type { Deliveries } from './delivery';

export const DEFAULT_PARAMS: BackupParams = { threshold: 3, total: 5, retain: 2 };

export interface BackupPeers {
  readonly registry: Pick<Registry, 'custodian'>;
  readonly keyshare: Pick<Keyshares, 'node' | 'readSecretRecord' | 'storedContext'>;
  readonly deliveries: Pick<Deliveries, 'ofSet' | 'addPending' | 'countsOf'>;
  readonly shares: Pick<ServerShares, 'heldIndexes' | 'addHeld' | 'softDeleteHeld' | 'countsOf' | 'serverSharesOfNode' | 'lastDeletedAt'>;
  readonly settings: Pick<Settings, 'cooldownMs'>;
  readonly drills: Pick<Drills, 'last'>;
  readonly inventory: Pick<Inventory, 'of'>;
}

export class Backups extends Capability<BackupPeers> {
  readonly #manifests = new Map<string, Manifest>();

  /**
   * Creates a backup set (seeds §生成与分发流程): splits the node's secret record, keeps `retain`
   * shares encrypted on the server, seals one envelope per custodian (in the order given: share
   * retain+1 goes to the first), signs the manifest, and writes the envelopes (and their QR frame
   * PNGs) and the manifest to `outDir`. The previous active set, if any, is superseded and a signed
   * supersede notice is written for each of its custodians.
   */
  async create(keyId: string, nodeId: string, params: Partial<BackupParams>, custodianFingerprints: readonly string[], outDir: string, options: BackupOptions = {}): Promise<BackupResult> {
    const core = this.core;
    const mod = this.peers;
    const base = { event: 'generate', action: 'backup-set', operator: core.op(options) } as const;
    return core.audited(base, async () => {
      const k = checkKeyId(keyId);
      const n = checkNodeId(nodeId);
      const threshold = params.threshold ?? DEFAULT_PARAMS.threshold;
      const total = params.total ?? DEFAULT_PARAMS.total;
      const retain = params.retain ?? DEFAULT_PARAMS.retain;
      checkShamirParams({ threshold, total }, retain);
      const list: unknown = custodianFingerprints;
      if (!Array.isArray(list)) throw new CustosError('INVALID_PARAMETERS', 'Custodians must be a list of fingerprints.');
      const fps = custodianFingerprints.map((f) => checkFingerprint(f));
      if (fps.length !== total - retain) {
        throw new CustosError(
          'INVALID_PARAMETERS',
          `${String(total - retain)} shares go to custodians (total ${String(total)} − retained ${String(retain)}) but ${String(fps.length)} custodian(s) were named; name exactly one per external share.`,
          { details: { expected: total - retain, got: fps.length } },
        );
      }
      if (new Set(fps).size !== fps.length) {
        throw new CustosError('INVALID_PARAMETERS', 'Each external share must go to a different custodian; the same custodian is named twice.');
      }
      const custodians = fps.map((fp) => {
        const row = mod.registry.custodian(fp);
        if (row.enabled !== 1) throw new AgentError('FAILED_PRECONDITION', `Custodian ${row.label} (${row.code}) is disabled.`, { details: { fingerprint: fp } });
        return row;
      });
      if (options.envelopeTtlSeconds !== undefined && (!Number.isInteger(options.envelopeTtlSeconds) || options.envelopeTtlSeconds < 3600)) {
        throw new CustosError('INVALID_PARAMETERS', 'An envelope lifetime must be whole seconds, at least 3600.');
      }
      const out = resolve(outDir);
      return core.locks.run(`node:${k}/${n}`, async () => {
        const node = mod.keyshare.node(k, n);
        const record = await mod.keyshare.readSecretRecord(k, n);
        try {
          // The record must still rebuild the imported keydata: never back up the wrong secret.
          let rebuilt: Uint8Array;
          let groupKey: Uint8Array;
          try {
            const context = mod.keyshare.storedContext(node);
            groupKey = fromHex(groupKeyOf(context).compressed);
            rebuilt = writeKeydata(regenerateKeydata(decodeSecretRecord(record), context));
          } catch (error) {
            throw new AgentError('CORRUPT_FILE', `The stored share of key ${k} node ${n} does not rebuild its keydata; it was not backed up.`, { cause: error });
          }
          const matches = constantTimeEqual(fileHash(rebuilt), node.keydata_sha256);
          wipe(rebuilt);
          if (!matches) throw new AgentError('CORRUPT_FILE', `The stored share of key ${k} node ${n} does not rebuild the imported keydata; it was not backed up.`);

          const nowMs = core.now();
          const now = sec(nowMs);
          const maxEpoch = (core.db.prepare('SELECT MAX(epoch) AS e FROM backup_sets WHERE key_id = ? AND node_id = ?').get(k, n) as { e: number | null }).e ?? 0;
          const epoch = maxEpoch + 1;
          const setIdBytes = new Uint8Array(randomBytes(16));
          const setId = toHex(setIdBytes);
          const created = await createBackup(
            {
              keyId: k,
              nodeId: n,
              curve: node.curve,
              secret: record,
              publicContextHash: blob(node.public_context_hash),
              // Issue 12: the group key in the signed manifest, for a custodian to compare before a recovery.
              groupKey,
              threshold,
              total,
              retain,
              custodians: custodians.map((c) => ({ fingerprint: fromHex(c.fingerprint), ageRecipient: c.age_recipient })),
              setId: setIdBytes,
              epoch,
              now,
              ...(options.envelopeTtlSeconds === undefined ? {} : { envelopeNotAfter: now + options.envelopeTtlSeconds }),
            },
            core.signing,
          );
          const previous = this.activeSet(k, n);
          const stem = `${k}_${n}_e${String(epoch)}`;
          const manifestFile = join(out, `${stem}.manifest.cbor`);
          const envelopeFiles = created.envelopes.map((e) => join(out, `${stem}_share${String(e.shareIndex)}.envelope.cbor`));
          const prevDeliveries = previous === undefined ? [] : mod.deliveries.ofSet(previous.set_id);
          // SOP §4.5: the old set goes through the cooling-off period, then deletion. Its retained
          // shares are soft-deleted with the rotation (rollback stays possible), like the custodians'.
          const prevHeld = previous === undefined ? [] : mod.shares.heldIndexes(previous.set_id);
          const noticeFiles = previous === undefined ? [] : prevDeliveries.map((d) => join(out, `${k}_${n}_e${String(previous.epoch)}_share${String(d.share_index)}.supersede.cbor`));
          for (const f of [manifestFile, ...envelopeFiles, ...noticeFiles]) {
            if (exists(f)) throw new AgentError('CONFLICT', `${f} exists already; choose an empty output directory.`);
          }

          const written: string[] = [];
          const qrFrames: string[][] = [];
          try {
            for (const r of created.retained) {
              written.push(await core.store.write({ kind: 'retained-share', keyId: k, nodeId: n, setId, index: r.index }, r.share, { noOverwrite: true }));
            }
            ensureDir(out, 0o700);
            writeFileAtomic(manifestFile, created.manifestBytes, { mode: 0o644, noOverwrite: true });
            written.push(manifestFile);
            for (const [i, e] of created.envelopes.entries()) {
              const file = envelopeFiles[i] ?? '';
              writeFileAtomic(file, e.bytes, { mode: 0o600, noOverwrite: true });
              written.push(file);
              const frames: string[] = [];
              if (options.qr !== false) {
                const pngs = await qrPngFrames(e.bytes, UR_TYPES.envelope);
                for (const [j, png] of pngs.entries()) {
                  const pngFile = join(out, `${stem}_share${String(e.shareIndex)}.envelope.qr${String(j + 1).padStart(3, '0')}.png`);
                  writeFileAtomic(pngFile, png, { mode: 0o600, noOverwrite: true });
                  written.push(pngFile);
                  frames.push(pngFile);
                }
              }
              qrFrames.push(frames);
            }
            const notices: { custodian: string; shareIndex: number; file: string }[] = [];
            if (previous !== undefined) {
              for (const [i, d] of prevDeliveries.entries()) {
                const notice = makeSupersede(
                  {
                    key_id: k,
                    node_id: n,
                    old_set_id: fromHex(previous.set_id),
                    old_epoch: previous.epoch,
                    new_set_id: setIdBytes,
                    new_epoch: epoch,
                    new_manifest_hash: manifestHash(created.manifestBytes),
                    recipient: fromHex(d.custodian),
                    destroy_after: now + sec(mod.settings.cooldownMs()),
                    created_at: now,
                    ...(options.staleReason === undefined ? {} : { reason: options.staleReason }),
                  },
                  core.signing,
                );
                const file = noticeFiles[i] ?? '';
                writeFileAtomic(file, notice, { mode: 0o644, noOverwrite: true });
                written.push(file);
                notices.push({ custodian: d.custodian, shareIndex: d.share_index, file });
              }
            }
            const manifestSha = sha256Hex(created.manifestBytes);
            const result: BackupResult = {
              keyId: k,
              nodeId: n,
              setId,
              epoch,
              threshold,
              total,
              retainedIndexes: created.retained.map((r) => r.index),
              envelopes: created.envelopes.map((e, i) => ({
                shareIndex: e.shareIndex,
                custodian: toHex(e.custodian.fingerprint),
                file: envelopeFiles[i] ?? '',
                sha256: sha256Hex(e.bytes),
                qrFrames: qrFrames[i] ?? [],
              })),
              manifestFile,
              manifestSha256: manifestSha,
              ...(previous === undefined ? {} : { superseded: { setId: previous.set_id, epoch: previous.epoch, notices, retainedSoftDeleted: prevHeld } }),
            };
            inTransaction(core.db, () => {
              if (previous !== undefined) {
                core.db.prepare("UPDATE backup_sets SET state = 'superseded', superseded_at = ? WHERE set_id = ?").run(nowMs, previous.set_id);
                if (options.staleReason !== undefined) {
                  core.db.prepare('UPDATE backup_sets SET stale_reason = ?, stale_at = ?, stale_replaced_by = ? WHERE set_id = ?').run(options.staleReason, nowMs, setId, previous.set_id);
                }
              }
              core.db
                .prepare(
                  "INSERT INTO backup_sets (set_id, key_id, node_id, epoch, threshold, total, retain, manifest, manifest_sha256, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?)",
                )
                .run(setId, k, n, epoch, threshold, total, retain, created.manifestBytes, manifestSha, nowMs);
              for (const r of created.retained) {
                mod.shares.addHeld(setId, r.index, manifestShare(created.manifest, r.index).commitment, nowMs);
              }
              for (const [i, e] of created.envelopes.entries()) {
                mod.deliveries.addPending({ setId, shareIndex: e.shareIndex, custodian: toHex(e.custodian.fingerprint), envelope: e.bytes, envelopeFile: envelopeFiles[i] ?? null, at: nowMs });
              }
              const common = { keyId: k, nodeId: n, setId, epoch, operator: core.op(options) };
              core.audit({
                ...base,
                ...common,
                result: 'ok',
                signature: frameSignature(created.manifestBytes),
                target: 'manifest',
                details: {
                  threshold,
                  total,
                  retain,
                  manifest_sha256: manifestSha,
                  ...(previous === undefined ? {} : { supersedes_set_id: previous.set_id, supersedes_epoch: previous.epoch }),
                },
              });
              if (previous !== undefined && options.staleReason !== undefined) {
                core.audit({
                  event: 'generate',
                  action: 'backup-set-stale',
                  result: 'ok',
                  keyId: k,
                  nodeId: n,
                  setId: previous.set_id,
                  epoch: previous.epoch,
                  operator: core.op(options),
                  target: 'manifest',
                  details: { reason: options.staleReason, new_set_id: setId },
                });
              }
              for (const r of created.retained) {
                core.audit({ event: 'generate', action: 'share-retained', result: 'ok', ...common, shareIndex: r.index, target: 'server' });
              }
              for (const [i, e] of created.envelopes.entries()) {
                const c = custodians[i];
                core.audit({
                  event: 'generate',
                  action: 'share-envelope',
                  result: 'ok',
                  ...common,
                  shareIndex: e.shareIndex,
                  envelopeSha256: sha256Hex(e.bytes),
                  signature: frameSignature(e.bytes),
                  target: `custodian:${toHex(e.custodian.fingerprint)} (${c?.label ?? '?'})`,
                });
              }
              if (previous !== undefined) {
                for (const [i, d] of prevDeliveries.entries()) {
                  core.audit({
                    event: 'generate',
                    action: 'supersede-notice',
                    result: 'ok',
                    keyId: k,
                    nodeId: n,
                    setId: previous.set_id,
                    epoch: previous.epoch,
                    shareIndex: d.share_index,
                    operator: core.op(options),
                    target: `custodian:${d.custodian}`,
                    details: { new_set_id: setId, new_epoch: epoch, file: noticeFiles[i] ?? '' },
                  });
                }
                for (const index of prevHeld) {
                  mod.shares.softDeleteHeld(previous.set_id, index, nowMs);
                  core.audit({
                    event: 'delete',
                    action: 'soft-delete',
                    result: 'ok',
                    keyId: k,
                    nodeId: n,
                    setId: previous.set_id,
                    epoch: previous.epoch,
                    shareIndex: index,
                    operator: core.op(options),
                    target: 'server',
                    details: { reason: 'superseded', new_set_id: setId, new_epoch: epoch },
                  });
                }
              }
            });
            return result;
          } catch (error) {
            for (const p of written) removeFileDurable(p);
            throw error;
          } finally {
            for (const r of created.retained) wipe(r.share);
          }
        } finally {
          wipe(record);
        }
      });
    });
  }


  // ───────────────────────────── status ─────────────────────────────

  status(keyId: string, nodeId: string): BackupStatus {
    const mod = this.peers;
    const k = checkKeyId(keyId);
    const n = checkNodeId(nodeId);
    const node = mod.keyshare.node(k, n);
    const set = this.activeSet(k, n);
    if (set === undefined) throw new AgentError('NOT_FOUND', `Key ${k} node ${n} has no backup set yet.`, { details: { keyId: k, nodeId: n } });
    const { held, softDeleted } = mod.shares.countsOf(set.set_id);
    const counts = mod.deliveries.countsOf(set.set_id);
    const confirmed = counts.confirmed;
    const lastDrill = mod.drills.last(k, n);
    const zeroRetention = mod.shares.serverSharesOfNode(k, n) === 0;
    const lastDeleted = zeroRetention
      ? mod.shares.lastDeletedAt(this.setIdsOf(k, n))
      : undefined;
    const inv = mod.inventory.of(set);
    const lastProven = inv.shares.reduce<number | undefined>((m, s) => (s.lastProvenAt === undefined ? m : Math.max(m ?? 0, s.lastProvenAt)), undefined);
    const inventory: InventorySummary = {
      externalAttested: inv.externalAttested,
      externalFailed: inv.externalFailed,
      recoverable: inv.recoverable,
      overdueCustodians: inv.overdueCustodians.map((o) => o.custodian).filter((c, i, all) => all.indexOf(c) === i),
      ...(lastProven === undefined ? {} : { lastAttestedAt: lastProven }),
    };
    return {
      ...setScope(set),
      curve: node.curve,
      threshold: set.threshold,
      total: set.total,
      retain: set.retain,
      serverSharesHeld: held,
      externalDelivered: counts.delivered,
      externalConfirmed: confirmed,
      recoverable: held + confirmed >= set.threshold,
      externalOnlyRecoverable: confirmed >= set.threshold,
      ...(lastDrill === undefined ? {} : { lastDrill }),
      serverSharesSoftDeleted: softDeleted,
      zeroRetention,
      ...(lastDeleted === undefined ? {} : { zeroRetentionSince: sec(lastDeleted) }),
      inventory,
      staleSetIds: this.staleSetIdsOf(k, n),
      parties: node.parties,
      ...(node.tss_threshold === null ? {} : { tssThreshold: node.tss_threshold }),
      ...(node.group_key_fingerprint === null ? {} : { groupKeyFingerprint: node.group_key_fingerprint }),
    };
  }

  /** Backup sets by status, counted in SQL: active, superseded (a rotation), stale (a resharing replaced the keydata). */
  countByStatus(): Map<'active' | 'superseded' | 'stale', number> {
    const out = new Map<'active' | 'superseded' | 'stale', number>([
      ['active', 0],
      ['superseded', 0],
      ['stale', 0],
    ]);
    const rows = this.core.stmt("SELECT CASE WHEN stale_reason IS NOT NULL THEN 'stale' ELSE state END AS s, COUNT(*) AS n FROM backup_sets GROUP BY s").all() as { s: 'active' | 'superseded' | 'stale'; n: number }[];
    for (const r of rows) out.set(r.s, r.n);
    return out;
  }

  /** Sets of a node a resharing made stale, newest first. */
  staleSetsOf(k: string, n: string): BackupSetRow[] {
    return this.core.stmt('SELECT * FROM backup_sets WHERE key_id = ? AND node_id = ? AND stale_reason IS NOT NULL ORDER BY epoch DESC').all(k, n) as BackupSetRow[];
  }

  staleSetIdsOf(k: string, n: string): string[] {
    return (this.core.stmt('SELECT set_id FROM backup_sets WHERE key_id = ? AND node_id = ? AND stale_reason IS NOT NULL ORDER BY epoch DESC').all(k, n) as { set_id: string }[]).map((r) => r.set_id);
  }



  /** The signed manifest of a node's set (default: the active one). */
  manifestBytes(keyId: string, nodeId: string, setId?: string): Uint8Array {
    const set = this.setFor(checkKeyId(keyId), checkNodeId(nodeId), setId);
    return blob(set.manifest);
  }

  // ── for the other modules ──

  /** The node's active set, if it has one. */
  activeSet(k: string, n: string): BackupSetRow | undefined {
    return this.core.stmt("SELECT * FROM backup_sets WHERE key_id = ? AND node_id = ? AND state = 'active'").get(k, n) as BackupSetRow | undefined;
  }

  /** A set by id; NOT_FOUND otherwise. */
  setById(setId: string): BackupSetRow {
    const row = this.setByIdOrUndefined(setId);
    if (row === undefined) throw new AgentError('NOT_FOUND', 'No such backup set.', { details: { setId } });
    return row;
  }

  setByIdOrUndefined(setId: string): BackupSetRow | undefined {
    return this.core.stmt('SELECT * FROM backup_sets WHERE set_id = ?').get(setId) as BackupSetRow | undefined;
  }

  /** A node's set by id, or its active set; NOT_FOUND for an unknown node or set. */
  setFor(k: string, n: string, setId: string | undefined): BackupSetRow {
    this.peers.keyshare.node(k, n);
    if (setId !== undefined) {
      const row = this.setById(checkSetId(setId));
      if (row.key_id !== k || row.node_id !== n) throw new AgentError('NOT_FOUND', `Backup set ${row.set_id} is not a set of key ${k} node ${n}.`, { details: { setId: row.set_id } });
      return row;
    }
    const active = this.activeSet(k, n);
    if (active === undefined) throw new AgentError('NOT_FOUND', `Key ${k} node ${n} has no backup set yet; run a backup first.`, { details: { keyId: k, nodeId: n } });
    return active;
  }

  /** Every set of a node, newest epoch first. */
  setsOf(k: string, n: string): BackupSetRow[] {
    return this.core.stmt('SELECT * FROM backup_sets WHERE key_id = ? AND node_id = ? ORDER BY epoch DESC').all(k, n) as BackupSetRow[];
  }

  setIdsOf(k: string, n: string): string[] {
    return (this.core.stmt('SELECT set_id FROM backup_sets WHERE key_id = ? AND node_id = ?').all(k, n) as { set_id: string }[]).map((r) => r.set_id);
  }

  /** The set's manifest, verified against the agent's own key once and cached. */
  manifest(set: BackupSetRow): Manifest {
    let m = this.#manifests.get(set.set_id);
    if (m === undefined) {
      m = openManifest(blob(set.manifest), this.core.signing.publicKey).body;
      this.#manifests.set(set.set_id, m);
    }
    return m;
  }
}
