/**
 * OperationsService (proto/infra/v1/operations.proto, issue 9 §3) over a real socket, called by
 * an independent client: `@grpc/grpc-js` with `@grpc/proto-loader` loading the .proto, not our
 * generated code. Every RPC is called once at least; approvers and custodians sign with
 * shared/protocol from the bytes the RPC returned, as the approver program and custodian app do.
 * Each call's audit entry names the calling token's operator; a token without the scope is
 * PERMISSION_DENIED and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { serveAgent, type RunningServer } from '../../agent/rpc/server';
import { silentLogger } from '../../agent/rpc/log';
import { createToken, type Scope } from '../../agent/token/store';
import { toHex } from '../../shared/bytes';
import { fileHash } from '../../shared/crypto/hash';
import { provePossession } from '../../shared/crypto/possession';
import { decodeCanonical } from '../../shared/protocol/cbor';
import { deletionDetailsSchema } from '../../shared/protocol/deletion-approval';
import { sessionDetailsSchema } from '../../shared/protocol/approval';
import { custodianIdentityFingerprint, makeApproval, makeAttestation, makeDeletionApproval, openChallenge, openRecoveryRequest } from '../../shared/protocol';
import { createWorld, tamperSignature, type World } from './world';

const PROTO_ROOT = fileURLToPath(new URL('../../proto', import.meta.url));
const K = { key_id: 'key-1', node_id: 'node-1' };
const sec = (): number => Math.floor(Date.now() / 1000);

type Callback = (err: grpc.ServiceError | null, res: Record<string, unknown>) => void;
type Unary = (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: Callback) => void;
type DynamicClient = grpc.Client & Record<string, Unary>;
type Row = Record<string, unknown>;

function loadClient(address: string): DynamicClient {
  const def = protoLoader.loadSync('infra/v1/operations.proto', { includeDirs: [PROTO_ROOT], keepCase: true, longs: String, enums: String, defaults: true, bytes: Buffer });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { infra: { v1: Record<string, grpc.ServiceClientConstructor> } };
  return new pkg.infra.v1['OperationsService']!(address, grpc.credentials.createInsecure()) as unknown as DynamicClient;
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

const bytes = (v: unknown): Uint8Array => new Uint8Array(v as Buffer);

describe('OperationsService for an ops console (grpc-js, the .proto only)', () => {
  let w: World;
  let server: RunningServer;
  let client: DynamicClient;
  const tokens: Partial<Record<Scope, string>> = {};

  function call(method: string, req: object, token: string): Promise<Row> {
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${token}`);
    const fn = client[method]!.bind(client);
    return promisify<object, grpc.Metadata, grpc.CallOptions, Row>((r, m, o, cb) => {
      fn(r, m, o, cb as Callback);
    })(req, md, { deadline: Date.now() + 20_000 });
  }
  const as = (scope: Scope) => (method: string, req: object) => call(method, req, tokens[scope]!);
  const lastAudit = () => w.agent.auditEntries({ limit: 100_000 }).at(-1)!.entry;

  beforeAll(async () => {
    w = await createWorld({ deletionCooldownMs: 0 });
    // every external share delivered and confirmed: what a deletion of the current set and an inventory need
    for (const i of [3, 4, 5]) {
      await w.agent.requestShareDelivery({ keyId: 'key-1', nodeId: 'node-1', shareIndex: i });
      await w.agent.confirmShareDelivery(await w.receipt(i));
    }
    for (const s of ['read', 'deliver', 'recover', 'delete', 'admin'] as const) tokens[s] = createToken(w.agent.dataDir, `console-${s}`, [s], sec()).token;
    server = await serveAgent(w.agent, { logger: silentLogger, recoveryRateLimit: { perMinute: 600, burst: 100 } });
    client = loadClient(`127.0.0.1:${String(server.port)}`);
  });
  afterAll(async () => {
    client.close();
    await server.close();
    w.close();
  });

  it('reads and changes the settings with an admin token, audited under its operator; out of range is INVALID_ARGUMENT', async () => {
    const admin = as('admin');
    const before = (await admin('GetSettings', {}))['settings'] as Row;
    expect(before['inventory_challenge_ttl_seconds']).toBe(w.agent.getSettings().inventoryChallengeTtlSeconds);
    const after = (await admin('UpdateSettings', { settings: { inventory_max_age_seconds: 30 * 86400 } }))['settings'] as Row;
    expect(after).toMatchObject({ inventory_max_age_seconds: 30 * 86400, inventory_challenge_ttl_seconds: before['inventory_challenge_ttl_seconds'] });
    expect(w.agent.getSettings().inventoryMaxAgeSeconds).toBe(30 * 86400);
    expect(lastAudit()).toMatchObject({ event: 'configure', operator: 'console-admin', result: 'ok' });
    await grpcRefusal(admin('UpdateSettings', { settings: { inventory_max_age_seconds: 5 } }), grpc.status.INVALID_ARGUMENT);
    await grpcRefusal(admin('UpdateSettings', { settings: {} }), grpc.status.INVALID_ARGUMENT);
    expect(w.agent.getSettings().inventoryMaxAgeSeconds).toBe(30 * 86400);
    // settings are admin only: even the delete scope is refused
    const denied = await grpcRefusal(as('delete')('GetSettings', {}), grpc.status.PERMISSION_DENIED);
    expect(denied.details).toContain('"admin" scope');
  });

  it('drives a recovery session: open, two approvals, the request, status, list, cancel', async () => {
    const recover = as('recover');
    const opened = await recover('OpenRecoverySession', { incident_id: 'INC-OPS-1', ...K, mode: 'RECOVERY_MODE_MIXED' });
    const session = opened['session'] as Row;
    const sid = session['session_id'] as string;
    expect(session).toMatchObject({ state: 'SESSION_STATE_AWAITING_APPROVALS', mode: 'RECOVERY_MODE_MIXED', incident_id: 'INC-OPS-1' });
    expect(w.agent.getSession(sid).state).toBe('awaiting-approvals');
    expect(lastAudit()).toMatchObject({ operator: 'console-recover' });

    // the approvers sign the details file the RPC handed out
    const details = sessionDetailsSchema.parse(decodeCanonical(bytes(opened['details'])));
    await grpcRefusal(recover('IssueRecoveryRequest', { session_id: sid }), grpc.status.FAILED_PRECONDITION);
    let approved: Row = {};
    for (const a of w.approvers) approved = await recover('ApproveRecoverySession', { session_id: sid, approval: Buffer.from(makeApproval({ session: details, approver_name: a.name, approved_at: sec() }, a.signing)) });
    expect((approved['session'] as Row)['approvals']).toHaveLength(2);
    expect(w.agent.getSession(sid).approvals.map((a) => a.name)).toEqual(w.approvers.map((a) => a.name));

    const issued = await recover('IssueRecoveryRequest', { session_id: sid });
    const request = openRecoveryRequest(bytes(issued['request']), w.agent.publicKey, sec());
    expect(toHex(request.session.session_id)).toBe(sid);
    expect(request.approvals).toHaveLength(2);
    expect((issued['session'] as Row)['request_issued']).toBe(true);

    const read = as('read');
    const got = await read('GetRecoverySession', { session_id: sid });
    expect(bytes(got['details'])).toEqual(bytes(opened['details']));
    const listed = (await read('ListRecoverySessions', K))['sessions'] as Row[];
    expect(listed.map((s) => s['session_id'])).toContain(sid);
    await grpcRefusal(read('ListRecoverySessions', { key_id: 'key-1' }), grpc.status.INVALID_ARGUMENT);
    await grpcRefusal(read('CancelRecoverySession', { session_id: sid }), grpc.status.PERMISSION_DENIED);
    expect(w.agent.getSession(sid).state).toBe('collecting');

    const cancelled = await recover('CancelRecoverySession', { session_id: sid });
    expect((cancelled['session'] as Row)['state']).toBe('SESSION_STATE_CANCELLED');
    await grpcRefusal(read('GetRecoverySession', { session_id: '0'.repeat(32) }), grpc.status.NOT_FOUND);
  });

  it('opens a session with a free-text incident title (issue 13): signed in the details, shown in the session, refused when malformed', async () => {
    const recover = as('recover');
    const title = '交易所热钱包事故 2026/12';
    const opened = await recover('OpenRecoverySession', { incident_id: 'INC-OPS-2', incident_title: title, ...K, mode: 'RECOVERY_MODE_EXTERNAL_ONLY' });
    const session = opened['session'] as Row;
    expect(session).toMatchObject({ incident_id: 'INC-OPS-2', incident_title: title });
    expect(sessionDetailsSchema.parse(decodeCanonical(bytes(opened['details']))).incident_title).toBe(title);
    const sid = session['session_id'] as string;
    expect((((await as('read')('GetRecoverySession', { session_id: sid }))['session']) as Row)['incident_title']).toBe(title);
    expect(lastAudit()).toMatchObject({ action: 'session-open', operator: 'console-recover', details: { incident_id: 'INC-OPS-2', incident_title: title } });
    // Without one the field is empty and the details have none.
    const plain = await recover('OpenRecoverySession', { incident_id: 'INC-OPS-3', ...K, mode: 'RECOVERY_MODE_EXTERNAL_ONLY' });
    expect((plain['session'] as Row)['incident_title']).toBe('');
    expect(Object.keys(decodeCanonical(bytes(plain['details'])) as object)).not.toContain('incident_title');
    const before = w.agent.listSessions().length;
    const refused = await grpcRefusal(recover('OpenRecoverySession', { incident_id: 'INC-OPS-4', incident_title: 'a\u202Eb', ...K, mode: 'RECOVERY_MODE_EXTERNAL_ONLY' }), grpc.status.INVALID_ARGUMENT);
    expect(refused.details).toMatch(/^The incident title must not contain control characters/);
    expect(w.agent.listSessions()).toHaveLength(before);
    for (const id of [sid, (plain['session'] as Row)['session_id'] as string]) await recover('CancelRecoverySession', { session_id: id });
  });

  it('runs an inventory round: a challenge, the custodian\'s attestation, the node\'s status', async () => {
    const deliver = as('deliver');
    const custodian = w.custodianOf(3);
    const fp = toHex(custodianIdentityFingerprint(custodian));
    await grpcRefusal(as('read')('IssueInventoryChallenge', { custodian: fp }), grpc.status.PERMISSION_DENIED);
    const ch = await deliver('IssueInventoryChallenge', { custodian: fp, ttl_seconds: 3600 });
    expect(ch).toMatchObject({ custodian: fp });
    expect(ch['items']).toEqual([expect.objectContaining({ ...K, share_index: 3, result: 'INVENTORY_VERDICT_UNSPECIFIED' })]);

    // the custodian answers the challenge file it was given
    const opened = openChallenge(bytes(ch['challenge']), w.agent.publicKey, custodianIdentityFingerprint(custodian), sec());
    const hash = fileHash(opened.bytes);
    expect(bytes(ch['challenge_sha256'])).toEqual(hash);
    const share = await w.heldShare(3);
    const items = opened.body.items.map((item) => ({ ...item, status: 'held' as const, proof: provePossession(hash, { setId: item.set_id, epoch: item.epoch }, item.share_index, share) }));
    const attestation = makeAttestation({ challenge_id: opened.body.challenge_id, challenge_hash: hash, items, answered_at: sec() }, custodian.signing);
    const result = await deliver('SubmitInventoryAttestation', { attestation: Buffer.from(attestation) });
    expect(result).toMatchObject({ challenge_id: ch['challenge_id'], proven: 1, missing: 0, bad_proof: 0, not_answered: 0 });
    expect(lastAudit()).toMatchObject({ operator: 'console-deliver' });
    // the same file again is answered the same (idempotent); another answer to the challenge is refused
    expect(await deliver('SubmitInventoryAttestation', { attestation: Buffer.from(attestation) })).toMatchObject({ challenge_id: ch['challenge_id'], proven: 1 });
    const other = await grpcRefusal(deliver('SubmitInventoryAttestation', { attestation: Buffer.from(tamperSignature(attestation)) }), grpc.status.ALREADY_EXISTS);
    expect(other.details).toContain('answered already');

    const status = await as('read')('GetInventoryStatus', K);
    const shares = status['shares'] as Row[];
    expect(shares.find((s) => s['share_index'] === 3)).toMatchObject({ attested: true, last_result: 'INVENTORY_VERDICT_PROVEN', custodian: fp });
    expect(status).toMatchObject({ ...K, threshold: 3, server_shares_held: 2, external_attested: 1 });
  });

  it('deletes a server share with two approvals: soft delete, rollback, request, approve, purge, and cancels another', async () => {
    // deleting server shares of the current set needs a passed external-only drill of it (the retention rule)
    const drill = await w.openApprovedSession('external-only', 'DRILL-OPS');
    await w.agent.submitExports(drill, await Promise.all([3, 4, 5].map((i) => w.exportFor(drill, i))));
    expect((await w.agent.completeRecovery(drill, { drill: true })).success).toBe(true);

    const del = as('delete');
    const one = { selector: { ...K, share_indexes: [2] } };
    // recover does not hold delete: refused before anything changes
    await grpcRefusal(as('recover')('SoftDeleteServerShares', one), grpc.status.PERMISSION_DENIED);
    expect(w.agent.listBackupShares('key-1', 'node-1').map((s) => s.state)).toEqual(['held', 'held']);

    const soft = (await del('SoftDeleteServerShares', one))['shares'] as Row[];
    expect(soft.map((s) => [s['share_index'], s['state']])).toEqual([[2, 'SERVER_SHARE_STATE_SOFT_DELETED']]);
    const back = (await del('RollbackServerShares', one))['shares'] as Row[];
    expect(back.map((s) => s['state'])).toEqual(['SERVER_SHARE_STATE_HELD']);
    await del('SoftDeleteServerShares', one);

    // one request cancelled, then a second one approved and purged
    const first = await del('RequestDeletion', one);
    const firstId = (first['deletion'] as Row)['deletion_id'] as string;
    expect((await del('CancelDeletion', { deletion_id: firstId }))['deletion']).toMatchObject({ state: 'DELETION_STATE_CANCELLED' });

    const requested = await del('RequestDeletion', { ...one, ttl_seconds: 3600 });
    const d = requested['deletion'] as Row;
    const did = d['deletion_id'] as string;
    expect(d).toMatchObject({ state: 'DELETION_STATE_AWAITING_APPROVALS', share_indexes: [2], purpose: 'reduce-retention', operator: 'console-delete' });
    await grpcRefusal(del('PurgeServerShares', { deletion_id: did }), grpc.status.FAILED_PRECONDITION);

    const details = deletionDetailsSchema.parse(decodeCanonical(bytes(requested['details'])));
    for (const a of w.approvers) await del('ApproveDeletion', { deletion_id: did, approval: Buffer.from(makeDeletionApproval({ deletion: details, approver_name: a.name, approved_at: sec() }, a.signing)) });
    const read = as('read');
    expect((await read('GetDeletion', { deletion_id: did }))['deletion']).toMatchObject({ state: 'DELETION_STATE_APPROVED' });
    expect(((await read('ListDeletions', {}))['deletions'] as Row[]).map((x) => x['deletion_id'])).toEqual(expect.arrayContaining([firstId, did]));
    await grpcRefusal(read('PurgeServerShares', { deletion_id: did }), grpc.status.PERMISSION_DENIED);

    // the cooling-off period (0 here) ends at the next whole second after the soft delete
    await new Promise((r) => setTimeout(r, Math.max(0, Number((d['cooling_ends_at'] as Row)['seconds']) * 1000 - Date.now() + 50)));
    const purged = await del('PurgeServerShares', { deletion_id: did });
    expect(purged).toMatchObject({ zero_retention: false, deletion: { state: 'DELETION_STATE_COMPLETED' } });
    expect((purged['shares'] as Row[]).map((s) => s['state'])).toEqual(['SERVER_SHARE_STATE_DELETED']);
    expect(w.agent.listBackupShares('key-1', 'node-1').map((s) => s.state)).toEqual(['held', 'deleted']);
    expect(lastAudit()).toMatchObject({ operator: 'console-delete' });
  });

  it('validates like the CLI: a short id, a bad mode, an oversized approval are INVALID_ARGUMENT or refused unread', async () => {
    await grpcRefusal(as('read')('GetDeletion', { deletion_id: 'abcd1234' }), grpc.status.INVALID_ARGUMENT);
    await grpcRefusal(as('recover')('OpenRecoverySession', { incident_id: 'X', ...K, mode: 'RECOVERY_MODE_UNSPECIFIED' }), grpc.status.INVALID_ARGUMENT);
    await grpcRefusal(as('delete')('ApproveDeletion', { deletion_id: 'a'.repeat(32), approval: Buffer.alloc(200 * 1024) }), grpc.status.INVALID_ARGUMENT);
  });
});
