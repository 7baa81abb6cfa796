/**
 * Recovery export (docs/protocol.md §4.6, §4.7). The agent's signed recovery request is verified
 * against the pinned agent key (its manifest too, two approvals by distinct approvers over exactly
 * this session, not expired), then shown in plain words: incident, key, node, backup set, mode,
 * approvals with names and codes, expiry. Exporting needs a deliberate confirmation: the caller
 * passes back `summary.confirmation`, which names this exact request (its hash), so a confirmation
 * given for one request can never export for another. The share is sealed to the session's one-time
 * age recipient and signed (makeRecoveryExport), written as a file and optionally as QR frames
 * (`custos-recovery-export`, PNG/SVG), the share is marked `exported`, and the export is audited.
 *
 * Trust in the approvals (issue 12): each approval's key is looked up among the approvers this vault
 * pinned (trust.ts): `verified` (a pinned, enabled key), `changed-key` (a pinned approver's name
 * with another key), `disabled` (removed by the roster) or `unknown`. Below two verified approvers
 * the export is refused (APPROVERS_UNVERIFIED) unless the custodian overrides with a typed reason,
 * which is audited here and carried in the export for the agent's audit. Warnings, each with what to
 * do and the call-back contact, name the patterns social engineering uses (recovery-warnings.ts).
 *
 * The incident's free-text title (issue 13, docs/protocol.md §4.5), when the session has one, is
 * shown beside its id and goes into the export's file name (`exportBaseName`).
 */
import { constantTimeEqual, toHex } from '../../shared/bytes';
import { safeFileName, safeFileStem } from '../../shared/file-name';
import { fileHash } from '../../shared/crypto/hash';
import { openAgentCard } from '../../shared/protocol/identity';
import { makeRecoveryExport } from '../../shared/protocol/recovery-export';
import { openRecoveryRequest, type OpenedRecoveryRequest } from '../../shared/protocol/recovery-request';
import { MIN_APPROVALS } from '../../shared/protocol/recovery-request';
import { ServiceError } from './errors';
import { explain, type Explained } from './messages';
import { writeMessageFiles, type QrOptions, type WrittenFiles } from './qr-files';
import { recoveryWarnings, type RecoveryPolicy, type RecoveryWarning, DEFAULT_RECOVERY_POLICY } from './recovery-warnings';
import type { CallBackContact, PinnedAgent, ShareRecord, VaultState } from './state';
import { earlierAgentKeys, pinnedAgentKey, sameName } from './trust';
import type { Vault } from './vault';

export { DEFAULT_RECOVERY_POLICY, type RecoveryPolicy, type RecoveryWarning };

/** How one approval of a request stands against the approvers this vault pinned. */
export type ApprovalVerdict = 'verified' | 'changed-key' | 'disabled' | 'unknown';

export interface ApprovalView {
  readonly name: string;
  readonly code: string;
  readonly fingerprint: string;
  readonly approvedAt: number;
  readonly verdict: ApprovalVerdict;
  /** The pinned approver it matched (by key, or by name for `changed-key`). */
  readonly pinned?: { readonly name: string; readonly code: string };
  readonly contact?: CallBackContact;
}

/** An override's reason: at least this many characters (after trimming). */
export const MIN_OVERRIDE_REASON = 20;
export const MAX_OVERRIDE_REASON = 500;

export interface RecoverySummary {
  readonly requestHash: string;
  readonly sessionId: string;
  readonly incidentId: string;
  /** The session's free-text incident title, any script (absent when the agent was given none). */
  readonly incidentTitle?: string;
  readonly keyId: string;
  readonly nodeId: string;
  readonly setId: string;
  readonly epoch: number;
  readonly mode: 'mixed' | 'external-only';
  readonly notAfter: number;
  readonly createdAt: number;
  readonly threshold: number;
  readonly total: number;
  readonly agent: { readonly name: string; readonly code: string; readonly contact?: CallBackContact };
  readonly approvals: readonly ApprovalView[];
  /** Distinct approvers verified against pinned keys, and how many are required. */
  readonly verifiedApprovals: number;
  readonly requiredApprovals: number;
  /** Exportable, but only with a typed override reason (too few verified approvers). */
  readonly needsOverride: boolean;
  /** The share of this set the vault holds, if any. */
  readonly share: { readonly id: string; readonly shareIndex: number; readonly status: string } | null;
  readonly exportable: boolean;
  /** Why it cannot be exported, when it cannot. */
  readonly problem?: Explained;
  /** Non-blocking warnings, each with what to do, in both languages. */
  readonly warnings: readonly RecoveryWarning[];
  /** What `exportForRecovery` must be given back: names this exact request. */
  readonly confirmation: string;
}

interface Checked {
  readonly req: OpenedRecoveryRequest;
  readonly record: ShareRecord | undefined;
  readonly problem: ServiceError | undefined;
}

/** Each approval against the pinned approvers: by key first, then by name (a changed key). */
export function judgeApprovals(agent: PinnedAgent | null, req: OpenedRecoveryRequest): ApprovalView[] {
  const pinned = agent?.approvers ?? [];
  return req.approvals.map((a) => {
    const key = toHex(a.approverKey);
    const base = { name: a.body.approver_name, code: a.code, fingerprint: toHex(a.fingerprint), approvedAt: a.body.approved_at };
    const byKey = pinned.find((p) => constantTimeEqual(Buffer.from(p.signKey, 'hex'), Buffer.from(key, 'hex')));
    const found = byKey ?? pinned.find((p) => sameName(p.name, a.body.approver_name));
    const verdict: ApprovalVerdict = byKey === undefined ? (found === undefined ? 'unknown' : 'changed-key') : byKey.status === 'enabled' ? 'verified' : 'disabled';
    return { ...base, verdict, ...(found === undefined ? {} : { pinned: { name: found.name, code: found.code } }), ...(found?.contact === undefined ? {} : { contact: found.contact }) };
  });
}

function check(state: Readonly<VaultState>, req: OpenedRecoveryRequest, me: Uint8Array): Checked {
  const m = req.manifest.body;
  const setId = toHex(m.set_id);
  const mine = m.shares.find((s) => s.custodian !== null && constantTimeEqual(s.custodian, me));
  if (mine === undefined) {
    return { req, record: undefined, problem: new ServiceError('NO_MATCHING_SHARE', 'The manifest of this request assigns no share of the set to you.') };
  }
  const record = state.shares.find((r) => r.keyId === m.key_id && r.nodeId === m.node_id && r.setId === setId && r.epoch === m.epoch && r.shareIndex === mine.index);
  if (record === undefined) {
    return { req, record, problem: new ServiceError('NO_MATCHING_SHARE', `Your vault does not hold share ${String(mine.index)} of ${m.key_id}/${m.node_id} (set ${setId.slice(0, 8)}…).`) };
  }
  if (record.manifestHash !== toHex(fileHash(req.request.body.manifest))) {
    return { req, record, problem: new ServiceError('INVALID_STATE', 'The request carries a different manifest for this backup set than the one your envelope came with. Ask the operator.') };
  }
  if (record.status === 'deleted') {
    return { req, record, problem: new ServiceError('INVALID_STATE', 'This share is deleted (cooling period). Roll the deletion back first if this recovery is legitimate.') };
  }
  return { req, record, problem: undefined };
}

function summarize(c: Checked, agent: PinnedAgent | null, now: number, policy: RecoveryPolicy): RecoverySummary {
  const s = c.req.session;
  const m = c.req.manifest.body;
  const card = agent === null ? undefined : openAgentCard(agent.card);
  const approvals = judgeApprovals(agent, c.req);
  const verified = new Set(approvals.filter((a) => a.verdict === 'verified').map((a) => a.fingerprint)).size;
  const warnings = recoveryWarnings({ req: c.req, record: c.record, agent, approvals, now, policy });
  return {
    requestHash: toHex(c.req.hash),
    sessionId: toHex(s.session_id),
    incidentId: s.incident_id,
    ...(s.incident_title === undefined ? {} : { incidentTitle: s.incident_title }),
    keyId: s.key_id,
    nodeId: s.node_id,
    setId: toHex(s.set_id),
    epoch: s.epoch,
    mode: s.mode,
    notAfter: s.not_after,
    createdAt: c.req.request.body.created_at,
    threshold: m.threshold,
    total: m.total,
    agent: { name: card?.body.name ?? '', code: card?.code ?? '', ...(agent?.contact === undefined ? {} : { contact: agent.contact }) },
    approvals,
    verifiedApprovals: verified,
    requiredApprovals: MIN_APPROVALS,
    needsOverride: c.problem === undefined && verified < MIN_APPROVALS,
    share: c.record === undefined ? null : { id: c.record.id, shareIndex: c.record.shareIndex, status: c.record.status },
    exportable: c.problem === undefined,
    ...(c.problem === undefined ? {} : { problem: explain(c.problem) }),
    warnings,
    confirmation: toHex(c.req.hash),
  };
}

/** Verifies a recovery request and describes it; changes nothing. `policy`: the settings' recovery policy. */
export function showRecoveryRequest(vault: Vault, bytes: Uint8Array, policy: RecoveryPolicy = DEFAULT_RECOVERY_POLICY): RecoverySummary {
  const agentKey = pinnedAgentKey(vault);
  const now = vault.now();
  const req = openRecoveryRequest(bytes, agentKey, now, undefined, earlierAgentKeys(vault));
  return summarize(check(vault.state, req, vault.fingerprint), vault.state.agent, now, policy);
}

/** The override reason as typed: trimmed, at least MIN_OVERRIDE_REASON characters, bounded, no control characters. */
export function parseOverrideReason(raw: unknown): string {
  const text = typeof raw === 'string' ? raw.trim().replace(/\s+/g, ' ') : '';
  if (text.length < MIN_OVERRIDE_REASON || text.length > MAX_OVERRIDE_REASON || /\p{Cc}/u.test(text)) {
    throw new ServiceError(
      'USAGE',
      `An override needs a reason of ${String(MIN_OVERRIDE_REASON)} to ${String(MAX_OVERRIDE_REASON)} characters saying why you export without two verified approvers (who you called, what they confirmed).`,
      { details: { field: 'override', min: MIN_OVERRIDE_REASON } },
    );
  }
  return text;
}

export interface ExportOptions {
  /** Typed reason to export with fewer than two verified approvers (audited, carried in the export). */
  readonly override?: string;
  readonly policy?: RecoveryPolicy;
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
export async function exportForRecovery(vault: Vault, bytes: Uint8Array, confirmation: string | undefined, options: ExportOptions = {}): Promise<RecoveryExportResult> {
  const agentKey = pinnedAgentKey(vault);
  const overrideReason = options.override === undefined ? undefined : parseOverrideReason(options.override);
  const outcome = await vault.update(async (tx): Promise<{ ok: RecoveryExportResult } | { refused: unknown }> => {
    // A refused attempt is audited too (and saved), then thrown to the caller.
    let facts: { keyId?: string; nodeId?: string; incident?: string } = {};
    try {
      const req = openRecoveryRequest(bytes, agentKey, tx.now, undefined, earlierAgentKeys(vault));
      facts = { keyId: req.session.key_id, nodeId: req.session.node_id, incident: req.session.incident_id };
      const checked = check(tx.state, req, tx.fingerprint);
      const summary = summarize(checked, tx.state.agent, tx.now, options.policy ?? DEFAULT_RECOVERY_POLICY);
      if (confirmation === undefined || confirmation.toLowerCase() !== summary.confirmation) {
        throw new ServiceError('CONFIRMATION_REQUIRED', 'Exporting a share needs your deliberate confirmation of this exact request: review its details, then confirm.', {
          details: { requestHash: summary.requestHash },
        });
      }
      if (checked.problem !== undefined) throw checked.problem;
      const record = checked.record;
      if (record === undefined) throw new ServiceError('NO_MATCHING_SHARE', 'Your vault holds no usable share for this request.');
      if (summary.needsOverride && overrideReason === undefined) {
        const unverified = summary.approvals.filter((a) => a.verdict !== 'verified').map((a) => `"${a.name}" (${a.verdict})`);
        throw new ServiceError(
          'APPROVERS_UNVERIFIED',
          `${String(summary.verifiedApprovals)} of the ${String(summary.requiredApprovals)} approvals needed verify against approvers you trusted; not verified: ${unverified.join(', ')}. Call them at the recorded contacts; export only with a written override reason.`,
          { details: { verified: summary.verifiedApprovals, need: summary.requiredApprovals } },
        );
      }
      const override = summary.needsOverride && overrideReason !== undefined ? { reason: overrideReason, verified_approvals: summary.verifiedApprovals } : undefined;
      const out = await makeRecoveryExport(req, record.shareIndex, record.share, { signing: tx.identity.signing, fingerprint: tx.fingerprint }, tx.now, override);
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
        approver: summary.approvals.map((a) => `${a.name} (${a.code}, ${a.verdict})`).join('; ').slice(0, 2000),
        target: `incident ${summary.incidentId} session ${summary.sessionId}`,
        detail: `recovery export (${summary.mode}), request ${summary.requestHash}, ${String(summary.verifiedApprovals)} verified approver(s)${
          override === undefined ? '' : `; OVERRIDE without ${String(summary.requiredApprovals)} verified approvers, reason: ${override.reason}`
        }${summary.warnings.length === 0 ? '' : `; warnings: ${summary.warnings.map((w) => w.code).join(', ')}`}`.slice(0, 2000),
      });
      return {
        ok: {
          summary: { ...summary, share: { id: record.id, shareIndex: record.shareIndex, status: record.status } },
          bytes: out,
          hash,
          baseName: exportBaseName(summary, record.shareIndex),
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

/**
 * The most UTF-8 bytes of an export's base name: below the 180 the CLI's files allow for a base
 * (qr-files.ts `safeName`) less "-sheet", so the sheet, the QR frames and the file keep one name
 * uncut.
 */
export const EXPORT_BASE_BYTES = 170;
/** A title is left out of the name when less than this room (UTF-8 bytes) is left for it. */
const MIN_TITLE_BYTES = 12;

/**
 * The export's base name (issue 13): `recovery-export-<incident_id>-<title>-<key>-<node>-s<n>`.
 * The incident id stays first, because it is what ops search file names and tickets for; the
 * title, in any script, follows so a person recognises the incident (`/`, spaces and other unsafe
 * characters become `_`, shared/file-name.ts). Only the title is shortened (between graphemes) to
 * keep the name within EXPORT_BASE_BYTES, so the key, node and share index are never cut off; it
 * is left out when it would add nothing (no title, the same text as the id, or no room).
 */
export function exportBaseName(s: Pick<RecoverySummary, 'incidentId' | 'incidentTitle' | 'keyId' | 'nodeId'>, shareIndex: number): string {
  const head = `recovery-export-${s.incidentId}`;
  const tail = `-${s.keyId}-${s.nodeId}-s${String(shareIndex)}`;
  if (s.incidentTitle === undefined) return `${head}${tail}`;
  const stem = safeFileStem(s.incidentTitle, '');
  if (stem === '' || stem === safeFileStem(s.incidentId, '')) return `${head}${tail}`;
  const room = EXPORT_BASE_BYTES - new TextEncoder().encode(`${head}-${tail}`).length;
  if (room < MIN_TITLE_BYTES) return `${head}${tail}`;
  const title = safeFileName(stem, '', room).replace(/_+$/, '');
  return title === '' ? `${head}${tail}` : `${head}-${title}${tail}`;
}

/** Writes the export as a file, and its QR frames (PNG and/or SVG) on request. */
export function writeRecoveryExport(result: RecoveryExportResult, outDir: string, qr?: QrOptions): Promise<WrittenFiles> {
  return writeMessageFiles(outDir, result.baseName, 'recovery-export', result.bytes, qr);
}
