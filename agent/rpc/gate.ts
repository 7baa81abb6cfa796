/**
 * The gate in front of every RPC handler (issue 9 §1b, "Memory is spent before the token is
 * checked"): connect-es reads and decodes a unary request's body before any interceptor runs, so
 * an unauthenticated caller could make the agent buffer and parse megabytes. Each of the router's
 * handlers is wrapped so that, before connect sees the body:
 *
 * 1. the caller is authenticated from the headers alone; a refused caller's body is never read;
 * 2. the body is read up to the method's own limit (METHOD_LIMITS) and no further;
 * 3. an uncompressed binary protobuf body is decoded once as a check, so a malformed one gets
 *    MALFORMED with a sentence instead of connect's INTERNAL "parse binary".
 *
 * A refused request's body is replaced by an empty message in the request's own framing, and the
 * verdict is put in the call's context values; the one interceptor (./router.ts) then throws the
 * coded refusal, so every protocol (gRPC, gRPC-Web, Connect) gets it in its own encoding with the
 * same CustosErrorInfo detail as any other refusal. The connection's HTTP/2 flow control stops the
 * client after one window (64 KiB) of an unread body.
 */
import { fromBinary, type DescMethod } from '@bufbuild/protobuf';
import { createContextKey, createContextValues, type ConnectRouter } from '@connectrpc/connect';
import type { UniversalHandler, UniversalServerRequest } from '@connectrpc/connect/protocol';
import { BackupDeliveryService, BackupService } from '../../proto/gen/infra/v1/backup_pb';
import { KeyshareService } from '../../proto/gen/infra/v1/keyshare_pb';
import { OperationsService } from '../../proto/gen/infra/v1/operations_pb';
import { MAX_APPROVAL_BYTES, MAX_ATTESTATION_BYTES } from './operations-handlers';
import type { AuthResult } from './auth';
import type { Scope } from '../token/store';
import { MAX_PEER_KEYDATA_BYTES, MAX_RECEIPT_BYTES, MAX_REQUEST_BYTES } from './validate';

/** Framing and field headers on top of a method's payload limit. */
const SLACK = 64 * 1024;
/** Requests that carry only ids. */
const SMALL = 16 * 1024;

/** A value for every OperationsService method (a missing one fails the typecheck), by request path. */
function operations<T>(byMethod: Readonly<Record<keyof typeof OperationsService.method, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(byMethod).map(([m, v]) => [`/${OperationsService.typeName}/${OperationsService.method[m as keyof typeof OperationsService.method].name}`, v]));
}

/**
 * Each method's request body limit in bytes (gRPC framing included). A recovery call carries up to
 * 16 export files and, to complete, the peer keydata; an import one keydata file (about 1 MiB).
 */
export const METHOD_LIMITS: Readonly<Record<string, number>> = {
  [`/${BackupService.typeName}/${BackupService.method.recoverMPCShare.name}`]: MAX_REQUEST_BYTES,
  [`/${BackupService.typeName}/${BackupService.method.getBackupStatus.name}`]: SMALL,
  [`/${BackupService.typeName}/${BackupService.method.listBackupShares.name}`]: SMALL,
  [`/${BackupDeliveryService.typeName}/${BackupDeliveryService.method.requestShareDelivery.name}`]: SMALL,
  [`/${BackupDeliveryService.typeName}/${BackupDeliveryService.method.confirmShareDelivery.name}`]: MAX_RECEIPT_BYTES + SLACK,
  [`/${BackupDeliveryService.typeName}/${BackupDeliveryService.method.queryShareStatus.name}`]: SMALL,
  [`/${KeyshareService.typeName}/${KeyshareService.method.importKeyshare.name}`]: MAX_PEER_KEYDATA_BYTES + SLACK,
  ...operations({
    approveDeletion: MAX_APPROVAL_BYTES + SLACK,
    approveRecoverySession: MAX_APPROVAL_BYTES + SLACK,
    submitInventoryAttestation: MAX_ATTESTATION_BYTES + SLACK,
    softDeleteServerShares: SMALL,
    rollbackServerShares: SMALL,
    requestDeletion: SMALL,
    purgeServerShares: SMALL,
    cancelDeletion: SMALL,
    getDeletion: SMALL,
    listDeletions: SMALL,
    openRecoverySession: SMALL,
    issueRecoveryRequest: SMALL,
    cancelRecoverySession: SMALL,
    getRecoverySession: SMALL,
    listRecoverySessions: SMALL,
    issueInventoryChallenge: SMALL,
    getInventoryStatus: SMALL,
    getSettings: SMALL,
    updateSettings: SMALL,
  }),
};
/**
 * The scope each method needs (issue 9 §3); `admin` holds every scope. Importing a node's keydata
 * changes what the agent holds, so it is an admin call. A method not named here needs `admin`.
 */
export const METHOD_SCOPES: Readonly<Record<string, Scope>> = {
  [`/${BackupService.typeName}/${BackupService.method.recoverMPCShare.name}`]: 'recover',
  [`/${BackupService.typeName}/${BackupService.method.getBackupStatus.name}`]: 'read',
  [`/${BackupService.typeName}/${BackupService.method.listBackupShares.name}`]: 'read',
  [`/${BackupDeliveryService.typeName}/${BackupDeliveryService.method.requestShareDelivery.name}`]: 'deliver',
  [`/${BackupDeliveryService.typeName}/${BackupDeliveryService.method.confirmShareDelivery.name}`]: 'deliver',
  [`/${BackupDeliveryService.typeName}/${BackupDeliveryService.method.queryShareStatus.name}`]: 'read',
  [`/${KeyshareService.typeName}/${KeyshareService.method.importKeyshare.name}`]: 'admin',
  // proto/infra/v1/operations.proto says each method's scope; `delete` is reserved for these six.
  ...operations<Scope>({
    softDeleteServerShares: 'delete',
    rollbackServerShares: 'delete',
    requestDeletion: 'delete',
    approveDeletion: 'delete',
    purgeServerShares: 'delete',
    cancelDeletion: 'delete',
    getDeletion: 'read',
    listDeletions: 'read',
    openRecoverySession: 'recover',
    approveRecoverySession: 'recover',
    issueRecoveryRequest: 'recover',
    cancelRecoverySession: 'recover',
    getRecoverySession: 'read',
    listRecoverySessions: 'read',
    issueInventoryChallenge: 'deliver',
    submitInventoryAttestation: 'deliver',
    getInventoryStatus: 'read',
    getSettings: 'admin',
    updateSettings: 'admin',
  }),
};

export const scopeOf = (requestPath: string): Scope => METHOD_SCOPES[requestPath] ?? 'admin';

/** A method this table does not name yet. */
export const DEFAULT_LIMIT = SLACK;

export const limitOf = (requestPath: string): number => METHOD_LIMITS[requestPath] ?? DEFAULT_LIMIT;

/** Why the gate refused a request before connect read it; undefined when it let it through. */
export type GateVerdict =
  | { readonly kind: 'auth'; readonly auth: AuthResult & { ok: false } }
  | { readonly kind: 'scope'; readonly needed: Scope }
  | { readonly kind: 'too-large'; readonly limit: number }
  | { readonly kind: 'malformed'; readonly detail: string };

export const gateKey = createContextKey<GateVerdict | undefined>(undefined, { description: 'custos rpc gate verdict' });
/** The authentication the gate did, for the interceptor (no second check). */
export const gateAuthKey = createContextKey<AuthResult | undefined>(undefined, { description: 'custos rpc gate auth' });

type Framing = 'grpc' | 'connect-stream' | 'connect-unary-proto' | 'connect-unary-json' | 'other';

function framingOf(contentType: string | null): Framing {
  const t = (contentType ?? '').toLowerCase();
  if (t.startsWith('application/grpc')) return 'grpc'; // gRPC and gRPC-Web share the 5-byte envelope
  if (t.startsWith('application/connect+')) return 'connect-stream';
  if (t.startsWith('application/proto')) return 'connect-unary-proto';
  if (t.startsWith('application/json')) return 'connect-unary-json';
  return 'other';
}

/** An empty message in the request's framing: what connect decodes instead of a refused body. */
function emptyBody(framing: Framing): Uint8Array {
  switch (framing) {
    case 'grpc':
      return new Uint8Array(5);
    case 'connect-stream':
      return new Uint8Array(5);
    case 'connect-unary-json':
      return new TextEncoder().encode('{}');
    default:
      return new Uint8Array(0);
  }
}

/** One chunk as a request body. */
function bodyOf(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]: () => {
      let done = false;
      return {
        next: () => {
          const result: IteratorResult<Uint8Array> = done ? { done: true, value: undefined } : { done: false, value: bytes };
          done = true;
          return Promise.resolve(result);
        },
      };
    },
  };
}

function isByteStream(body: unknown): body is AsyncIterable<Uint8Array> {
  return typeof body === 'object' && body !== null && Symbol.asyncIterator in body;
}

/** Reads at most `limit` bytes; `undefined` when the body is longer (the rest is left unread). */
async function readUpTo(body: AsyncIterable<Uint8Array>, limit: number): Promise<Uint8Array | undefined> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const it = body[Symbol.asyncIterator]();
  for (;;) {
    const next = await it.next();
    if (next.done === true) break;
    total += next.value.length;
    if (total > limit) {
      await it.return?.();
      return undefined;
    }
    chunks.push(next.value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The binary payload to check, or undefined when it is compressed, JSON or not one message. */
function binaryPayload(framing: Framing, bytes: Uint8Array, compressed: boolean): Uint8Array | undefined {
  if (framing === 'connect-unary-proto') return compressed ? undefined : bytes;
  if (framing !== 'grpc' && framing !== 'connect-stream') return undefined;
  if (bytes.length < 5 || ((bytes[0] ?? 0) & 0x01) !== 0) return undefined; // compressed or truncated: connect decides
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1);
  if (5 + length !== bytes.length) return undefined;
  return bytes.subarray(5);
}

export type Authenticate = (authorization: string | null) => AuthResult;

function gated(handler: UniversalHandler, authenticate: Authenticate): UniversalHandler {
  const method: DescMethod = handler.method;
  const limit = limitOf(handler.requestPath);
  const wrapped = async (incoming: UniversalServerRequest) => {
    // connect-node only creates the call's context values inside the handler when none are given
    const req = { ...incoming, contextValues: incoming.contextValues ?? createContextValues() };
    const framing = framingOf(req.header.get('content-type'));
    const refuse = (verdict: GateVerdict) => {
      req.contextValues.set(gateKey, verdict);
      // connect must not decompress the placeholder nor expect the refused body's length
      req.header.delete('content-encoding');
      req.header.delete('content-length');
      return handler({ ...req, body: bodyOf(emptyBody(framing)) });
    };
    const auth = authenticate(req.header.get('authorization'));
    req.contextValues.set(gateAuthKey, auth);
    if (!auth.ok) return refuse({ kind: 'auth', auth });
    const needed = scopeOf(handler.requestPath);
    if (!auth.scopes.includes(needed) && !auth.scopes.includes('admin')) return refuse({ kind: 'scope', needed });
    if (!isByteStream(req.body)) return handler(req);
    const bytes = await readUpTo(req.body, limit);
    if (bytes === undefined) return refuse({ kind: 'too-large', limit });
    const encoding = req.header.get('content-encoding');
    const payload = binaryPayload(framing, bytes, encoding !== null && encoding !== 'identity');
    if (payload !== undefined) {
      try {
        fromBinary(method.input, payload);
      } catch (error) {
        return refuse({ kind: 'malformed', detail: error instanceof Error ? error.message : String(error) });
      }
    }
    return handler({ ...req, body: bodyOf(bytes) });
  };
  const out: UniversalHandler = Object.assign(wrapped, {
    requestPath: handler.requestPath,
    protocolNames: handler.protocolNames,
    supportedContentType: handler.supportedContentType,
    allowedMethods: handler.allowedMethods,
    service: handler.service,
    method: handler.method,
  });
  return out;
}

/** Wraps every handler registered on the router so far (call after registering the services). */
export function gateRouter(router: ConnectRouter, authenticate: Authenticate): void {
  const handlers: UniversalHandler[] = router.handlers;
  handlers.forEach((h, i) => {
    handlers[i] = gated(h, authenticate);
  });
}
