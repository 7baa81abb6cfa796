/**
 * Backup right after DKG (issue 11 §2): the MPC node hands the keydata tss-lib just persisted to
 * the agent (RPC `ImportKeyshare`, proto/infra/v1/keyshare.proto), and the agent imports it and
 * creates a backup set with the configured auto-backup policy (parameters, custodians, output
 * folder), its envelopes queued for delivery, all audited.
 *
 * - The same keydata again is idempotent: nothing is written (UNCHANGED). If an earlier call
 *   imported it but its backup failed, the backup is made now.
 * - A different keydata for the same key and node (a tss-lib resharing: same group key, new
 *   shares) replaces the stored one, supersedes the old backup set and marks it stale
 *   (`backup_sets.stale_reason = 'reshared'`, with when and by which set; migration 4, which moved
 *   the `meta` rows earlier builds wrote), with signed notices to its custodians that say the set
 *   is stale (`reason: "reshared"`), and starts a new set (RESHARED), all in the backup's one
 *   transaction. A different group key is refused (CONFLICT).
 * - A bad keydata, or no policy, is a coded error before anything is stored.
 */
import { z } from 'zod';
import { constantTimeEqual, toHex } from '../../shared/bytes';
import { fileHash } from '../../shared/crypto/hash';
import { checkShamirParams } from '../../shared/crypto/shamir';
import { CustosError } from '../../shared/errors';
import {
  assertSelfCheck,
  encodePublicContext,
  encodeSecretRecord,
  parseKeydata,
  publicContextHash,
  splitKeydata,
  writeKeydata,
  type EcPoint,
  type Keydata,
  type PublicContext,
} from '../../shared/keydata';
import { wipe } from '../../shared/bytes';
import type { OpContext } from '../api';
import type { Backups } from '../backup/backup';
import type { Deliveries } from '../backup/delivery';
import { Capability } from '../core/context';
import { blob } from '../core/util';
import { inTransaction } from '../db';
import { AgentError } from '../errors';
import { checkBytes, checkFingerprint, checkKeyId, checkNodeId } from '../ids';
import type { Registry } from '../registry/registry';
import { keyViewOf } from './key-view';
import { MAX_KEYDATA_BYTES, type Keyshares } from './keyshare';

export type NodeImportOutcome = 'created' | 'unchanged' | 'reshared';

export interface AutoBackupPolicy {
  readonly threshold: number;
  readonly total: number;
  readonly retain: number;
  /** One custodian fingerprint per external share (total − retain), in share order. */
  readonly custodians: readonly string[];
  /** Absolute folder the envelopes, manifest and supersede notices are written to. */
  readonly outDir: string;
}

export interface NodeImportResult {
  readonly outcome: NodeImportOutcome;
  readonly keyId: string;
  readonly nodeId: string;
  readonly keydataSha256: string;
  readonly setId: string;
  readonly epoch: number;
  readonly threshold: number;
  readonly total: number;
  /** External shares of the current set still pending delivery. */
  readonly envelopesQueued: number;
  readonly stale?: { readonly setId: string; readonly epoch: number };
}

export interface StaleSet {
  readonly setId: string;
  readonly epoch: number;
  /** Unix milliseconds. */
  readonly at: number;
  readonly reason: 'reshared';
  readonly replacedBy: string;
}

const POLICY_META = 'auto_backup_policy';

const policySchema = z.strictObject({
  threshold: z.number().int().min(1).max(255),
  total: z.number().int().min(1).max(255),
  retain: z.number().int().min(0).max(255),
  custodians: z.array(z.string()).max(255),
  outDir: z.string().min(1).max(4096).refine((p) => p.startsWith('/'), 'must be an absolute path'),
});

export interface NodeImportPeers {
  readonly keyshare: Pick<Keyshares, 'import' | 'nodeOrUndefined' | 'storedContext' | 'writeRecovered'>;
  readonly backup: Pick<Backups, 'create' | 'activeSet' | 'setById' | 'staleSetsOf'>;
  readonly deliveries: Pick<Deliveries, 'ofSet'>;
  readonly registry: Pick<Registry, 'custodian'>;
}

/** The group public key of a keydata or public context (ECDSAPub or EDDSAPub). */
const groupKey = (k: Pick<PublicContext, 'curve'> & ({ curve: 'secp256k1'; ECDSAPub: EcPoint } | { curve: 'ed25519'; EDDSAPub: EcPoint })): EcPoint => (k.curve === 'secp256k1' ? k.ECDSAPub : k.EDDSAPub);
const sameKey = (a: EcPoint, b: EcPoint): boolean => a.Curve === b.Curve && a.Coords[0] === b.Coords[0] && a.Coords[1] === b.Coords[1];

export class NodeImports extends Capability<NodeImportPeers> {
  /** The configured policy, or undefined when none was set. */
  policy(): AutoBackupPolicy | undefined {
    const row = this.core.stmt('SELECT value FROM meta WHERE name = ?').get(POLICY_META) as { value: string } | undefined;
    if (row === undefined) return undefined;
    const parsed = policySchema.safeParse(JSON.parse(row.value));
    if (!parsed.success) throw new AgentError('CORRUPT_FILE', 'The stored auto-backup policy is unreadable; set it again with `agent keyshare auto-backup`.');
    return parsed.data;
  }

  /** Sets the policy ImportKeyshare backs up with; audited as `configure` with the old and new values. */
  async configure(policy: AutoBackupPolicy, ctx: OpContext = {}): Promise<AutoBackupPolicy> {
    const c = this.core;
    const base = { event: 'configure', action: 'auto-backup-policy', operator: c.op(ctx) } as const;
    return c.audited(base, () => {
      const parsed = policySchema.safeParse(policy);
      if (!parsed.success) throw new CustosError('INVALID_PARAMETERS', `The auto-backup policy is not valid: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}.`);
      const p = parsed.data;
      checkShamirParams({ threshold: p.threshold, total: p.total }, p.retain);
      const fps = p.custodians.map((f) => checkFingerprint(f));
      if (fps.length !== p.total - p.retain) {
        throw new CustosError('INVALID_PARAMETERS', `${String(p.total - p.retain)} shares go to custodians (total ${String(p.total)} − retained ${String(p.retain)}) but ${String(fps.length)} custodian(s) were named; name exactly one per external share.`);
      }
      if (new Set(fps).size !== fps.length) throw new CustosError('INVALID_PARAMETERS', 'Each external share must go to a different custodian; the same custodian is named twice.');
      for (const fp of fps) {
        const row = this.peers.registry.custodian(fp);
        if (row.enabled !== 1) throw new AgentError('FAILED_PRECONDITION', `Custodian ${row.label} (${row.code}) is disabled.`, { details: { fingerprint: fp } });
      }
      const next: AutoBackupPolicy = { ...p, custodians: fps };
      const before = this.policy();
      inTransaction(c.db, () => {
        c.db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(POLICY_META, JSON.stringify(next));
        c.audit({ ...base, result: 'ok', target: 'agent', details: { ...(before === undefined ? {} : { before: { ...before } }), after: { ...next } } });
      });
      return Promise.resolve(next);
    });
  }

  /** The sets of a node marked stale by a resharing, newest first. */
  staleSets(keyId: string, nodeId: string): StaleSet[] {
    const k = checkKeyId(keyId);
    const n = checkNodeId(nodeId);
    return this.peers.backup.staleSetsOf(k, n).map((r) => ({ setId: r.set_id, epoch: r.epoch, at: r.stale_at ?? r.superseded_at ?? r.created_at, reason: 'reshared', replacedBy: r.stale_replaced_by ?? '' }));
  }

  /**
   * The node's keydata, as tss-lib persisted it after DKG or a resharing: import (or recognise)
   * it and back it up with the policy. See the header for the three outcomes.
   */
  async importFromNode(keyId: string, nodeId: string, keydataBytes: Uint8Array, ctx: OpContext = {}): Promise<NodeImportResult> {
    const c = this.core;
    const base = { event: 'import', action: 'keyshare-from-node', operator: c.op(ctx) } as const;
    return c.audited(base, async () => {
      const k = checkKeyId(keyId);
      const n = checkNodeId(nodeId);
      checkBytes(keydataBytes, 'keydata file', MAX_KEYDATA_BYTES);
      const policy = this.policy();
      if (policy === undefined) {
        throw new AgentError('FAILED_PRECONDITION', 'No auto-backup policy is set, so a keydata from the node cannot be backed up; set one with `agent keyshare auto-backup` first. Nothing was stored.');
      }
      // Everything about the file is checked before anything is stored.
      const keydata = parseKeydata(keydataBytes);
      const check = assertSelfCheck(keydata);
      const compact = writeKeydata(keydata);
      const sha = fileHash(compact);
      return c.locks.run(`node-import:${k}/${n}`, async () => {
        const existing = this.peers.keyshare.nodeOrUndefined(k, n);
        let outcome: NodeImportOutcome;
        let replaced: { setId: string; epoch: number } | undefined;
        if (existing === undefined) {
          await this.peers.keyshare.import(k, n, keydataBytes, ctx);
          outcome = 'created';
        } else if (constantTimeEqual(blob(existing.keydata_sha256), sha)) {
          outcome = 'unchanged';
        } else {
          const storedKey = this.peers.keyshare.storedContext(existing);
          if (storedKey.curve !== keydata.curve || !sameKey(groupKey(storedKey), groupKey(keydata))) {
            throw new AgentError('CONFLICT', `The keydata is of another group key than the one stored for key ${k} node ${n}; a resharing keeps the group key. Nothing was changed.`, { details: { keyId: k, nodeId: n } });
          }
          await this.replace(k, n, keydata, compact, sha, check.minSigners, ctx);
          outcome = 'reshared';
        }
        // Is the active set made from the current keydata? A resharing keeps the public context
        // (every party's is the same), so the test is time: a set created before the keydata
        // was stored is of the old one (`replace` sets imported_at).
        const node = this.peers.keyshare.nodeOrUndefined(k, n);
        if (node === undefined) throw new AgentError('INTERNAL', 'The node vanished during its import.');
        let active = this.peers.backup.activeSet(k, n);
        const current = active !== undefined && active.created_at >= node.imported_at;
        if (active !== undefined && !current) {
          replaced = { setId: active.set_id, epoch: active.epoch };
          if (outcome === 'unchanged') outcome = 'reshared'; // an earlier resharing whose backup failed
        }
        if (!current) {
          if (outcome === 'unchanged') outcome = 'created'; // an earlier import whose backup failed
          const made = await this.peers.backup.create(k, n, { threshold: policy.threshold, total: policy.total, retain: policy.retain }, policy.custodians, policy.outDir, {
            ...ctx,
            ...(replaced === undefined ? {} : { staleReason: 'reshared' as const }),
          });
          active = this.peers.backup.setById(made.setId);
        }
        if (active === undefined) throw new AgentError('INTERNAL', 'No backup set after the import.');
        const queued = this.peers.deliveries.ofSet(active.set_id).filter((d) => d.status === 'pending').length;
        if (outcome === 'unchanged') {
          c.audit({ ...base, result: 'ok', keyId: k, nodeId: n, setId: active.set_id, epoch: active.epoch, target: 'server', details: { outcome, keydata_sha256: toHex(sha) } });
        }
        return {
          outcome,
          keyId: k,
          nodeId: n,
          keydataSha256: toHex(sha),
          setId: active.set_id,
          epoch: active.epoch,
          threshold: active.threshold,
          total: active.total,
          envelopesQueued: queued,
          ...(replaced === undefined ? {} : { stale: replaced }),
        };
      });
    });
  }

  /** Writes a resharing's keydata over the stored one (files sealed first, then the row). */
  private async replace(k: string, n: string, keydata: Keydata, compact: Uint8Array, sha: Uint8Array, minSigners: number | undefined, ctx: OpContext): Promise<void> {
    const c = this.core;
    const { secret, context } = splitKeydata(keydata);
    const record = encodeSecretRecord(secret);
    try {
      await this.peers.keyshare.writeRecovered(k, n, record, compact);
      const ctxHash = publicContextHash(context);
      // A resharing may change t and the party count (never the group key).
      const view = keyViewOf(context, minSigners);
      inTransaction(c.db, () => {
        c.db
          .prepare(
            'UPDATE nodes SET curve = ?, party_index = ?, parties = ?, public_context = ?, public_context_hash = ?, keydata_sha256 = ?, imported_at = ?, restored_at = NULL, tss_threshold = ?, group_key_fingerprint = ? WHERE key_id = ? AND node_id = ?',
          )
          .run(keydata.curve, secret.index, context.Ks.length, encodePublicContext(context), ctxHash, sha, c.now(), view?.tssThreshold ?? null, view?.groupKeyFingerprint ?? null, k, n);
        c.audit({
          event: 'import',
          action: 'keyshare-reshared',
          result: 'ok',
          keyId: k,
          nodeId: n,
          operator: c.op(ctx),
          target: 'server',
          details: { party_index: secret.index, parties: context.Ks.length, ...(view === undefined ? {} : { tss_threshold: view.tssThreshold }), public_context_hash: toHex(ctxHash), keydata_sha256: toHex(sha) },
        });
      });
    } finally {
      wipe(record);
    }
  }
}
