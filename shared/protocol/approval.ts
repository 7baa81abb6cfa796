/**
 * Recovery approval, version 1 (docs/protocol.md §4.5). Signed by an approver with their own key,
 * on their own machine, over the details of one recovery session: incident, key, node, backup set,
 * mode and expiry. A name typed at a prompt is not an approval; this signature is.
 *
 * `incident_title` (optional, added for issue 13 without a version bump: absent from every session
 * opened without one, so older details, approvals and requests read unchanged): the incident's name
 * in any script ("交易所热钱包事故 2026/12"), where `incident_id` is an ASCII identifier. It is a
 * detail like the others: an approval over another title, or over none, is for other details.
 */
import { z } from 'zod';
import { constantTimeEqual, toHex } from '../bytes';
import { CustosError } from '../errors';
import { approverFingerprint, comparisonCode } from './identity';
import { openMessage, sealMessage, TRUST_SELF, type SigningKey } from './frame';
import { epoch, identifier, incidentTitle, label, recoveryMode, sessionId, setId, timestamp } from './schema';

export const sessionDetailsSchema = z.strictObject({
  session_id: sessionId,
  incident_id: identifier,
  incident_title: incidentTitle.optional(),
  key_id: identifier,
  node_id: identifier,
  set_id: setId,
  epoch,
  mode: recoveryMode,
  not_after: timestamp,
});
export type SessionDetails = z.infer<typeof sessionDetailsSchema>;

export const approvalSchema = z.strictObject({
  session: sessionDetailsSchema,
  approver_name: label,
  approved_at: timestamp,
});
export type Approval = z.infer<typeof approvalSchema>;

export const makeApproval = (body: Approval, approver: SigningKey): Uint8Array => sealMessage('approval', approvalSchema, body, approver);

export interface OpenedApproval {
  readonly body: Approval;
  readonly approverKey: Uint8Array;
  readonly fingerprint: Uint8Array;
  readonly code: string;
  readonly bytes: Uint8Array;
}

export function sameSession(a: SessionDetails, b: SessionDetails): boolean {
  return (
    constantTimeEqual(a.session_id, b.session_id) &&
    a.incident_id === b.incident_id &&
    a.incident_title === b.incident_title &&
    a.key_id === b.key_id &&
    a.node_id === b.node_id &&
    constantTimeEqual(a.set_id, b.set_id) &&
    a.epoch === b.epoch &&
    a.mode === b.mode &&
    a.not_after === b.not_after
  );
}

/**
 * Opens one approval and checks it is for exactly `session`. `trusted` (approvers registered at the
 * agent) may be omitted by a custodian, who cannot know them: then only the signature and the
 * session binding are checked.
 */
export function openApproval(bytes: unknown, session: SessionDetails, trusted?: readonly Uint8Array[]): OpenedApproval {
  const opened = openMessage(bytes, 'approval', approvalSchema, TRUST_SELF);
  if (trusted !== undefined && !trusted.some((k) => constantTimeEqual(k, opened.signer))) {
    throw new CustosError('UNTRUSTED_SIGNER', `The approval by "${opened.body.approver_name}" is signed by a key that is not a registered approver.`);
  }
  if (!sameSession(opened.body.session, session)) {
    throw new CustosError('SESSION_MISMATCH', `The approval by "${opened.body.approver_name}" is for a different recovery session or different details.`);
  }
  const fp = approverFingerprint(opened.signer);
  return { body: opened.body, approverKey: opened.signer, fingerprint: fp, code: comparisonCode(fp), bytes: opened.bytes };
}

/** Opens a list of approvals and demands `required` distinct approvers. */
export function openApprovals(
  list: readonly Uint8Array[],
  session: SessionDetails,
  required: number,
  trusted?: readonly Uint8Array[],
): OpenedApproval[] {
  const opened = list.map((b) => openApproval(b, session, trusted));
  const distinct = new Set(opened.map((a) => toHex(a.approverKey)));
  if (distinct.size !== opened.length) {
    throw new CustosError('DUPLICATE_APPROVER', 'The same approver signed twice; two different people must approve.');
  }
  if (distinct.size < required) {
    throw new CustosError('APPROVAL_REQUIRED', `${String(distinct.size)} approval(s) of the ${String(required)} required from different approvers.`, {
      details: { have: distinct.size, need: required },
    });
  }
  return opened;
}
