/**
 * Roster changes as approvers sign them on their own machines (approver/roster-change.ts does the
 * same through the approver program), for tests that add a third approver or disable one.
 */
import type { Agent } from '../../agent/service';
import { approverFingerprint, makeRosterChange, type ApproverIdentity, type RosterAction } from '../../shared/protocol';

/** Each of `signers` approves `action` of `target` at the agent's current roster version. */
export function rosterApprovals(agent: Agent, signers: readonly ApproverIdentity[], action: RosterAction, target: ApproverIdentity, nowSeconds: number, version = agent.approverRosterVersion()): Uint8Array[] {
  return signers.map((s) =>
    makeRosterChange(
      {
        agent_key: agent.publicKey,
        roster_version: version,
        action,
        target: { name: target.name, sign_key: target.signing.publicKey, fingerprint: approverFingerprint(target.signing.publicKey) },
        approver_name: s.name,
        approved_at: nowSeconds,
        not_after: nowSeconds + 7 * 86400,
      },
      s.signing,
    ),
  );
}
