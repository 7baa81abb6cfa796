/**
 * The logger and observer the RPC layer is given. Causes of refusals and unexpected errors go to
 * the logger, never to the client. The observer counts authentication failures and refusals
 * (Prometheus counters plug in here later); neither may break a call by throwing.
 */
export type LogFields = Readonly<Record<string, unknown>>;

export interface RpcLogger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** One JSON line per entry on stderr: the default when the caller injects nothing. */
export const stderrLogger: RpcLogger = {
  info: (message, fields) => {
    writeLine('info', message, fields);
  },
  warn: (message, fields) => {
    writeLine('warn', message, fields);
  },
  error: (message, fields) => {
    writeLine('error', message, fields);
  },
};

function writeLine(level: string, message: string, fields: LogFields | undefined): void {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
}

/** Discards everything (tests that assert nothing about logs). */
export const silentLogger: RpcLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** `revoked`: a per-operator token that `agent token revoke` revoked. */
export type AuthFailureReason = 'missing' | 'malformed' | 'wrong' | 'revoked';

export interface RpcObserver {
  /** A call without a valid bearer token (it is then refused with UNAUTHENTICATED). */
  authFailure?(event: { readonly method: string; readonly reason: AuthFailureReason }): void;
  /**
   * A refusal. `status` is the gRPC status name sent ("OK" for refusals reported inside a
   * successful response: a refused share, a refused completion); `reason` the core's or this
   * layer's code (e.g. NOT_FOUND, BELOW_THRESHOLD, RATE_LIMITED, INTERNAL).
   */
  refused?(event: { readonly method: string; readonly status: string; readonly reason: string }): void;
  /** Every call, once it ends. */
  completed?(event: { readonly method: string; readonly status: string; readonly durationMs: number }): void;
}

/** Calls an observer hook; a throwing hook is logged and otherwise ignored. */
export function notify<K extends keyof RpcObserver>(
  observer: RpcObserver | undefined,
  logger: RpcLogger,
  hook: K,
  event: Parameters<NonNullable<RpcObserver[K]>>[0],
): void {
  const fn = observer?.[hook] as ((e: typeof event) => void) | undefined;
  if (!fn) return;
  try {
    fn.call(observer, event);
  } catch (error) {
    logger.warn('rpc: observer hook threw', { hook, error: error instanceof Error ? error.message : String(error) });
  }
}
