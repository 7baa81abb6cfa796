// The recovery station and the linked agent, against a REAL agent (agent/service.ts with the
// tss-lib ECDSA fixture, 3-of-5, external-only recovery) over its real Connect/gRPC socket on
// 127.0.0.1: receipts sent, exports added as files, QR frames and a QR image, arrived/missing
// shown, bad scans refused by name, submitted in two calls, the second completing the recovery.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { renderPng } from '../../shared/qr/render';
import { framesFor } from '../../main/services/qr-files';
import { serveAgent, type RunningServer } from '../../agent/rpc/server';
import type { RpcLogger } from '../../agent/rpc/log';
import { createWorld, tamperSignature, type World } from '../rpc/world';
import { call, file, harness, refused } from './helpers';

const quiet: RpcLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => { r(); }));
  return port;
}

describe('recovery station and linked agent, against a real agent on loopback', () => {
  let w: World;
  let server: RunningServer;

  beforeAll(async () => {
    w = await createWorld();
    server = await serveAgent(w.agent, { logger: quiet, recoveryRateLimit: { perMinute: 120, burst: 30 } });
  }, 60_000);
  afterAll(async () => {
    await server.close();
    w.close();
  });

  it('sends receipts, collects exports per session, shows what is missing, submits and completes', async () => {
    const h = harness();
    // No vault on this machine: the station does not need one. No agent linked: nothing is sent.
    expect((await call(h, 'vault:status', {})).exists).toBe(false);
    await refused(h, 'receipts:send', { receipts: [file('r3.custos', await w.receipt(3))] }, 'AGENT_NOT_LINKED');
    await call(h, 'settings:set', { change: { agentUrl: server.url } });
    await refused(h, 'receipts:send', { receipts: [file('r3.custos', await w.receipt(3))] }, 'AGENT_NOT_LINKED');
    await call(h, 'agent:setToken', { token: w.token });

    const sent = await call(h, 'receipts:send', { receipts: await Promise.all([3, 4, 5].map(async (i) => file(`r${String(i)}.custos`, await w.receipt(i)))) });
    expect(sent.results.map((r) => [r.ok, r.agentStatus])).toEqual([
      [true, 'confirmed'],
      [true, 'confirmed'],
      [true, 'confirmed'],
    ]);
    const junk = await call(h, 'receipts:send', { receipts: [file('junk.custos', new Uint8Array([1, 2, 3]))] });
    expect(junk.results[0]).toMatchObject({ ok: false, problem: { code: 'AGENT_REFUSED', details: { agentCode: 'MALFORMED' } } });

    const sessionId = await w.openApprovedSession('external-only', 'INC-2026-0099');
    const request = await w.agent.recoveryRequest(sessionId);
    const [e3, e4, e5] = [await w.exportFor(sessionId, 3), await w.exportFor(sessionId, 4), await w.exportFor(sessionId, 5)];

    const added = await call(h, 'station:add', {
      files: [file('request.custos', request), file('custodian-3.custos', e3), file('tampered.custos', tamperSignature(e4)), file('notes.txt', new TextEncoder().encode('hello'))],
      frames: framesFor('recovery-export', e4).map((frame, i) => ({ name: `camera ${String(i + 1)}`, frame })),
    });
    expect(added.added.map((a) => [a.name, a.kind, a.outcome, a.problem?.code])).toEqual([
      ['request.custos', 'recovery-request', 'added', undefined],
      ['custodian-3.custos', 'recovery-export', 'added', undefined],
      ['tampered.custos', 'recovery-export', 'refused', 'SIGNATURE_INVALID'],
      ['notes.txt', 'other', 'refused', 'MALFORMED'],
      [expect.stringContaining('camera'), 'recovery-export', 'added', undefined],
    ]);
    expect(added.sessions).toHaveLength(1);
    let s = added.sessions[0]!;
    expect(s).toMatchObject({ sessionId, incidentId: 'INC-2026-0099', mode: 'external-only', threshold: 3, expected: [3, 4, 5], missing: [5], request: { verified: false } });
    expect(s.arrived.map((a) => [a.shareIndex, a.submitted])).toEqual([
      [3, 'pending'],
      [4, 'pending'],
    ]);
    // The same export again is a duplicate, not a second copy.
    expect((await call(h, 'station:add', { files: [file('again.custos', e3)] })).added[0]?.outcome).toBe('duplicate');

    // The agent's view before anything was sent.
    const refreshed = await call(h, 'station:refresh', { sessionId });
    expect(refreshed.session.agent).toMatchObject({ state: 'collecting', received: [], missing: [3, 4, 5], threshold: 3 });

    const first = await call(h, 'station:submit', { sessionId, opId: 'submit-1' });
    expect(first).toMatchObject({ accepted: [3, 4], refused: [], missing: [5], completion: null });
    expect(first.session.arrived.map((a) => a.submitted)).toEqual(['accepted', 'accepted']);
    expect(first.session.agent).toMatchObject({ received: [3, 4], missing: [5] });

    // The last custodian brings a QR image (a photo of their screen or sheet).
    const frames = framesFor('recovery-export', e5);
    const images = await Promise.all(frames.map(async (f, i) => file(`photo-${String(i)}.png`, await renderPng(f))));
    s = (await call(h, 'station:add', { files: images })).sessions[0]!;
    expect(s.missing).toEqual([]);
    const done = await call(h, 'station:submit', { sessionId, complete: true });
    expect(done.accepted).toEqual([5]);
    expect(done.completion).toMatchObject({ success: true, written: true, keydataSha256: w.imported.keydataSha256 });
    expect(done.completion?.selfCheck.every((c) => c.ok)).toBe(true);
    expect(done.session.agent?.state).toBe('completed');
    expect(h.events.filter((e) => e.event === 'progress').map((e) => (e.payload as { channel: string }).channel)).toContain('station:submit');

    await call(h, 'station:remove', { sessionId });
    expect((await call(h, 'station:list', {})).sessions).toEqual([]);
    await refused(h, 'station:refresh', { sessionId }, 'SESSION_MISMATCH');
  }, 60_000);

  it('checks a recovery request against the pinned agent when a vault is unlocked here, and names agent failures', async () => {
    // The world's agent dates its requests with the real clock: so does this vault.
    const h = harness({ vaultOptions: { clock: () => Date.now(), sleep: () => Promise.resolve() } });
    await call(h, 'vault:create', { name: 'Ops station', passphrase: 'correct horse battery staple' });
    const card = w.agent.card;
    const preview = await call(h, 'trust:previewAgent', { card: file('agent.custos', card) });
    await call(h, 'trust:pin', { card: file('agent.custos', card), confirmCode: preview.code });
    const sessionId = await w.openApprovedSession('external-only', 'INC-2026-0100');
    const added = await call(h, 'station:add', { files: [file('request.custos', await w.agent.recoveryRequest(sessionId)), file('e3.custos', await w.exportFor(sessionId, 3))] });
    expect(added.sessions.find((x) => x.sessionId === sessionId)?.request?.verified).toBe(true);
    // An export made for ANOTHER session of the same set lands in its own session.
    const other = await w.openApprovedSession('external-only', 'INC-2026-0101');
    const mixed = await call(h, 'station:add', { files: [file('e4-other.custos', await w.exportFor(other, 4))] });
    expect(mixed.sessions.map((x) => x.sessionId).sort()).toEqual([sessionId, other].sort());

    // Nobody listening: AGENT_UNREACHABLE. The wrong token: AGENT_TOKEN_REJECTED naming the agent's code (issue 13).
    await call(h, 'settings:set', { change: { agentUrl: `http://127.0.0.1:${String(await closedPort())}` } });
    await call(h, 'agent:setToken', { token: w.token });
    await refused(h, 'station:refresh', { sessionId }, 'AGENT_UNREACHABLE');
    await call(h, 'settings:set', { change: { agentUrl: server.url } });
    await call(h, 'agent:setToken', { token: 'not-the-token-but-long-enough' });
    const e = await refused(h, 'station:submit', { sessionId }, 'AGENT_TOKEN_REJECTED');
    expect(e.details['agentCode']).toBe('UNAUTHENTICATED');
    expect(e.message.en).toContain('ask ops for a recovery token with the station scope');
    expect(e.message['zh-CN']).toContain('代理拒绝');
    // Nothing was marked sent.
    expect((await call(h, 'station:list', {})).sessions.find((x) => x.sessionId === sessionId)?.arrived.map((a) => a.submitted)).toEqual(['pending']);
  }, 60_000);
});
