/**
 * Deletion approval, version 1 (docs/protocol.md §4.11). Signed by an approver with their own key,
 * on their own machine, over the details of one hard deletion of server-retained backup shares:
 * key, node, backup set, which shares, why (zero retention, a superseded set, less retention), the
 * earliest moment the deletion may run (the end of the cooling-off period) and until when the
 * approval counts. Like a recovery approval (approval.ts), a name typed at a prompt is not an
 * approval; this signature is. The agent needs two of them, by distinct registered approvers,
 * before it destroys anything (seeds SOP §6 "删除与零保留策略", §8 "双人复核").
 */
import { z } from 'zod';
import { constantTimeEqual, toHex } from '../bytes';
import { CustosError } from '../errors';
import { approverFingerprint, comparisonCode } from './identity';
import { openMessage, sealMessage, TRUST_SELF, type SigningKey } from './frame';
import { bytes, epoch, identifier, label, setId, shareIndex, timestamp } from './schema';

/**
 * Why the shares go:
 * - `zero-retention`: every share the server still keeps of the node's current set; afterwards the
 *   server holds none of that set (the SOP's 零保留, which also needs a passed external-only drill
 *   of the set);
 * - `superseded-set`: shares of a set a newer one replaced (rotation);
 * - `reduce-retention`: some, not all, of the current set's server shares.
 */
export const DELETION_PURPOSES = ['zero-retention', 'superseded-set', 'reduce-retention'] as const;
export type DeletionPurpose = (typeof DELETION_PURPOSES)[number];

export const deletionDetailsSchema = z
  .strictObject({
    deletion_id: bytes(16),
    key_id: identifier,
    node_id: identifier,
    set_id: setId,
    epoch,
    share_indexes: z.array(shareIndex).min(1).max(255),
    purpose: z.enum(DELETION_PURPOSES),
    cooling_ends_at: timestamp,
    not_after: timestamp,
  })
  .superRefine((d, ctx) => {
    for (let i = 1; i < d.share_indexes.length; i++) {
      if ((d.share_indexes[i] ?? 0) <= (d.share_indexes[i - 1] ?? 0)) {
        ctx.addIssue({ code: 'custom', path: ['share_indexes', i], message: 'must list each share once, in increasing order' });
        break;
      }
    }
    if (d.not_after < d.cooling_ends_at) ctx.addIssue({ code: 'custom', path: ['not_after'], message: 'is before cooling_ends_at (the deletion could never run)' });
  });
export type DeletionDetails = z.infer<typeof deletionDetailsSchema>;

export const deletionApprovalSchema = z.strictObject({
  deletion: deletionDetailsSchema,
  approver_name: label,
  approved_at: timestamp,
});
export type DeletionApproval = z.infer<typeof deletionApprovalSchema>;

export const makeDeletionApproval = (body: DeletionApproval, approver: SigningKey): Uint8Array =>
  sealMessage('deletion-approval', deletionApprovalSchema, body, approver);

export interface OpenedDeletionApproval {
  readonly body: DeletionApproval;
  readonly approverKey: Uint8Array;
  readonly fingerprint: Uint8Array;
  readonly code: string;
  readonly bytes: Uint8Array;
}

export function sameDeletion(a: DeletionDetails, b: DeletionDetails): boolean {
  return (
    constantTimeEqual(a.deletion_id, b.deletion_id) &&
    a.key_id === b.key_id &&
    a.node_id === b.node_id &&
    constantTimeEqual(a.set_id, b.set_id) &&
    a.epoch === b.epoch &&
    a.share_indexes.length === b.share_indexes.length &&
    a.share_indexes.every((x, i) => x === b.share_indexes[i]) &&
    a.purpose === b.purpose &&
    a.cooling_ends_at === b.cooling_ends_at &&
    a.not_after === b.not_after
  );
}

/**
 * Opens one deletion approval and checks it is for exactly `deletion`. `trusted` (the approvers
 * registered at the agent) may be omitted by someone who cannot know them: then only the signature
 * and the binding to the details are checked.
 */
export function openDeletionApproval(bytes: unknown, deletion: DeletionDetails, trusted?: readonly Uint8Array[]): OpenedDeletionApproval {
  const opened = openMessage(bytes, 'deletion-approval', deletionApprovalSchema, TRUST_SELF);
  if (trusted !== undefined && !trusted.some((k) => constantTimeEqual(k, opened.signer))) {
    throw new CustosError('UNTRUSTED_SIGNER', `The deletion approval by "${opened.body.approver_name}" is signed by a key that is not a registered approver.`);
  }
  if (!sameDeletion(opened.body.deletion, deletion)) {
    throw new CustosError('SESSION_MISMATCH', `The deletion approval by "${opened.body.approver_name}" is for a different deletion or different details.`);
  }
  const fp = approverFingerprint(opened.signer);
  return { body: opened.body, approverKey: opened.signer, fingerprint: fp, code: comparisonCode(fp), bytes: opened.bytes };
}

/** Opens a list of deletion approvals and demands `required` distinct approvers. */
export function openDeletionApprovals(
  list: readonly Uint8Array[],
  deletion: DeletionDetails,
  required: number,
  trusted?: readonly Uint8Array[],
): OpenedDeletionApproval[] {
  const opened = list.map((b) => openDeletionApproval(b, deletion, trusted));
  const distinct = new Set(opened.map((a) => toHex(a.approverKey)));
  if (distinct.size !== opened.length) {
    throw new CustosError('DUPLICATE_APPROVER', 'The same approver signed twice; two different people must approve a deletion.');
  }
  if (distinct.size < required) {
    throw new CustosError('APPROVAL_REQUIRED', `${String(distinct.size)} deletion approval(s) of the ${String(required)} required from different approvers.`, {
      details: { have: distinct.size, need: required },
    });
  }
  return opened;
}
