/**
 * Issue 9 §1b at the agent's API: the approver quorum against the red-team finding "one operator
 * can satisfy the two-approval rule alone", roster changes that expire or are for another agent,
 * the roster's agent signature, and an agent database from before rosters (migration 5 backfills
 * its approvers as the roster's history, and the quorum rule applies from then on).
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DB_FILE } from '../../agent/db';
import { Agent } from '../../agent/service';
import { createAgentIdentity, createApproverIdentity, makeApproverCard, openRoster } from '../../shared/protocol';
import { approve, expectCode, fixture, makeWorld, removeTempDirs } from '../agent/helpers';
import { rosterApprovals } from './helpers';

afterAll(removeTempDirs);

describe('approver quorum at the agent', () => {
  it('regression: one operator alone cannot register two approvers of their own and complete a recovery', async () => {
    const w = await makeWorld();
    await w.agent.importKeyshare('key-1', 'node-0', fixture('eddsa', 0));
    await w.agent.backup('key-1', 'node-0', {}, w.fingerprints, w.out, { qr: false });
    const mallory = [createApproverIdentity('Approver A'), createApproverIdentity('Approver B')];
    const [ma, mb] = mallory as [(typeof mallory)[0], (typeof mallory)[0]];
    // Without approvals, with each other's, or with their own: refused, nothing registered.
    await expectCode(w.agent.addApprover(makeApproverCard(ma, w.clock.seconds)), 'APPROVAL_REQUIRED');
    await expectCode(w.agent.addApprover(makeApproverCard(ma, w.clock.seconds), {}, rosterApprovals(w.agent, [mb, ma], 'add', ma, w.clock.seconds)), 'UNTRUSTED_SIGNER');
    // One real approver talked into signing is not enough either.
    const alice = w.approvers[0]!;
    await expectCode(w.agent.addApprover(makeApproverCard(ma, w.clock.seconds), {}, [...rosterApprovals(w.agent, [alice], 'add', ma, w.clock.seconds), ...rosterApprovals(w.agent, [mb], 'add', ma, w.clock.seconds)]), 'UNTRUSTED_SIGNER');
    await expectCode(w.agent.addApprover(makeApproverCard(ma, w.clock.seconds), {}, rosterApprovals(w.agent, [alice], 'add', ma, w.clock.seconds)), 'APPROVAL_REQUIRED');
    expect(w.agent.listApprovers().map((a) => a.name).sort()).toEqual(['Alice (security)', 'Bob (business owner)']);
    // So their approvals of a recovery session do not count, and no request is issued.
    const opened = await w.agent.openSession({ incidentId: 'INC-RT-1', keyId: 'key-1', nodeId: 'node-0', mode: 'mixed' });
    for (const m of mallory) await expectCode(w.agent.addApproval(opened.session.sessionId, approve(w, opened.details, m)), 'UNTRUSTED_SIGNER');
    await expectCode(w.agent.recoveryRequest(opened.session.sessionId), 'APPROVAL_REQUIRED');
    w.agent.close();
  });

  it('refuses expired roster changes, changes for another agent, and approvals for setup registrations', async () => {
    const w = await makeWorld({ approvers: 0 });
    const [alice, bob, carol] = [createApproverIdentity('Alice'), createApproverIdentity('Bob'), createApproverIdentity('Carol')];
    await w.agent.addApprover(makeApproverCard(alice, w.clock.seconds));
    // The second approver is still a setup registration: approvals are not taken (there is no quorum yet).
    await expectCode(w.agent.addApprover(makeApproverCard(bob, w.clock.seconds), {}, rosterApprovals(w.agent, [alice], 'add', bob, w.clock.seconds)), 'INVALID_PARAMETERS');
    await w.agent.addApprover(makeApproverCard(bob, w.clock.seconds));
    const approvals = rosterApprovals(w.agent, [alice, bob], 'add', carol, w.clock.seconds);
    w.clock.advance(8 * 86400);
    await expectCode(w.agent.addApprover(makeApproverCard(carol, w.clock.seconds), {}, approvals), 'EXPIRED');
    const other = createAgentIdentity('another agent');
    const foreign = rosterApprovals({ publicKey: other.signing.publicKey, approverRosterVersion: () => 2 } as unknown as Agent, [alice, bob], 'add', carol, w.clock.seconds);
    await expectCode(w.agent.addApprover(makeApproverCard(carol, w.clock.seconds), {}, foreign), 'WRONG_RECIPIENT');
    // An approval for another card (same name, other key) does not add this one.
    const lookalike = createApproverIdentity('Carol');
    await expectCode(w.agent.addApprover(makeApproverCard(lookalike, w.clock.seconds), {}, rosterApprovals(w.agent, [alice, bob], 'add', carol, w.clock.seconds)), 'SESSION_MISMATCH');
    expect(w.agent.approverRosterVersion()).toBe(2);
    const added = await w.agent.addApprover(makeApproverCard(carol, w.clock.seconds), {}, rosterApprovals(w.agent, [alice, bob], 'add', carol, w.clock.seconds));
    expect(added.name).toBe('Carol');
    const roster = w.agent.approverRoster();
    expect(roster).toMatchObject({ version: 3, nextRule: 'quorum' });
    const opened = openRoster(roster.bytes, w.agent.publicKey);
    expect(opened.body.change?.approvals).toHaveLength(2);
    expect(opened.body.agent_name).toBe('agent under test');
    w.agent.close();
  });

  it('a database from before rosters: its approvers become the roster history, and the quorum rule applies', async () => {
    const w = await makeWorld({ approvers: 2 });
    w.agent.close();
    // Put the database back to schema version 4, as an agent before rosters left it, with a third approver.
    const db = new Database(join(w.dir, DB_FILE));
    const carol = createApproverIdentity('Carol (compliance)');
    const card = makeApproverCard(carol, w.clock.seconds);
    try {
      db.exec('DROP TABLE approver_roster');
      db.exec('ALTER TABLE recovery_sessions DROP COLUMN incident_title'); // migration 6 (issue 13)
      const { openApproverCard } = await import('../../shared/protocol');
      const c = openApproverCard(card);
      db.prepare('INSERT INTO approvers (fingerprint, code, card, name, sign_key, enabled, added_at, disabled_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)').run(
        Buffer.from(c.fingerprint).toString('hex'),
        c.code,
        card,
        c.body.name,
        c.body.sign_key,
        w.clock.now() + 1,
        w.clock.now() + 2,
      );
      db.pragma('user_version = 4');
    } finally {
      db.close();
    }
    const agent = await Agent.open(w.dir, { now: w.clock.now, operator: 'tester' });
    try {
      // Three adds and one disable, in the order they happened.
      expect(agent.approverRosterVersion()).toBe(4);
      const roster = openRoster(agent.approverRoster().bytes, agent.publicKey);
      // (In the order they were added; Alice and Bob were added in the same millisecond, so by fingerprint.)
      expect(roster.body.approvers.map((a) => [a.name, a.status]).sort()).toEqual([
        ['Alice (security)', 'enabled'],
        ['Bob (business owner)', 'enabled'],
        ['Carol (compliance)', 'disabled'],
      ]);
      expect(roster.body.change).toBeUndefined();
      const dave = createApproverIdentity('Dave');
      await expectCode(agent.addApprover(makeApproverCard(dave, w.clock.seconds)), 'APPROVAL_REQUIRED');
      await agent.addApprover(makeApproverCard(dave, w.clock.seconds), {}, rosterApprovals(agent, w.approvers, 'add', dave, w.clock.seconds));
      expect(agent.approverRosterVersion()).toBe(5);
    } finally {
      agent.close();
    }
  });
});
