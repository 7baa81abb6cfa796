/**
 * Refused RPC calls and API token changes in the audit log (issue 9 §2, §3): the coalescing is
 * bounded (a flood of refusals costs at most two entries per operator, method, code, reason and peer a
 * minute), and over a real socket each kind of refusal is written with the operator from the
 * token when known, the method, the code and the peer, never the presented token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, Code } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { RefusalAudit, type RefusedCall } from '../../agent/audit/refusals';
import type { AuditInput } from '../../agent/audit/log';
import { serveAgent, type RunningServer } from '../../agent/rpc/server';
import { silentLogger } from '../../agent/rpc/log';
import { BackupService } from '../../proto/gen/infra/v1/backup_pb';
import { OperationsService } from '../../proto/gen/infra/v1/operations_pb';
import { createWorld, type World } from '../rpc/world';
import { bearer, refusal } from '../rpc/helpers';

const call = (over: Partial<RefusedCall> = {}): RefusedCall => ({ method: '/infra.v1.BackupService/GetBackupStatus', code: 'UNAUTHENTICATED', reason: 'wrong', peer: '10.0.0.1', event: 'inspect', ...over });

describe('RefusalAudit coalescing', () => {
  it('writes the first refusal at once and the rest of its minute as one entry with the count', () => {
    let now = 1_000_000;
    const out: AuditInput[] = [];
    const r = new RefusalAudit((i) => out.push(i), { now: () => now });
    for (let i = 0; i < 500; i++) {
      r.record(call());
      now += 50; // 500 calls over 25 s
    }
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ event: 'inspect', action: 'rpc-refused', result: 'refused', operator: '-', reason: 'UNAUTHENTICATED: wrong', details: { count: 1, peer: '10.0.0.1' } });
    now += 40_000; // the window ended: the next refusal writes the summary first, then opens a new window
    r.record(call());
    expect(out).toHaveLength(3);
    expect(out[1]!.details).toMatchObject({ count: 499, code: 'UNAUTHENTICATED', method: '/infra.v1.BackupService/GetBackupStatus' });
    expect(out[2]!.details).toMatchObject({ count: 1 });
    r.record(call());
    r.close();
    expect(out).toHaveLength(4);
    expect(out[3]!.details).toMatchObject({ count: 1 });
    expect(out[1]!.details).toMatchObject({ first: new Date(1_000_050).toISOString(), last: new Date(1_000_000 + 499 * 50).toISOString() });
  });

  it('keeps keys apart by operator, method, code and peer, and folds keys beyond the cap into one', () => {
    const out: AuditInput[] = [];
    const r = new RefusalAudit((i) => out.push(i), { now: () => 0, maxKeys: 4 });
    r.record(call({ operator: 'alice', code: 'PERMISSION_DENIED' }));
    r.record(call({ operator: 'bob', code: 'PERMISSION_DENIED' }));
    r.record(call({ peer: '10.0.0.2' }));
    for (let i = 0; i < 1000; i++) r.record(call({ peer: `10.1.${String(i >> 8)}.${String(i & 255)}` }));
    // 3 own keys, the 4th key opened by the first new peer, then every other peer in the overflow key
    expect(out.map((e) => [e.operator, (e.details as { peer: string }).peer])).toEqual([
      ['alice', '10.0.0.1'],
      ['bob', '10.0.0.1'],
      ['-', '10.0.0.2'],
      ['-', '10.1.0.0'],
      ['*', '*'],
    ]);
    r.close();
    expect(out).toHaveLength(6);
    expect(out[5]).toMatchObject({ operator: '*', details: { count: 998 } });
  });

  it('a failing write never throws into the refused call', () => {
    const r = new RefusalAudit(() => {
      throw new Error('disk full');
    });
    expect(() => {
      r.record(call());
    }).not.toThrow();
  });
});

describe('refused calls over a real socket and token changes, in the agent audit log', () => {
  let w: World;
  let server: RunningServer;
  let url = '';

  beforeAll(async () => {
    w = await createWorld();
    server = await serveAgent(w.agent, { logger: silentLogger, recoveryRateLimit: { perMinute: 1, burst: 1 } });
    url = server.url;
  });
  afterAll(async () => {
    await server.close();
    w.close();
  });

  const refused = () => w.agent.auditEntries({ limit: 100_000 }).map((r) => r.entry).filter((e) => e.action === 'rpc-refused');
  const client = <S extends typeof BackupService | typeof OperationsService>(service: S, token: string | null) =>
    createClient(service, createGrpcTransport({ baseUrl: url, interceptors: [bearer(token)] }));

  it('audits token create and revoke under the calling operator, and a refused revoke', async () => {
    const created = await w.agent.createApiToken('console', ['read'], { operator: 'sec-admin' });
    const entries = () => w.agent.auditEntries({ limit: 100_000 }).map((r) => r.entry).filter((e) => e.action.startsWith('token-'));
    expect(entries().at(-1)).toMatchObject({ event: 'register', action: 'token-create', result: 'ok', operator: 'sec-admin', details: { token_id: created.record.id, token_operator: 'console', scopes: ['read'] } });
    expect(JSON.stringify(entries())).not.toContain(created.token);
    await w.agent.revokeApiToken(created.record.id, { operator: 'sec-admin' });
    expect(entries().at(-1)).toMatchObject({ action: 'token-revoke', result: 'ok', operator: 'sec-admin', details: { token_operator: 'console' } });
    await expect(w.agent.revokeApiToken('0123456789abcdef', { operator: 'sec-admin' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(entries().at(-1)).toMatchObject({ action: 'token-revoke', result: 'refused', reason: expect.stringMatching(/^NOT_FOUND/) as unknown });
  });

  it('writes unauthenticated, revoked, permission denied, rate-limited and malformed calls with operator, method, code and peer', async () => {
    const reader = await w.agent.createApiToken('ops-reader', ['read']);
    const gone = await w.agent.createApiToken('ops-gone', ['admin']);
    await w.agent.revokeApiToken(gone.record.id);

    await refusal(client(BackupService, null).getBackupStatus({ keyId: 'key-1', nodeId: 'node-1' }), Code.Unauthenticated);
    const wrong = 'x'.repeat(40);
    await refusal(client(BackupService, wrong).getBackupStatus({ keyId: 'key-1', nodeId: 'node-1' }), Code.Unauthenticated);
    await refusal(client(BackupService, gone.token).getBackupStatus({ keyId: 'key-1', nodeId: 'node-1' }), Code.Unauthenticated);
    await refusal(client(OperationsService, reader.token).purgeServerShares({ deletionId: 'a'.repeat(32) }), Code.PermissionDenied);
    await refusal(client(OperationsService, reader.token).getDeletion({ deletionId: 'short' }), Code.InvalidArgument);
    const admin = client(BackupService, w.token);
    await refusal(admin.recoverMPCShare({ keyId: 'key-1', nodeId: 'node-1', sessionId: 'f'.repeat(32) }), Code.NotFound); // spends the one token
    await refusal(admin.recoverMPCShare({ keyId: 'key-1', nodeId: 'node-1', sessionId: 'f'.repeat(32) }), Code.ResourceExhausted);

    const got = refused().map((e) => ({ event: e.event, operator: e.operator, reason: e.reason, ...(e.details as { method: string; code: string; peer: string }) }));
    expect(got).toEqual([
      expect.objectContaining({ event: 'inspect', operator: '-', code: 'UNAUTHENTICATED', reason: 'UNAUTHENTICATED: missing', method: '/infra.v1.BackupService/GetBackupStatus', peer: '127.0.0.1' }),
      expect.objectContaining({ operator: '-', code: 'UNAUTHENTICATED', reason: 'UNAUTHENTICATED: wrong' }),
      expect.objectContaining({ operator: 'ops-gone', code: 'UNAUTHENTICATED', reason: 'UNAUTHENTICATED: revoked' }),
      expect.objectContaining({ event: 'delete', operator: 'ops-reader', code: 'PERMISSION_DENIED', reason: 'PERMISSION_DENIED: needs scope delete', method: '/infra.v1.OperationsService/PurgeServerShares' }),
      expect.objectContaining({ event: 'inspect', operator: 'ops-reader', code: 'INVALID_ARGUMENT', method: '/infra.v1.OperationsService/GetDeletion' }),
      expect.objectContaining({ event: 'recover', operator: 'api-token', code: 'RATE_LIMITED', method: '/infra.v1.BackupService/RecoverMPCShare' }),
    ]);
    // a NOT_FOUND is the module's answer, not a refused call: not here
    expect(JSON.stringify(refused())).not.toContain(wrong);
    expect(w.agent.verifyAudit().ok).toBe(true);
  });

  it('a flood of 300 unauthenticated calls adds one entry until its minute ends', async () => {
    const before = refused().length;
    const anon = client(BackupService, 'y'.repeat(40));
    for (let i = 0; i < 300; i += 15) {
      await Promise.all(Array.from({ length: 15 }, () => refusal(anon.listBackupShares({ keyId: 'key-1', nodeId: 'node-1' }), Code.Unauthenticated)));
    }
    const added = refused().slice(before);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({ reason: 'UNAUTHENTICATED: wrong', details: { method: '/infra.v1.BackupService/ListBackupShares', count: 1 } });
    await server.close(); // writes the pending summary
    const summary = refused().slice(before + 1);
    expect(summary).toEqual([expect.objectContaining({ details: expect.objectContaining({ count: 299 }) as unknown })]);
  });
});
