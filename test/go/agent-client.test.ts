/**
 * The Go example client (integrations/go/agentclient, cmd/custos-agent-client) against a real
 * agent (issue 11 §1): the core `Agent` served by serveAgent — what `agent serve` runs — on a free
 * loopback port, called with Go's net/http only over the Connect protocol's JSON encoding:
 * GetBackupStatus, and RecoverMPCShare taking custodians' exports over two calls and completing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveAgent, type RunningServer } from '../../agent/rpc/server';
import { createWorld, tamperSignature, type World } from '../rpc/world';
import { buildGo, type GoToolchain } from './go';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('the Go agent client over Connect JSON (net/http only)', () => {
  let go: GoToolchain;
  let w: World;
  let server: RunningServer;
  let tokenFile: string;
  const client = (args: string[], env: NodeJS.ProcessEnv = {}) => go.runAsync('custos-agent-client', ['--url', server.url, '--token-file', tokenFile, '--timeout', '20s', ...args], env);

  beforeAll(async () => {
    go = buildGo();
    w = await createWorld();
    server = await serveAgent(w.agent, { recoveryRateLimit: { perMinute: 60, burst: 8 } });
    tokenFile = join(w.dir, 'data', 'api.token');
  });
  afterAll(async () => {
    await (server as RunningServer | undefined)?.close();
    (w as World | undefined)?.close();
    (go as GoToolchain | undefined)?.close();
  });

  it('reads GetBackupStatus', async () => {
    const r = await client(['status', '--key-id', 'key-1', '--node-id', 'node-1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const st = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(st).toMatchObject({
      keyId: 'key-1',
      nodeId: 'node-1',
      setId: w.backup.setId,
      curve: 'CURVE_SECP256K1',
      threshold: 3,
      total: 5,
      retain: 2,
      serverSharesHeld: 2,
      recoverable: false,
    });
  });

  it('gets the agent\'s refusals with their codes, and never prints the token', async () => {
    const unknown = await client(['status', '--key-id', 'nope', '--node-id', 'node-1']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('custos-agent-client: the agent refused: not_found (NOT_FOUND): Key nope node node-1 is not known to this agent; import its keydata first.\n');
    const bad = await client(['status', '--key-id', 'a/b', '--node-id', 'node-1']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^custos-agent-client: the agent refused: invalid_argument .*key_id/);
    const wrong = await go.runAsync('custos-agent-client', ['--url', server.url, 'status', '--key-id', 'key-1', '--node-id', 'node-1'], { CUSTOS_AGENT_TOKEN: 'wrong-token-but-long-enough' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^custos-agent-client: the agent refused: unauthenticated/);
    expect(wrong.stderr + wrong.stdout).not.toContain(w.token);
    const none = await go.runAsync('custos-agent-client', ['--url', server.url, 'status', '--key-id', 'key-1', '--node-id', 'node-1'], { CUSTOS_AGENT_TOKEN: '' });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no token');
  });

  it('recovers through RecoverMPCShare: exports in two calls, then completion', async () => {
    for (const i of [3, 4, 5]) await w.agent.confirmShareDelivery(await w.receipt(i));
    // A session with a Chinese incident title (issue 13): the Go client reads it back unchanged.
    const sessionId = await w.openApprovedSession('external-only', 'INC-2026-0042', '交易所热钱包事故 2026/12');
    const files = [];
    for (const i of [3, 4, 5]) {
      const f = join(w.dir, `export-${String(i)}.cbor`);
      writeFileSync(f, await w.exportFor(sessionId, i), { mode: 0o600 });
      files.push(f);
    }
    const first = await client(['recover', '--key-id', 'key-1', '--node-id', 'node-1', '--session-id', sessionId, files[0]!, files[1]!]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ success: false, acceptedShareIndexes: [3, 4], missingShareIndexes: [5], threshold: 3 });

    // A damaged export is refused by name; the accepted ones stay in the session.
    const damaged = join(w.dir, 'export-5-damaged.cbor');
    writeFileSync(damaged, tamperSignature(readFileSync(files[2]!)), { mode: 0o600 });
    const again = await client(['recover', '--key-id', 'key-1', '--node-id', 'node-1', '--session-id', sessionId, damaged]);
    expect(again.code).toBe(0);
    const refused = JSON.parse(again.stdout) as { refused: { code: string }[]; missingShareIndexes: number[] };
    expect(refused.refused).toHaveLength(1);
    expect(refused.refused[0]!.code).toMatch(/^[A-Z_]+$/);
    expect(refused.missingShareIndexes).toEqual([5]);

    const done = await client(['recover', '--key-id', 'key-1', '--node-id', 'node-1', '--session-id', sessionId, '--complete', files[2]!]);
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    const out = JSON.parse(done.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({
      success: true,
      acceptedShareIndexes: [5],
      sharesUsed: { external: 3 },
      written: true,
      keydataSha256: w.imported.keydataSha256,
      session: { sessionId, incidentId: 'INC-2026-0042', incidentTitle: '交易所热钱包事故 2026/12', state: 'SESSION_STATE_COMPLETED', mode: 'RECOVERY_MODE_EXTERNAL_ONLY' },
    });
    expect(sha256(await w.agent.exportKeydata('key-1', 'node-1'))).toBe(w.imported.keydataSha256);
  });
});
