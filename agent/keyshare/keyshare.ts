/**
 * Key shares (seeds "MPC 分片" and the keydata regeneration): a node's tss-lib keydata imported
 * (parse losslessly, self-check, split into the secret record and the public context), stored
 * encrypted as `keys/<key_id>/<node_id>.enc` and `.keydata.enc`, inspected, exported, and written
 * back by a recovery. Owns the `nodes` table and those two files.
 */
import { join } from 'node:path';
import { constantTimeEqual, toHex, wipe } from '../../shared/bytes';
import { fileHash } from '../../shared/crypto/hash';
import {
  assertSelfCheck,
  decodePublicContext,
  decodeSecretRecord,
  encodePublicContext,
  encodeSecretRecord,
  parseKeydata,
  publicContextHash,
  regenerateKeydata,
  selfCheck,
  splitKeydata,
  writeKeydata,
  type PublicContext,
} from '../../shared/keydata';
import type { FileState, ImportResult, InspectReport, NodeRecord, OpContext } from '../api';
import type { Backups } from '../backup/backup';
import { Capability } from '../core/context';
import { blob, sec, selfCheckLines } from '../core/util';
import { inTransaction, type NodeRow } from '../db';
import { AgentError, codeOf } from '../errors';
import { ensureDir, removeFileDurable, writeFileAtomicSync as writeFileAtomic } from '../../node/fs-atomic';
import { checkBytes, checkKeyId, checkNodeId } from '../ids';
import { keyViewOf } from './key-view';

export const MAX_KEYDATA_BYTES = 1024 * 1024;

export interface KeysharePeers {
  readonly backup: Pick<Backups, 'activeSet'>;
}

export class Keyshares extends Capability<KeysharePeers> {

  /**
   * Imports a node's tss-lib keydata: parse (lossless), self-check, split into the secret record
   * and the public context (verified to rebuild the file byte for byte), then store
   * `<node_id>.enc` and `<node_id>.keydata.enc` encrypted and the public context in the database.
   */
  async import(keyId: string, nodeId: string, keydataBytes: Uint8Array, ctx: OpContext = {}): Promise<ImportResult> {
    const c = this.core;
    const base = { event: 'import', action: 'keyshare', operator: c.op(ctx) } as const;
    return c.audited(base, async () => {
      const k = checkKeyId(keyId);
      const n = checkNodeId(nodeId);
      checkBytes(keydataBytes, 'keydata file', MAX_KEYDATA_BYTES);
      return c.locks.run(`node:${k}/${n}`, async () => {
        if (this.nodeOrUndefined(k, n) !== undefined) {
          throw new AgentError('CONFLICT', `Key ${k} node ${n} is imported already; its stored share is kept.`, { details: { keyId: k, nodeId: n } });
        }
        const shareRef = { kind: 'share', keyId: k, nodeId: n } as const;
        const keydataRef = { kind: 'keydata', keyId: k, nodeId: n } as const;
        if (c.store.exists(shareRef) || c.store.exists(keydataRef)) {
          throw new AgentError('CONFLICT', `Files for key ${k} node ${n} exist without a record; move them away before importing.`, { details: { keyId: k, nodeId: n } });
        }
        const keydata = parseKeydata(keydataBytes);
        const check = assertSelfCheck(keydata);
        const { secret, context } = splitKeydata(keydata);
        const record = encodeSecretRecord(secret);
        const compact = writeKeydata(keydata);
        const ctxBytes = encodePublicContext(context);
        const ctxHash = publicContextHash(context);
        const keydataSha = fileHash(compact);
        const view = keyViewOf(context, check.minSigners);
        const written: string[] = [];
        try {
          written.push(await c.store.write(shareRef, record, { noOverwrite: true }));
          written.push(await c.store.write(keydataRef, compact, { noOverwrite: true }));
          const now = c.now();
          inTransaction(c.db, () => {
            c.db
              .prepare(
                'INSERT INTO nodes (key_id, node_id, curve, party_index, parties, public_context, public_context_hash, keydata_sha256, imported_at, tss_threshold, group_key_fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
              )
              .run(k, n, keydata.curve, secret.index, context.Ks.length, ctxBytes, ctxHash, keydataSha, now, view?.tssThreshold ?? null, view?.groupKeyFingerprint ?? null);
            c.audit({
              ...base,
              result: 'ok',
              keyId: k,
              nodeId: n,
              target: 'server',
              details: {
                curve: keydata.curve,
                party_index: secret.index,
                parties: context.Ks.length,
                public_context_hash: toHex(ctxHash),
                keydata_sha256: toHex(keydataSha),
                ...(view === undefined ? {} : { tss_threshold: view.tssThreshold, group_key_fingerprint: view.groupKeyFingerprint }),
              },
            });
          });
        } catch (error) {
          for (const p of written) removeFileDurable(p);
          throw error;
        } finally {
          wipe(record, compact);
        }
        return {
          keyId: k,
          nodeId: n,
          curve: keydata.curve,
          partyIndex: secret.index,
          parties: context.Ks.length,
          ...(view === undefined ? {} : { tssThreshold: view.tssThreshold, groupKeyFingerprint: view.groupKeyFingerprint }),
          publicContextHash: toHex(ctxHash),
          keydataSha256: toHex(keydataSha),
          selfCheck: selfCheckLines(check),
        };
      });
    });
  }

  /**
   * Every node with its active set, in one query (a join on the one-active-set index) and without
   * the public context blobs, hashes turned into hex by SQLite: the metrics read it on every scrape
   * (issue 10, 5,000 nodes).
   */
  list(): NodeRecord[] {
    const rows = this.core
      .stmt(
        `SELECT n.key_id, n.node_id, n.curve, n.party_index, n.parties, lower(hex(n.public_context_hash)) AS context_hex, lower(hex(n.keydata_sha256)) AS keydata_hex,
                n.imported_at, n.restored_at, n.tss_threshold, n.group_key_fingerprint,
                s.set_id AS active_set_id, s.epoch AS active_epoch
         FROM nodes n LEFT JOIN backup_sets s ON s.key_id = n.key_id AND s.node_id = n.node_id AND s.state = 'active'
         ORDER BY n.key_id, n.node_id`,
      )
      .all() as (Omit<NodeRow, 'public_context' | 'public_context_hash' | 'keydata_sha256'> & { context_hex: string; keydata_hex: string; active_set_id: string | null; active_epoch: number | null })[];
    return rows.map((r) => {
      const active = r.active_set_id === null || r.active_epoch === null ? undefined : { set_id: r.active_set_id, epoch: r.active_epoch };
      return {
        keyId: r.key_id,
        nodeId: r.node_id,
        curve: r.curve,
        partyIndex: r.party_index,
        parties: r.parties,
        ...(r.tss_threshold === null ? {} : { tssThreshold: r.tss_threshold }),
        ...(r.group_key_fingerprint === null ? {} : { groupKeyFingerprint: r.group_key_fingerprint }),
        publicContextHash: r.context_hex,
        keydataSha256: r.keydata_hex,
        importedAt: sec(r.imported_at),
        ...(r.restored_at === null ? {} : { restoredAt: sec(r.restored_at) }),
        ...(active === undefined ? {} : { activeSet: { setId: active.set_id, epoch: active.epoch } }),
      };
    });
  }

  /**
   * Decrypts and returns the node's stored keydata (tss-lib compact JSON), after checking it is the
   * file that was imported or recovered. For the node itself, drills and byte comparisons.
   */
  async exportKeydata(keyId: string, nodeId: string, ctx: OpContext = {}): Promise<Uint8Array> {
    const c = this.core;
    const base = { event: 'inspect', action: 'keydata-export', operator: c.op(ctx) } as const;
    return c.audited(base, async () => {
      const k = checkKeyId(keyId);
      const n = checkNodeId(nodeId);
      const node = this.node(k, n);
      const bytes = await c.store.read({ kind: 'keydata', keyId: k, nodeId: n });
      if (!constantTimeEqual(fileHash(bytes), node.keydata_sha256)) {
        throw new AgentError('CORRUPT_FILE', `The stored keydata of key ${k} node ${n} is not the file that was imported.`, { details: { keyId: k, nodeId: n } });
      }
      c.audit({ ...base, result: 'ok', keyId: k, nodeId: n, target: 'server', details: { keydata_sha256: toHex(node.keydata_sha256) } });
      return bytes;
    });
  }

  /** Checks a node's stored files without revealing anything (seeds SOP §4.3). */
  async inspect(keyId: string, nodeId: string, ctx: OpContext = {}): Promise<InspectReport> {
    const c = this.core;
    const base = { event: 'inspect', action: 'node-files', operator: c.op(ctx) } as const;
    return c.audited(base, async () => {
      const k = checkKeyId(keyId);
      const n = checkNodeId(nodeId);
      const node = this.node(k, n);
      const state = (e: unknown): FileState => (codeOf(e) === 'NOT_FOUND' ? 'missing' : 'corrupt');
      let shareFile: FileState = 'ok';
      let keydataFile: FileState = 'ok';
      let record: Uint8Array | undefined;
      let keydata: Uint8Array | undefined;
      try {
        record = await c.store.read({ kind: 'share', keyId: k, nodeId: n });
        decodeSecretRecord(record);
      } catch (e) {
        shareFile = state(e);
      }
      try {
        keydata = await c.store.read({ kind: 'keydata', keyId: k, nodeId: n });
        if (!constantTimeEqual(fileHash(keydata), node.keydata_sha256)) keydataFile = 'corrupt';
      } catch (e) {
        keydataFile = state(e);
      }
      let consistent = false;
      let lines: { name: string; ok: boolean; detail?: string }[] = [];
      try {
        if (keydataFile === 'ok' && keydata !== undefined) {
          lines = selfCheckLines(selfCheck(parseKeydata(keydata)));
        }
        if (shareFile === 'ok' && keydataFile === 'ok' && record !== undefined && keydata !== undefined) {
          const rebuilt = writeKeydata(regenerateKeydata(decodeSecretRecord(record), this.storedContext(node)));
          consistent = constantTimeEqual(rebuilt, keydata);
          wipe(rebuilt);
        }
      } catch {
        consistent = false;
      } finally {
        wipe(record, keydata);
      }
      const ok = shareFile === 'ok' && keydataFile === 'ok' && consistent && lines.every((l) => l.ok);
      c.audit({
        ...base,
        result: ok ? 'ok' : 'failed',
        keyId: k,
        nodeId: n,
        target: 'server',
        ...(ok ? {} : { reason: `share file ${shareFile}, keydata file ${keydataFile}, consistent ${String(consistent)}` }),
      });
      return { keyId: k, nodeId: n, shareFile, keydataFile, consistent, selfCheck: lines, ok };
    });
  }

  // ── for the other modules ──

  nodeOrUndefined(k: string, n: string): NodeRow | undefined {
    return this.core.stmt('SELECT * FROM nodes WHERE key_id = ? AND node_id = ?').get(k, n) as NodeRow | undefined;
  }

  /** An imported node; NOT_FOUND otherwise. */
  node(k: string, n: string): NodeRow {
    const row = this.nodeOrUndefined(k, n);
    if (row === undefined) throw new AgentError('NOT_FOUND', `Key ${k} node ${n} is not known to this agent; import its keydata first.`, { details: { keyId: k, nodeId: n } });
    return row;
  }

  /** The public context stored at import. */
  storedContext(node: NodeRow): PublicContext {
    return decodePublicContext(blob(node.public_context));
  }

  /** The node's decrypted secret record (the seeds' MPC share); the caller wipes it. */
  async readSecretRecord(k: string, n: string): Promise<Uint8Array> {
    return this.core.store.read({ kind: 'share', keyId: k, nodeId: n });
  }

  /**
   * Writes a recovered secret record and its regenerated keydata back (seeds §恢复流程 D): both
   * sealed first, so a KEK failure writes neither; then atomic writes and a read-back comparison.
   */
  async writeRecovered(k: string, n: string, secret: Uint8Array, keydataBytes: Uint8Array): Promise<void> {
    const c = this.core;
    const shareRef = { kind: 'share', keyId: k, nodeId: n } as const;
    const keydataRef = { kind: 'keydata', keyId: k, nodeId: n } as const;
    const sealedShare = await c.store.seal(shareRef, secret);
    const sealedKeydata = await c.store.seal(keydataRef, keydataBytes);
    ensureDir(join(c.dataDir, 'keys'), 0o700);
    ensureDir(join(c.dataDir, 'keys', k), 0o700);
    writeFileAtomic(c.store.pathOf(shareRef), sealedShare, { mode: 0o600 });
    writeFileAtomic(c.store.pathOf(keydataRef), sealedKeydata, { mode: 0o600 });
    const back = await c.store.read(keydataRef);
    const ok = constantTimeEqual(back, keydataBytes);
    wipe(back);
    if (!ok) throw new AgentError('INTERNAL', 'The keydata read back after writing differs from what was written.');
  }

  /** Records that a recovery wrote the node's files back (inside the caller's transaction). */
  markRestored(k: string, n: string, at: number): void {
    this.core.stmt('UPDATE nodes SET restored_at = ? WHERE key_id = ? AND node_id = ?').run(at, k, n);
  }
}
