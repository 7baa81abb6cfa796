// The agent-signed approver roster pinned by a custodian (issue 12): the first needs the agent's code
// compared again; a newer version from the pinned agent key replaces it (its change signed by two
// approvers the custodian trusted); an older or replayed version is refused (rollback) and changes
// nothing; a roster from another key is refused; a disabled approver's approval no longer counts.
import { describe, expect, it } from 'vitest';
import {
  agentFingerprint,
  approverFingerprint,
  createAgentIdentity,
  createApproverIdentity,
  makeRosterChange,
  signRoster,
  type ApproverIdentity,
  type ApproverRoster,
  type RosterEntry,
} from '../../shared/protocol';
import { importEnvelopes } from '../../main/services/inbox';
import { exportForRecovery, showRecoveryRequest } from '../../main/services/recovery';
import { pinnedApprovers, pinRoster, previewRoster, setApproverContact } from '../../main/services/trust';
import { codeOf, createVault, makeAgent, makeSet, meOf, NOW, pinned, recoveryRequest, TEST_APPROVERS } from '../custodian/helpers';

const [alice, bob] = TEST_APPROVERS as [ApproverIdentity, ApproverIdentity];
const chen = createApproverIdentity('Chen Jing (risk)');

const entry = (a: ApproverIdentity, status: RosterEntry['status'] = 'enabled'): RosterEntry => ({ name: a.name, sign_key: a.signing.publicKey, fingerprint: approverFingerprint(a.signing.publicKey), status, added_at: NOW - 50 });

describe('the approver roster', () => {
  it('first pinned with the agent code; newer versions need two pinned approvers; rollback refused; disabled approvals do not count', async () => {
    const v = await createVault();
    const agent = makeAgent();
    await pinned(v, agent);
    const body = (version: number, approvers: RosterEntry[], change?: ApproverRoster['change']): ApproverRoster => ({
      agent_name: agent.id.name,
      agent_key: agent.id.signing.publicKey,
      agent_fingerprint: agentFingerprint(agent.id.signing.publicKey),
      version,
      issued_at: NOW - 40 + version,
      approvers,
      ...(change === undefined ? {} : { change }),
    });
    const change = (by: ApproverIdentity, action: 'add' | 'disable', target: ApproverIdentity, version: number): Uint8Array =>
      makeRosterChange(
        { agent_key: agent.id.signing.publicKey, roster_version: version, action, target: { name: target.name, sign_key: target.signing.publicKey, fingerprint: approverFingerprint(target.signing.publicKey) }, approver_name: by.name, approved_at: NOW - 30, not_after: NOW + 3600 },
        by.signing,
      );
    const v2 = signRoster(body(2, [entry(alice), entry(bob)]), agent.id.signing);
    const v3 = signRoster(body(3, [entry(alice), entry(bob), entry(chen)], { action: 'add', target: approverFingerprint(chen.signing.publicKey), approvals: [change(alice, 'add', chen, 2), change(bob, 'add', chen, 2)] }), agent.id.signing);
    const v4 = signRoster(body(4, [entry(alice), entry(bob, 'disabled'), entry(chen)], { action: 'disable', target: approverFingerprint(bob.signing.publicKey), approvals: [change(alice, 'disable', bob, 3), change(chen, 'disable', bob, 3)] }), agent.id.signing);
    // A version 4 that claims a quorum its change does not have.
    const forged4 = signRoster(body(4, [entry(alice), entry(bob), entry(chen), entry(createApproverIdentity('Mallory'))], { action: 'add', target: approverFingerprint(chen.signing.publicKey), approvals: [] }), agent.id.signing);

    expect(previewRoster(v, v2)).toMatchObject({ version: 2, agentCode: agent.code, pinnedVersion: null });
    expect(await codeOf(() => pinRoster(v, v2))).toBe('CODE_MISMATCH');
    expect(await codeOf(() => pinRoster(v, v2, '0000 0000 0000 0000 0000 0000'))).toBe('CODE_MISMATCH');
    // Signed by another agent: refused before anything.
    const stranger = createAgentIdentity('not our agent');
    const foreign = signRoster({ ...body(9, [entry(alice)]), agent_name: stranger.name, agent_key: stranger.signing.publicKey, agent_fingerprint: agentFingerprint(stranger.signing.publicKey) }, stranger.signing);
    expect(await codeOf(() => pinRoster(v, foreign, agent.code))).toBe('UNTRUSTED_SIGNER');
    expect(pinnedApprovers(v)).toHaveLength(0);

    expect(await pinRoster(v, v2, agent.code)).toMatchObject({ version: 2, succession: 'first', alreadyPinned: false });
    expect(pinnedApprovers(v).map((a) => [a.name, a.via, a.status])).toEqual([
      ['Alice (security)', 'roster', 'enabled'],
      ['Bob (business owner)', 'roster', 'enabled'],
    ]);
    await setApproverContact(v, pinnedApprovers(v)[0]!.fingerprint, { name: 'Alice Zhang', reach: '+86 10 5555 0199' });

    // A set and a request approved by Alice and Bob: verified through the roster.
    const set = await makeSet(agent.id, meOf(v));
    await importEnvelopes(v, [{ bytes: set.envelope }]);
    const req = await recoveryRequest(agent.id, set, { notAfter: NOW + 7200 });
    expect(showRecoveryRequest(v, req.request).verifiedApprovals).toBe(2);

    expect(await pinRoster(v, v3)).toMatchObject({ version: 3, succession: 'quorum' });
    expect(await codeOf(() => pinRoster(v, forged4))).toBe('MALFORMED');
    expect(await pinRoster(v, v4)).toMatchObject({ version: 4, succession: 'quorum' });
    expect(pinnedApprovers(v).map((a) => [a.name, a.status])).toEqual([
      ['Alice (security)', 'enabled'],
      ['Bob (business owner)', 'disabled'],
      ['Chen Jing (risk)', 'enabled'],
    ]);
    expect(pinnedApprovers(v)[0]!.contact?.name).toBe('Alice Zhang');

    // Rollback: version 3 (or 2) again is refused and the pinned roster stays at 4.
    const e = await pinRoster(v, v3).catch((x: unknown) => x);
    expect((e as { code: string }).code).toBe('ROSTER_ROLLBACK');
    expect((e as { details: { have: number } }).details.have).toBe(4);
    expect(await codeOf(() => pinRoster(v, v2))).toBe('ROSTER_ROLLBACK');
    expect(v.state.agent?.roster?.version).toBe(4);
    expect((await pinRoster(v, v4)).alreadyPinned).toBe(true);

    // Bob is disabled now: his approval no longer counts.
    const summary = showRecoveryRequest(v, req.request);
    expect(summary.approvals.map((a) => a.verdict)).toEqual(['verified', 'disabled']);
    expect(await codeOf(() => exportForRecovery(v, req.request, summary.confirmation))).toBe('APPROVERS_UNVERIFIED');
  });
});
