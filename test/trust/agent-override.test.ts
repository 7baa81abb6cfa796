// The agent's side of a custodian's override (issue 12): an export that carries `override` (the
// custodian exported without two approvals verified against approvers they pinned) is accepted like
// any other, and its reason lands in the agent's audit entry for that share; an export without one
// reads exactly as before and its entry has no such field.
import { afterAll, describe, expect, it } from 'vitest';
import { custodianIdentityFingerprint, makeRecoveryExport, openRecoveryRequest } from '../../shared/protocol';
import { approvedSession, exportFor, fixture, makeWorld, openAllEnvelopes, removeTempDirs } from '../agent/helpers';

afterAll(removeTempDirs);

describe('an export with an override, at the agent', () => {
  it('is accepted and its reason recorded in the audit entry of that share', async () => {
    const w = await makeWorld();
    await w.agent.importKeyshare('key-1', 'node-0', fixture('ecdsa', 0));
    const backup = await w.agent.backup('key-1', 'node-0', { threshold: 3, total: 5, retain: 2 }, w.fingerprints, w.out);
    const held = await openAllEnvelopes(w, backup);
    const s = await approvedSession(w, { keyId: 'key-1', nodeId: 'node-0', mode: 'external-only', incidentId: 'INC-2026-0200' });
    const req = openRecoveryRequest(s.request, w.agent.publicKey, w.clock.seconds);
    const h3 = held.get(3)!;
    const reason = 'Called both approvers on known numbers; Bob confirmed, Alice was unreachable.';
    const overridden = await makeRecoveryExport(req, 3, h3.share, { signing: h3.custodian.signing, fingerprint: custodianIdentityFingerprint(h3.custodian) }, w.clock.seconds, { reason, verified_approvals: 1 });
    const plain = await exportFor(w, s.request, held.get(4)!, 4);
    expect(await w.agent.submitExports(s.sessionId, [overridden, plain])).toMatchObject({ accepted: [3, 4], refused: [] });
    const submitted = w.agent.auditEntries({ limit: 1000 }).map((r) => r.entry).filter((f) => f.action === 'export-submit' && f.result === 'ok');
    expect(submitted.map((f) => f.share_index)).toEqual([3, 4]);
    const byIndex = new Map(submitted.map((f) => [f.share_index, f]));
    expect(byIndex.get(3)?.details).toMatchObject({ custodian_override: { reason, verified_approvals: 1 } });
    expect(byIndex.get(4)?.details).toBeDefined();
    expect(byIndex.get(4)?.details).not.toHaveProperty('custodian_override');
  });
});
