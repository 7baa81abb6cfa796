/**
 * The RPC surface without a socket: both services plus the one interceptor every call passes
 * (authenticate, rate-limit recovery calls, turn anything thrown into a safe status, observe).
 * ./server.ts serves it over HTTP/2; tests mount it on `createRouterTransport`.
 */
import { Code, type ConnectError, type ConnectRouter, type ConnectRouterOptions, type Interceptor } from '@connectrpc/connect';
import { BackupService } from '../../proto/gen/infra/v1/backup_pb';
import { createTokenCheck, operatorKey, peerKey, type AuthResult } from './auth';
import type { RefusalAudit } from '../audit/refusals';
import type { AuditEvent } from '../audit/log';
import type { Scope } from '../token/store';
import type { TokenRecord } from '../token/store';
import { grpcCodeFor, reasonOf, rpcError, toConnectError } from './errors';
import { registerServices } from './handlers';
import { registerKeyshareService } from './keyshare-handlers';
import { registerOperationsService } from './operations-handlers';
import { OperationsService } from '../../proto/gen/infra/v1/operations_pb';
import { gateAuthKey, gateKey, gateRouter, scopeOf, type GateVerdict } from './gate';
import { notify, stderrLogger, type RpcLogger, type RpcObserver } from './log';
import type { AgentOps } from './ops';
import { DEFAULT_RECOVERY_RATE_LIMIT, TokenBuckets, type Clock, type RateLimit } from '../rate-limit';
import { MAX_REQUEST_BYTES } from './validate';

export interface RpcOptions {
  readonly ops: AgentOps;
  /** The API token (the token file's content): an admin token of operator "api-token". */
  readonly token: string;
  /** The per-operator tokens (agent/token/store.ts `tokenSource`), read at each call. */
  readonly tokens?: () => readonly TokenRecord[];
  readonly logger?: RpcLogger;
  readonly observer?: RpcObserver;
  /** Limit on RecoverMPCShare per token (agent/rate-limit.ts); default 10 per minute, burst 5. */
  readonly recoveryRateLimit?: RateLimit;
  /** Milliseconds clock for the rate limiter (tests). */
  readonly clock?: Clock;
  /** Audit entries for refused calls (agent/audit/refusals.ts), coalesced; none when absent. */
  readonly refusals?: Pick<RefusalAudit, 'record'>;
}

/** The refusals of the call itself (not of its content) that are audited here; the modules audit their own. */
const AUDITED_REFUSALS = new Set(['UNAUTHENTICATED', 'PERMISSION_DENIED', 'RATE_LIMITED', 'TOO_LARGE', 'MALFORMED', 'INVALID_ARGUMENT']);

/** The audit event of a refused call: its method's domain, by the scope it needs. */
const EVENT_OF_SCOPE: Readonly<Record<Scope, AuditEvent>> = { read: 'inspect', deliver: 'deliver', recover: 'recover', delete: 'delete', admin: 'configure' };

/** The methods that spend recovery budget (the Agent facade charges the same three session operations in-process). */
const RATE_LIMITED = new Set([
  `${BackupService.typeName}/${BackupService.method.recoverMPCShare.name}`,
  `${OperationsService.typeName}/${OperationsService.method.openRecoverySession.name}`,
  `${OperationsService.typeName}/${OperationsService.method.approveRecoverySession.name}`,
  `${OperationsService.typeName}/${OperationsService.method.issueRecoveryRequest.name}`,
]);

const UNAUTHENTICATED_MESSAGE = 'A valid API token is required: send the header "authorization: Bearer <token>" with the token from the agent\'s token file.';

const REVOKED_MESSAGE = 'This API token was revoked; ask an administrator for a new one ("agent token create").';

export interface Rpc {
  readonly routes: (router: ConnectRouter) => void;
  readonly routerOptions: ConnectRouterOptions;
}

export function createRpc(options: RpcOptions): Rpc {
  const logger = options.logger ?? stderrLogger;
  const observer = options.observer;
  const check = createTokenCheck(options.token, options.tokens);
  const buckets = new TokenBuckets(options.recoveryRateLimit ?? DEFAULT_RECOVERY_RATE_LIMIT, options.clock);

  const surface: Interceptor = (next) => async (req) => {
    const method = req.method.name;
    const started = performance.now();
    let auth: AuthResult | undefined;
    try {
      // The gate (./gate.ts) authenticated from the headers before the body was read; a call that
      // did not pass through it (none today) is checked here.
      auth = req.contextValues.get(gateAuthKey) ?? check(req.header.get('authorization'));
      if (!auth.ok) {
        notify(observer, logger, 'authFailure', { method, reason: auth.reason });
        throw rpcError(Code.Unauthenticated, auth.reason === 'revoked' ? REVOKED_MESSAGE : UNAUTHENTICATED_MESSAGE, 'UNAUTHENTICATED');
      }
      const verdict = req.contextValues.get(gateKey);
      const operator = auth.operator;
      if (verdict && verdict.kind !== 'auth') throw gateRefusal(verdict);
      // The one charge of a recovery call: the handler calls the recovery module, which charges nothing.
      if (RATE_LIMITED.has(`${req.service.typeName}/${method}`)) buckets.spend(auth.key);
      req.contextValues.set(operatorKey, operator);
      const res = await next(req);
      notify(observer, logger, 'completed', { method, status: 'OK', durationMs: performance.now() - started });
      return res;
    } catch (error) {
      const e = toConnectError(error, method, logger);
      const status = statusName(e.code);
      const reason = reasonOf(e) ?? status;
      notify(observer, logger, 'refused', { method, status, reason });
      if (options.refusals && AUDITED_REFUSALS.has(reason)) {
        const path = `/${req.service.typeName}/${method}`;
        const verdict = req.contextValues.get(gateKey);
        options.refusals.record({
          operator: auth?.operator,
          method: path,
          code: reason,
          reason: auth?.ok === false ? auth.reason : verdict?.kind === 'scope' ? `needs scope ${verdict.needed}` : undefined,
          peer: req.contextValues.get(peerKey),
          event: EVENT_OF_SCOPE[scopeOf(path)],
        });
      }
      notify(observer, logger, 'completed', { method, status, durationMs: performance.now() - started });
      throw e;
    }
  };

  return {
    routes: (router) => {
      registerServices(router, { ops: options.ops, logger, observer });
      registerKeyshareService(router, options.ops);
      registerOperationsService(router, options.ops);
      gateRouter(router, check);
    },
    routerOptions: {
      interceptors: [surface],
      readMaxBytes: MAX_REQUEST_BYTES,
      writeMaxBytes: MAX_REQUEST_BYTES,
    },
  };
}

/** The coded refusal of a request the gate stopped before its body was read or decoded. */
function gateRefusal(verdict: Exclude<GateVerdict, { kind: 'auth' }>): ConnectError {
  if (verdict.kind === 'scope') {
    return rpcError(
      Code.PermissionDenied,
      `This API token does not have the "${verdict.needed}" scope this call needs; ask an administrator for a token with it ("agent token create --scope ${verdict.needed}").`,
      'PERMISSION_DENIED',
    );
  }
  if (verdict.kind === 'too-large') {
    return rpcError(
      grpcCodeFor('TOO_LARGE') ?? Code.InvalidArgument,
      `The request is larger than this method accepts (${String(verdict.limit)} bytes); send fewer or smaller files per call.`,
      'TOO_LARGE',
    );
  }
  return rpcError(
    grpcCodeFor('MALFORMED') ?? Code.InvalidArgument,
    'The request is not a valid protobuf message for this method; check that the client was generated from the agent\'s .proto files.',
    'MALFORMED',
  );
}

/** The canonical gRPC name of a status code: RESOURCE_EXHAUSTED, NOT_FOUND... */
export const statusName = (code: Code): string => Code[code].replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
