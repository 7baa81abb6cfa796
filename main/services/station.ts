/**
 * The recovery station (issue 4, "Recovery station"): on the ops machine that can reach the agent,
 * custodians' recovery exports arrive (camera frames, QR images, files), are grouped by recovery
 * session, and the station shows which shares of the session have arrived and which are still
 * missing, then submits them to the linked agent's recovery session (RecoverMPCShare).
 *
 * What the station checks itself, before anything is sent:
 *   - each export is a well-formed recovery export whose signature verifies under the key that
 *     signed it (so a damaged scan is refused here, by name);
 *   - once the session's recovery request was added, each export names that request (its hash)
 *     and the same key, node, backup set and epoch (SESSION_MISMATCH, SET_MISMATCH otherwise).
 * Whether the signer really is the custodian the manifest assigns the index to, and whether the
 * share matches its commitment, only the agent can tell (it holds the custodian registry and the
 * session's one-time key): its answer is shown per share after `submit`.
 *
 * A recovery request added here is verified against the pinned agent key when a vault with a
 * pinned agent is unlocked on this machine (`verified`); otherwise only its own signatures (agent,
 * manifest, approvals) are checked, and the view says so.
 *
 * State lives in memory for the app's run: the exports stay in the custodians' files anyway.
 */
import { toHex } from '../../shared/bytes';
import { groupKeyFromEncoding, type GroupKey } from '../../shared/keydata/group-key';
import { fileHash } from '../../shared/crypto/hash';
import { aOrAn } from '../../shared/article';
import { CustosError } from '../../shared/errors';
import { MIN_APPROVALS, openApprovals, openManifest, openMessage, openRecoveryRequest, peekMessage, recoveryExportSchema, recoveryRequestSchema, trustKey, checkSessionMatchesManifest } from '../../shared/protocol';
import type { RecoverMPCShareResponse, RecoverySession } from '../../proto/gen/infra/v1/backup_pb';
import { RecoveryMode, SessionState } from '../../proto/gen/infra/v1/backup_pb';
import { printableText } from './agent-client';
import type { AnyErrorCode } from './errors';
import { explain, MESSAGES, sentences, type Explained } from './messages';

export interface StationItem {
  readonly shareIndex: number;
  readonly name: string;
  readonly hash: string;
  readonly signer: string;
  readonly createdAt: number;
  readonly requestHash: string;
  readonly bytes: Uint8Array;
  submitted: 'pending' | 'accepted' | 'refused';
  problem?: Explained;
}

export interface StationRequest {
  readonly hash: string;
  readonly verified: boolean;
  readonly incidentId: string;
  /** The session's free-text incident title (issue 13), when it has one. */
  readonly incidentTitle?: string;
  readonly mode: 'mixed' | 'external-only';
  readonly threshold: number;
  readonly total: number;
  readonly notAfter: number;
  /** Custodian-held indexes (manifest entries with a custodian). */
  readonly expected: readonly number[];
}

export interface AgentSessionView {
  readonly state: 'unspecified' | 'awaiting-approvals' | 'collecting' | 'completed' | 'failed' | 'expired' | 'cancelled';
  readonly incidentId: string;
  readonly threshold: number;
  readonly received: readonly number[];
  readonly missing: readonly number[];
  readonly server: readonly number[];
  readonly approvals: readonly { name: string; fingerprint: string }[];
  readonly notAfter?: number;
  readonly fetchedAt: number;
}

interface SessionRecord {
  readonly sessionId: string;
  readonly keyId: string;
  readonly nodeId: string;
  readonly setId: string;
  readonly epoch: number;
  request: StationRequest | null;
  readonly items: StationItem[];
  agent: AgentSessionView | null;
}

export interface StationSessionView {
  readonly sessionId: string;
  readonly keyId: string;
  readonly nodeId: string;
  readonly setId: string;
  readonly epoch: number;
  readonly incidentId?: string;
  readonly incidentTitle?: string;
  readonly mode?: 'mixed' | 'external-only';
  readonly threshold?: number;
  readonly total?: number;
  readonly notAfter?: number;
  readonly request: { hash: string; verified: boolean } | null;
  readonly expected: number[];
  readonly arrived: { shareIndex: number; name: string; hash: string; signer: string; createdAt: number; submitted: 'pending' | 'accepted' | 'refused'; problem?: Explained }[];
  readonly missing: number[];
  readonly agent: AgentSessionView | null;
}

export interface AddOutcome {
  readonly name: string;
  readonly kind: 'recovery-export' | 'recovery-request' | 'other';
  readonly outcome: 'added' | 'duplicate' | 'refused';
  readonly sessionId?: string;
  readonly shareIndex?: number;
  readonly problem?: Explained;
}

const STATES: Record<SessionState, AgentSessionView['state']> = {
  [SessionState.UNSPECIFIED]: 'unspecified',
  [SessionState.AWAITING_APPROVALS]: 'awaiting-approvals',
  [SessionState.COLLECTING]: 'collecting',
  [SessionState.COMPLETED]: 'completed',
  [SessionState.FAILED]: 'failed',
  [SessionState.EXPIRED]: 'expired',
  [SessionState.CANCELLED]: 'cancelled',
};

const sorted = (xs: Iterable<number>): number[] => [...new Set(xs)].sort((a, b) => a - b);

/** The agent's RecoverySession as the station shows it. */
export function agentSessionView(s: RecoverySession | undefined, fetchedAt: number): AgentSessionView | null {
  if (s === undefined) return null;
  return {
    state: STATES[s.state],
    incidentId: s.incidentId,
    threshold: s.threshold,
    received: sorted(s.receivedShareIndexes),
    missing: sorted(s.missingShareIndexes),
    server: sorted(s.serverShareIndexes),
    approvals: s.approvals.map((a) => ({ name: a.name, fingerprint: a.approver })),
    ...(s.notAfter === undefined ? {} : { notAfter: Number(s.notAfter.seconds) }),
    fetchedAt,
  };
}

export const recoveryModeOf = (m: RecoveryMode): 'mixed' | 'external-only' | undefined =>
  m === RecoveryMode.MIXED ? 'mixed' : m === RecoveryMode.EXTERNAL_ONLY ? 'external-only' : undefined;

export class Station {
  readonly #sessions = new Map<string, SessionRecord>();

  #session(facts: { sessionId: string; keyId: string; nodeId: string; setId: string; epoch: number }): SessionRecord {
    let s = this.#sessions.get(facts.sessionId);
    if (s === undefined) {
      s = { ...facts, request: null, items: [], agent: null };
      this.#sessions.set(facts.sessionId, s);
    } else if (s.keyId !== facts.keyId || s.nodeId !== facts.nodeId || s.setId !== facts.setId || s.epoch !== facts.epoch) {
      throw new CustosError('SET_MISMATCH', `This file names recovery session ${facts.sessionId.slice(0, 8)}… but another key, node or backup set than the files already added for it.`);
    }
    return s;
  }

  /**
   * Adds message files. `agentKey`: the pinned agent key, when a vault with a pinned agent is
   * unlocked here (recovery requests are then verified against it).
   */
  add(messages: readonly { name: string; bytes: Uint8Array }[], options: { agentKey?: Uint8Array; now: number }): AddOutcome[] {
    return messages.map((m) => {
      let kind: AddOutcome['kind'] = 'other';
      try {
        const type = peekMessage(m.bytes).type;
        if (type === 'recovery-export') {
          kind = 'recovery-export';
          return this.#addExport(m);
        }
        if (type === 'recovery-request') {
          kind = 'recovery-request';
          return this.#addRequest(m, options);
        }
        throw new CustosError('WRONG_TYPE', `The recovery station takes recovery exports and recovery requests; this file is ${aOrAn(type)}.`, { details: { got: type } });
      } catch (error) {
        return { name: m.name, kind, outcome: 'refused', problem: explain(error) };
      }
    });
  }

  #addExport(m: { name: string; bytes: Uint8Array }): AddOutcome {
    const signer = peekMessage(m.bytes).signer;
    // The custodian's own signature: proves the scan is intact. Whose key it is, the agent checks.
    const opened = openMessage(m.bytes, 'recovery-export', recoveryExportSchema, trustKey(signer));
    const b = opened.body;
    const sessionId = toHex(b.session_id);
    const s = this.#session({ sessionId, keyId: b.key_id, nodeId: b.node_id, setId: toHex(b.set_id), epoch: b.epoch });
    const hash = toHex(fileHash(m.bytes));
    if (s.items.some((i) => i.hash === hash)) return { name: m.name, kind: 'recovery-export', outcome: 'duplicate', sessionId, shareIndex: b.share_index };
    const item: StationItem = {
      shareIndex: b.share_index,
      name: m.name.slice(0, 500),
      hash,
      signer: toHex(signer),
      createdAt: b.created_at,
      requestHash: toHex(b.request_hash),
      bytes: Uint8Array.from(m.bytes),
      submitted: 'pending',
    };
    checkAgainstRequest(s, item);
    s.items.push(item);
    if (item.problem !== undefined) return { name: m.name, kind: 'recovery-export', outcome: 'refused', sessionId, shareIndex: b.share_index, problem: item.problem };
    return { name: m.name, kind: 'recovery-export', outcome: 'added', sessionId, shareIndex: b.share_index };
  }

  #addRequest(m: { name: string; bytes: Uint8Array }, options: { agentKey?: Uint8Array; now: number }): AddOutcome {
    let facts: { session: { session_id: Uint8Array; incident_id: string; incident_title?: string | undefined; key_id: string; node_id: string; set_id: Uint8Array; epoch: number; mode: 'mixed' | 'external-only'; not_after: number }; manifest: { threshold: number; total: number; shares: readonly { index: number; custodian: Uint8Array | null }[] } };
    let verified: boolean;
    if (options.agentKey !== undefined) {
      const req = openRecoveryRequest(m.bytes, options.agentKey, options.now);
      facts = { session: req.session, manifest: req.manifest.body };
      verified = true;
    } else {
      // No pinned agent here: its own signatures only (agent on request and manifest, approvers).
      const signer = peekMessage(m.bytes).signer;
      const request = openMessage(m.bytes, 'recovery-request', recoveryRequestSchema, trustKey(signer));
      const manifest = openManifest(request.body.manifest, signer);
      checkSessionMatchesManifest(request.body.session, manifest.body);
      openApprovals(request.body.approvals, request.body.session, MIN_APPROVALS);
      facts = { session: request.body.session, manifest: manifest.body };
      verified = false;
    }
    const sess = facts.session;
    const sessionId = toHex(sess.session_id);
    const s = this.#session({ sessionId, keyId: sess.key_id, nodeId: sess.node_id, setId: toHex(sess.set_id), epoch: sess.epoch });
    const hash = toHex(fileHash(m.bytes));
    if (s.request !== null && s.request.hash === hash && (s.request.verified || !verified)) {
      return { name: m.name, kind: 'recovery-request', outcome: 'duplicate', sessionId };
    }
    s.request = {
      hash,
      verified,
      incidentId: sess.incident_id,
      ...(sess.incident_title === undefined ? {} : { incidentTitle: sess.incident_title }),
      mode: sess.mode,
      threshold: facts.manifest.threshold,
      total: facts.manifest.total,
      notAfter: sess.not_after,
      expected: facts.manifest.shares.filter((x) => x.custodian !== null).map((x) => x.index),
    };
    for (const item of s.items) checkAgainstRequest(s, item);
    return { name: m.name, kind: 'recovery-request', outcome: 'added', sessionId };
  }

  has(sessionId: string): boolean {
    return this.#sessions.has(sessionId);
  }

  #get(sessionId: string): SessionRecord {
    const s = this.#sessions.get(sessionId);
    if (s === undefined) throw new CustosError('SESSION_MISMATCH', `No recovery session ${sessionId.slice(0, 8)}… is at the station; add its exports first.`, { details: { sessionId } });
    return s;
  }

  /** Removes one export, or the whole session. */
  remove(sessionId: string, hash?: string): void {
    const s = this.#get(sessionId);
    if (hash === undefined) {
      this.#sessions.delete(sessionId);
      return;
    }
    const at = s.items.findIndex((i) => i.hash === hash);
    if (at < 0) throw new CustosError('INVALID_PARAMETERS', 'No export with that hash is in this session.');
    s.items.splice(at, 1);
  }

  /** The facts an agent call needs, and the exports not yet sent (without problems). */
  pending(sessionId: string): { keyId: string; nodeId: string; items: StationItem[] } {
    const s = this.#get(sessionId);
    return { keyId: s.keyId, nodeId: s.nodeId, items: s.items.filter((i) => i.submitted === 'pending' && i.problem === undefined) };
  }

  /** Records the agent's answer to a submission of `sent`. */
  recordAnswer(sessionId: string, sent: readonly StationItem[], r: RecoverMPCShareResponse, now: number): void {
    const refusedByIndex = new Map(r.refused.map((x) => [x.shareIndex, x]));
    const accepted = new Set(r.acceptedShareIndexes);
    for (const item of sent) {
      const refusal = refusedByIndex.get(item.shareIndex);
      if (accepted.has(item.shareIndex) && refusal === undefined) {
        item.submitted = 'accepted';
        delete item.problem;
      } else if (refusal !== undefined) {
        item.submitted = 'refused';
        item.problem = agentRefusal(refusal.code, refusal.message);
      }
    }
    this.recordAgentView(sessionId, r.session, now);
  }

  recordAgentView(sessionId: string, session: RecoverySession | undefined, now: number): void {
    this.#get(sessionId).agent = agentSessionView(session, now);
  }

  view(sessionId: string): StationSessionView {
    return viewOf(this.#get(sessionId));
  }

  list(): StationSessionView[] {
    return [...this.#sessions.values()].map(viewOf);
  }
}

/**
 * The recovered keydata's group public key the agent reported on completion (issue 12), in the
 * forms a person compares (compressed point; Ethereum address or base58 key), or undefined when it
 * sent none (an agent before this field) or bytes that are no point of either curve (33 bytes:
 * secp256k1, 32: ed25519). Checked on the curve here, not taken as text from the agent.
 */
export function reportedGroupKey(bytes: Uint8Array): GroupKey | undefined {
  if (bytes.length !== 33 && bytes.length !== 32) return undefined;
  try {
    return groupKeyFromEncoding(bytes.length === 33 ? 'secp256k1' : 'ed25519', bytes);
  } catch {
    return undefined;
  }
}

/** A refusal the agent reported for one share: its code when the app knows it, else AGENT_REFUSED. */
export function agentRefusal(code: string, message: string): Explained {
  const detail = printableText(message, 500);
  if (Object.hasOwn(MESSAGES, code)) {
    const known = code as AnyErrorCode;
    return { code: known, message: sentences(known, {}), detail, details: { agentCode: code } };
  }
  return { code: 'AGENT_REFUSED', message: sentences('AGENT_REFUSED', { agentCode: code }), detail, details: { agentCode: code } };
}

function checkAgainstRequest(s: SessionRecord, item: StationItem): void {
  if (s.request === null || item.submitted !== 'pending') return;
  if (item.requestHash !== s.request.hash) {
    item.problem = explain(new CustosError('SESSION_MISMATCH', `The export of share ${String(item.shareIndex)} ("${item.name}") was made for another recovery request of this session. Ask the custodian to export again for the current request.`, { details: { shareIndex: item.shareIndex } }));
  } else if (!s.request.expected.includes(item.shareIndex)) {
    item.problem = explain(new CustosError('SET_MISMATCH', `Share ${String(item.shareIndex)} is not a custodian share of this backup set.`, { details: { shareIndex: item.shareIndex } }));
  } else {
    delete item.problem;
  }
}

function viewOf(s: SessionRecord): StationSessionView {
  const good = s.items.filter((i) => i.problem === undefined || i.submitted === 'accepted');
  const arrivedIdx = new Set(good.map((i) => i.shareIndex));
  const expected = s.request?.expected ?? [];
  const agentMissing = s.agent?.missing ?? [];
  const missing = expected.length > 0 ? expected.filter((i) => !arrivedIdx.has(i)) : agentMissing.filter((i) => !arrivedIdx.has(i));
  const r = s.request;
  return {
    sessionId: s.sessionId,
    keyId: s.keyId,
    nodeId: s.nodeId,
    setId: s.setId,
    epoch: s.epoch,
    ...(r === null ? {} : { incidentId: r.incidentId, ...(r.incidentTitle === undefined ? {} : { incidentTitle: r.incidentTitle }), mode: r.mode, threshold: r.threshold, total: r.total, notAfter: r.notAfter }),
    request: r === null ? null : { hash: r.hash, verified: r.verified },
    expected: [...expected],
    arrived: s.items.map((i) => ({
      shareIndex: i.shareIndex,
      name: i.name,
      hash: i.hash,
      signer: i.signer,
      createdAt: i.createdAt,
      submitted: i.submitted,
      ...(i.problem === undefined ? {} : { problem: i.problem }),
    })),
    missing: sorted(missing),
    agent: s.agent,
  };
}
