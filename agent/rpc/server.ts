/**
 * The agent's RPC server (issue 3, "Interfaces"; TLS: issue 9 §3): one HTTP/2 server speaking
 * gRPC, gRPC-Web and Connect (`@connectrpc/connect-node`), on 127.0.0.1 unless told otherwise.
 * With `tls` it serves TLS (HTTP/2 or HTTP/1.1 by ALPN), with a client CA mutual TLS; without it
 * the bearer token would travel in the clear, so a host beyond loopback is refused. In cleartext
 * on loopback the same port also answers
 * HTTP/1.1 (each connection is routed by its first bytes: the HTTP/2 preface or not), so a Connect
 * JSON client with a plain HTTP/1.1 stack — Go's net/http, integrations/go/agentclient — can call
 * the unary RPCs; gRPC itself needs HTTP/2.
 */
import * as http from 'node:http';
import * as http2 from 'node:http2';
import { createServer as createNetServer, isIP, type Server, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { assertPrivateFile } from '../../node/private-file';
import { AgentError } from '../errors';
import { readApiToken } from '../service';
import { agentOps, type AgentForRpc } from './agent-ops';
import { createContextValues } from '@connectrpc/connect';
import { createRpc, type RpcOptions } from './router';
import { peerKey } from './auth';
import { RefusalAudit } from '../audit/refusals';
import { stderrLogger } from './log';
import { tokenSource } from '../token/store';

export interface ServerOptions extends RpcOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: a free port, reported in the result. */
  readonly port?: number;
  /**
   * TLS (issue 9 §3): the server's certificate chain and private key (PEM). Required whenever
   * `host` is not loopback. With `clientCa`, mutual TLS: a client must present a certificate
   * issued by one of these CAs, else the handshake fails before any RPC.
   */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer; readonly clientCa?: string | Buffer };
}

/** Reads `serve --tls-cert --tls-key [--client-ca]` files (PEM) for `ServerOptions.tls`. */
export function readTlsFiles(certFile: string, keyFile: string, clientCaFile?: string): NonNullable<ServerOptions['tls']> {
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new AgentError('NOT_FOUND', `Cannot read the ${what} ${file}; give a readable PEM file.`, { cause: error });
    }
  };
  assertPrivateFile(keyFile, 'the TLS private key');
  return { cert: read(certFile, 'TLS certificate'), key: read(keyFile, 'TLS private key'), ...(clientCaFile === undefined ? {} : { clientCa: read(clientCaFile, 'client CA file') }) };
}

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  /** `http://host:port` (`https://` with TLS), for connect-node transports. */
  readonly url: string;
  /** Bytes read from every connection so far (closed ones included): what callers made the agent take in. */
  bytesRead(): number;
  /** Stops accepting calls, aborts those in flight, closes every connection. */
  close(): Promise<void>;
}

/** An IP address without the IPv4-mapped prefix; undefined when the socket has none (closed). */
const peerOf = (address: string | undefined): string | undefined => (address === undefined ? undefined : address.replace(/^::ffff:(?=\d+\.)/, ''));

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
const isLoopbackHost = (host: string): boolean => LOOPBACK.has(host) || host.startsWith('127.');
const CLOSE_GRACE_MS = 2000;
/**
 * Concurrent HTTP/2 streams per connection: a client opening more waits for a free one, so one
 * connection cannot hold more than this many request bodies (each at most its method's limit,
 * ./gate.ts) in the agent at once.
 */
export const MAX_CONCURRENT_STREAMS = 16;
const H2_PREFACE_START = 'PRI'; // "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"; no HTTP/1 method starts so

/**
 * One TCP listener for both protocols: reads a connection's first 3 bytes, puts them back, and
 * hands the socket to the HTTP/2 server (the preface) or the HTTP/1.1 one. The HTTP/2 session
 * reads the bytes put back before its native reads; the HTTP/1.1 parser needs the socket resumed.
 */
function dualProtocolListener(h2: http2.Http2Server, h1: http.Server, sockets: Set<Socket>, closedBytes: { n: number }): Server {
  return createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      closedBytes.n += socket.bytesRead;
    });
    // Until a server owns the socket, a reset connection must not become an uncaught error.
    const onError = (): void => {
      socket.destroy();
    };
    socket.on('error', onError);
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      seen = Buffer.concat([seen, chunk]);
      if (seen.length < H2_PREFACE_START.length) return;
      socket.off('data', onData);
      socket.off('error', onError);
      socket.pause();
      socket.unshift(seen);
      if (seen.subarray(0, H2_PREFACE_START.length).toString('latin1') === H2_PREFACE_START) {
        h2.emit('connection', socket);
      } else {
        h1.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
  });
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be an integer 0..65535, got ${String(port)}`);
  const logger = options.logger ?? stderrLogger;
  if (!isLoopbackHost(host) && options.tls === undefined) {
    throw new AgentError(
      'FAILED_PRECONDITION',
      `The agent listens on ${host} only with TLS: bearer tokens would travel in the clear. Give --tls-cert FILE --tls-key FILE (and --client-ca FILE for mutual TLS), or listen on 127.0.0.1 behind a tunnel.`,
    );
  }

  const rpc = createRpc({ ...options, logger });
  const shutdown = new AbortController();
  const handler = connectNodeAdapter({
    ...rpc.routerOptions,
    routes: rpc.routes,
    shutdownSignal: shutdown.signal,
    // the caller's address, for the audit entries of refused calls (never trusted for anything else)
    contextValues: (req) => createContextValues().set(peerKey, peerOf(req.socket.remoteAddress)),
  });

  const settings = { maxConcurrentStreams: MAX_CONCURRENT_STREAMS };
  const sockets = new Set<Socket>();
  const closedBytes = { n: 0 };
  let h1: http.Server | undefined;
  let h2: http2.Http2Server | http2.Http2SecureServer;
  let server: Server;
  if (options.tls) {
    // HTTP/2 and HTTP/1.1 by ALPN on the one TLS port; with a client CA, mutual TLS.
    const tls = options.tls;
    const secure = http2.createSecureServer(
      {
        cert: tls.cert,
        key: tls.key,
        allowHTTP1: true,
        settings,
        minVersion: 'TLSv1.2',
        ...(tls.clientCa === undefined ? {} : { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true }),
      },
      handler,
    );
    secure.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => {
        sockets.delete(socket);
        closedBytes.n += socket.bytesRead;
      });
    });
    // A failed handshake (no or a wrong client certificate) is the client's problem, not a crash.
    secure.on('tlsClientError', (e: Error) => {
      logger.warn('rpc: TLS handshake refused', { message: e.message });
    });
    h2 = secure;
    server = secure;
  } else {
    const plain = http2.createServer({ settings }, handler);
    h1 = http.createServer(handler);
    h2 = plain;
    server = dualProtocolListener(plain, h1, sockets, closedBytes);
  }
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on('session', (s: http2.ServerHttp2Session) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) => {
      reject(e);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (e: Error) => {
    logger.error('rpc: server error', { message: e.message });
  });

  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the HTTP/2 server has no TCP address');
  const urlHost = isIP(host) === 6 ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  return {
    host,
    port: address.port,
    url: `${options.tls ? 'https' : 'http'}://${urlHost}:${String(address.port)}`,
    bytesRead: () => [...sockets].reduce((n, s) => n + s.bytesRead, closedBytes.n),
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        shutdown.abort();
        server.close(() => {
          resolve();
        });
        for (const s of sessions) s.close();
        h1?.closeIdleConnections();
        setTimeout(() => {
          for (const s of sessions) s.destroy();
          for (const s of sockets) s.destroy();
        }, CLOSE_GRACE_MS).unref();
      })),
  };
}

export interface AgentServerOptions extends Omit<ServerOptions, 'ops' | 'token' | 'tokens'> {
  /** Default: the data directory's api.token (read with its permission check). */
  readonly token?: string;
}

/**
 * Serves an opened core `Agent`: its operations, with the api.token and the per-operator tokens of
 * its data directory; refused calls are written to its audit log, coalesced per minute
 * (agent/audit/refusals.ts), the pending summaries at close.
 */
export async function serveAgent(agent: AgentForRpc & { readonly dataDir: string }, options: AgentServerOptions = {}): Promise<RunningServer> {
  const refusals = options.refusals ?? new RefusalAudit((input) => {
    agent.recordAudit(input);
  });
  const running = await startServer({ ...options, refusals, ops: agentOps(agent), token: options.token ?? readApiToken(agent.dataDir), tokens: tokenSource(agent.dataDir) });
  if (refusals instanceof RefusalAudit) refusals.start();
  return {
    ...running,
    close: async () => {
      await running.close();
      if (refusals instanceof RefusalAudit) refusals.close();
    },
  };
}
