/**
 * Per-operator API tokens with scopes (issue 9 §3): created, listed and revoked with the agent CLI,
 * stored only as hashes, and enforced over a real socket for the independent grpc-js client: a call
 * without the scope is PERMISSION_DENIED, a revoked token UNAUTHENTICATED (counted by reason), the
 * audit entry names the token's operator, and the data directory's api.token is still an admin
 * token of operator "api-token".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { serveAgent, type RunningServer } from '../../agent/rpc/server';
import { TOKENS_FILE, TOKEN_PATTERN } from '../../agent/token/store';
import { createWorld, type World } from '../rpc/world';
import { CountingObserver, RecordingLogger } from '../rpc/helpers';
import { cli, cliJson, tempDir, removeTempDirs } from '../agent-cli/helpers';

const PROTO_ROOT = fileURLToPath(new URL('../../proto', import.meta.url));
const K = { key_id: 'key-1', node_id: 'node-1' };

type Callback = (err: grpc.ServiceError | null, res: Record<string, unknown>) => void;
type DynamicClient = grpc.Client & Record<string, (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback) => void>;

function clients(address: string): { backup: DynamicClient; delivery: DynamicClient } {
  const def = protoLoader.loadSync('infra/v1/backup.proto', { includeDirs: [PROTO_ROOT], keepCase: true, longs: String, enums: String, defaults: true, bytes: Buffer });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { infra: { v1: Record<string, grpc.ServiceClientConstructor> } };
  const make = (name: string) => new pkg.infra.v1[name]!(address, grpc.credentials.createInsecure()) as unknown as DynamicClient;
  return { backup: make('BackupService'), delivery: make('BackupDeliveryService') };
}

function call(client: DynamicClient, method: string, req: object, token: string): Promise<Record<string, unknown>> {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve, reject) => {
    client[method]!.call(client, req, md, { deadline: Date.now() + 20_000 }, (err, res) => {
      if (err) reject(err);
      else resolve(res);
    });
  });
}

async function status(p: Promise<unknown>): Promise<{ code: string; details: string; custos: unknown }> {
  try {
    await p;
    return { code: 'OK', details: '', custos: undefined };
  } catch (e) {
    const err = e as grpc.ServiceError;
    return { code: grpc.status[err.code], details: err.details, custos: err.metadata.get('custos-error-code')[0] };
  }
}

describe('per-operator API tokens', () => {
  let w: World;
  let server: RunningServer;
  let c: ReturnType<typeof clients>;
  let data = '';
  const observer = new CountingObserver();
  const out = tempDir('custos-tokens-');
  const tokens: Record<string, { id: string; secret: string }> = {};

  beforeAll(async () => {
    w = await createWorld();
    data = w.agent.dataDir;
    server = await serveAgent(w.agent, { logger: new RecordingLogger(), observer });
    c = clients(`127.0.0.1:${String(server.port)}`);
    for (const [name, scope] of [['reader', 'read'], ['alice', 'deliver,read'], ['bob', 'recover']] as const) {
      const file = join(out, `${name}.token`);
      const r = await cliJson('token', 'create', '--data', data, '--operator', name, '--scope', scope, '--out', file);
      expect(r.code, r.stderr).toBe(0);
      tokens[name] = { id: (r.json['token'] as { id: string }).id, secret: readFileSync(file, 'utf8').trim() };
      expect(statSync(file).mode & 0o777).toBe(0o600);
    }
  });
  afterAll(async () => {
    c.backup.close();
    c.delivery.close();
    await server.close();
    w.close();
    removeTempDirs();
  });

  it('creates tokens whose secret is only in the --out file: never printed, stored as a hash', async () => {
    const stored = readFileSync(join(data, TOKENS_FILE), 'utf8');
    expect(statSync(join(data, TOKENS_FILE)).mode & 0o777).toBe(0o600);
    for (const t of Object.values(tokens)) {
      expect(t.secret).toMatch(/^custos_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      // The secret part is base64url, which may itself hold '_': take it by the pattern, not by split.
      const secretPart = TOKEN_PATTERN.exec(t.secret)![2]!;
      expect(secretPart).toHaveLength(43);
      expect(stored).not.toContain(secretPart);
    }
    const again = await cli('token', 'create', '--data', data, '--operator', 'carol', '--scope', 'read', '--out', join(out, 'carol.token'));
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain(readFileSync(join(out, 'carol.token'), 'utf8').trim());
    const listed = await cliJson('token', 'list', '--data', data);
    expect((listed.json['tokens'] as { operator: string }[]).map((t) => t.operator)).toEqual(['reader', 'alice', 'bob', 'carol']);
    expect(JSON.stringify(listed.json)).not.toContain(tokens['alice']!.secret);
  });

  it('refuses a bad scope or an existing --out file, creating nothing', async () => {
    const bad = await cliJson('token', 'create', '--data', data, '--operator', 'eve', '--scope', 'read,root', '--out', join(out, 'eve.token'));
    expect(bad.code).not.toBe(0);
    expect(JSON.stringify(bad.json)).toMatch(/root/);
    const exists = await cliJson('token', 'create', '--data', data, '--operator', 'eve', '--scope', 'read', '--out', join(out, 'alice.token'));
    expect(exists.code).not.toBe(0);
    const listed = await cliJson('token', 'list', '--data', data);
    expect((listed.json['tokens'] as { operator: string }[]).some((t) => t.operator === 'eve')).toBe(false);
  });

  it('enforces scopes: PERMISSION_DENIED without the scope, the call served with it', async () => {
    expect((await status(call(c.backup, 'GetBackupStatus', K, tokens['reader']!.secret))).code).toBe('OK');
    const denied = await status(call(c.delivery, 'RequestShareDelivery', { ...K, share_index: 3 }, tokens['reader']!.secret));
    expect(denied).toMatchObject({ code: 'PERMISSION_DENIED', custos: 'PERMISSION_DENIED' });
    expect(denied.details).toMatch(/"deliver" scope/);
    expect((await status(call(c.backup, 'GetBackupStatus', K, tokens['bob']!.secret))).code).toBe('PERMISSION_DENIED');
    expect(observer.refusals).toContain('GetBackupStatus:PERMISSION_DENIED:PERMISSION_DENIED');
  });

  it("writes the token's operator into the audit entry, not a self-declared one", async () => {
    const before = w.agent.auditEntries().length;
    await call(c.delivery, 'RequestShareDelivery', { ...K, share_index: 3 }, tokens['alice']!.secret);
    const added = w.agent.auditEntries().slice(before);
    expect(added.length).toBeGreaterThan(0);
    expect(added.map((r) => r.entry.operator)).toContain('alice');
  });

  it('the data directory api.token stays an admin token of operator "api-token"', async () => {
    const before = w.agent.auditEntries().length;
    await call(c.delivery, 'RequestShareDelivery', { ...K, share_index: 4 }, w.token);
    expect(w.agent.auditEntries().slice(before).map((r) => r.entry.operator)).toContain('api-token');
  });

  it('a revoked token is UNAUTHENTICATED from the next call on, counted as revoked', async () => {
    expect((await status(call(c.backup, 'GetBackupStatus', K, tokens['alice']!.secret))).code).toBe('OK');
    const r = await cliJson('token', 'revoke', tokens['alice']!.id, '--data', data);
    expect(r.code, r.stderr).toBe(0);
    const refused = await status(call(c.backup, 'GetBackupStatus', K, tokens['alice']!.secret));
    expect(refused).toMatchObject({ code: 'UNAUTHENTICATED', custos: 'UNAUTHENTICATED' });
    expect(refused.details).toMatch(/revoked/);
    expect(observer.authFailures).toContain('GetBackupStatus:revoked');
    // a forged secret with a real id is wrong, not revoked
    const forged = `custos_${tokens['reader']!.id}_${'A'.repeat(43)}`;
    expect((await status(call(c.backup, 'GetBackupStatus', K, forged))).code).toBe('UNAUTHENTICATED');
    expect(observer.authFailures).toContain('GetBackupStatus:wrong');
    const unknown = await cliJson('token', 'revoke', '0123456789abcdef', '--data', data);
    expect(unknown.code).not.toBe(0);
  });
});
