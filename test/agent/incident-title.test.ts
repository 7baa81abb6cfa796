// A recovery session's free-text incident title (issue 13, docs/protocol.md §4.5): the agent takes
// it at session open, signs it in the session details, keeps it in the database (migration 6) and
// the audit entry of the opening, puts it in the recovery request, and refuses an approval over a
// different title. A database from before the column opens and keeps its sessions.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/service';
import { DB_FILE, SCHEMA_VERSION } from '../../agent/db';
import { toHex } from '../../shared/bytes';
import { decodeCanonical, openRecoveryRequest, sessionDetailsSchema } from '../../shared/protocol';
import { approve, expectCode, fixture, makeWorld, removeTempDirs, type World } from './helpers';

const TITLE = '交易所热钱包事故 2026/12';

afterAll(removeTempDirs);

async function worldWithBackup(): Promise<World> {
  const w = await makeWorld();
  await w.agent.importKeyshare('key-1', 'node-0', fixture('eddsa', 0));
  await w.agent.backup('key-1', 'node-0', {}, w.fingerprints, w.out, { qr: false });
  return w;
}

describe('incident title at the agent', () => {
  it('is normalised, signed in the details, shown, audited and carried in the request; an approval over another title is refused', async () => {
    const w = await worldWithBackup();
    // Typed with a decomposed "é" and surrounding spaces: stored as NFC, trimmed.
    const typed = `  ${TITLE} cafe\u0301 `;
    const expected = `${TITLE} caf\u00e9`;
    const opened = await w.agent.openSession({ incidentId: 'INC-2026-0042', incidentTitle: typed, keyId: 'key-1', nodeId: 'node-0', mode: 'external-only' });
    const sid = opened.session.sessionId;
    expect(opened.session.incidentTitle).toBe(expected);
    expect(opened.details.incident_title).toBe(expected);
    // The file approvers sign carries it.
    expect(sessionDetailsSchema.parse(decodeCanonical(opened.detailsCbor)).incident_title).toBe(expected);
    expect(w.agent.sessionDetails(sid).details.incident_title).toBe(expected);
    expect(w.agent.getSession(sid).incidentTitle).toBe(expected);
    expect(w.agent.listSessions().find((s) => s.sessionId === sid)?.incidentTitle).toBe(expected);

    const openEntry = w.agent.auditEntries({ limit: 100_000 }).map((e) => e.entry).find((e) => e.action === 'session-open' && e.target === `session:${sid}`);
    expect(openEntry?.details).toMatchObject({ incident_id: 'INC-2026-0042', incident_title: expected });

    // An approval over the same details but another title (or none) is for other details.
    const [alice, bob] = w.approvers as [(typeof w.approvers)[0], (typeof w.approvers)[0]];
    await expectCode(w.agent.addApproval(sid, approve(w, { ...opened.details, incident_title: '交易所热钱包事故 2026/11' }, alice)), 'SESSION_MISMATCH');
    const { incident_title: _t, ...untitled } = opened.details;
    await expectCode(w.agent.addApproval(sid, approve(w, untitled, alice)), 'SESSION_MISMATCH');
    expect(w.agent.getSession(sid).approvals).toHaveLength(0);

    await w.agent.addApproval(sid, approve(w, opened.details, alice));
    await w.agent.addApproval(sid, approve(w, opened.details, bob));
    const request = openRecoveryRequest(await w.agent.recoveryRequest(sid), w.agent.publicKey, w.clock.seconds);
    expect(request.session.incident_title).toBe(expected);
    expect(request.approvals.every((a) => a.body.session.incident_title === expected)).toBe(true);
    w.agent.close();
  });

  it('a session opened without a title has none anywhere: its details are what they were before the field', async () => {
    const w = await worldWithBackup();
    const opened = await w.agent.openSession({ incidentId: 'INC-7', keyId: 'key-1', nodeId: 'node-0', mode: 'external-only' });
    expect(opened.session.incidentTitle).toBeUndefined();
    expect(Object.keys(decodeCanonical(opened.detailsCbor) as object)).not.toContain('incident_title');
    w.agent.close();
  });

  it.each([
    ['empty after trimming', '   '],
    ['too long', '事'.repeat(201)],
    ['a control character', 'hot\u0000wallet'],
    ['a line break', 'hot\nwallet'],
    ['a bidirectional override', 'x\u202Eexe.pdf'],
  ])('refuses a title that is %s (INVALID_PARAMETERS, no session opened, the text not repeated)', async (_what, title) => {
    const w = await worldWithBackup();
    const error = await expectCode(w.agent.openSession({ incidentId: 'INC-8', incidentTitle: title, keyId: 'key-1', nodeId: 'node-0', mode: 'external-only' }), 'INVALID_PARAMETERS');
    expect(error.details).toMatchObject({ field: 'incident_title' });
    expect(error.message).toMatch(/^The incident title must /);
    if (title.trim() !== '') expect(error.message).not.toContain(title);
    expect(w.agent.listSessions()).toHaveLength(0);
    w.agent.close();
  });

  it('a database from before migration 6 opens: its sessions keep working, with no title, and new ones take one', async () => {
    const w = await worldWithBackup();
    const old = await w.agent.openSession({ incidentId: 'INC-OLD', keyId: 'key-1', nodeId: 'node-0', mode: 'external-only' });
    w.agent.close();
    // Put the database back to schema 5: the table as it was, without the column.
    const raw = new Database(join(w.dir, DB_FILE));
    raw.exec('ALTER TABLE recovery_sessions DROP COLUMN incident_title');
    raw.pragma(`user_version = ${String(SCHEMA_VERSION - 1)}`);
    raw.close();

    const agent = await Agent.open(w.dir, { now: w.clock.now, operator: 'tester' });
    const check = new Database(join(w.dir, DB_FILE), { readonly: true });
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    const cols = (check.prepare("SELECT name FROM pragma_table_info('recovery_sessions')").all() as { name: string }[]).map((c) => c.name);
    check.close();
    expect(cols).toContain('incident_title');
    const again = agent.getSession(old.session.sessionId);
    expect(again).toMatchObject({ incidentId: 'INC-OLD', state: 'awaiting-approvals' });
    expect(again.incidentTitle).toBeUndefined();
    expect(toHex(agent.sessionDetails(old.session.sessionId).detailsCbor)).toBe(toHex(old.detailsCbor));
    await agent.cancelSession(old.session.sessionId);
    const titled = await agent.openSession({ incidentId: 'INC-NEW', incidentTitle: TITLE, keyId: 'key-1', nodeId: 'node-0', mode: 'external-only' });
    expect(agent.getSession(titled.session.sessionId).incidentTitle).toBe(TITLE);
    agent.close();
  });
});
