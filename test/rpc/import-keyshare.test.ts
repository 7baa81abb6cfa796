/**
 * ImportKeyshare (issue 11 §2): the node hands its keydata after DKG and the agent backs it up by
 * its policy. In process through the router transport with the real interceptor, and over a real
 * socket with an independent client (`@grpc/grpc-js` + `@grpc/proto-loader` loading the same
 * .proto). The "resharing" is a different share of the same group key: the fixture's party 1 file
 * handed over for the node that had party 0's, as a tss-lib resharing gives the node a new share
 * under the unchanged group key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Code, createClient, createRouterTransport, type Client } from '@connectrpc/connect';
import { ImportOutcome, KeyshareService } from '../../proto/gen/infra/v1/keyshare_pb';
import { BackupDeliveryService, BackupService } from '../../proto/gen/infra/v1/backup_pb';
import { createRpc } from '../../agent/rpc/router';
import { agentOps } from '../../agent/rpc/agent-ops';
import { serveAgent, type RunningServer } from '../../agent/rpc/server';
import { toHex } from '../../shared/bytes';
import { fileHash } from '../../shared/crypto/hash';
import { parseKeydata, writeKeydata } from '../../shared/keydata';
import { custodianIdentityFingerprint } from '../../shared/protocol';
import { bearer, RecordingLogger, refusal } from './helpers';
import { createWorld, fixture, type World } from './world';

const compact = (b: Uint8Array): Uint8Array => writeKeydata(parseKeydata(b));

describe('ImportKeyshare in process', () => {
  let w: World;
  let ks: Client<typeof KeyshareService>;
  let backup: Client<typeof BackupService>;
  let delivery: Client<typeof BackupDeliveryService>;
  let outDir = '';

  beforeAll(async () => {
    w = await createWorld();
    const rpc = createRpc({ ops: agentOps(w.agent), token: w.token, logger: new RecordingLogger() });
    const t = createRouterTransport(rpc.routes, { router: rpc.routerOptions, transport: { interceptors: [bearer(w.token)] } });
    ks = createClient(KeyshareService, t);
    backup = createClient(BackupService, t);
    delivery = createClient(BackupDeliveryService, t);
    outDir = join(w.dir, 'auto');
  });
  afterAll(() => {
    w.close();
  });

  it('refuses without a policy, storing nothing', async () => {
    const err = await refusal(ks.importKeyshare({ keyId: 'key-2', nodeId: 'node-a', keydata: fixture('ecdsa', 0) }), Code.FailedPrecondition);
    expect(err.rawMessage).toMatch(/auto-backup policy/);
    expect(w.agent.listNodes().map((n) => n.keyId)).toEqual(['key-1']);
  });

  it('imports, backs up by the policy and queues the envelopes; the same keydata again changes nothing', async () => {
    await w.agent.capabilities.nodeImports.configure({ threshold: 3, total: 5, retain: 2, custodians: w.custodians.map((c) => toHex(custodianIdentityFingerprint(c))), outDir });
    const keydata = fixture('ecdsa', 0);
    const first = await ks.importKeyshare({ keyId: 'key-2', nodeId: 'node-a', keydata });
    expect(first.outcome).toBe(ImportOutcome.CREATED);
    expect(first).toMatchObject({ keyId: 'key-2', nodeId: 'node-a', epoch: 1, threshold: 3, total: 5, envelopesQueued: 3, staleSetId: '' });
    expect(toHex(first.keydataSha256)).toBe(toHex(fileHash(compact(keydata))));
    const q = await delivery.queryShareStatus({ keyId: 'key-2', nodeId: 'node-a' });
    expect(q.shares.map((s) => s.shareIndex)).toEqual([3, 4, 5]);
    const files = readdirSync(outDir).sort();
    expect(files.filter((f) => f.endsWith('.envelope.cbor'))).toHaveLength(3);

    const again = await ks.importKeyshare({ keyId: 'key-2', nodeId: 'node-a', keydata });
    expect(again.outcome).toBe(ImportOutcome.UNCHANGED);
    expect(again.setId).toBe(first.setId);
    expect(readdirSync(outDir).sort()).toEqual(files);
    expect((await backup.getBackupStatus({ keyId: 'key-2', nodeId: 'node-a' })).setId).toBe(first.setId);
    const audit = w.agent.auditEntries({ limit: 100000 }).map((r) => r.entry).filter((e) => e.key_id === 'key-2' && e.action === 'keyshare-from-node');
    expect(audit.map((e) => e.result)).toEqual(['ok']);
  });

  it('a changed keydata of the same group key marks the old set stale, sends supersede notices and starts a new set', async () => {
    const before = await backup.getBackupStatus({ keyId: 'key-2', nodeId: 'node-a' });
    const reshared = fixture('ecdsa', 1);
    const r = await ks.importKeyshare({ keyId: 'key-2', nodeId: 'node-a', keydata: reshared });
    expect(r.outcome).toBe(ImportOutcome.RESHARED);
    expect(r.staleSetId).toBe(before.setId);
    expect(r.staleEpoch).toBe(1);
    expect(r.epoch).toBe(2);
    expect(r.setId).not.toBe(before.setId);
    const stale = w.agent.capabilities.nodeImports.staleSets('key-2', 'node-a');
    expect(stale).toEqual([expect.objectContaining({ setId: before.setId, epoch: 1, reason: 'reshared', replacedBy: r.setId })]);
    const now = await backup.getBackupStatus({ keyId: 'key-2', nodeId: 'node-a' });
    expect(now.setId).toBe(r.setId);
    expect(before.staleSetIds).toEqual([]);
    expect(now.staleSetIds).toEqual([before.setId]);
    expect(toHex(await w.agent.exportKeydata('key-2', 'node-a'))).toBe(toHex(compact(reshared)));
    const notices = readdirSync(outDir).filter((f) => f.includes('_e1_') && f.endsWith('.supersede.cbor'));
    expect(notices).toHaveLength(3);
    const inspect = await w.agent.inspectNode('key-2', 'node-a');
    expect(inspect.ok).toBe(true);
    const actions = w.agent.auditEntries({ limit: 100000 }).map((r) => r.entry).filter((e) => e.key_id === 'key-2').map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['keyshare-reshared', 'backup-set-stale', 'supersede-notice']));
    // The reshared keydata again: idempotent.
    expect((await ks.importKeyshare({ keyId: 'key-2', nodeId: 'node-a', keydata: reshared })).outcome).toBe(ImportOutcome.UNCHANGED);
  });

  it('refuses a bad keydata or another group key with a coded error, and stores or changes nothing', async () => {
    const files = readdirSync(outDir).sort();
    const bad = new TextEncoder().encode('{"not":"keydata"}');
    const e1 = await refusal(ks.importKeyshare({ keyId: 'key-3', nodeId: 'node-a', keydata: bad }), Code.InvalidArgument);
    expect(e1.rawMessage.length).toBeGreaterThan(10);
    await refusal(backup.getBackupStatus({ keyId: 'key-3', nodeId: 'node-a' }), Code.NotFound);
    const truncated = fixture('ecdsa', 0).slice(0, 500);
    await refusal(ks.importKeyshare({ keyId: 'key-3', nodeId: 'node-a', keydata: truncated }), Code.InvalidArgument);
    await refusal(ks.importKeyshare({ keyId: 'key-3', nodeId: 'node-a', keydata: new Uint8Array() }), Code.InvalidArgument);
    // key-2/node-a holds an ECDSA key: an EdDSA keydata is another group key.
    const before = toHex(await w.agent.exportKeydata('key-2', 'node-a'));
    await refusal(ks.importKeyshare({ keyId: 'key-2', nodeId: 'node-a', keydata: fixture('eddsa', 0) }), Code.AlreadyExists);
    expect(toHex(await w.agent.exportKeydata('key-2', 'node-a'))).toBe(before);
    expect(w.agent.listNodes().map((n) => n.keyId)).toEqual(['key-1', 'key-2']);
    expect(readdirSync(outDir).sort()).toEqual(files);
    expect(existsSync(join(w.dir, 'data', 'keys', 'key-3'))).toBe(false);
  });

  it('needs the bearer token', async () => {
    const rpc = createRpc({ ops: agentOps(w.agent), token: w.token, logger: new RecordingLogger() });
    const t = createRouterTransport(rpc.routes, { router: rpc.routerOptions, transport: { interceptors: [bearer('x'.repeat(32))] } });
    await refusal(createClient(KeyshareService, t).importKeyshare({ keyId: 'key-4', nodeId: 'n', keydata: fixture('ecdsa', 2) }), Code.Unauthenticated);
    expect(w.agent.listNodes().some((n) => n.keyId === 'key-4')).toBe(false);
  });
});

describe('ImportKeyshare over a socket, from an independent grpc-js client', () => {
  let w: World;
  let server: RunningServer;

  beforeAll(async () => {
    w = await createWorld();
    await w.agent.capabilities.nodeImports.configure({ threshold: 3, total: 5, retain: 2, custodians: w.custodians.map((c) => toHex(custodianIdentityFingerprint(c))), outDir: join(w.dir, 'auto') });
    server = await serveAgent(w.agent, { logger: new RecordingLogger() });
  });
  afterAll(async () => {
    await server.close();
    w.close();
  });

  it('imports, repeats idempotently, reshares, and refuses a bad file', async () => {
    const def = protoLoader.loadSync('infra/v1/keyshare.proto', { includeDirs: [fileURLToPath(new URL('../../proto', import.meta.url))], keepCase: true, longs: String, enums: String, defaults: true, bytes: Buffer });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { infra: { v1: Record<string, grpc.ServiceClientConstructor> } };
    const client = new pkg.infra.v1['KeyshareService']!(`127.0.0.1:${String(server.port)}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & Record<string, (r: object, md: grpc.Metadata, cb: (e: grpc.ServiceError | null, res: Record<string, unknown>) => void) => void>;
    const call = (req: object): Promise<Record<string, unknown>> => {
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${w.token}`);
      const fn = client['ImportKeyshare']!.bind(client);
      return promisify<object, grpc.Metadata, Record<string, unknown>>((r, m, cb) => {
        fn(r, m, cb as never);
      })(req, md);
    };
    try {
      const a = await call({ key_id: 'key-9', node_id: 'node-0', keydata: Buffer.from(fixture('eddsa', 0)) });
      expect(a).toMatchObject({ outcome: 'IMPORT_OUTCOME_CREATED', key_id: 'key-9', epoch: 1, envelopes_queued: 3, stale_set_id: '' });
      const b = await call({ key_id: 'key-9', node_id: 'node-0', keydata: Buffer.from(fixture('eddsa', 0)) });
      expect(b).toMatchObject({ outcome: 'IMPORT_OUTCOME_UNCHANGED', set_id: a['set_id'] });
      const c = await call({ key_id: 'key-9', node_id: 'node-0', keydata: Buffer.from(fixture('eddsa', 1)) });
      expect(c).toMatchObject({ outcome: 'IMPORT_OUTCOME_RESHARED', stale_set_id: a['set_id'], stale_epoch: 1, epoch: 2 });
      const def2 = protoLoader.loadSync('infra/v1/backup.proto', { includeDirs: [fileURLToPath(new URL('../../proto', import.meta.url))], keepCase: true, enums: String, defaults: true });
      const bpkg = grpc.loadPackageDefinition(def2) as unknown as { infra: { v1: Record<string, grpc.ServiceClientConstructor> } };
      const bclient = new bpkg.infra.v1['BackupService']!(`127.0.0.1:${String(server.port)}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & Record<string, (r: object, md: grpc.Metadata, cb: (e: grpc.ServiceError | null, res: Record<string, unknown>) => void) => void>;
      const md = new grpc.Metadata();
      md.set('authorization', `Bearer ${w.token}`);
      const st = await promisify<object, grpc.Metadata, Record<string, unknown>>((r, m, cb) => {
        bclient['GetBackupStatus']!.bind(bclient)(r, m, cb as never);
      })({ key_id: 'key-9', node_id: 'node-0' }, md);
      bclient.close();
      expect(st).toMatchObject({ set_id: c['set_id'], epoch: 2, stale_set_ids: [a['set_id']] });
      let code: number | undefined;
      try {
        await call({ key_id: 'key-8', node_id: 'node-0', keydata: Buffer.from('nope') });
      } catch (e) {
        code = (e as grpc.ServiceError).code;
      }
      expect(code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(w.agent.listNodes().some((n) => n.keyId === 'key-8')).toBe(false);
    } finally {
      client.close();
    }
  });
});
