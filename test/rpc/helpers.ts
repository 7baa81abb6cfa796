import { expect } from 'vitest';
import { Code, ConnectError, createClient, createRouterTransport, type Client, type Interceptor, type Transport } from '@connectrpc/connect';
import { BackupDeliveryService, BackupService } from '../../proto/gen/infra/v1/backup_pb';
import { createRpc, type RpcOptions } from '../../agent/rpc/router';
import type { LogFields, RpcLogger, RpcObserver } from '../../agent/rpc/log';

/** Records every log entry, so tests can check that causes went to the log and not the wire. */
export class RecordingLogger implements RpcLogger {
  readonly entries: { level: string; message: string; fields: LogFields | undefined }[] = [];
  info(message: string, fields?: LogFields): void {
    this.entries.push({ level: 'info', message, fields });
  }
  warn(message: string, fields?: LogFields): void {
    this.entries.push({ level: 'warn', message, fields });
  }
  error(message: string, fields?: LogFields): void {
    this.entries.push({ level: 'error', message, fields });
  }
  text(): string {
    return JSON.stringify(this.entries);
  }
}

/** Counts what the observer hooks report. */
export class CountingObserver implements RpcObserver {
  readonly authFailures: string[] = [];
  readonly refusals: string[] = [];
  readonly completions: string[] = [];
  authFailure(e: { method: string; reason: string }): void {
    this.authFailures.push(`${e.method}:${e.reason}`);
  }
  refused(e: { method: string; status: string; reason: string }): void {
    this.refusals.push(`${e.method}:${e.status}:${e.reason}`);
  }
  completed(e: { method: string; status: string }): void {
    this.completions.push(`${e.method}:${e.status}`);
  }
}

export const bearer = (token: string | null): Interceptor => (next) => async (req) => {
  if (token !== null) req.header.set('authorization', `Bearer ${token}`);
  return next(req);
};

export interface Clients {
  backup: Client<typeof BackupService>;
  delivery: Client<typeof BackupDeliveryService>;
}

export function clientsFor(transport: Transport): Clients {
  return { backup: createClient(BackupService, transport), delivery: createClient(BackupDeliveryService, transport) };
}

/** Both services through an in-process router transport, with the real interceptor. */
export function inProcess(options: RpcOptions, token: string | null = options.token): Clients {
  const rpc = createRpc(options);
  return clientsFor(createRouterTransport(rpc.routes, { router: rpc.routerOptions, transport: { interceptors: [bearer(token)] } }));
}

/** Awaits a call that must fail with `code`; returns the error for further checks. */
export async function refusal(call: Promise<unknown>, code: Code): Promise<ConnectError> {
  try {
    await call;
  } catch (e) {
    const err = ConnectError.from(e);
    expect(Code[err.code], err.rawMessage).toBe(Code[code]);
    return err;
  }
  throw new Error(`expected ${Code[code]}, the call succeeded`);
}
