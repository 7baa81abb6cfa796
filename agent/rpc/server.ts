/**
 * The agent's RPC server (issue 3, "Interfaces"): one cleartext HTTP/2 server speaking gRPC,
 * gRPC-Web and Connect (`@connectrpc/connect-node`), on 127.0.0.1 unless told otherwise. The
 * bearer token is sent in the clear over HTTP/2 without TLS, so listening beyond loopback is
 * logged as a warning: put a TLS-terminating proxy or a tunnel in front. The same port also answers
 * HTTP/1.1 (each connection is routed by its first bytes: the HTTP/2 preface or not), so a Connect
 * JSON client with a plain HTTP/1.1 stack — Go's net/http, integrations/go/agentclient — can call
 * the unary RPCs; gRPC itself needs HTTP/2.
 */
import * as http from 'node:http';
import * as http2 from 'node:http2';
import { createServer as createNetServer, isIP, type Server, type Socket } from 'node:net';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { readApiToken } from '../service';
import { agentOps, type AgentForRpc } from './agent-ops';
import { createRpc, type RpcOptions } from './router';
import { stderrLogger } from './log';
import { tokenSource } from '../token/store';

export interface ServerOptions extends RpcOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: a free port, reported in the result. */
  readonly port?: number;
}

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  /** `http://host:port`, for connect-node transports. */
  readonly url: string;
  /** Bytes read from every connection so far (closed ones included): what callers made the agent take in. */
  bytesRead(): number;
  /** Stops accepting calls, aborts those in flight, closes every connection. */
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
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
  if (!LOOPBACK.has(host) && !host.startsWith('127.')) {
    logger.warn('rpc: listening beyond loopback without TLS; the bearer token travels in the clear', { host });
  }

  const rpc = createRpc({ ...options, logger });
  const shutdown = new AbortController();
  const handler = connectNodeAdapter({ ...rpc.routerOptions, routes: rpc.routes, shutdownSignal: shutdown.signal });

  const h2 = http2.createServer({ settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS } }, handler);
  const h1 = http.createServer(handler);
  const sockets = new Set<Socket>();
  const closedBytes = { n: 0 };
  const server = dualProtocolListener(h2, h1, sockets, closedBytes);
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
    url: `http://${urlHost}:${String(address.port)}`,
    bytesRead: () => [...sockets].reduce((n, s) => n + s.bytesRead, closedBytes.n),
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        shutdown.abort();
        server.close(() => {
          resolve();
        });
        for (const s of sessions) s.close();
        h1.closeIdleConnections();
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

/** Serves an opened core `Agent`: its operations, with the api.token and the per-operator tokens of its data directory. */
export async function serveAgent(agent: AgentForRpc & { readonly dataDir: string }, options: AgentServerOptions = {}): Promise<RunningServer> {
  return startServer({ ...options, ops: agentOps(agent), token: options.token ?? readApiToken(agent.dataDir), tokens: tokenSource(agent.dataDir) });
}
