/**
 * Recovery export, version 1 (docs/protocol.md §4.7). Signed by a custodian: one share sealed to the
 * recovery session's one-time age recipient, bound to the session id, the request's hash, and the
 * key, node, backup set, epoch and share index. It is what travels back to the agent as a file or
 * as QR frames.
 *
 * `override` (optional, added for issue 12; absent in every export made without one, so older
 * exports read unchanged): the custodian exported although fewer than two of the request's
 * approvals verified against approvers they had pinned, and typed this reason. The agent records
 * it in its audit with the submitted export.
 */
import { z } from 'zod';
import { constantTimeEqual } from '../bytes';
import { CustosError } from '../errors';
import { openSealed, sealTo } from '../crypto/seal';
import { checkShare } from '../crypto/shamir';
import { openMessage, sealMessage, trustAnyOf, type Opened, type SigningKey } from './frame';
import { combineExpectation, manifestShare } from './manifest';
import type { OpenedRecoveryRequest } from './recovery-request';
import { boundedBytes, epoch, identifier, sessionId, setId, sha256Digest, shareIndex, timestamp } from './schema';
import { custodianFingerprint } from './identity';

/** Why the custodian exported without two verified approvers, and how many verified. */
export const exportOverrideSchema = z.strictObject({
  reason: z
    .string()
    .min(1)
    .max(500)
    .refine((s) => !/\p{Cc}/u.test(s), 'must not contain control characters'),
  verified_approvals: z.number().int().min(0).max(16),
});
export type ExportOverride = z.infer<typeof exportOverrideSchema>;

export const recoveryExportSchema = z.strictObject({
  session_id: sessionId,
  request_hash: sha256Digest,
  key_id: identifier,
  node_id: identifier,
  set_id: setId,
  epoch,
  share_index: shareIndex,
  payload: boundedBytes(64 * 1024),
  created_at: timestamp,
  override: exportOverrideSchema.optional(),
});
export type RecoveryExport = z.infer<typeof recoveryExportSchema>;

export interface CustodianForExport {
  readonly signing: SigningKey;
  readonly fingerprint: Uint8Array;
}

/** Seals `share` (already checked against its commitment by the caller's vault) for the session. */
export async function makeRecoveryExport(
  req: OpenedRecoveryRequest,
  shareIndexValue: number,
  share: Uint8Array,
  custodian: CustodianForExport,
  now: number,
  override?: ExportOverride,
): Promise<Uint8Array> {
  const m = req.manifest.body;
  const entry = manifestShare(m, shareIndexValue);
  if (entry.custodian === null || !constantTimeEqual(entry.custodian, custodian.fingerprint)) {
    throw new CustosError('WRONG_RECIPIENT', `Share ${String(shareIndexValue)} of this set is not held by this custodian.`);
  }
  checkShare(combineExpectation(m), { index: shareIndexValue, share, setId: m.set_id, epoch: m.epoch });
  const payload = await sealTo(req.request.body.recipient, share);
  return sealMessage(
    'recovery-export',
    recoveryExportSchema,
    {
      session_id: req.session.session_id,
      request_hash: req.hash,
      key_id: m.key_id,
      node_id: m.node_id,
      set_id: m.set_id,
      epoch: m.epoch,
      share_index: shareIndexValue,
      payload,
      created_at: now,
      ...(override === undefined ? {} : { override }),
    },
    custodian.signing,
  );
}

/** A custodian registered at the agent: enough to check who signed an export. */
export interface RegisteredCustodian {
  readonly signKey: Uint8Array;
  readonly ageRecipient: string;
}

export interface OpenedRecoveryExport {
  readonly export: Opened<RecoveryExport>;
  readonly shareIndex: number;
  readonly share: Uint8Array;
}

/**
 * Agent side: verifies an export against the session it was made for and decrypts it with the
 * session's one-time identity. Checks: signature by a registered custodian; session id and request
 * hash (SESSION_MISMATCH: an export replayed into another session); key, node, set and epoch
 * (SET_MISMATCH); the manifest assigns this index to this custodian (WRONG_RECIPIENT); then
 * decryption and the share commitment (SHARE_COMMITMENT_MISMATCH naming the index).
 */
export async function openRecoveryExport(
  bytes: unknown,
  req: OpenedRecoveryRequest,
  custodians: readonly RegisteredCustodian[],
  sessionIdentity: string,
): Promise<OpenedRecoveryExport> {
  const opened = openMessage(bytes, 'recovery-export', recoveryExportSchema, trustAnyOf(custodians.map((c) => c.signKey)));
  const b = opened.body;
  const m = req.manifest.body;
  if (!constantTimeEqual(b.session_id, req.session.session_id) || !constantTimeEqual(b.request_hash, req.hash)) {
    throw new CustosError('SESSION_MISMATCH', `The export of share ${String(b.share_index)} was made for another recovery session. Ask the custodian to export again for this session.`, {
      details: { shareIndex: b.share_index },
    });
  }
  if (b.key_id !== m.key_id || b.node_id !== m.node_id || !constantTimeEqual(b.set_id, m.set_id) || b.epoch !== m.epoch) {
    throw new CustosError('SET_MISMATCH', `The export of share ${String(b.share_index)} is for another key, node or backup set.`, {
      details: { shareIndex: b.share_index },
    });
  }
  const signer = custodians.find((c) => constantTimeEqual(c.signKey, opened.signer));
  const entry = manifestShare(m, b.share_index);
  if (signer === undefined || entry.custodian === null || !constantTimeEqual(entry.custodian, custodianFingerprint(signer.signKey, signer.ageRecipient))) {
    throw new CustosError('WRONG_RECIPIENT', `Share ${String(b.share_index)} was exported by a custodian who does not hold it in the manifest.`, {
      details: { shareIndex: b.share_index },
    });
  }
  const share = await openSealed(sessionIdentity, b.payload, `share ${String(b.share_index)}`);
  checkShare(combineExpectation(m), { index: b.share_index, share, setId: b.set_id, epoch: b.epoch });
  return { export: opened, shareIndex: b.share_index, share };
}
