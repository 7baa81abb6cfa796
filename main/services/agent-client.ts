/**
 * The linked agent, seen from the custodian app: the agent's Connect/gRPC API (proto/infra/v1/
 * backup.proto; clients generated into proto/gen) over `@connectrpc/connect-node`. Used by the
 * recovery station (RecoverMPCShare) and to send receipts (ConfirmShareDelivery).
 *
 * The app contacts no network address but the linked agent URL from settings, and only when the
 * person asks for something that needs it (AGENT_NOT_LINKED otherwise). Every call carries the
 * agent's API token as `authorization: Bearer …`. A failed call becomes a coded refusal:
 * AGENT_UNREACHABLE (network, TLS, timeout), AGENT_TOKEN_REJECTED (UNAUTHENTICATED or
 * PERMISSION_DENIED: the token is not valid, revoked or without the scope) or AGENT_REFUSED naming
 * the agent's own error code (`custos-error-code` metadata) and its sentence; never a stack.
 * ./agent-link.ts checks the link itself (Settings and the station's indicator).
 */
import { Code, ConnectError, createClient, type Client, type Interceptor, type Transport } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { BackupDeliveryService, BackupService } from '../../proto/gen/infra/v1/backup_pb';
import { ServiceError } from './errors';

export interface AgentLink {
  /** The agent's base URL (settings.agentUrl, already checked by the settings schema). */
  readonly url: string;
  readonly token: string;
}

/** Builds the transport for a link; tests inject an in-process router transport here. */
export type TransportFactory = (link: AgentLink) => Transport;

export interface AgentClients {
  readonly backup: Client<typeof BackupService>;
  readonly delivery: Client<typeof BackupDeliveryService>;
}

const bearer =
  (token: string): Interceptor =>
  (next) =>
  (req) => {
    req.header.set('authorization', `Bearer ${token}`);
    return next(req);
  };

/** Connect protocol over HTTP/2 (h2c to a loopback agent, TLS to https), the token on every call. */
export const connectNodeTransport: TransportFactory = (link) =>
  createConnectTransport({
    baseUrl: link.url,
    httpVersion: '2',
    interceptors: [bearer(link.token)],
    // A recovery completion regenerates keydata and self-checks it: give it time.
    defaultTimeoutMs: 120_000,
    idleConnectionTimeoutMs: 30_000,
  });

export function agentClients(transport: Transport): AgentClients {
  return { backup: createClient(BackupService, transport), delivery: createClient(BackupDeliveryService, transport) };
}

const UNREACHABLE = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.Canceled, Code.Aborted]);

/** Text from the agent, for a sentence: control characters become spaces, at most `max` characters. */
export function printableText(text: string, max: number): string {
  let out = '';
  for (const ch of text.slice(0, max)) {
    const c = ch.charCodeAt(0);
    out += c < 0x20 || c === 0x7f ? ' ' : ch;
  }
  return out;
}

/** A failed agent call as the app's coded refusal. */
export function agentFailure(error: unknown): ServiceError {
  if (error instanceof ServiceError) return error;
  const e = ConnectError.from(error);
  const rpcCode = Code[e.code];
  if (UNREACHABLE.has(e.code) || e.code === Code.Unknown) {
    return new ServiceError('AGENT_UNREACHABLE', `The linked agent could not be reached (${rpcCode}).`, { cause: error, details: { rpcCode } });
  }
  const agentCode = e.metadata.get('custos-error-code') ?? rpcCode;
  const said = printableText(e.rawMessage, 500);
  // Issue 13: a token the agent (or a proxy, HTTP 401/403) refuses says so, not "a value is not valid".
  if (e.code === Code.Unauthenticated || e.code === Code.PermissionDenied) {
    return new ServiceError('AGENT_TOKEN_REJECTED', `The agent refused this token (${agentCode}): ${said}`, { cause: error, details: { agentCode, rpcCode } });
  }
  return new ServiceError('AGENT_REFUSED', `The agent refused this (${agentCode}): ${said}`, { cause: error, details: { agentCode, rpcCode } });
}

/** Runs one agent call, mapping its failure. */
export async function callAgent<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw agentFailure(error);
  }
}
