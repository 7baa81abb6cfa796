/**
 * Recovery of a node's share (seeds §恢复流程 A–D, SOP §5): custodians' recovery exports taken
 * and verified one by one into a session (`submitted_exports`), then the completion: combine
 * (server-held shares too in mixed mode), secret commitment, keydata regeneration from the
 * recovered record and the public context (stored, or a peer's), self-check, byte comparison with
 * the imported keydata; what happens then (write back, or only a drill record) is the
 * completion strategy's (./completion.ts). Sessions and approvals are ./sessions.ts.
 */
import { constantTimeEqual, toHex, wipe } from '../../shared/bytes';
import { fileHash } from '../../shared/crypto/hash';
import { checkShare, combineShares, type ProvidedShare } from '../../shared/crypto/shamir';
import { CustosError } from '../../shared/errors';
import { assertSelfCheck, decodeSecretRecord, groupKeyOf, parseKeydata, publicContextFromPeer, publicContextHash, regenerateKeydata, writeKeydata, type PublicContext } from '../../shared/keydata';
import { combineExpectation, openRecoveryExport } from '../../shared/protocol';
import type { CompleteOptions, OpContext, RecoveryOutcome, SubmitResult } from '../api';
import { Capability, type AuditBase } from '../core/context';
import { blob, frameSignature, messageOf, peekShareIndex, reasonOf, selfCheckLines, setScope, sha256Hex } from '../core/util';
import { inTransaction, type ExportRow, type SessionRow } from '../db';
import { AgentError, codeOf, isCodedError } from '../errors';
import { checkBytes, checkSessionId } from '../ids';
import { MAX_KEYDATA_BYTES, type Keyshares } from '../keyshare/keyshare';
import { approverList } from '../registry/approvals';
import type { Registry } from '../registry/registry';
import type { ServerShares } from '../retention/server-shares';
import { completionFor, type CompletingSession, type Completion } from './completion';
import type { Drills } from './drills';
import type { Sessions } from './sessions';

export interface RecoveryPeers {
  readonly registry: Pick<Registry, 'enabledCustodianKeys' | 'custodianBySignKey'>;
  readonly keyshare: Pick<Keyshares, 'node' | 'storedContext' | 'writeRecovered' | 'markRestored'>;
  readonly shares: Pick<ServerShares, 'heldIndexes'>;
  readonly sessions: Pick<Sessions, 'live' | 'row' | 'view' | 'openRequest' | 'identity' | 'validApprovals'>;
  readonly drills: Pick<Drills, 'insert'>;
}

export class Recovery extends Capability<RecoveryPeers> {

  /**
   * Takes custodians' recovery exports. Each is verified (registered custodian's signature, session
   * and request binding, key/node/set/epoch, the manifest assigns the index to that custodian,
   * decryption with the session key, the share commitment). A bad one is refused and named; the
   * good ones are kept.
   */
  async submit(sessionId: string, exportsBytes: readonly Uint8Array[], ctx: OpContext = {}): Promise<SubmitResult> {
    const base = { event: 'recover', action: 'export-submit', operator: this.core.op(ctx) } as const;
    return this.core.audited(base, () => {
      const sid = checkSessionId(sessionId);
      const list: unknown = exportsBytes;
      if (!Array.isArray(list) || exportsBytes.length === 0 || exportsBytes.length > 255) {
        throw new CustosError('INVALID_PARAMETERS', 'Submit 1 to 255 recovery exports at a time.');
      }
      return this.core.locks.run(`session:${sid}`, async () => {
        const row = this.peers.sessions.live(sid);
        const req = this.peers.sessions.openRequest(row);
        const identity = await this.peers.sessions.identity(row);
        const custodians = this.peers.registry.enabledCustodianKeys();
        const accepted: number[] = [];
        const refused: { shareIndex?: number; code: string; message: string }[] = [];
        for (const bytes of exportsBytes) {
          const claimed = peekShareIndex(bytes);
          try {
            checkBytes(bytes, 'recovery export', 128 * 1024);
            const opened = await openRecoveryExport(bytes, req, custodians, identity);
            wipe(opened.share);
            const index = opened.shareIndex;
            const custodian = this.peers.registry.custodianBySignKey(opened.export.signer);
            const digest = sha256Hex(bytes);
            inTransaction(this.core.db, () => {
              const existing = this.core.stmt('SELECT export_sha256 FROM submitted_exports WHERE session_id = ? AND share_index = ?').get(sid, index) as { export_sha256: string } | undefined;
              if (existing !== undefined) {
                if (existing.export_sha256 === digest) return;
                throw new CustosError('DUPLICATE_SHARE', `Share ${String(index)} was already received for this session.`, { details: { shareIndex: index } });
              }
              this.core.db
                .prepare('INSERT INTO submitted_exports (session_id, share_index, custodian, export, export_sha256, submitted_at) VALUES (?, ?, ?, ?, ?, ?)')
                .run(sid, index, custodian.fingerprint, bytes, digest, this.core.now());
              this.core.audit({
                ...base,
                result: 'ok',
                ...setScope(row),
                shareIndex: index,
                signature: frameSignature(bytes),
                target: `custodian:${custodian.fingerprint} (${custodian.label})`,
                details: {
                  session_id: sid,
                  export_sha256: digest,
                  // The custodian exported without two approvals verified against approvers they pinned (issue 12): their reason.
                  ...(opened.export.body.override === undefined
                    ? {}
                    : { custodian_override: { reason: opened.export.body.override.reason, verified_approvals: opened.export.body.override.verified_approvals } }),
                },
              });
            });
            accepted.push(index);
          } catch (error) {
            const detail = isCodedError(error) ? error.details['shareIndex'] : undefined;
            const shareIndex = typeof detail === 'number' ? detail : claimed;
            refused.push({ ...(shareIndex === undefined ? {} : { shareIndex }), code: codeOf(error), message: messageOf(error) });
            this.core.audit({
              ...base,
              result: isCodedError(error) ? 'refused' : 'failed',
              ...setScope(row),
              ...(shareIndex === undefined ? {} : { shareIndex }),
              reason: reasonOf(error),
              target: `session:${sid}`,
            });
          }
        }
        return { accepted, refused, session: this.peers.sessions.view(this.peers.sessions.row(sid)) };
      });
    });
  }

  /**
   * RecoverMPCShare (seeds §恢复流程 A–D and the keydata regeneration): threshold check, combine
   * (server-held shares only in mixed mode), secret commitment, rebuild the keydata from the
   * recovered record and the public context (stored, or a peer's), self-check, byte comparison with
   * the imported keydata, and only then atomic writes of `<node_id>.enc` and
   * `<node_id>.keydata.enc`. The session key is destroyed on success. A failure writes nothing and
   * leaves the session open for more shares until it expires or is cancelled.
   */
  async complete(sessionId: string, options: CompleteOptions = {}, ctx: OpContext = {}): Promise<RecoveryOutcome> {
    const completion = completionFor(options, this.peers);
    const base: AuditBase = { ...completion.audit, operator: this.core.op(ctx) };
    const started = this.core.now();
    return this.core.audited(base, () => {
      const sid = checkSessionId(sessionId);
      if (options.peerKeydata !== undefined) checkBytes(options.peerKeydata, 'peer keydata file', MAX_KEYDATA_BYTES);
      return this.core.locks.run(`session:${sid}`, async () => {
        const row = this.peers.sessions.live(sid);
        return this.core.locks.run(`node:${row.key_id}/${row.node_id}`, async () => {
          try {
            return await this.#complete(row, options, completion, started, base);
          } catch (error) {
            inTransaction(this.core.db, () => {
              completion.failed(completing(row), error, this.core.now() - started);
            });
            throw error;
          }
        });
      });
    });
  }

  async #complete(row: SessionRow, options: CompleteOptions, completion: Completion, started: number, base: AuditBase): Promise<RecoveryOutcome> {
    const sid = row.session_id;
    const req = this.peers.sessions.openRequest(row);
    const node = this.peers.keyshare.node(row.key_id, row.node_id);
    const manifest = req.manifest.body;
    const expectation = combineExpectation(manifest);
    const skipped: { shareIndex: number; code: string; message: string }[] = [];
    const provided: (ProvidedShare & { source: 'server' | 'external' })[] = [];
    let secret: Uint8Array | undefined;
    try {
      const identity = await this.peers.sessions.identity(row);
      const custodians = this.peers.registry.enabledCustodianKeys();
      const exportsRows = this.core.stmt('SELECT * FROM submitted_exports WHERE session_id = ? ORDER BY share_index').all(sid) as ExportRow[];
      for (const e of exportsRows) {
        try {
          const opened = await openRecoveryExport(blob(e.export), req, custodians, identity);
          provided.push({ index: opened.shareIndex, share: opened.share, setId: manifest.set_id, epoch: manifest.epoch, source: 'external' });
        } catch (error) {
          skipped.push({ shareIndex: e.share_index, code: codeOf(error), message: messageOf(error) });
        }
      }
      if (row.mode === 'mixed') {
        for (const index of this.peers.shares.heldIndexes(row.set_id)) {
          try {
            const share = await this.core.store.read({ kind: 'retained-share', keyId: row.key_id, nodeId: row.node_id, setId: row.set_id, index });
            const s = { index, share, setId: manifest.set_id, epoch: manifest.epoch };
            checkShare(expectation, s);
            provided.push({ ...s, source: 'server' });
          } catch (error) {
            skipped.push({ shareIndex: index, code: codeOf(error), message: messageOf(error) });
          }
        }
      }
      secret = await combineShares(expectation, provided);
      const chosen = [...provided].sort((a, b) => a.index - b.index).slice(0, manifest.threshold);
      const record = decodeSecretRecord(secret);

      let contextSource: 'stored' | 'peer' = 'stored';
      let context: PublicContext;
      if (options.peerKeydata !== undefined) {
        const peer = parseKeydata(options.peerKeydata);
        try {
          assertSelfCheck(peer);
        } catch (error) {
          throw new CustosError('KEYDATA_INVALID', `The peer's keydata file fails its own self-check; it cannot provide the public context. ${messageOf(error)}`, { cause: error });
        }
        context = publicContextFromPeer(peer, record.index);
        contextSource = 'peer';
        if (!constantTimeEqual(publicContextHash(context), manifest.public_context_hash)) {
          throw new CustosError('KEYDATA_INVALID', "The peer's keydata is for another key: its public context does not match this backup set's manifest.", {
            details: { field: 'public_context_hash' },
          });
        }
      } else {
        context = this.peers.keyshare.storedContext(node);
        if (!constantTimeEqual(publicContextHash(context), manifest.public_context_hash)) {
          throw new AgentError('CORRUPT_FILE', "The stored public context does not match the backup set's manifest; provide a peer's keydata file.");
        }
      }
      const regenerated = regenerateKeydata(record, context);
      const check = assertSelfCheck(regenerated);
      const keydataBytes = writeKeydata(regenerated);
      const keydataSha = fileHash(keydataBytes);
      const lines = selfCheckLines(check);
      const same = constantTimeEqual(keydataSha, node.keydata_sha256);
      lines.push(same ? { name: 'matchesImported', ok: true } : { name: 'matchesImported', ok: false, detail: 'the rebuilt keydata differs from the imported one' });
      if (!same) {
        wipe(keydataBytes);
        throw new CustosError('SELF_CHECK_FAILED', 'The rebuilt keydata differs from the keydata this node imported; nothing was written.', { details: { failed: ['matchesImported'] } });
      }

      try {
        await completion.apply(completing(row), secret, keydataBytes);
      } finally {
        wipe(keydataBytes);
      }

      const nowMs = this.core.now();
      const durationMs = nowMs - started;
      const sharesUsed = { server: chosen.filter((s) => s.source === 'server').length, external: chosen.filter((s) => s.source === 'external').length };
      inTransaction(this.core.db, () => {
        this.core.db
          .prepare("UPDATE recovery_sessions SET state = 'completed', identity_sealed = NULL, ended_at = ?, outcome = ? WHERE session_id = ?")
          .run(nowMs, completion.outcome, sid);
        completion.record(completing(row), nowMs, durationMs);
        this.core.audit({
          ...base,
          result: 'ok',
          ...setScope(row),
          target: completion.target,
          approver: approverList(this.peers.sessions.validApprovals(sid)),
          details: {
            session_id: sid,
            incident_id: row.incident_id,
            ...(row.incident_title === null ? {} : { incident_title: row.incident_title }),
            mode: row.mode,
            shares_server: sharesUsed.server,
            shares_external: sharesUsed.external,
            indexes: chosen.map((s) => s.index),
            context_source: contextSource,
            keydata_sha256: toHex(keydataSha),
            duration_ms: durationMs,
          },
        });
      });
      this.core.flushWal();
      return {
        success: true,
        session: this.peers.sessions.view(this.peers.sessions.row(sid)),
        sharesUsed,
        indexesUsed: chosen.map((s) => s.index),
        keydataSha256: toHex(keydataSha),
        selfCheck: lines,
        groupPublicKey: groupKeyOf(regenerated).compressed,
        contextSource,
        written: completion.writes,
        skipped,
        durationMs,
      };
    } finally {
      wipe(secret);
      for (const p of provided) wipe(p.share);
    }
  }
}

/** The session as a completion strategy sees it. */
function completing(row: SessionRow): CompletingSession {
  return { sessionId: row.session_id, keyId: row.key_id, nodeId: row.node_id, setId: row.set_id, mode: row.mode };
}
