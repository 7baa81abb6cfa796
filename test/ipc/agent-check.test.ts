// The agent link check (issue 13, H12) against a REAL agent (agent/service.ts) over its real
// Connect socket on 127.0.0.1, with real per-operator tokens (agent/token/store.ts): no URL, no
// token, nobody listening, a server that is not an agent, a wrong token, a token without the
// station's scope, a revoked token, a recover-only token and the data directory's token; and a
// token that cannot be one refused by name before anything is kept or sent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { Code, ConnectError } from '@connectrpc/connect';
import { serveAgent, type RunningServer } from '../../agent/rpc/server';
import type { RpcLogger } from '../../agent/rpc/log';
import { createToken, revokeToken } from '../../agent/token/store';
import { classifyProbe } from '../../main/services/agent-link';
import { createWorld, type World } from '../rpc/world';
import { call, harness, refused } from './helpers';

const quiet: RpcLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => { r(); }));
  return port;
}

describe('agent:check classifies the link, against a real agent on loopback', () => {
  let w: World;
  let server: RunningServer;
  let other: Server;
  let otherUrl: string;

  beforeAll(async () => {
    w = await createWorld();
    server = await serveAgent(w.agent, { logger: quiet });
    // A plain web server at the address: it answers, but not as an agent.
    other = createHttpServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not here');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    otherUrl = `http://127.0.0.1:${String((other.address() as { port: number }).port)}`;
  }, 60_000);
  afterAll(async () => {
    await server.close();
    await new Promise<void>((r) => other.close(() => { r(); }));
    w.close();
  });

  it('not configured, unreachable, rejected and authenticated, each with the check time and a sentence in both languages', async () => {
    const h = harness();
    // Nothing set: not configured, nothing sent.
    let c = await call(h, 'agent:check', {});
    expect(c).toMatchObject({ state: 'not-configured', url: null, tokenSet: false, problem: { code: 'AGENT_NOT_LINKED' } });
    expect(c.checkedAt).toBeGreaterThan(1_700_000_000);
    await call(h, 'settings:set', { change: { agentUrl: server.url } });
    c = await call(h, 'agent:check', {});
    expect(c).toMatchObject({ state: 'not-configured', url: server.url, tokenSet: false, problem: { code: 'AGENT_NOT_LINKED' } });

    // A wrong token: the agent refuses it (UNAUTHENTICATED), with the sentence of the issue.
    await call(h, 'agent:setToken', { token: 'not-the-token-but-long-enough' });
    expect((await call(h, 'agent:status', {})).check).toBeNull();
    c = await call(h, 'agent:check', {});
    expect(c).toMatchObject({ state: 'rejected', tokenSet: true, problem: { code: 'AGENT_TOKEN_REJECTED', details: { agentCode: 'UNAUTHENTICATED' } } });
    expect(c.problem?.message.en).toContain('ask ops for a recovery token with the station scope');
    expect(c.problem?.message['zh-CN']).toContain('代理拒绝了此令牌');
    expect(JSON.stringify(c)).not.toContain('not-the-token-but-long-enough');
    // Remembered for the other places that show the link, until the token or the URL changes.
    expect((await call(h, 'agent:status', {})).check).toEqual(c);

    // A real token without the station's scope ("recover"): PERMISSION_DENIED, also rejected.
    const readOnly = createToken(w.agent.dataDir, 'viewer', ['read'], Math.floor(Date.now() / 1000));
    await call(h, 'agent:setToken', { token: readOnly.token });
    c = await call(h, 'agent:check', {});
    expect(c).toMatchObject({ state: 'rejected', problem: { code: 'AGENT_TOKEN_REJECTED', details: { agentCode: 'PERMISSION_DENIED' } } });

    // A station token (recover only) and the data directory's token: authenticated, and the probe
    // changed nothing and audited nothing on the agent.
    const station = createToken(w.agent.dataDir, 'station', ['recover'], Math.floor(Date.now() / 1000));
    const before = w.agent.auditEntries().length;
    await call(h, 'agent:setToken', { token: station.token });
    c = await call(h, 'agent:check', {});
    expect(c).toEqual({ state: 'authenticated', url: server.url, tokenSet: true, checkedAt: c.checkedAt });
    expect(w.agent.auditEntries().length).toBe(before);
    await call(h, 'agent:setToken', { token: w.token });
    expect((await call(h, 'agent:check', {})).state).toBe('authenticated');

    // Revoked: rejected from the next check on.
    revokeToken(w.agent.dataDir, station.record.id, Math.floor(Date.now() / 1000));
    await call(h, 'agent:setToken', { token: station.token });
    expect(await call(h, 'agent:check', {})).toMatchObject({ state: 'rejected', problem: { details: { agentCode: 'UNAUTHENTICATED' } } });

    // Nobody listening: unreachable with the network's reason. The URL change forgot the token.
    await call(h, 'settings:set', { change: { agentUrl: `http://127.0.0.1:${String(await closedPort())}` } });
    expect(await call(h, 'agent:status', {})).toMatchObject({ tokenSet: false, check: null });
    await call(h, 'agent:setToken', { token: w.token });
    c = await call(h, 'agent:check', {});
    expect(c).toMatchObject({ state: 'unreachable', problem: { code: 'AGENT_UNREACHABLE' } });
    expect(String(c.problem?.details['reason'])).toMatch(/ECONNREFUSED/);
    expect(c.problem?.details['reasonKind']).toBe('refused');

    // A web server that is not an agent: it answers, but no agent does.
    await call(h, 'settings:set', { change: { agentUrl: otherUrl } });
    await call(h, 'agent:setToken', { token: w.token });
    c = await call(h, 'agent:check', {});
    expect(c).toMatchObject({ state: 'unreachable', problem: { code: 'AGENT_UNREACHABLE', details: { reasonKind: 'not-agent' } } });
  }, 60_000);

  it('refuses what cannot be a token by name (AGENT_TOKEN_INVALID), never echoing it, and keeps the token it had', async () => {
    const h = harness();
    await call(h, 'settings:set', { change: { agentUrl: server.url } });
    await call(h, 'agent:setToken', { token: w.token });
    for (const bad of ['short', 'has a space in the middle of it', 'tab\tinside-a-long-enough-token', 'é'.repeat(20)]) {
      const e = await refused(h, 'agent:setToken', { token: bad }, 'AGENT_TOKEN_INVALID');
      expect(e.details['field']).toBe('token');
      expect(e.message.en).toContain('not an agent API token');
      expect(e.message['zh-CN']).toContain('这不是代理 API 令牌');
      expect(JSON.stringify(e)).not.toContain(bad);
    }
    expect((await call(h, 'agent:status', {})).tokenSet).toBe(true);
    expect((await call(h, 'agent:check', {})).state).toBe('authenticated');
  }, 30_000);

  it('classifies a proxy\'s 401/403 as rejected and the agent\'s own answers past the gate as authenticated', () => {
    const withCode = (code: Code, agentCode?: string) => new ConnectError('x', code, agentCode === undefined ? undefined : { 'custos-error-code': agentCode });
    expect(classifyProbe(withCode(Code.Unauthenticated)).state).toBe('rejected');
    expect(classifyProbe(withCode(Code.PermissionDenied)).state).toBe('rejected');
    expect(classifyProbe(withCode(Code.NotFound, 'NOT_FOUND')).state).toBe('authenticated');
    expect(classifyProbe(withCode(Code.ResourceExhausted, 'RATE_LIMITED')).state).toBe('authenticated');
    // A 404 from something else (no agent code) is not an agent's NOT_FOUND.
    expect(classifyProbe(withCode(Code.NotFound)).state).toBe('unreachable');
    expect(classifyProbe(withCode(Code.Unimplemented)).state).toBe('unreachable');
    expect(classifyProbe(withCode(Code.Unavailable)).state).toBe('unreachable');
  });
});
