/**
 * Every refusal carries its code as a typed `CustosErrorInfo` error detail
 * (proto/infra/v1/errors.proto), equal to the `custos-error-code` metadata entry, with the field
 * at fault and the retry delay where they apply: in process, and over a real socket in each of
 * the three protocols (gRPC puts details in `grpc-status-details-bin`, Connect in its JSON body).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code, ConnectError } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { CustosErrorInfoSchema } from '../../proto/gen/infra/v1/errors_pb';
import { ERROR_CODE_METADATA } from '../../agent/rpc/errors';
import { silentLogger } from '../../agent/rpc/log';
import { serveAgent, type RunningServer } from '../../agent/rpc/server';
import { bearer, clientsFor, inProcess, refusal, type Clients } from './helpers';
import { createWorld, opsOf, type World } from './world';

const K = { keyId: 'key-1', nodeId: 'node-1' };

/** The one CustosErrorInfo of a refusal, checked against its metadata entry. */
function info(e: ConnectError): { code: string; field: string; retryAfterSeconds: number } {
  const details = e.findDetails(CustosErrorInfoSchema);
  expect(details).toHaveLength(1);
  const [d] = details;
  if (d === undefined) throw new Error('no CustosErrorInfo detail');
  expect(d.code).toBe(e.metadata.get(ERROR_CODE_METADATA));
  return { code: d.code, field: d.field, retryAfterSeconds: d.retryAfterSeconds };
}

async function refusalsOf(c: Clients, intruder: Clients): Promise<Record<string, { code: string; field: string; retryAfterSeconds: number }>> {
  return {
    notFound: info(await refusal(c.backup.getBackupStatus({ keyId: 'no-such-key', nodeId: 'node-1' }), Code.NotFound)),
    badField: info(await refusal(c.delivery.requestShareDelivery({ ...K, shareIndex: 0 }), Code.InvalidArgument)),
    protocol: info(await refusal(c.delivery.confirmShareDelivery({ receipt: new Uint8Array([0xa1, 0x01, 0x02]) }), Code.InvalidArgument)),
    unauthenticated: info(await refusal(intruder.backup.getBackupStatus(K), Code.Unauthenticated)),
  };
}

const EXPECTED = {
  notFound: { code: 'NOT_FOUND', field: '', retryAfterSeconds: 0 },
  badField: { code: 'INVALID_ARGUMENT', field: 'share_index', retryAfterSeconds: 0 },
  protocol: { code: 'MALFORMED', field: '', retryAfterSeconds: 0 },
  unauthenticated: { code: 'UNAUTHENTICATED', field: '', retryAfterSeconds: 0 },
};

describe('CustosErrorInfo error details', () => {
  let w: World;
  let server: RunningServer;

  beforeAll(async () => {
    w = await createWorld();
    server = await serveAgent(w.agent, { logger: silentLogger });
  });
  afterAll(async () => {
    await server.close();
    w.close();
  });

  it('name the code, the field and the retry delay in process', async () => {
    let ms = 0;
    const opts = { ops: opsOf(w), token: w.token, logger: silentLogger, recoveryRateLimit: { perMinute: 6, burst: 1 }, clock: () => ms };
    const c = inProcess(opts);
    expect(await refusalsOf(c, inProcess(opts, 'not-the-token-at-all-0000'))).toEqual(EXPECTED);
    await refusal(c.backup.recoverMPCShare(K), Code.NotFound);
    const limited = await refusal(c.backup.recoverMPCShare(K), Code.ResourceExhausted);
    expect(info(limited)).toEqual({ code: 'RATE_LIMITED', field: '', retryAfterSeconds: 10 });
    expect(limited.metadata.get('retry-after')).toBe('10');
    ms += 10_000;
    await refusal(c.backup.recoverMPCShare(K), Code.NotFound);
  });

  it('cross a real socket in gRPC, Connect and gRPC-Web', async () => {
    const transports = {
      grpc: (token: string) => createGrpcTransport({ baseUrl: server.url, interceptors: [bearer(token)] }),
      connect: (token: string) => createConnectTransport({ baseUrl: server.url, httpVersion: '2', interceptors: [bearer(token)] }),
      grpcWeb: (token: string) => createGrpcWebTransport({ baseUrl: server.url, httpVersion: '2', interceptors: [bearer(token)] }),
    };
    for (const [name, make] of Object.entries(transports)) {
      expect(await refusalsOf(clientsFor(make(w.token)), clientsFor(make('not-the-token-at-all-0000'))), name).toEqual(EXPECTED);
    }
  });
});
