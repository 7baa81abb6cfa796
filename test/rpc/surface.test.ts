/**
 * The RPC surface in-process (router transport) over the real core `Agent` in a temporary data
 * directory: every RPC, authentication, validation, error mapping, rate limiting and the observer
 * hooks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { Code } from '@connectrpc/connect';
import { toJsonString } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { Curve, DeliveryStatus, RecoverMPCShareResponseSchema, RecoveryMode, ServerShareState, SessionState } from '../../proto/gen/infra/v1/backup_pb';
import { AgentError, AGENT_ERROR_CODES } from '../../agent/errors';
import { ERROR_CODES, CustosError } from '../../shared/errors';
import { STATUS_OF, ERROR_CODE_METADATA, INTERNAL_MESSAGE } from '../../agent/rpc/errors';
import { TokenBuckets } from '../../agent/rate-limit';
import { createTokenCheck } from '../../agent/rpc/auth';
import { silentLogger } from '../../agent/rpc/log';
import type { AgentOps } from '../../agent/rpc/ops';
import { createWorld, fixture, opsOf, recordingOps, tamperSignature, type World } from './world';
import { CountingObserver, RecordingLogger, inProcess, refusal } from './helpers';

const K = { keyId: 'key-1', nodeId: 'node-1' };
const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

const worlds: World[] = [];
async function world(): Promise<World> {
  const w = await createWorld();
  worlds.push(w);
  return w;
}
afterEach(() => {
  for (const w of worlds.splice(0)) w.close();
});

describe('BackupService and BackupDeliveryService, in process, over the real Agent', () => {
  it('serves the whole loop: status, shares, delivery, receipts, recovery in mixed mode', async () => {
    const w = await world();
    const { backup, delivery } = inProcess({ ops: opsOf(w), token: w.token, logger: silentLogger });
    const before = Math.floor(Date.now() / 1000);

    const st = await backup.getBackupStatus(K);
    expect(st).toMatchObject({ ...K, setId: w.backup.setId, epoch: 1, curve: Curve.SECP256K1, threshold: 3, total: 5, retain: 2 });
    expect(st).toMatchObject({ serverSharesHeld: 2, externalDelivered: 0, externalConfirmed: 0, recoverable: false, externalOnlyRecoverable: false });
    expect(st.lastDrill).toBeUndefined();

    const shares = await backup.listBackupShares(K);
    expect(shares.shares.map((s) => s.shareIndex)).toEqual([1, 2]);
    for (const s of shares.shares) {
      expect(s).toMatchObject({ state: ServerShareState.HELD, superseded: false, setId: w.backup.setId });
      expect(s.commitment).toHaveLength(32);
      expect(Object.keys(s).sort()).toEqual(['$typeName', 'commitment', 'createdAt', 'epoch', 'keyId', 'nodeId', 'setId', 'shareIndex', 'state', 'superseded']);
    }

    for (const index of [3, 4, 5]) {
      const d = await delivery.requestShareDelivery({ ...K, shareIndex: index });
      expect(d.envelope).toEqual(w.envelope(index));
      expect(d.envelopeSha256).toEqual(sha256(d.envelope));
      expect(d.status).toMatchObject({ status: DeliveryStatus.DELIVERED, shareIndex: index, envelopeSha256: d.envelopeSha256 });
      expect(timestampDate(d.status!.updatedAt!).getTime() / 1000).toBeGreaterThanOrEqual(before);
    }
    const ok = await delivery.confirmShareDelivery({ receipt: await w.receipt(3) });
    expect(ok.status?.status).toBe(DeliveryStatus.CONFIRMED);
    const rejected = await delivery.confirmShareDelivery({ receipt: await w.receipt(4, 'DECRYPT_FAILED') });
    expect(rejected.status).toMatchObject({ status: DeliveryStatus.REJECTED, reason: 'DECRYPT_FAILED', shareIndex: 4 });

    const q = await delivery.queryShareStatus(K);
    expect(q.shares.map((s) => [s.shareIndex, s.status])).toEqual([
      [3, DeliveryStatus.CONFIRMED],
      [4, DeliveryStatus.REJECTED],
      [5, DeliveryStatus.DELIVERED],
    ]);
    expect((await delivery.queryShareStatus({ ...K, setId: st.setId })).shares).toHaveLength(3);
    expect(await backup.getBackupStatus(K)).toMatchObject({ externalDelivered: 2, externalConfirmed: 1, recoverable: true });

    // Recovery: the session was opened and approved with the CLI; without session_id the one
    // open session of the node is used.
    const sessionId = await w.openApprovedSession('mixed');
    const peek = await backup.recoverMPCShare(K);
    expect(peek.session).toMatchObject({ sessionId, state: SessionState.COLLECTING, mode: RecoveryMode.MIXED, incidentId: 'INC-2026-0042', requestIssued: true });
    expect(peek.session?.approvals.map((a) => a.name)).toEqual(['Alice (security)', 'Bob (business owner)']);
    expect(peek.session?.serverShareIndexes).toEqual([1, 2]);
    expect(peek.missingShareIndexes).toEqual([3, 4, 5]);
    expect(peek.success).toBe(false);
    expect(peek.failure).toBeUndefined();

    const done = await backup.recoverMPCShare({ ...K, sessionId, shareData: [await w.exportFor(sessionId, 5)], complete: true });
    expect(done.failure).toBeUndefined();
    expect(done).toMatchObject({ success: true, written: true, contextSource: 'stored', acceptedShareIndexes: [5], refused: [], threshold: 3 });
    expect(done.sharesUsed).toMatchObject({ server: 2, external: 1, shareIndexes: [1, 2, 5] });
    expect(done.session?.state).toBe(SessionState.COMPLETED);
    expect(done.keydataSha256).toEqual(Uint8Array.from(Buffer.from(w.imported.keydataSha256, 'hex')));
    expect(done.selfCheck.length).toBeGreaterThan(5);
    expect(done.selfCheck.every((c) => c.ok)).toBe(true);
    expect(done.selfCheck.map((c) => c.name)).toContain('matchesImported');
  });

  it('external-only over several calls, from a peer\'s keydata, as a drill: a tampered share is named and refused, good ones kept, below threshold reported', async () => {
    const w = await world();
    const observer = new CountingObserver();
    const { backup } = inProcess({ ops: opsOf(w), token: w.token, logger: silentLogger, observer });
    const sessionId = await w.openApprovedSession('external-only');

    const first = await backup.recoverMPCShare({ ...K, sessionId, shareData: [await w.exportFor(sessionId, 3), tamperSignature(await w.exportFor(sessionId, 4))], complete: true });
    expect(first.success).toBe(false);
    expect(first.acceptedShareIndexes).toEqual([3]);
    expect(first.refused).toMatchObject([{ shareIndex: 4, code: 'SIGNATURE_INVALID' }]);
    expect(first.failure?.code).toBe('BELOW_THRESHOLD');
    expect(first.failure?.message).toMatch(/1 .*3/);
    expect(first.session?.state).toBe(SessionState.COLLECTING);
    expect(first.missingShareIndexes).toEqual([4, 5]);
    expect(observer.refusals).toEqual(['RecoverMPCShare:OK:SIGNATURE_INVALID', 'RecoverMPCShare:OK:BELOW_THRESHOLD']);

    // Sending the same export again is harmless; the good share 4 is accepted now.
    const again = await backup.recoverMPCShare({ ...K, sessionId, shareData: [await w.exportFor(sessionId, 4)] });
    expect(again.acceptedShareIndexes).toEqual([4]);
    expect(again.refused).toEqual([]);

    const drill = await backup.recoverMPCShare({ ...K, sessionId, shareData: [await w.exportFor(sessionId, 5)], complete: true, drill: true, peerKeydata: fixture('ecdsa', 1) });
    expect(drill.failure).toBeUndefined();
    expect(drill).toMatchObject({ success: true, written: false, contextSource: 'peer' });
    expect(drill.sharesUsed).toMatchObject({ server: 0, external: 3, shareIndexes: [3, 4, 5] });
    expect(drill.keydataSha256).toEqual(Uint8Array.from(Buffer.from(w.imported.keydataSha256, 'hex')));
    const st = await backup.getBackupStatus(K);
    expect(st.lastDrill).toMatchObject({ ok: true, mode: RecoveryMode.EXTERNAL_ONLY, sessionId });
  });

  it('refuses an export replayed into another session, naming the share; two open sessions need a session_id', async () => {
    const w = await world();
    const { ops, calls } = recordingOps(opsOf(w));
    const { backup } = inProcess({ ops, token: w.token, logger: silentLogger });
    const s1 = await w.openApprovedSession('external-only', 'INC-1');
    const s2 = await w.openApprovedSession('external-only', 'INC-2');
    const r = await backup.recoverMPCShare({ ...K, sessionId: s2, shareData: [await w.exportFor(s1, 5)] });
    expect(r.refused).toMatchObject([{ shareIndex: 5, code: 'SESSION_MISMATCH' }]);
    expect(r.acceptedShareIndexes).toEqual([]);
    const e = await refusal(backup.recoverMPCShare(K), Code.FailedPrecondition);
    expect(e.rawMessage).toContain('name one with session_id');
    expect(e.rawMessage).toContain(s1);
    // A session of another key or node is refused before the core sees the files.
    calls.length = 0;
    const other = await refusal(backup.recoverMPCShare({ keyId: 'key-2', nodeId: 'node-1', sessionId: s1, shareData: [new Uint8Array([1])] }), Code.InvalidArgument);
    expect(other.rawMessage).toContain('is for key "key-1"');
    expect(calls).toEqual(['getSession']);
  });

  it('answers NOT_FOUND for an unknown key, node, set, share or session', async () => {
    const w = await world();
    const { backup, delivery } = inProcess({ ops: opsOf(w), token: w.token, logger: silentLogger });
    const unknown = { keyId: 'no-such-key', nodeId: 'node-1' };
    const e = await refusal(backup.getBackupStatus(unknown), Code.NotFound);
    expect(e.rawMessage).toContain('no-such-key');
    expect(e.metadata.get(ERROR_CODE_METADATA)).toBe('NOT_FOUND');
    await refusal(backup.listBackupShares({ keyId: 'key-1', nodeId: 'node-9' }), Code.NotFound);
    await refusal(delivery.requestShareDelivery({ ...unknown, shareIndex: 3 }), Code.NotFound);
    await refusal(delivery.requestShareDelivery({ ...K, shareIndex: 9 }), Code.NotFound);
    await refusal(delivery.queryShareStatus(unknown), Code.NotFound);
    await refusal(delivery.queryShareStatus({ ...K, setId: '00'.repeat(16) }), Code.NotFound);
    await refusal(backup.recoverMPCShare({ ...K, sessionId: 'ab'.repeat(16) }), Code.NotFound);
    const none = await refusal(backup.recoverMPCShare(K), Code.NotFound);
    expect(none.rawMessage).toContain('no open recovery session');
  });

  it('maps protocol refusals of a receipt to their status codes', async () => {
    const w = await world();
    const { delivery } = inProcess({ ops: opsOf(w), token: w.token, logger: silentLogger });
    await delivery.requestShareDelivery({ ...K, shareIndex: 3 });
    const garbage = await refusal(delivery.confirmShareDelivery({ receipt: new Uint8Array([0xa1, 0x01, 0x02]) }), Code.InvalidArgument);
    expect(garbage.metadata.get(ERROR_CODE_METADATA)).toBe('MALFORMED');
    const receipt = await w.receipt(3);
    const sig = await refusal(delivery.confirmShareDelivery({ receipt: tamperSignature(receipt) }), Code.InvalidArgument);
    expect(sig.metadata.get(ERROR_CODE_METADATA)).toBe('SIGNATURE_INVALID');
    expect((await delivery.confirmShareDelivery({ receipt })).status?.status).toBe(DeliveryStatus.CONFIRMED);
  });

  it('refuses bad arguments with INVALID_ARGUMENT naming the field, before the core is called', async () => {
    const w = await world();
    const { ops, calls } = recordingOps(opsOf(w));
    const observer = new CountingObserver();
    const { backup, delivery } = inProcess({ ops, token: w.token, logger: silentLogger, observer, recoveryRateLimit: { perMinute: 60, burst: 60 } });
    const cases: [() => Promise<unknown>, string][] = [
      [() => backup.getBackupStatus({ keyId: '', nodeId: 'node-1' }), 'key_id'],
      [() => backup.getBackupStatus({ keyId: '../etc', nodeId: 'node-1' }), 'key_id'],
      [() => backup.getBackupStatus({ keyId: 'k', nodeId: 'x'.repeat(129) }), 'node_id'],
      [() => backup.listBackupShares({ keyId: 'key-1', nodeId: 'node/1' }), 'node_id'],
      [() => delivery.requestShareDelivery({ ...K, shareIndex: 0 }), 'share_index'],
      [() => delivery.requestShareDelivery({ ...K, shareIndex: 256 }), 'share_index'],
      [() => delivery.confirmShareDelivery({ receipt: new Uint8Array(0) }), 'receipt'],
      [() => delivery.confirmShareDelivery({ receipt: new Uint8Array(8 * 1024 + 1) }), 'receipt'],
      [() => delivery.queryShareStatus({ ...K, setId: 'ABCD' }), 'set_id'],
      [() => backup.recoverMPCShare({ ...K, sessionId: 'z'.repeat(32) }), 'session_id'],
      [() => backup.recoverMPCShare({ ...K, shareData: [new Uint8Array(0)] }), 'share_data[0]'],
      [() => backup.recoverMPCShare({ ...K, shareData: [new Uint8Array(1), new Uint8Array(128 * 1024 + 1)] }), 'share_data[1]'],
      [() => backup.recoverMPCShare({ ...K, shareData: Array.from({ length: 17 }, () => new Uint8Array(1)) }), 'share_data'],
      [() => backup.recoverMPCShare({ ...K, peerKeydata: new Uint8Array(10) }), 'peer_keydata'],
      [() => backup.recoverMPCShare({ ...K, complete: true, peerKeydata: new Uint8Array(1024 * 1024 + 1) }), 'peer_keydata'],
      [() => backup.recoverMPCShare({ ...K, drill: true }), 'drill'],
    ];
    for (const [call, field] of cases) {
      const e = await refusal(call(), Code.InvalidArgument);
      expect(e.rawMessage).toMatch(new RegExp(`^Invalid argument: ${field.replace(/[[\]]/g, '\\$&')} `));
      expect(e.metadata.get('custos-field')).toBe(field);
      expect(e.rawMessage).not.toContain('../etc');
    }
    expect(calls).toEqual([]);
    expect(observer.refusals.every((r) => r.endsWith(':INVALID_ARGUMENT:INVALID_ARGUMENT'))).toBe(true);
    expect(observer.refusals).toHaveLength(cases.length);
  });

  it('needs the bearer token on every call, compared exactly', async () => {
    const w = await world();
    const { ops, calls } = recordingOps(opsOf(w));
    const observer = new CountingObserver();
    const wrongs: [string | null, string][] = [
      [null, 'missing'],
      ['', 'malformed'],
      [`${w.token}x`, 'wrong'],
      [w.token.slice(0, -1), 'wrong'],
      [w.token.toUpperCase(), 'wrong'],
    ];
    for (const [token, reason] of wrongs) {
      const { backup, delivery } = inProcess({ ops, token: w.token, logger: silentLogger, observer }, token);
      const all: (() => Promise<unknown>)[] = [
        () => backup.getBackupStatus(K),
        () => backup.listBackupShares(K),
        () => backup.recoverMPCShare({ ...K, complete: true }),
        () => delivery.requestShareDelivery({ ...K, shareIndex: 3 }),
        () => delivery.confirmShareDelivery({ receipt: new Uint8Array([1]) }),
        () => delivery.queryShareStatus(K),
      ];
      for (const c of all) {
        const e = await refusal(c(), Code.Unauthenticated);
        expect(e.rawMessage).toContain('authorization: Bearer <token>');
        expect(e.rawMessage).not.toContain(w.token);
      }
      expect(observer.authFailures.at(-1)).toBe(`QueryShareStatus:${reason}`);
    }
    expect(observer.authFailures).toHaveLength(30);
    expect(calls).toEqual([]);
    // The right token works; the scheme is case-insensitive, the token is not.
    expect((await inProcess({ ops, token: w.token, logger: silentLogger }, w.token).backup.getBackupStatus(K)).threshold).toBe(3);
    const check = createTokenCheck(w.token);
    expect(check(`bearer ${w.token}`).ok).toBe(true);
    expect(check(`Basic ${w.token}`)).toEqual({ ok: false, reason: 'malformed' });
    expect(check(`Bearer ${w.token} extra`)).toEqual({ ok: false, reason: 'malformed' });
    expect(() => createTokenCheck('short')).toThrow(/at least 16/);
  });

  it('rate-limits RecoverMPCShare per token with a token bucket, and nothing else', async () => {
    const w = await world();
    const { ops, calls } = recordingOps(opsOf(w));
    const observer = new CountingObserver();
    let ms = 0;
    const opts = { ops, token: w.token, logger: silentLogger, observer, recoveryRateLimit: { perMinute: 6, burst: 2 }, clock: () => ms };
    const { backup } = inProcess(opts, w.token);
    await refusal(backup.recoverMPCShare(K), Code.NotFound);
    await refusal(backup.recoverMPCShare(K), Code.NotFound);
    const e = await refusal(backup.recoverMPCShare(K), Code.ResourceExhausted);
    expect(e.rawMessage).toBe('Too many recovery calls: at most 6 per minute (burst 2). Retry in 10 s.');
    expect(e.metadata.get('retry-after')).toBe('10');
    expect(observer.refusals.at(-1)).toBe('RecoverMPCShare:RESOURCE_EXHAUSTED:RATE_LIMITED');
    for (let i = 0; i < 10; i++) await backup.getBackupStatus(K); // not limited
    ms += 9_999;
    await refusal(backup.recoverMPCShare(K), Code.ResourceExhausted);
    ms += 1;
    await refusal(backup.recoverMPCShare(K), Code.NotFound);
    await refusal(backup.recoverMPCShare(K), Code.ResourceExhausted);
    expect(calls.filter((c) => c === 'findOpenSession')).toHaveLength(3);
    // Unauthenticated calls do not spend the token's budget.
    ms += 60_000;
    const intruder = inProcess(opts, 'not-the-token-at-all-0000');
    for (let i = 0; i < 5; i++) await refusal(intruder.backup.recoverMPCShare(K), Code.Unauthenticated);
    await refusal(backup.recoverMPCShare(K), Code.NotFound);
  });

  it('token buckets refill continuously and cap at the burst', () => {
    let t = 0;
    const b = new TokenBuckets({ perMinute: 60, burst: 3 }, () => t);
    expect([b.take('a'), b.take('a'), b.take('a')]).toEqual([0, 0, 0]);
    expect(b.take('a')).toBe(1000);
    expect(b.take('b')).toBe(0);
    t = 500;
    expect(b.take('a')).toBe(500);
    t = 1_000_000;
    expect([b.take('a'), b.take('a'), b.take('a'), b.take('a') > 0]).toEqual([0, 0, 0, true]);
    expect(() => new TokenBuckets({ perMinute: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new TokenBuckets({ perMinute: 1, burst: 0.5 })).toThrow(RangeError);
  });

  it('never sends internal causes: unexpected errors are INTERNAL with a generic sentence; coded ones keep only their message', async () => {
    const w = await world();
    const real = opsOf(w);
    const logger = new RecordingLogger();
    const observer = new CountingObserver();
    let fault: unknown;
    // The real agent, with a fault injected in front of any operation when `fault` is set.
    const ops = Object.fromEntries(
      Object.entries(real).map(([name, fn]) => [
        name,
        (...args: unknown[]) => {
          if (fault !== undefined) {
            const f = fault;
            fault = undefined;
            // The point is to throw whatever a buggy core might throw, strings included.
            // eslint-disable-next-line @typescript-eslint/only-throw-error
            throw f;
          }
          return (fn as (...a: unknown[]) => unknown)(...args);
        },
      ]),
    ) as unknown as AgentOps;
    const { backup, delivery } = inProcess({ ops, token: w.token, logger, observer });
    const secretCause = 'ENOENT /var/lib/custos/keys/key-1/node-1.enc xi=0x5eed';

    fault = new Error(secretCause);
    const e = await refusal(backup.getBackupStatus(K), Code.Internal);
    expect(e.rawMessage.startsWith(INTERNAL_MESSAGE)).toBe(true);
    const ref = /reference ([0-9a-f]{12})/.exec(e.rawMessage)?.[1];
    expect(ref).toBeDefined();
    expect(e.rawMessage).not.toContain('ENOENT');
    expect(e.rawMessage).not.toContain('/var/lib');
    expect([...e.metadata.values()].join(' ')).not.toContain('ENOENT');
    const logged = logger.entries.find((x) => x.level === 'error');
    expect(logged?.fields?.['ref']).toBe(ref);
    expect(logger.text()).toContain(secretCause);

    // A non-Error thrown value, and a TypeError from a bug.
    fault = 'raw string with /etc/shadow';
    expect((await refusal(delivery.queryShareStatus(K), Code.Internal)).rawMessage).not.toContain('shadow');
    fault = new TypeError("Cannot read properties of undefined (reading 'xi')");
    expect((await refusal(backup.listBackupShares(K), Code.Internal)).rawMessage).not.toContain('xi');

    // A coded error with a cause: its message goes out, the cause only to the log.
    fault = new AgentError('CORRUPT_FILE', 'The stored share of key-1/node-1 is damaged; restore it with a recovery.', {
      cause: new Error('GCM tag mismatch at offset 4096 in /var/lib/custos/keys/key-1/node-1.enc'),
    });
    const c = await refusal(backup.getBackupStatus(K), Code.DataLoss);
    expect(c.rawMessage).toBe('The stored share of key-1/node-1 is damaged; restore it with a recovery.');
    expect(c.metadata.get(ERROR_CODE_METADATA)).toBe('CORRUPT_FILE');
    expect(logger.text()).toContain('GCM tag mismatch');

    // During completion an unexpected error fails the call; a coded refusal is reported in the
    // response with its message and without its cause; the core's own rate limit is a status.
    const sessionId = await w.openApprovedSession('mixed');
    const share = await w.exportFor(sessionId, 3);
    const complete = ops.completeRecovery.bind(ops);
    ops.completeRecovery = () => Promise.reject(new RangeError(`offset out of range: ${secretCause}`));
    const r = await refusal(backup.recoverMPCShare({ ...K, sessionId, shareData: [share], complete: true }), Code.Internal);
    expect(r.rawMessage).not.toContain('ENOENT');
    ops.completeRecovery = () => Promise.reject(new CustosError('SELF_CHECK_FAILED', 'The regenerated keydata fails Xi·G = BigXj[2]; nothing was written.', { cause: new Error(secretCause) }));
    const f = await backup.recoverMPCShare({ ...K, sessionId, complete: true });
    expect(f.failure).toMatchObject({ code: 'SELF_CHECK_FAILED', message: 'The regenerated keydata fails Xi·G = BigXj[2]; nothing was written.' });
    expect(f.acceptedShareIndexes).toEqual([]);
    expect(f.session?.receivedShareIndexes).toEqual([3]);
    expect(toJsonString(RecoverMPCShareResponseSchema, f)).not.toContain('ENOENT');
    ops.completeRecovery = () => Promise.reject(new AgentError('RATE_LIMITED', 'Too many recovery calls; try again in 2 s.'));
    await refusal(backup.recoverMPCShare({ ...K, sessionId, complete: true }), Code.ResourceExhausted);
    ops.completeRecovery = complete;
    expect((await backup.recoverMPCShare({ ...K, sessionId, complete: true })).success).toBe(true);

    expect(observer.refusals).toContain('GetBackupStatus:INTERNAL:INTERNAL');
    expect(observer.refusals).toContain('GetBackupStatus:DATA_LOSS:CORRUPT_FILE');
    expect(observer.refusals).toContain('RecoverMPCShare:OK:SELF_CHECK_FAILED');
    expect(observer.refusals).toContain('RecoverMPCShare:RESOURCE_EXHAUSTED:RATE_LIMITED');
  });

  it('a throwing observer does not break calls', async () => {
    const w = await world();
    const logger = new RecordingLogger();
    const { backup } = inProcess({
      ops: opsOf(w),
      token: w.token,
      logger,
      observer: {
        completed: () => {
          throw new Error('metrics down');
        },
      },
    }, w.token);
    expect((await backup.getBackupStatus(K)).threshold).toBe(3);
    expect(logger.text()).toContain('metrics down');
  });

  it('maps every core error code, in the one table (agent/rpc/errors.ts)', () => {
    expect(Object.keys(STATUS_OF).sort()).toEqual([...ERROR_CODES, ...AGENT_ERROR_CODES].sort());
  });
});
