/**
 * Recovery sessions (seeds SOP §5 恢复流程, docs/protocol.md §4.6–4.8): a session is opened for an
 * incident, approved by two distinct registered approvers over its details, then issues the
 * signed recovery request custodians export against, with a per-session age key that is
 * destroyed when the session ends (completed, cancelled or expired). Owns `recovery_sessions` and
 * `approvals`; exports and completion are ./recovery.ts.
 */
import { randomBytes } from 'node:crypto';
import { fromHex, fromUtf8, toHex, utf8, wipe } from '../../shared/bytes';
import { assertAgeIdentity, generateAgeKeyPair } from '../../shared/crypto/seal';
import { CustosError } from '../../shared/errors';
import {
  MIN_APPROVALS,
  decodeCanonical,
  encodeCanonical,
  incidentTitle,
  makeRecoveryRequest,
  normalizeIncidentTitle,
  openApproval,
  openRecoveryRequest,
  parseWith,
  sessionDetailsSchema,
  type OpenedRecoveryRequest,
  type SessionDetails,
} from '../../shared/protocol';
import type { OpContext, OpenSessionInput, OpenedSession, SessionView } from '../api';
import type { Backups } from '../backup/backup';
import { Capability, type AgentCore } from '../core/context';
import { blob, checkMode, frameSignature, sec, setScope } from '../core/util';
import { inTransaction, type SessionRow } from '../db';
import { AgentError } from '../errors';
import { checkBytes, checkIncidentId, checkKeyId, checkNodeId, checkSessionId } from '../ids';
import type { Keyshares } from '../keyshare/keyshare';
import { Approvals, approverList, type StoredApproval } from '../registry/approvals';
import type { Registry } from '../registry/registry';
import type { ServerShares } from '../retention/server-shares';

const DEFAULT_SESSION_TTL_S = 24 * 3600;
const MAX_SESSION_TTL_S = 7 * 24 * 3600;
const MIN_SESSION_TTL_S = 60;
export const TERMINAL: readonly SessionRow['state'][] = ['completed', 'failed', 'expired', 'cancelled'];

/**
 * An incident title from outside (CLI, RPC), in the form the session details carry: NFC, trimmed,
 * then checked by the protocol's rule (docs/protocol.md §4.5). The sentence never repeats the text.
 */
export function checkIncidentTitle(value: unknown): string {
  const problem = incidentTitleProblem(value);
  if (problem !== undefined) throw new CustosError('INVALID_PARAMETERS', `The incident title ${problem}.`, { details: { field: 'incident_title' } });
  return normalizeIncidentTitle(value as string);
}

/** Why `value` is not an incident title once normalised ("must be 1 to 200 characters"), or undefined. */
export function incidentTitleProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be text';
  const r = incidentTitle.safeParse(normalizeIncidentTitle(value));
  return r.success ? undefined : (r.error.issues[0]?.message ?? 'is not valid');
}

export interface SessionPeers {
  readonly registry: Pick<Registry, 'approver' | 'enabledApproverKeys' | 'enabledApproverFingerprints' | 'approverNames'>;
  readonly keyshare: Pick<Keyshares, 'node'>;
  readonly backup: Pick<Backups, 'setFor' | 'setById' | 'manifest'>;
  readonly shares: Pick<ServerShares, 'heldIndexes'>;
}

export class Sessions extends Capability<SessionPeers> {
  readonly #approvals: Approvals;

  constructor(core: AgentCore, peers: SessionPeers) {
    super(core, peers);
    this.#approvals = new Approvals(core, peers.registry, 'session');
  }

  /**
   * Opens a recovery session for an incident (seeds SOP §5): it needs two approvals, signed by
   * distinct registered approvers over the returned details, before it issues its request.
   */
  async open(input: OpenSessionInput, ctx: OpContext = {}): Promise<OpenedSession> {
    const base = { event: 'recover', action: 'session-open', operator: this.core.op(ctx) } as const;
    return this.core.audited(base, async () => {
      const incident = checkIncidentId(input.incidentId);
      const title = input.incidentTitle === undefined ? undefined : checkIncidentTitle(input.incidentTitle);
      const k = checkKeyId(input.keyId);
      const n = checkNodeId(input.nodeId);
      const mode = checkMode(input.mode);
      const ttl = input.ttlSeconds ?? DEFAULT_SESSION_TTL_S;
      if (!Number.isInteger(ttl) || ttl < MIN_SESSION_TTL_S || ttl > MAX_SESSION_TTL_S) {
        throw new CustosError('INVALID_PARAMETERS', `A session lifetime is ${String(MIN_SESSION_TTL_S)} to ${String(MAX_SESSION_TTL_S)} seconds.`, { details: { field: 'ttlSeconds' } });
      }
      this.expire();
      this.peers.keyshare.node(k, n);
      const set = this.peers.backup.setFor(k, n, input.setId);
      if (mode === 'mixed' && this.peers.shares.heldIndexes(set.set_id).length === 0) {
        throw new AgentError('FAILED_PRECONDITION', 'This backup set has no server-held shares left; open an external-only session.');
      }
      const nowMs = this.core.now();
      const sessionIdBytes = new Uint8Array(randomBytes(16));
      const sessionId = toHex(sessionIdBytes);
      const details: SessionDetails = parseWith(
        sessionDetailsSchema,
        { session_id: sessionIdBytes, incident_id: incident, ...(title === undefined ? {} : { incident_title: title }), key_id: k, node_id: n, set_id: fromHex(set.set_id), epoch: set.epoch, mode, not_after: sec(nowMs) + ttl },
        'session details',
      );
      const detailsCbor = encodeCanonical(details);
      const age = await generateAgeKeyPair();
      const sealed = await this.core.store.seal({ kind: 'session-identity', sessionId }, utf8(age.identity));
      inTransaction(this.core.db, () => {
        this.core.db
          .prepare(
            "INSERT INTO recovery_sessions (session_id, incident_id, incident_title, key_id, node_id, set_id, epoch, mode, not_after, details, state, recipient, identity_sealed, operator, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'awaiting-approvals', ?, ?, ?, ?)",
          )
          .run(sessionId, incident, title ?? null, k, n, set.set_id, set.epoch, mode, details.not_after, detailsCbor, age.recipient, sealed, this.core.op(ctx), nowMs);
        this.core.audit({ ...base, result: 'ok', ...setScope(set), target: `session:${sessionId}`, details: { incident_id: incident, ...(title === undefined ? {} : { incident_title: title }), mode, not_after: details.not_after } });
      });
      return { session: this.get(sessionId), details, detailsCbor };
    });
  }

  get(sessionId: string): SessionView {
    return this.view(this.row(checkSessionId(sessionId)));
  }

  /** The details approvers sign over, as the object and as canonical CBOR (for a file). */
  details(sessionId: string): { details: SessionDetails; detailsCbor: Uint8Array } {
    const row = this.row(checkSessionId(sessionId));
    return { details: this.#detailsOf(row), detailsCbor: blob(row.details) };
  }

  list(filter: { keyId?: string; nodeId?: string } = {}): SessionView[] {
    this.expire();
    const k = filter.keyId === undefined ? null : checkKeyId(filter.keyId);
    const n = filter.nodeId === undefined ? null : checkNodeId(filter.nodeId);
    // One of four fixed texts, so a filtered list uses the (key_id, node_id) index: the
    // `(? IS NULL OR key_id = ?)` form kept SQLite off it (issue 10).
    const where = [...(k === null ? [] : ['key_id = ?']), ...(n === null ? [] : ['node_id = ?'])];
    const sql = `SELECT * FROM recovery_sessions${where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`} ORDER BY created_at DESC`;
    const rows = this.core.stmt(sql).all(...[k, n].filter((x) => x !== null)) as SessionRow[];
    return rows.map((r) => this.view(r));
  }

  /** Sessions by state, counted by SQL (the metrics need counts, not a view of every session). */
  countByState(): Map<SessionView['state'], number> {
    this.expire();
    const rows = this.core.stmt('SELECT state, count(*) AS n FROM recovery_sessions GROUP BY state').all() as { state: SessionView['state']; n: number }[];
    return new Map(rows.map((r) => [r.state, r.n]));
  }

  /**
   * The one session of a key and node that is still open (awaiting approvals or collecting), or
   * undefined; FAILED_PRECONDITION when there are several (name one by id then).
   */
  findOpen(keyId: string, nodeId: string): SessionView | undefined {
    const k = checkKeyId(keyId);
    const n = checkNodeId(nodeId);
    this.expire();
    const rows = this.core.db
      .prepare("SELECT * FROM recovery_sessions WHERE key_id = ? AND node_id = ? AND state IN ('awaiting-approvals', 'collecting') ORDER BY created_at")
      .all(k, n) as SessionRow[];
    if (rows.length > 1) {
      throw new AgentError(
        'FAILED_PRECONDITION',
        `${String(rows.length)} recovery sessions are open for key ${k} node ${n} (${rows.map((r) => r.session_id).join(', ')}); name one with session_id.`,
        { details: { keyId: k, nodeId: n, open: rows.length } },
      );
    }
    const row = rows[0];
    return row === undefined ? undefined : this.view(row);
  }

  /** Records one approval: a registered, enabled approver's signature over this session's details. */
  async addApproval(sessionId: string, approvalBytes: Uint8Array, ctx: OpContext = {}): Promise<SessionView> {
    const base = { event: 'recover', action: 'approval-add', operator: this.core.op(ctx) } as const;
    return this.core.audited(base, () => {
      const sid = checkSessionId(sessionId);
      checkBytes(approvalBytes, 'approval', 4096);
      return this.core.locks.run(`session:${sid}`, () => {
        const row = this.live(sid);
        if (row.request !== null) throw new AgentError('FAILED_PRECONDITION', 'The recovery request was issued already; approvals are closed for this session.');
        const details = this.#detailsOf(row);
        const opened = openApproval(approvalBytes, details, this.peers.registry.enabledApproverKeys());
        const fp = toHex(opened.fingerprint);
        this.peers.registry.approver(fp);
        return Promise.resolve(
          inTransaction(this.core.db, () => {
            const approver = this.#approvals.add(sid, approvalBytes, { fingerprint: fp, approverName: opened.body.approver_name, approvedAt: opened.body.approved_at });
            this.core.audit({
              ...base,
              result: 'ok',
              ...setScope(row),
              approver: `${approver.name} (${fp})`,
              signature: frameSignature(approvalBytes),
              target: `session:${sid}`,
            });
            return this.view(this.row(sid));
          }),
        );
      });
    });
  }

  /**
   * Issues the signed recovery request (at least two approvals by distinct enabled approvers).
   * Asking again returns the same request.
   */
  async request(sessionId: string, ctx: OpContext = {}): Promise<Uint8Array> {
    const base = { event: 'recover', action: 'request-issue', operator: this.core.op(ctx) } as const;
    return this.core.audited(base, () => {
      const sid = checkSessionId(sessionId);
      return this.core.locks.run(`session:${sid}`, () => {
        const row = this.live(sid);
        if (row.request !== null) return Promise.resolve(blob(row.request));
        const approvals = this.#approved(sid);
        const set = this.peers.backup.setById(row.set_id);
        const request = makeRecoveryRequest(
          { session: this.#detailsOf(row), approvals: approvals.map((a) => blob(a.approval)), recipient: row.recipient, manifest: blob(set.manifest), created_at: sec(this.core.now()) },
          this.core.signing,
        );
        const opened = openRecoveryRequest(request, this.core.signing.publicKey, sec(this.core.now()), this.peers.registry.enabledApproverKeys());
        return Promise.resolve(
          inTransaction(this.core.db, () => {
            this.core.stmt("UPDATE recovery_sessions SET request = ?, request_sha256 = ?, state = 'collecting' WHERE session_id = ?").run(request, toHex(opened.hash), sid);
            this.core.audit({
              ...base,
              result: 'ok',
              ...setScope(row),
              signature: frameSignature(request),
              approver: approverList(approvals),
              target: `session:${sid}`,
              details: { request_sha256: toHex(opened.hash) },
            });
            return request;
          }),
        );
      });
    });
  }

  /**
   * Takes custodians' recovery exports. Each is verified (registered custodian's signature, session
   * and request binding, key/node/set/epoch, the manifest assigns the index to that custodian,
   * decryption with the session key, the share commitment). A bad one is refused and named; the
   * good ones are kept.
   */

  /** Ends a session without recovering; its key is destroyed. */
  async cancel(sessionId: string, ctx: OpContext = {}): Promise<SessionView> {
    const base = { event: 'recover', action: 'session-cancel', operator: this.core.op(ctx) } as const;
    return this.core.audited(base, () => {
      const sid = checkSessionId(sessionId);
      return this.core.locks.run(`session:${sid}`, () => {
        const row = this.live(sid);
        inTransaction(this.core.db, () => {
          this.core.stmt("UPDATE recovery_sessions SET state = 'cancelled', identity_sealed = NULL, ended_at = ?, outcome = 'cancelled' WHERE session_id = ?").run(this.core.now(), sid);
          this.core.audit({ ...base, result: 'ok', ...setScope(row), target: `session:${sid}` });
        });
        this.core.flushWal();
        return Promise.resolve(this.get(sid));
      });
    });
  }

  /** Marks every session past its expiry as expired and destroys its key; returns how many. */
  expire(): number {
    const nowMs = this.core.now();
    const due = this.core.db
      .prepare("SELECT * FROM recovery_sessions WHERE state IN ('awaiting-approvals', 'collecting') AND not_after * 1000 < ?")
      .all(nowMs) as SessionRow[];
    for (const row of due) this.#expireOne(row);
    return due.length;
  }

  // ── for ./recovery.ts and the other modules ──

  /**
   * A completed external-only session of this set on this agent (a drill, or a real recovery): the
   * evidence zero retention needs. A drill only recorded by hand (`recordDrill`) does not count.
   */
  externalOnlySession(setId: string): string | undefined {
    const row = this.core.db
      .prepare("SELECT session_id FROM recovery_sessions WHERE set_id = ? AND mode = 'external-only' AND state = 'completed' AND outcome IN ('drill-ok', 'recovered') ORDER BY ended_at DESC LIMIT 1")
      .get(setId) as { session_id: string } | undefined;
    return row?.session_id;
  }

  /** The session's approvals whose approver is still registered and enabled. */
  validApprovals(sid: string): StoredApproval[] {
    return this.#approvals.valid(sid);
  }

  row(sid: string): SessionRow {
    const row = this.core.stmt('SELECT * FROM recovery_sessions WHERE session_id = ?').get(sid) as SessionRow | undefined;
    if (row === undefined) throw new AgentError('NOT_FOUND', 'No recovery session with this id.', { details: { sessionId: sid } });
    return row;
  }

  /** A session that may still be worked on; expires it (and throws EXPIRED) when its time is up. */
  live(sid: string): SessionRow {
    const row = this.row(sid);
    if (row.state === 'expired') {
      throw new CustosError('EXPIRED', 'This recovery session has expired and its key was destroyed; open a new session.', { details: { sessionId: sid } });
    }
    if (TERMINAL.includes(row.state)) {
      throw new AgentError('FAILED_PRECONDITION', `This recovery session has ended (${row.state}); open a new session.`, { details: { sessionId: sid, state: row.state } });
    }
    if (this.core.now() > row.not_after * 1000) {
      this.#expireOne(row);
      throw new CustosError('EXPIRED', 'This recovery session has expired and its key was destroyed; open a new session.', { details: { sessionId: sid, notAfter: row.not_after } });
    }
    return row;
  }

  #expireOne(row: SessionRow): void {
    let changed = 0;
    inTransaction(this.core.db, () => {
      changed = this.core.db
        .prepare("UPDATE recovery_sessions SET state = 'expired', identity_sealed = NULL, ended_at = ?, outcome = 'expired' WHERE session_id = ? AND state IN ('awaiting-approvals', 'collecting')")
        .run(this.core.now(), row.session_id).changes;
      if (changed > 0) {
        this.core.audit({ event: 'recover', action: 'session-expire', result: 'ok', ...setScope(row), target: `session:${row.session_id}`, operator: 'agent' });
      }
    });
    if (changed > 0) this.core.flushWal();
  }

  #detailsOf(row: SessionRow): SessionDetails {
    return parseWith(sessionDetailsSchema, decodeCanonical(blob(row.details), 'session details'), 'session details');
  }

  /** The session's valid approvals, at least MIN_APPROVALS of them; APPROVAL_REQUIRED otherwise. */
  #approved(sid: string): StoredApproval[] {
    const approvals = this.validApprovals(sid);
    if (approvals.length < MIN_APPROVALS) {
      throw new CustosError('APPROVAL_REQUIRED', `${String(approvals.length)} approval(s) of the ${String(MIN_APPROVALS)} required from different registered approvers.`, {
        details: { have: approvals.length, need: MIN_APPROVALS },
      });
    }
    return approvals;
  }

  /** The verified recovery request of a live session (approvals and request checked). */
  openRequest(row: SessionRow): OpenedRecoveryRequest {
    this.#approved(row.session_id);
    if (row.request === null) throw new AgentError('FAILED_PRECONDITION', 'Issue the recovery request first; custodians export against it.');
    return openRecoveryRequest(blob(row.request), this.core.signing.publicKey, sec(this.core.now()), this.peers.registry.enabledApproverKeys());
  }

  async identity(row: SessionRow): Promise<string> {
    if (row.identity_sealed === null) throw new AgentError('FAILED_PRECONDITION', 'This session\'s key was destroyed.');
    const plain = await this.core.store.open({ kind: 'session-identity', sessionId: row.session_id }, blob(row.identity_sealed));
    try {
      const identity = fromUtf8(plain);
      assertAgeIdentity(identity);
      return identity;
    } finally {
      wipe(plain);
    }
  }

  view(row: SessionRow): SessionView {
    const set = this.peers.backup.setById(row.set_id);
    const m = this.peers.backup.manifest(set);
    const approvals = this.#approvals.list(row.session_id);
    const received = (this.core.stmt('SELECT share_index FROM submitted_exports WHERE session_id = ? ORDER BY share_index').all(row.session_id) as { share_index: number }[]).map(
      (r) => r.share_index,
    );
    const external = m.shares.filter((s) => s.custodian !== null).map((s) => s.index);
    const live = !TERMINAL.includes(row.state);
    return {
      sessionId: row.session_id,
      incidentId: row.incident_id,
      ...(row.incident_title === null ? {} : { incidentTitle: row.incident_title }),
      ...setScope(row),
      mode: row.mode,
      state: row.state,
      notAfter: row.not_after,
      approvals,
      threshold: set.threshold,
      received,
      missing: external.filter((i) => !received.includes(i)),
      serverAvailable: row.mode === 'mixed' && live ? this.peers.shares.heldIndexes(row.set_id) : [],
      requestIssued: row.request !== null,
      createdAt: sec(row.created_at),
      ...(row.ended_at === null ? {} : { endedAt: sec(row.ended_at) }),
    };
  }
}
