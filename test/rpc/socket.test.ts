/**
 * The RPC surface over a real socket on 127.0.0.1 (random port), serving the real core `Agent`
 * (serveAgent: token from the data directory): connect-node clients speaking gRPC, Connect and
 * gRPC-Web to the one HTTP/2 server, and an independent client, `@grpc/grpc-js` with
 * `@grpc/proto-loader` loading the same .proto file, calling every RPC.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Code } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { serveAgent, startServer, type RunningServer } from '../../agent/rpc/server';
import { agentOps } from '../../agent/rpc/agent-ops';
import type { AgentOps } from '../../agent/rpc/ops';
import { INTERNAL_MESSAGE } from '../../agent/rpc/errors';
import { createWorld, type World } from './world';
import { bearer, clientsFor, RecordingLogger, refusal } from './helpers';

const PROTO_ROOT = fileURLToPath(new URL('../../proto', import.meta.url));
const K = { key_id: 'key-1', node_id: 'node-1' };

// ---- a small promise wrapper over grpc-js's dynamic clients -------------------------------------

type Callback = (err: grpc.ServiceError | null, res: Record<string, unknown>) => void;
type Unary = (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback) => void;
type DynamicClient = grpc.Client & Record<string, Unary>;

function loadClients(address: string): { backup: DynamicClient; delivery: DynamicClient } {
  const def = protoLoader.loadSync('infra/v1/backup.proto', {
    includeDirs: [PROTO_ROOT],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    bytes: Buffer,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { infra: { v1: Record<string, grpc.ServiceClientConstructor> } };
  const make = (name: string) => new pkg.infra.v1[name]!(address, grpc.credentials.createInsecure()) as unknown as DynamicClient;
  return { backup: make('BackupService'), delivery: make('BackupDeliveryService') };
}

let TOKEN = '';

function call(client: DynamicClient, method: string, req: object, token: string | null = TOKEN): Promise<Record<string, unknown>> {
  const md = new grpc.Metadata();
  if (token !== null) md.set('authorization', `Bearer ${token}`);
  const fn = client[method]!.bind(client);
  return promisify<object, grpc.Metadata, grpc.CallOptions, Record<string, unknown>>((r, m, o, cb) => {
    fn(r, m, o, cb as Callback);
  })(req, md, { deadline: Date.now() + 20_000 });
}

async function grpcRefusal(p: Promise<unknown>, code: grpc.status): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (e) {
    const err = e as grpc.ServiceError;
    expect(grpc.status[err.code], err.details).toBe(grpc.status[code]);
    return err;
  }
  throw new Error(`expected ${grpc.status[code]}, the call succeeded`);
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();

describe('the agent RPC server on 127.0.0.1', () => {
  let w: World;
  let server: RunningServer;
  const logger = new RecordingLogger();
  let ms = 0;

  beforeAll(async () => {
    w = await createWorld();
    TOKEN = w.token;
    server = await serveAgent(w.agent, { logger, recoveryRateLimit: { perMinute: 60, burst: 8 }, clock: () => ms });
  });
  afterAll(async () => {
    await server.close();
    w.close();
  });

  it('listens on loopback, a free port by default', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${String(server.port)}`);
  });

  it('serves gRPC, Connect and gRPC-Web to connect-node clients on the one HTTP/2 port', async () => {
    const transports = {
      grpc: createGrpcTransport({ baseUrl: server.url, interceptors: [bearer(TOKEN)] }),
      connect: createConnectTransport({ baseUrl: server.url, httpVersion: '2', interceptors: [bearer(TOKEN)] }),
      grpcWeb: createGrpcWebTransport({ baseUrl: server.url, httpVersion: '2', interceptors: [bearer(TOKEN)] }),
    };
    for (const [name, transport] of Object.entries(transports)) {
      const { backup, delivery } = clientsFor(transport);
      const st = await backup.getBackupStatus({ keyId: 'key-1', nodeId: 'node-1' });
      expect(st.threshold, name).toBe(3);
      expect((await delivery.queryShareStatus({ keyId: 'key-1', nodeId: 'node-1' })).shares, name).toHaveLength(3);
      await refusal(backup.getBackupStatus({ keyId: 'nope', nodeId: 'node-1' }), Code.NotFound);
      const unauth = clientsFor(name === 'grpc' ? createGrpcTransport({ baseUrl: server.url }) : createConnectTransport({ baseUrl: server.url, httpVersion: '2' }));
      await refusal(unauth.backup.getBackupStatus({ keyId: 'key-1', nodeId: 'node-1' }), Code.Unauthenticated);
    }
  });

  it('answers an independent grpc-js client (proto-loader, same .proto) on every RPC', async () => {
    const { backup, delivery } = loadClients(`127.0.0.1:${String(server.port)}`);
    try {
      const st = await call(backup, 'GetBackupStatus', K);
      expect(st).toMatchObject({ key_id: 'key-1', node_id: 'node-1', curve: 'CURVE_SECP256K1', threshold: 3, total: 5, server_shares_held: 2, recoverable: false });

      const list = await call(backup, 'ListBackupShares', K);
      const shares = list['shares'] as { share_index: number; state: string; commitment: Buffer; created_at: { seconds: string } }[];
      expect(shares.map((s) => [s.share_index, s.state])).toEqual([
        [1, 'SERVER_SHARE_STATE_HELD'],
        [2, 'SERVER_SHARE_STATE_HELD'],
      ]);
      expect(shares[0]!.commitment).toHaveLength(32);
      expect(Math.abs(Number(shares[0]!.created_at.seconds) - Date.now() / 1000)).toBeLessThan(600);

      const envelopes = new Map<number, Buffer>();
      for (const i of [3, 4, 5]) {
        const d = (await call(delivery, 'RequestShareDelivery', { ...K, share_index: i })) as { envelope: Buffer; envelope_sha256: Buffer; status: { status: string; share_index: number } };
        expect(d.envelope_sha256.equals(sha256(d.envelope))).toBe(true);
        expect(d.status).toMatchObject({ status: 'DELIVERY_STATUS_DELIVERED', share_index: i });
        envelopes.set(i, d.envelope);
      }
      for (const i of [3, 4, 5]) {
        const r = (await call(delivery, 'ConfirmShareDelivery', { receipt: await w.receipt(i) })) as { status: { status: string } };
        expect(r.status.status).toBe('DELIVERY_STATUS_CONFIRMED');
      }
      const q = (await call(delivery, 'QueryShareStatus', K)) as { shares: { share_index: number; status: string; envelope_sha256: Buffer }[] };
      expect(q.shares.map((s) => s.status)).toEqual(Array(3).fill('DELIVERY_STATUS_CONFIRMED'));
      expect(q.shares.map((s) => s.envelope_sha256.equals(sha256(envelopes.get(s.share_index)!)))).toEqual([true, true, true]);
      expect(await call(backup, 'GetBackupStatus', K)).toMatchObject({ external_delivered: 3, external_confirmed: 3, recoverable: true });

      // Recovery in external-only mode, the shares sent in two calls, the second completing.
      const sessionId = await w.openApprovedSession('external-only');
      const first = await call(backup, 'RecoverMPCShare', { ...K, session_id: sessionId, share_data: [await w.exportFor(sessionId, 3), await w.exportFor(sessionId, 4)] });
      expect(first).toMatchObject({ success: false, accepted_share_indexes: [3, 4], missing_share_indexes: [5], threshold: 3, failure: null });
      const done = (await call(backup, 'RecoverMPCShare', { ...K, session_id: sessionId, share_data: [await w.exportFor(sessionId, 5)], complete: true })) as Record<string, unknown> & {
        keydata_sha256: Buffer;
        session: { state: string; mode: string; approvals: unknown[] };
      };
      expect(done).toMatchObject({ success: true, accepted_share_indexes: [5], missing_share_indexes: [], shares_used: { server: 0, external: 3 } });
      expect(done.session).toMatchObject({ state: 'SESSION_STATE_COMPLETED', mode: 'RECOVERY_MODE_EXTERNAL_ONLY' });
      expect(done.session.approvals).toHaveLength(2);
      // The regenerated keydata is the imported file, byte for byte in tss-lib's compact form.
      expect(done.keydata_sha256.toString('hex')).toBe(w.imported.keydataSha256);
      expect(sha256(await w.agent.exportKeydata('key-1', 'node-1')).toString('hex')).toBe(w.imported.keydataSha256);
      expect((await call(backup, 'GetBackupStatus', K))['last_drill']).toBeNull(); // a recovery, not a drill
    } finally {
      backup.close();
      delivery.close();
    }
  });

  it('refuses the grpc-js client with the right status codes, and never sends causes', async () => {
    const { backup, delivery } = loadClients(`127.0.0.1:${String(server.port)}`);
    try {
      // Wrong or missing token: UNAUTHENTICATED on every RPC, before the core is called.
      // the refused calls themselves are audited (coalesced, agent/audit/refusals.ts), nothing else
      const core = () => w.agent.auditEntries({ limit: 100_000 }).filter((r) => r.entry.action !== 'rpc-refused');
      const before = core().length;
      for (const token of [null, 'wrong-token-but-long-enough', `${TOKEN}0`]) {
        await grpcRefusal(call(backup, 'GetBackupStatus', K, token), grpc.status.UNAUTHENTICATED);
        await grpcRefusal(call(backup, 'ListBackupShares', K, token), grpc.status.UNAUTHENTICATED);
        await grpcRefusal(call(backup, 'RecoverMPCShare', { ...K, complete: true }, token), grpc.status.UNAUTHENTICATED);
        await grpcRefusal(call(delivery, 'RequestShareDelivery', { ...K, share_index: 3 }, token), grpc.status.UNAUTHENTICATED);
        await grpcRefusal(call(delivery, 'ConfirmShareDelivery', { receipt: Buffer.from([1]) }, token), grpc.status.UNAUTHENTICATED);
        await grpcRefusal(call(delivery, 'QueryShareStatus', K, token), grpc.status.UNAUTHENTICATED);
      }
      expect(core().length).toBe(before); // nothing reached the core's audited operations

      // Unknown key: NOT_FOUND, with the core's code in the trailers.
      const nf = await grpcRefusal(call(backup, 'GetBackupStatus', { key_id: 'unknown-key', node_id: 'node-1' }), grpc.status.NOT_FOUND);
      // connect-es percent-encodes grpc-message with encodeURIComponent and grpc-js decodes it with
      // decodeURI, which leaves reserved characters (, / : ; ? @ & = + $ #) encoded: grpc-js
      // callers should apply decodeURIComponent to `details` (grpc-go and grpc-java decode fully).
      expect(nf.details).toBe('Key unknown-key node node-1 is not known to this agent%3B import its keydata first.');
      expect(decodeURIComponent(nf.details)).toBe('Key unknown-key node node-1 is not known to this agent; import its keydata first.');
      expect(nf.metadata.get('custos-error-code')).toEqual(['NOT_FOUND']);
      await grpcRefusal(call(delivery, 'QueryShareStatus', { key_id: 'unknown-key', node_id: 'node-1' }), grpc.status.NOT_FOUND);

      // Bad arguments: INVALID_ARGUMENT naming the field.
      const bad = await grpcRefusal(call(backup, 'ListBackupShares', { key_id: 'a/b', node_id: 'node-1' }), grpc.status.INVALID_ARGUMENT);
      expect(decodeURIComponent(bad.details)).toMatch(/^Invalid argument: key_id /);
      await grpcRefusal(call(delivery, 'RequestShareDelivery', { ...K, share_index: 0 }), grpc.status.INVALID_ARGUMENT);
      await grpcRefusal(call(delivery, 'ConfirmShareDelivery', { receipt: Buffer.alloc(0) }), grpc.status.INVALID_ARGUMENT);
      await grpcRefusal(call(backup, 'RecoverMPCShare', { ...K, session_id: 'not-hex' }), grpc.status.INVALID_ARGUMENT);

      // An internal error (injected in front of the real agent on a second server): INTERNAL with
      // a generic sentence; the cause is in the log only.
      const real = agentOps(w.agent);
      const faulty: AgentOps = { ...real, queryShareStatus: () => Promise.reject(new Error('EACCES: permission denied, open /srv/custos/keys/key-1/node-1.enc')) };
      const second = await startServer({ ops: faulty, token: TOKEN, logger });
      const broken = loadClients(`127.0.0.1:${String(second.port)}`);
      try {
        const internal = await grpcRefusal(call(broken.delivery, 'QueryShareStatus', K), grpc.status.INTERNAL);
        expect(decodeURIComponent(internal.details).startsWith(INTERNAL_MESSAGE)).toBe(true);
        expect(JSON.stringify({ details: internal.details, md: internal.metadata.getMap() })).not.toMatch(/EACCES|\/srv\/custos/);
        expect(logger.text()).toContain('EACCES: permission denied');
      } finally {
        broken.backup.close();
        broken.delivery.close();
        await second.close();
      }

      // Rate limit on RecoverMPCShare: burst 8 at a frozen clock, then RESOURCE_EXHAUSTED.
      ms += 3_600_000;
      let limited: grpc.ServiceError | undefined;
      for (let i = 0; i < 12 && !limited; i++) {
        try {
          await call(backup, 'RecoverMPCShare', K);
        } catch (e) {
          const err = e as grpc.ServiceError;
          if (err.code === grpc.status.RESOURCE_EXHAUSTED) limited = err;
          else expect(err.code).toBe(grpc.status.NOT_FOUND); // no open session
        }
      }
      expect(decodeURIComponent(limited?.details ?? '')).toMatch(/^Too many recovery calls: at most 60 per minute \(burst 8\)\. Retry in 1 s\.$/);
      expect(limited?.metadata.get('retry-after')).toEqual(['1']);
      // Other RPCs are not limited.
      expect((await call(backup, 'GetBackupStatus', K))['threshold']).toBe(3);
    } finally {
      backup.close();
      delivery.close();
    }
  });
});
