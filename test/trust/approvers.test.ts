// Pinned approvers and the recovery review a custodian can trust (issue 12), through the services a
// person's clicks and commands reach: approver cards pinned only after the read-aloud code, with a
// call-back contact; each approval of a request judged against them (verified, unknown, changed
// key); the export refused below two verified approvers unless a typed reason overrides it, which is
// audited and carried in the export the agent opens; the warnings social engineering relies on.
import { describe, expect, it } from 'vitest';
import { toHex } from '../../shared/bytes';
import { auditEntrySchema } from '../../shared/audit/chain';
import { createApproverIdentity, makeApproverCard, openApproverCard, openRecoveryExport, openRecoveryRequest } from '../../shared/protocol';
import { importEnvelopes } from '../../main/services/inbox';
import { exportForRecovery, showRecoveryRequest } from '../../main/services/recovery';
import { pinAgent, pinApprover, pinnedApprovers, removeApprover, setAgentContact } from '../../main/services/trust';
import { codeOf, createVault, makeAgent, makeSet, meOf, NOW, PASSPHRASE, pinned, pinTestApprovers, recoveryRequest, TEST_APPROVERS, testApproverCards, testClock } from '../custodian/helpers';

const REASON = 'Called Alice and Bob on their desk phones at 10:05; both confirmed INC-7 approvals.';

async function vaultWithShare(options: { approvers?: boolean } = {}) {
  const clock = testClock();
  const v = await createVault({ clock: clock.fn });
  const agent = makeAgent();
  await pinned(v, agent);
  if (options.approvers !== false) await pinTestApprovers(v);
  const set = await makeSet(agent.id, meOf(v));
  await importEnvelopes(v, [{ bytes: set.envelope }]);
  return { v, agent, set, clock };
}

const exportsOf = (v: Awaited<ReturnType<typeof createVault>>) => v.state.audit.entries.map((e) => auditEntrySchema.parse(e)).filter((e) => e.fields.event === 'export');

describe('pinning approvers', () => {
  it('needs the code the approver read out, records the call-back contact, refuses a changed key under the same name', async () => {
    const v = await createVault();
    const agent = makeAgent();
    const [alice] = testApproverCards();
    expect(await codeOf(() => pinApprover(v, alice!.card, alice!.code))).toBe('NOT_PINNED');
    await pinAgent(v, agent.card, agent.code, { name: 'Li Wei (ops on call)', reach: '+86 21 5555 0100' });
    expect(v.state.agent?.contact).toEqual({ name: 'Li Wei (ops on call)', reach: '+86 21 5555 0100' });

    expect(await codeOf(() => pinApprover(v, alice!.card, '0000 0000 0000 0000 0000 0000'))).toBe('CODE_MISMATCH');
    expect(await codeOf(() => pinApprover(v, alice!.card, ''))).toBe('CODE_MISMATCH');
    expect(await codeOf(() => pinApprover(v, alice!.card, alice!.code, { name: 'Alice', reach: 'x'.repeat(101) }))).toBe('USAGE');
    expect(await codeOf(() => pinApprover(v, alice!.card, alice!.code, { name: 'Alice', reach: 'line\u0007bell' }))).toBe('USAGE');
    expect(pinnedApprovers(v)).toHaveLength(0);

    const r = await pinApprover(v, alice!.card, alice!.code.replace(/ /g, ''), { name: 'Alice Zhang', reach: '+86 10 5555 0199 (desk)' });
    expect(r).toMatchObject({ name: 'Alice (security)', alreadyPinned: false, code: alice!.code });
    expect((await pinApprover(v, alice!.card, alice!.code)).alreadyPinned).toBe(true);

    // Same name (different case and spacing), another key: never taken silently.
    const impostor = makeApproverCard(createApproverIdentity('alice  (Security)'), NOW);
    const e = await pinApprover(v, impostor, openApproverCard(impostor).code).catch((x: unknown) => x);
    expect((e as { code: string }).code).toBe('APPROVER_KEY_CHANGED');
    expect((e as Error).message).toContain('+86 10 5555 0199');
    expect(pinnedApprovers(v).map((a) => a.code)).toEqual([alice!.code]);

    // Kept across lock and unlock, with the contact and the audit entry.
    await v.lock();
    await v.unlock(PASSPHRASE);
    expect(pinnedApprovers(v)).toMatchObject([{ name: 'Alice (security)', via: 'card', status: 'enabled', contact: { name: 'Alice Zhang', reach: '+86 10 5555 0199 (desk)' } }]);
    const registered = v.state.audit.entries.map((x) => auditEntrySchema.parse(x)).filter((x) => x.fields.target === 'approver Alice (security)');
    expect(registered[0]?.fields.detail).toContain(alice!.code);

    expect(await codeOf(() => removeApprover(v, 'ffffffff'))).toBe('NOT_FOUND');
    await removeApprover(v, pinnedApprovers(v)[0]!.fingerprint.slice(0, 12));
    expect(pinnedApprovers(v)).toHaveLength(0);
    expect((await setAgentContact(v, { name: '  Wang Fang ', reach: 'Signal +86 138 0000 0000' })).name).toBe('Wang Fang');
  });
});

describe('the recovery review against pinned approvers', () => {
  it('counts two verified approvers and exports without an override', async () => {
    const { v, agent, set } = await vaultWithShare();
    const s = await recoveryRequest(agent.id, set, { incident: 'INC-7' });
    const summary = showRecoveryRequest(v, s.request);
    expect(summary.approvals.map((a) => a.verdict)).toEqual(['verified', 'verified']);
    expect(summary).toMatchObject({ verifiedApprovals: 2, requiredApprovals: 2, needsOverride: false, exportable: true });
    expect(summary.warnings.map((w) => w.code)).toEqual([]);
    const result = await exportForRecovery(v, s.request, summary.confirmation);
    const req = openRecoveryRequest(s.request, agent.id.signing.publicKey, NOW + 10);
    const opened = await openRecoveryExport(result.bytes, req, [{ signKey: v.identity.signing.publicKey, ageRecipient: v.info.ageRecipient }], s.sessionIdentity);
    expect(opened.export.body.override).toBeUndefined();
  });

  it('refuses below two verified approvers unless a typed reason overrides; the reason is audited and reaches the agent', async () => {
    const { v, agent, set } = await vaultWithShare({ approvers: false });
    // Any two keys with any names: unknown approvers.
    const strangers = [createApproverIdentity('Mallory (security)'), createApproverIdentity('Trent (business owner)')];
    const s = await recoveryRequest(agent.id, set, { incident: 'INC-7', approvers: strangers });
    const summary = showRecoveryRequest(v, s.request);
    expect(summary.approvals.map((a) => a.verdict)).toEqual(['unknown', 'unknown']);
    expect(summary).toMatchObject({ verifiedApprovals: 0, needsOverride: true, exportable: true });
    expect(summary.warnings.map((w) => w.code)).toContain('approvers-unverified');

    const before = v.state.shares[0]!.status;
    expect(await codeOf(() => exportForRecovery(v, s.request, summary.confirmation))).toBe('APPROVERS_UNVERIFIED');
    expect(await codeOf(() => exportForRecovery(v, s.request, summary.confirmation, { override: '  too short   ' }))).toBe('USAGE');
    expect(v.state.shares[0]!.status).toBe(before);
    expect(v.state.shares[0]!.exports).toHaveLength(0);
    expect(exportsOf(v).map((e) => [e.fields.result, e.fields.reason])).toEqual([['refused', 'APPROVERS_UNVERIFIED']]);

    const result = await exportForRecovery(v, s.request, summary.confirmation, { override: REASON });
    expect(v.state.shares[0]!.status).toBe('exported');
    const ok = exportsOf(v).find((e) => e.fields.result === 'ok');
    expect(ok?.fields.detail).toContain(`OVERRIDE without 2 verified approvers, reason: ${REASON}`);
    expect(ok?.fields.approver).toContain('Mallory (security)');
    expect(ok?.fields.approver).toContain('unknown');

    // The agent opens it (its registered custodian, its session key) and sees the reason.
    const req = openRecoveryRequest(s.request, agent.id.signing.publicKey, NOW + 10);
    const opened = await openRecoveryExport(result.bytes, req, [{ signKey: v.identity.signing.publicKey, ageRecipient: v.info.ageRecipient }], s.sessionIdentity);
    expect(opened.export.body.override).toEqual({ reason: REASON, verified_approvals: 0 });
    expect(opened.share).toEqual(set.share);
  });

  it('a pinned name with another key is a changed key, not a verified approver', async () => {
    const { v, agent, set } = await vaultWithShare();
    const forged = createApproverIdentity(TEST_APPROVERS[0]!.name);
    const s = await recoveryRequest(agent.id, set, { approvers: [forged, TEST_APPROVERS[1]!] });
    const summary = showRecoveryRequest(v, s.request);
    const [first, second] = summary.approvals;
    expect(first).toMatchObject({ name: 'Alice (security)', verdict: 'changed-key', pinned: { name: 'Alice (security)', code: testApproverCards()[0]!.code } });
    expect(second?.verdict).toBe('verified');
    expect(summary.needsOverride).toBe(true);
    const w = summary.warnings.find((x) => x.code === 'approver-key-changed');
    expect(w?.message.en).toContain('another key');
    expect(w?.message['zh-CN']).toMatch(/[\u4e00-\u9fff]/);
    expect(await codeOf(() => exportForRecovery(v, s.request, summary.confirmation))).toBe('APPROVERS_UNVERIFIED');
  });
});

describe('warnings', () => {
  it('a share already exported for another session, a short expiry, mixed mode against the policy; each with the call-back contact', async () => {
    const { v, agent, set } = await vaultWithShare();
    await setAgentContact(v, { name: 'Li Wei (ops)', reach: '+86 21 5555 0100' });
    const first = await recoveryRequest(agent.id, set, { incident: 'INC-1' });
    await exportForRecovery(v, first.request, showRecoveryRequest(v, first.request).confirmation);

    // Another incident, mixed mode, ten minutes to expiry: the pattern of an attack.
    const second = await recoveryRequest(agent.id, set, { incident: 'INC-2', mode: 'mixed', notAfter: NOW + 600 });
    const relaxed = showRecoveryRequest(v, second.request);
    expect(relaxed.warnings.map((w) => w.code)).toEqual(['exported-other-session', 'short-expiry']);
    const strict = showRecoveryRequest(v, second.request, { minExpiryMinutes: 5, expectMode: 'external-only' });
    expect(strict.warnings.map((w) => w.code)).toEqual(['exported-other-session', 'mixed-mode']);
    const other = relaxed.warnings[0]!;
    expect(other.params).toMatchObject({ sessions: 1, incidents: 'INC-1' });
    expect(other.contact).toEqual({ name: 'Li Wei (ops)', reach: '+86 21 5555 0100' });
    expect(other.advice.en).toContain('called the agent operator yourself');
    expect(other.message['zh-CN']).toContain('INC-1');
    expect(relaxed.warnings[1]!.params).toEqual({ minutes: 10, min: 60 });

    // The same session again: a repeat, said as such.
    const again = showRecoveryRequest(v, first.request);
    expect(again.warnings.map((w) => w.code)).toEqual(['exported-this-session']);
    expect(toHex(first.session.session_id)).toBe(again.sessionId);
  });
});
