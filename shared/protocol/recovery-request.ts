/**
 * Recovery request, version 1 (docs/protocol.md §4.6). Signed by the agent once a recovery session
 * has its approvals. It tells custodians which share to export, to whom (a fresh age recipient that
 * exists for this session only) and until when, and carries the approvals and the manifest so a
 * custodian can see who approved and check the set offline.
 */
import { z } from 'zod';
import { constantTimeEqual } from '../bytes';
import { CustosError } from '../errors';
import { fileHash } from '../crypto/hash';
import { openApprovals, sessionDetailsSchema, type OpenedApproval, type SessionDetails } from './approval';
import { openMessage, sealMessage, trustAnyOf, trustKey, type Opened, type SigningKey } from './frame';
import { manifestSchema, openManifest, type Manifest } from './manifest';
import { ageRecipient, boundedBytes, timestamp } from './schema';

export const MIN_APPROVALS = 2;

export const recoveryRequestSchema = z.strictObject({
  session: sessionDetailsSchema,
  approvals: z.array(boundedBytes(4096)).min(MIN_APPROVALS).max(16),
  recipient: ageRecipient,
  manifest: boundedBytes(64 * 1024),
  created_at: timestamp,
});
export type RecoveryRequest = z.infer<typeof recoveryRequestSchema>;

export const makeRecoveryRequest = (body: RecoveryRequest, agent: SigningKey): Uint8Array =>
  sealMessage('recovery-request', recoveryRequestSchema, body, agent);

export interface OpenedRecoveryRequest {
  readonly request: Opened<RecoveryRequest>;
  readonly manifest: Opened<Manifest>;
  readonly approvals: readonly OpenedApproval[];
  readonly session: SessionDetails;
  /** SHA-256 of the request file: exports are bound to it. */
  readonly hash: Uint8Array;
}

export function checkSessionMatchesManifest(session: SessionDetails, m: Manifest): void {
  if (session.key_id !== m.key_id || session.node_id !== m.node_id || !constantTimeEqual(session.set_id, m.set_id) || session.epoch !== m.epoch) {
    throw new CustosError('SET_MISMATCH', 'The recovery request names a different key, node or backup set than its manifest.');
  }
}

/**
 * Verifies a recovery request: agent signature (pinned key), manifest signature, session ↔ manifest
 * consistency, at least two valid approvals by distinct approvers over exactly this session, and
 * the expiry.
 *
 * The request is always signed by the agent's current (pinned) key. Its manifest may be older than
 * an agent key replacement: `earlierAgentKeys` are keys the caller pinned before, each replaced
 * through a notice signed by its predecessor (agent-key-rotation.ts); a manifest signed by one of
 * them is accepted too.
 */
export function openRecoveryRequest(
  bytes: unknown,
  agentKey: Uint8Array,
  now: number,
  trustedApprovers?: readonly Uint8Array[],
  earlierAgentKeys: readonly Uint8Array[] = [],
): OpenedRecoveryRequest {
  const request = openMessage(bytes, 'recovery-request', recoveryRequestSchema, trustKey(agentKey));
  const manifest =
    earlierAgentKeys.length === 0
      ? openManifest(request.body.manifest, agentKey)
      : openMessage(request.body.manifest, 'manifest', manifestSchema, trustAnyOf([agentKey, ...earlierAgentKeys]));
  const session = request.body.session;
  checkSessionMatchesManifest(session, manifest.body);
  const approvals = openApprovals(request.body.approvals, session, MIN_APPROVALS, trustedApprovers);
  if (now > session.not_after) {
    throw new CustosError('EXPIRED', 'This recovery request has expired. Ask the operator to open a new recovery session.', {
      details: { notAfter: session.not_after },
    });
  }
  return { request, manifest, approvals, session, hash: fileHash(request.bytes) };
}
