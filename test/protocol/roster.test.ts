/**
 * The agent-signed approver roster and the approver-signed roster change (shared/protocol/roster.ts):
 * what a custodian pinning a roster and the agent applying a change rely on.
 */
import { describe, expect, it } from 'vitest';
import { isCustosError } from '../../shared/errors';
import {
  agentFingerprint,
  approverFingerprint,
  approverRosterSchema,
  checkRosterQuorum,
  checkRosterSuccession,
  createAgentIdentity,
  createApproverIdentity,
  makeRosterChange,
  openRoster,
  openRosterChange,
  sealMessage,
  signRoster,
  type ApproverIdentity,
  type ApproverRoster,
  type RosterAction,
  type RosterEntry,
} from '../../shared/protocol';
import { at, NOW } from './helpers';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isCustosError(e)) return e.code;
    throw e;
  }
  throw new Error('nothing was thrown');
}

const agent = createAgentIdentity('agent node-1');
const people = ['Alice', 'Bob', 'Chen', 'Dana', 'Eve'].map((n) => createApproverIdentity(n));
const p = (i: number): ApproverIdentity => at(people, i, 'approver');

const entry = (a: ApproverIdentity, status: RosterEntry['status'] = 'enabled', added = NOW): RosterEntry => ({
  name: a.name,
  sign_key: a.signing.publicKey,
  fingerprint: approverFingerprint(a.signing.publicKey),
  status,
  added_at: added,
});

const rosterBody = (version: number, approvers: RosterEntry[], change?: ApproverRoster['change']): ApproverRoster => ({
  agent_name: agent.name,
  agent_key: agent.signing.publicKey,
  agent_fingerprint: agentFingerprint(agent.signing.publicKey),
  version,
  issued_at: NOW + version,
  approvers,
  ...(change === undefined ? {} : { change }),
});

const change = (by: ApproverIdentity, action: RosterAction, target: ApproverIdentity, version: number, notAfter = NOW + 86400): Uint8Array =>
  makeRosterChange(
    {
      agent_key: agent.signing.publicKey,
      roster_version: version,
      action,
      target: { name: target.name, sign_key: target.signing.publicKey, fingerprint: approverFingerprint(target.signing.publicKey) },
      approver_name: by.name,
      approved_at: NOW,
      not_after: notAfter,
    },
    by.signing,
  );

const expected = (action: RosterAction, target: ApproverIdentity, version: number, now = NOW + 10) => ({
  agentKey: agent.signing.publicKey,
  version,
  action,
  target: approverFingerprint(target.signing.publicKey),
  now,
});

describe('approver roster', () => {
  it('is signed by the agent and opens only against its key', () => {
    const bytes = signRoster(rosterBody(2, [entry(p(0)), entry(p(1))], { action: 'add', target: approverFingerprint(p(1).signing.publicKey), approvals: [] }), agent.signing);
    const opened = openRoster(bytes, agent.signing.publicKey);
    expect(opened.body.version).toBe(2);
    expect(opened.body.approvers.map((a) => a.name)).toEqual(['Alice', 'Bob']);
    expect(opened.agentCode).toMatch(/^\d{4}( \d{4}){5}$/);
    const other = createAgentIdentity('other agent');
    expect(codeOf(() => openRoster(bytes, other.signing.publicKey))).toBe('UNTRUSTED_SIGNER');
    // signRoster refuses a body that names another agent key than the one signing.
    expect(codeOf(() => signRoster(rosterBody(1, [entry(p(0))]), other.signing))).toBe('INVALID_PARAMETERS');
  });

  it('refuses a body naming another agent, a fingerprint that is not its key, a duplicate approver or an unlisted change target', () => {
    const other = createAgentIdentity('other agent');
    const foreign = sealMessage('approver-roster', approverRosterSchema, { ...rosterBody(1, [entry(p(0))]), agent_key: other.signing.publicKey }, agent.signing);
    expect(codeOf(() => openRoster(foreign, agent.signing.publicKey))).toBe('MALFORMED');
    const wrongFp = signRoster(rosterBody(1, [{ ...entry(p(0)), fingerprint: approverFingerprint(p(1).signing.publicKey) }]), agent.signing);
    expect(codeOf(() => openRoster(wrongFp, agent.signing.publicKey))).toBe('MALFORMED');
    expect(codeOf(() => signRoster(rosterBody(2, [entry(p(0)), { ...entry(p(0)), name: 'Alice again' }]), agent.signing))).toBe('MALFORMED');
    const unlisted = signRoster(rosterBody(1, [entry(p(0))], { action: 'add', target: approverFingerprint(p(3).signing.publicKey), approvals: [] }), agent.signing);
    expect(codeOf(() => openRoster(unlisted, agent.signing.publicKey))).toBe('MALFORMED');
  });
});

describe('roster change', () => {
  it('opens for exactly its agent, version, action and target, until it expires', () => {
    const bytes = change(p(0), 'add', p(2), 2);
    const opened = openRosterChange(bytes, expected('add', p(2), 2));
    expect(opened.body.approver_name).toBe('Alice');
    expect(opened.fingerprint).toEqual(approverFingerprint(p(0).signing.publicKey));
    expect(codeOf(() => openRosterChange(bytes, expected('add', p(2), 3)))).toBe('SESSION_MISMATCH'); // stale: the roster moved on
    expect(codeOf(() => openRosterChange(bytes, expected('disable', p(2), 2)))).toBe('SESSION_MISMATCH');
    expect(codeOf(() => openRosterChange(bytes, expected('add', p(3), 2)))).toBe('SESSION_MISMATCH');
    expect(codeOf(() => openRosterChange(bytes, expected('add', p(2), 2, NOW + 86401)))).toBe('EXPIRED');
    const other = createAgentIdentity('other agent');
    expect(codeOf(() => openRosterChange(bytes, { ...expected('add', p(2), 2), agentKey: other.signing.publicKey }))).toBe('WRONG_RECIPIENT');
    try {
      openRosterChange(bytes, expected('add', p(2), 3));
    } catch (e) {
      expect(isCustosError(e) && e.details).toMatchObject({ reason: 'stale-version', approved: 2, current: 3 });
      expect(isCustosError(e) && e.message).toContain('version 3');
    }
  });

  it('needs two distinct enabled approvers other than the target', () => {
    const enabled = [p(0), p(1), p(2)].map((a) => a.signing.publicKey);
    const want = expected('add', p(3), 3);
    expect(checkRosterQuorum([change(p(0), 'add', p(3), 3), change(p(1), 'add', p(3), 3)], want, enabled)).toHaveLength(2);
    expect(codeOf(() => checkRosterQuorum([change(p(0), 'add', p(3), 3)], want, enabled))).toBe('APPROVAL_REQUIRED');
    expect(codeOf(() => checkRosterQuorum([change(p(0), 'add', p(3), 3), change(p(0), 'add', p(3), 3)], want, enabled))).toBe('DUPLICATE_APPROVER');
    // An approver not on the roster (or disabled there) does not count, whatever name they sign with.
    expect(codeOf(() => checkRosterQuorum([change(p(0), 'add', p(3), 3), change(p(4), 'add', p(3), 3)], want, enabled))).toBe('UNTRUSTED_SIGNER');
    // The approver being disabled cannot approve their own change.
    const disable = expected('disable', p(2), 3);
    expect(codeOf(() => checkRosterQuorum([change(p(0), 'disable', p(2), 3), change(p(2), 'disable', p(2), 3)], disable, enabled))).toBe('DUPLICATE_APPROVER');
    expect(checkRosterQuorum([change(p(0), 'disable', p(2), 3), change(p(1), 'disable', p(2), 3)], disable, enabled)).toHaveLength(2);
  });
});

describe('roster succession, as a custodian who pinned a roster checks the next one', () => {
  const fp = (a: ApproverIdentity): Uint8Array => approverFingerprint(a.signing.publicKey);
  const open = (body: ApproverRoster) => openRoster(signRoster(body, agent.signing), agent.signing.publicKey);
  const v2 = open(rosterBody(2, [entry(p(0)), entry(p(1))], { action: 'add', target: fp(p(1)), approvals: [] }));

  it('verifies a quorum-approved change one version on, and refuses a rollback', () => {
    const approvals = [change(p(0), 'add', p(2), 2), change(p(1), 'add', p(2), 2)];
    const v3 = open(rosterBody(3, [entry(p(0)), entry(p(1)), entry(p(2), 'enabled', NOW + 5)], { action: 'add', target: fp(p(2)), approvals }));
    const s = checkRosterSuccession(v2, v3);
    expect(s.kind).toBe('quorum');
    expect(codeOf(() => checkRosterSuccession(v3, v2))).toBe('INVALID_PARAMETERS');
    expect(codeOf(() => checkRosterSuccession(v3, v3))).toBe('INVALID_PARAMETERS');
    const v4 = open(rosterBody(4, [entry(p(0)), entry(p(1)), entry(p(2), 'disabled', NOW + 5)], { action: 'disable', target: fp(p(2)), approvals: [change(p(0), 'disable', p(2), 3), change(p(1), 'disable', p(2), 3)] }));
    expect(checkRosterSuccession(v3, v4).kind).toBe('quorum');
    expect(checkRosterSuccession(v2, v4)).toEqual({ kind: 'agent-only', reason: 'gap' });
  });

  it('refuses a next roster without approvals once two approvers exist, or with more changed than its change says', () => {
    const bare = open(rosterBody(3, [entry(p(0)), entry(p(1)), entry(p(2))], { action: 'add', target: fp(p(2)), approvals: [] }));
    expect(codeOf(() => checkRosterSuccession(v2, bare))).toBe('APPROVAL_REQUIRED');
    const approvals = [change(p(0), 'add', p(2), 2), change(p(1), 'add', p(2), 2)];
    // Also renames Bob: more than the approved change.
    const sneaky = open(rosterBody(3, [entry(p(0)), { ...entry(p(1)), name: 'Bob (now Mallory)' }, entry(p(2))], { action: 'add', target: fp(p(2)), approvals }));
    expect(codeOf(() => checkRosterSuccession(v2, sneaky))).toBe('MALFORMED');
    // Approvals signed for another version (replayed from an earlier change) do not count.
    const replayed = open(rosterBody(3, [entry(p(0)), entry(p(1)), entry(p(2))], { action: 'add', target: fp(p(2)), approvals: [change(p(0), 'add', p(2), 1), change(p(1), 'add', p(2), 1)] }));
    expect(codeOf(() => checkRosterSuccession(v2, replayed))).toBe('SESSION_MISMATCH');
    // The second setup approver needed none.
    const v1 = open(rosterBody(1, [entry(p(0))], { action: 'add', target: fp(p(0)), approvals: [] }));
    expect(checkRosterSuccession(v1, v2)).toEqual({ kind: 'agent-only', reason: 'setup' });
  });
});
