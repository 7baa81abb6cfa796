/**
 * The two services of proto/infra/v1/backup.proto, implemented over the capability modules'
 * functions (`AgentOps`, ./ops.ts). Handlers know messages, not transports: the same objects
 * serve gRPC, gRPC-Web and Connect on a socket (./server.ts) and in-process router transports in
 * tests.
 *
 * Each handler: validate the decoded request with zod (./validate.ts), call the module function
 * (whatever it throws becomes a status in the one interceptor, ./router.ts, through ./errors.ts),
 * convert the result (a conversion failure is a bug and becomes INTERNAL).
 */
import type { ConnectRouter, HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { Code } from '@connectrpc/connect';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { BackupDeliveryService, BackupService, type RecoverMPCShareResponseSchema } from '../../proto/gen/infra/v1/backup_pb';
import type { OpContext, RecoveryOutcome, SessionView, SubmitResult } from '../api';
import { operatorKey } from './auth';
import * as convert from './convert';
import { asCodedError, describeError, logCause, rpcError, toConnectError } from './errors';
import { notify, type RpcLogger, type RpcObserver } from './log';
import type { AgentOps } from './ops';
import {
  confirmShareDeliveryRequest,
  getBackupStatusRequest,
  listBackupSharesRequest,
  parseRequest,
  queryShareStatusRequest,
  recoverMPCShareRequest,
  requestShareDeliveryRequest,
} from './validate';

export interface HandlerDeps {
  readonly ops: AgentOps;
  readonly logger: RpcLogger;
  readonly observer?: RpcObserver;
}

type RecoverResponse = MessageInitShape<typeof RecoverMPCShareResponseSchema>;

export function createHandlers(deps: HandlerDeps): {
  backup: ServiceImpl<typeof BackupService>;
  delivery: ServiceImpl<typeof BackupDeliveryService>;
} {
  const { ops, logger, observer } = deps;

  /** The authenticated caller, as the audit log's operator. */
  const op = (hc: HandlerContext): OpContext => ({ operator: hc.values.get(operatorKey) });

  /** Builds a response; the core's data failing to convert is our bug, never the caller's. */
  function reply<T>(hc: HandlerContext, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw toConnectError(new Error('converting the response failed', { cause: error }), hc.method.name, logger);
    }
  }

  const backup: ServiceImpl<typeof BackupService> = {
    async getBackupStatus(req, hc) {
      const r = parseRequest(getBackupStatusRequest, req);
      const status = await ops.getBackupStatus(r.keyId, r.nodeId);
      return reply(hc, () => convert.backupStatus(status));
    },

    async listBackupShares(req, hc) {
      const r = parseRequest(listBackupSharesRequest, req);
      const records = await ops.listBackupShares(r.keyId, r.nodeId);
      return reply(hc, () => ({ shares: records.map(convert.serverShare) }));
    },

    async recoverMPCShare(req, hc) {
      const r = parseRequest(recoverMPCShareRequest, req);
      const method = hc.method.name;

      const found = await (r.sessionId === '' ? ops.findOpenSession(r.keyId, r.nodeId) : ops.getSession(r.sessionId));
      if (!found) {
        throw rpcError(
          Code.NotFound,
          `There is no open recovery session for key "${r.keyId}", node "${r.nodeId}". Open one with the agent CLI, have it approved, then send its session_id.`,
          'NOT_FOUND',
        );
      }
      if (found.keyId !== r.keyId || found.nodeId !== r.nodeId) {
        throw rpcError(
          Code.InvalidArgument,
          `Recovery session ${found.sessionId} is for key "${found.keyId}", node "${found.nodeId}", not for key "${r.keyId}", node "${r.nodeId}".`,
          'SESSION_MISMATCH',
        );
      }

      let current: SessionView = found;
      let submitted: SubmitResult | undefined;
      if (r.shareData.length > 0) {
        submitted = await ops.submitExports(found.sessionId, r.shareData, op(hc));
        current = submitted.session;
        for (const refusal of submitted.refused) notify(observer, logger, 'refused', { method, status: 'OK', reason: refusal.code });
      }

      let outcome: RecoveryOutcome | undefined;
      let failure: { code: string; message: string } | undefined;
      if (r.complete) {
        try {
          const options = { ...(r.peerKeydata.length > 0 ? { peerKeydata: r.peerKeydata } : {}), ...(r.drill ? { drill: true } : {}) };
          outcome = await ops.completeRecovery(found.sessionId, options, op(hc));
          current = outcome.session;
          if (!outcome.success) failure = unsuccessful(outcome);
        } catch (error) {
          // A coded refusal of the completion is reported in the response, next to what this call
          // accepted (those shares stay in the session); only an unexpected error fails the call.
          const coded = asCodedError(error);
          if (!coded || !reportedInResponse(coded.code)) throw toConnectError(error, method, logger);
          logCause(coded, method, logger);
          failure = { code: coded.code, message: coded.message };
          current = await refreshed(hc, found.sessionId, current);
        }
        if (failure) notify(observer, logger, 'refused', { method, status: 'OK', reason: failure.code });
      }

      return reply(hc, (): RecoverResponse => ({
        success: outcome?.success === true,
        session: convert.session(current),
        acceptedShareIndexes: [...(submitted?.accepted ?? [])],
        refused: (submitted?.refused ?? []).map(convert.refusedShare),
        missingShareIndexes: [...current.missing],
        threshold: current.threshold,
        keydataSha256: outcome?.success === true ? convert.digest(outcome.keydataSha256) : new Uint8Array(0),
        selfCheck: (outcome?.selfCheck ?? []).map((c) => ({ name: c.name, ok: c.ok, detail: c.detail ?? '' })),
        sharesUsed: outcome ? { server: outcome.sharesUsed.server, external: outcome.sharesUsed.external, shareIndexes: [...(outcome.indexesUsed ?? [])] } : undefined,
        failure,
        written: outcome ? (outcome.written ?? (outcome.success && !r.drill)) : false,
        contextSource: outcome?.contextSource ?? '',
        skipped: (outcome?.skipped ?? []).map(convert.refusedShare),
        durationMs: convert.uint32(outcome?.durationMs ?? 0),
        groupPublicKey: outcome?.success === true && outcome.groupPublicKey !== undefined ? convert.digest(outcome.groupPublicKey) : new Uint8Array(0),
      }));
    },
  };

  /** The session after a refused completion; if even that read fails, the state before it. */
  async function refreshed(hc: HandlerContext, sessionId: string, fallback: SessionView): Promise<SessionView> {
    try {
      return await ops.getSession(sessionId);
    } catch (error) {
      logger.warn('rpc: could not re-read the session after a refused completion', { method: hc.method.name, error: describeError(error) });
      return fallback;
    }
  }

  const delivery: ServiceImpl<typeof BackupDeliveryService> = {
    async requestShareDelivery(req, hc) {
      const r = parseRequest(requestShareDeliveryRequest, req);
      const d = await ops.requestShareDelivery({ keyId: r.keyId, nodeId: r.nodeId, shareIndex: r.shareIndex }, op(hc));
      return reply(hc, () => ({ envelope: d.envelope, envelopeSha256: convert.digest(d.status.envelopeSha256), status: convert.shareStatus(d.status) }));
    },

    async confirmShareDelivery(req, hc) {
      const r = parseRequest(confirmShareDeliveryRequest, req);
      const status = await ops.confirmShareDelivery(r.receipt, op(hc));
      return reply(hc, () => ({ status: convert.shareStatus(status) }));
    },

    async queryShareStatus(req, hc) {
      const r = parseRequest(queryShareStatusRequest, req);
      const shares = await ops.queryShareStatus({ keyId: r.keyId, nodeId: r.nodeId, ...(r.setId === '' ? {} : { setId: r.setId }) });
      return reply(hc, () => ({ shares: shares.map(convert.shareStatus) }));
    },
  };

  return { backup, delivery };
}

/** Registers both services on a router (a server adapter's, or a test's router transport). */
export function registerServices(router: ConnectRouter, deps: HandlerDeps): void {
  const { backup, delivery } = createHandlers(deps);
  router.service(BackupService, backup);
  router.service(BackupDeliveryService, delivery);
}

/**
 * Which coded refusals of a completion are reported inside the response (`failure`), next to what
 * the call accepted. The others concern the call, not the recovery, and fail it with their status:
 * the rate limit, authentication, a server-side permission problem, a coded internal error.
 */
function reportedInResponse(code: string): boolean {
  return !['RATE_LIMITED', 'UNAUTHENTICATED', 'PERMISSION_DENIED', 'INTERNAL'].includes(code);
}

function unsuccessful(outcome: RecoveryOutcome): { code: string; message: string } {
  const failed = outcome.selfCheck.filter((c) => !c.ok).map((c) => c.name);
  return failed.length > 0
    ? { code: 'SELF_CHECK_FAILED', message: `The regenerated keydata failed its self-check (${failed.join(', ')}); nothing was written.` }
    : { code: 'RECOVERY_FAILED', message: 'The recovery did not succeed; nothing was written.' };
}
