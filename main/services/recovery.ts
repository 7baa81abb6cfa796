/**
 * Recovery export (docs/protocol.md §4.6, §4.7). The agent's signed recovery request is verified
 * against the pinned agent key (its manifest too, two approvals by distinct approvers over exactly
 * this session, not expired), then shown in plain words: incident, key, node, backup set, mode,
 * approvals with names and codes, expiry. Exporting needs a deliberate confirmation: the caller
 * passes back `summary.confirmation`, which names this exact request (its hash), so a confirmation
 * given for one request can never export for another. The share is sealed to the session's one-time
 * age recipient and signed (makeRecoveryExport), written as a file and optionally as QR frames
 * (`custos-recovery-export`, PNG/SVG), the share is marked `exported`, and the export is audited.
 */
import { constantTimeEqual, toHex } from '../../shared/bytes';
import { fileHash } from '../../shared/crypto/hash';
import { openAgentCard } from '../../shared/protocol/identity';
import { makeRecoveryExport } from '../../shared/protocol/recovery-export';
import { openRecoveryRequest, type OpenedRecoveryRequest } from '../../shared/protocol/recovery-request';
import { ServiceError } from './errors';
import { explain, type Explained } from './messages';
import { writeMessageFiles, type QrOptions, type WrittenFiles } from './qr-files';
import type { ShareRecord, VaultState } from './state';
import { earlierAgentKeys, pinnedAgentKey } from './trust';
import type { Vault } from './vault';

export interface RecoverySummary {
  readonly requestHash: string;
  readonly sessionId: string;
  readonly incidentId: string;
  readonly keyId: string;
  readonly nodeId: string;
  readonly setId: string;
  readonly epoch: number;
  readonly mode: 'mixed' | 'external-only';
  readonly notAfter: number;
  readonly createdAt: number;
  readonly threshold: number;
  readonly total: number;
  readonly agent: { readonly name: string; readonly code: string };
  readonly approvals: readonly { readonly name: string; readonly code: string; readonly fingerprint: string; readonly approvedAt: number }[];
  /** The share of this set the vault holds, if any. */
  readonly share: { readonly id: string; readonly shareIndex: number; readonly status: string } | null;
  readonly exportable: boolean;
  /** Why it cannot be exported, when it cannot. */
  readonly problem?: Explained;
  /** Non-blocking remarks: the share is superseded, was exported before, … */
  readonly warnings: readonly string[];
  /** What `exportForRecovery` must be given back: names this exact request. */
  readonly confirmation: string;
}

interface Checked {
  readonly req: OpenedRecoveryRequest;
  readonly record: ShareRecord | undefined;
  readonly problem: ServiceError | undefined;
  readonly warnings: string[];
}

function check(state: Readonly<VaultState>, req: OpenedRecoveryRequest, me: Uint8Array): Checked {
  const m = req.manifest.body;
  const setId = toHex(m.set_id);
  const mine = m.shares.find((s) => s.custodian !== null && constantTimeEqual(s.custodian, me));
  const warnings: string[] = [];
  if (mine === undefined) {
    return { req, record: undefined, problem: new ServiceError('NO_MATCHING_SHARE', 'The manifest of this request assigns no share of the set to you.'), warnings };
  }
  const record = state.shares.find((r) => r.keyId === m.key_id && r.nodeId === m.node_id && r.setId === setId && r.epoch === m.epoch && r.shareIndex === mine.index);
  if (record === undefined) {
    return { req, record, problem: new ServiceError('NO_MATCHING_SHARE', `Your vault does not hold share ${String(mine.index)} of ${m.key_id}/${m.node_id} (set ${setId.slice(0, 8)}…).`), warnings };
  }
  if (record.manifestHash !== toHex(fileHash(req.request.body.manifest))) {
    return { req, record, problem: new ServiceError('INVALID_STATE', 'The request carries a different manifest for this backup set than the one your envelope came with. Ask the operator.'), warnings };
  }
  if (record.status === 'deleted') {
    return { req, record, problem: new ServiceError('INVALID_STATE', 'This share is deleted (cooling period). Roll the deletion back first if this recovery is legitimate.'), warnings };
  }
  if (record.status === 'superseded') warnings.push('This share belongs to a backup set the agent has superseded.');
  const earlier = record.exports.filter((e) => e.sessionId === toHex(req.session.session_id)).length;
  if (earlier > 0) warnings.push(`This share was already exported for this session (${String(earlier)} time(s)).`);
  return { req, record, problem: undefined, warnings };
}

function summarize(c: Checked, agentName: string, agentCode: string): RecoverySummary {
  const s = c.req.session;
  const m = c.req.manifest.body;
  return {
    requestHash: toHex(c.req.hash),
    sessionId: toHex(s.session_id),
    incidentId: s.incident_id,
    keyId: s.key_id,
    nodeId: s.node_id,
    setId: toHex(s.set_id),
    epoch: s.epoch,
    mode: s.mode,
    notAfter: s.not_after,
    createdAt: c.req.request.body.created_at,
    threshold: m.threshold,
    total: m.total,
    agent: { name: agentName, code: agentCode },
    approvals: c.req.approvals.map((a) => ({ name: a.body.approver_name, code: a.code, fingerprint: toHex(a.fingerprint), approvedAt: a.body.approved_at })),
    share: c.record === undefined ? null : { id: c.record.id, shareIndex: c.record.shareIndex, status: c.record.status },
    exportable: c.problem === undefined,
    ...(c.problem === undefined ? {} : { problem: explain(c.problem) }),
    warnings: c.warnings,
    confirmation: toHex(c.req.hash),
  };
}

function openRequest(vault: Vault, bytes: Uint8Array): { checked: Checked; agentName: string; agentCode: string } {
  const agentKey = pinnedAgentKey(vault);
  const req = openRecoveryRequest(bytes, agentKey, vault.now(), undefined, earlierAgentKeys(vault));
  const agent = vault.state.agent;
  const card = agent === null ? undefined : openAgentCard(agent.card);
  return { checked: check(vault.state, req, vault.fingerprint), agentName: card?.body.name ?? '', agentCode: card?.code ?? '' };
}

/** Verifies a recovery request and describes it; changes nothing. */
export function showRecoveryRequest(vault: Vault, bytes: Uint8Array): RecoverySummary {
  const { checked, agentName, agentCode } = openRequest(vault, bytes);
  return summarize(checked, agentName, agentCode);
}

export interface RecoveryExportResult {
  readonly summary: RecoverySummary;
  readonly bytes: Uint8Array;
  /** SHA-256 of the export file, hex. */
  readonly hash: string;
  readonly baseName: string;
}

/**
 * Exports the share for the request. `confirmation` must be the summary's `confirmation` for this
 * very request (CONFIRMATION_REQUIRED otherwise). Everything is verified again here.
 */
export async function exportForRecovery(vault: Vault, bytes: Uint8Array, confirmation: string | undefined): Promise<RecoveryExportResult> {
  const agentKey = pinnedAgentKey(vault);
  const outcome = await vault.update(async (tx): Promise<{ ok: RecoveryExportResult } | { refused: unknown }> => {
    // A refused attempt is audited too (and saved), then thrown to the caller.
    let facts: { keyId?: string; nodeId?: string; incident?: string } = {};
    try {
      const req = openRecoveryRequest(bytes, agentKey, tx.now, undefined, earlierAgentKeys(vault));
      facts = { keyId: req.session.key_id, nodeId: req.session.node_id, incident: req.session.incident_id };
      const agent = tx.state.agent;
      const card = agent === null ? undefined : openAgentCard(agent.card);
      const checked = check(tx.state, req, tx.fingerprint);
      const summary = summarize(checked, card?.body.name ?? '', card?.code ?? '');
      if (confirmation === undefined || confirmation.toLowerCase() !== summary.confirmation) {
        throw new ServiceError('CONFIRMATION_REQUIRED', 'Exporting a share needs your deliberate confirmation of this exact request: review its details, then confirm.', {
          details: { requestHash: summary.requestHash },
        });
      }
      if (checked.problem !== undefined) throw checked.problem;
      const record = checked.record;
      if (record === undefined) throw new ServiceError('NO_MATCHING_SHARE', 'Your vault holds no usable share for this request.');
      const out = await makeRecoveryExport(req, record.shareIndex, record.share, { signing: tx.identity.signing, fingerprint: tx.fingerprint }, tx.now);
      const hash = toHex(fileHash(out));
      record.exports.push({ sessionId: summary.sessionId, incidentId: summary.incidentId, requestHash: summary.requestHash, exportedAt: tx.now, exportHash: hash });
      if (record.status !== 'superseded') record.status = 'exported';
      record.history.push({ at: tx.now, event: 'exported', detail: `incident ${summary.incidentId}, session ${summary.sessionId}` });
      tx.audit({
        event: 'export',
        result: 'ok',
        key_id: record.keyId,
        node_id: record.nodeId,
        set_id: record.setId,
        share_index: record.shareIndex,
        envelope_hash: record.id,
        signature: hash,
        approver: summary.approvals.map((a) => `${a.name} (${a.code})`).join('; ').slice(0, 2000),
        target: `incident ${summary.incidentId} session ${summary.sessionId}`,
        detail: `recovery export (${summary.mode}), request ${summary.requestHash}`,
      });
      return {
        ok: {
          summary: { ...summary, share: { id: record.id, shareIndex: record.shareIndex, status: record.status } },
          bytes: out,
          hash,
          baseName: `recovery-export-${summary.incidentId}-${summary.keyId}-${summary.nodeId}-s${String(record.shareIndex)}`,
        },
      };
    } catch (error) {
      const e = explain(error);
      tx.audit({
        event: 'export',
        result: 'refused',
        reason: e.code,
        ...(facts.keyId === undefined ? {} : { key_id: facts.keyId }),
        ...(facts.nodeId === undefined ? {} : { node_id: facts.nodeId }),
        ...(facts.incident === undefined ? {} : { target: `incident ${facts.incident}` }),
        ...(e.detail === undefined ? {} : { detail: e.detail.slice(0, 500) }),
      });
      return { refused: error };
    }
  });
  if ('refused' in outcome) throw outcome.refused;
  return outcome.ok;
}

/** Writes the export as a file, and its QR frames (PNG and/or SVG) on request. */
export function writeRecoveryExport(result: RecoveryExportResult, outDir: string, qr?: QrOptions): Promise<WrittenFiles> {
  return writeMessageFiles(outDir, result.baseName, 'recovery-export', result.bytes, qr);
}
