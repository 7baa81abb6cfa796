/**
 * Audit entries for refused RPC calls (issue 9 §2, §3): a call refused as unauthenticated, without
 * its scope, over its rate limit, too large or malformed is written to the audit log with the
 * operator (from the token, when it named one), the method, the code and the peer address.
 *
 * Bounded, so a flood cannot grow the log without limit: refusals are coalesced per
 * (operator, method, code, reason, peer) in windows of `windowMs` (a minute). The first refusal of a
 * window is written at once (count 1); the others of the same window are counted and written as
 * ONE entry when the window ends (`count`, `first`, `last`), on the next refusal after it, at the
 * periodic flush or at close. At most `maxKeys` keys are open at a time; beyond that, refusals
 * share one overflow key (operator and peer "*"), so even a flood from many addresses costs a few
 * entries a minute. An unauthenticated caller's token never reaches the log, only its reason.
 */
import type { AuditEvent, AuditInput } from './log';

export interface RefusedCall {
  /** The token's operator; undefined when the caller did not authenticate as one. */
  readonly operator?: string | undefined;
  /** `/infra.v1.Service/Method`. */
  readonly method: string;
  /** The Custos code sent: UNAUTHENTICATED, PERMISSION_DENIED, RATE_LIMITED, TOO_LARGE, MALFORMED, INVALID_ARGUMENT. */
  readonly code: string;
  /** Why, without secrets: the auth failure reason (missing, wrong, revoked…) or the scope needed. */
  readonly reason?: string | undefined;
  /** The peer's IP address, without the port. */
  readonly peer?: string | undefined;
  /** The audit event of the method's domain (recover, delete, deliver…). */
  readonly event: AuditEvent;
}

export interface RefusalAuditOptions {
  /** Coalescing window; default one minute. */
  readonly windowMs?: number;
  /** Keys open at once before refusals share the overflow key; default 64. */
  readonly maxKeys?: number;
  /** Milliseconds clock (tests). */
  readonly now?: () => number;
}

interface Window {
  readonly call: RefusedCall;
  readonly startedAt: number;
  /** Refusals after the first, not yet written. */
  count: number;
  first: number;
  last: number;
}

const UNKNOWN = '-';
const OVERFLOW = '*';

export class RefusalAudit {
  readonly #write: (input: AuditInput) => void;
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #open = new Map<string, Window>();
  #timer: NodeJS.Timeout | undefined;

  /** `write` appends one audit entry (the Agent's `recordAudit`); a throwing write is swallowed by `record`. */
  constructor(write: (input: AuditInput) => void, options: RefusalAuditOptions = {}) {
    this.#write = write;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#maxKeys = options.maxKeys ?? 64;
    this.#now = options.now ?? Date.now;
    if (!(this.#windowMs > 0) || !Number.isInteger(this.#maxKeys) || this.#maxKeys < 1) throw new RangeError('windowMs must be positive and maxKeys a positive integer.');
  }

  /** Writes the summary entries of ended windows every `windowMs` (unref'd: it never keeps the process alive). */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      this.flush();
    }, this.#windowMs);
    this.#timer.unref();
  }

  record(call: RefusedCall): void {
    const now = this.#now();
    this.flush(now);
    let key = keyOf(call);
    let w = this.#open.get(key);
    if (w === undefined && this.#open.size >= this.#maxKeys) {
      call = { ...call, operator: OVERFLOW, peer: OVERFLOW };
      key = keyOf(call);
      w = this.#open.get(key);
    }
    if (w !== undefined) {
      if (w.count === 0) w.first = now;
      w.count += 1;
      w.last = now;
      return;
    }
    this.#open.set(key, { call, startedAt: now, count: 0, first: now, last: now });
    this.#emit(call, 1, now, now);
  }

  /** Writes the summary of every window that ended by `now` (all of them with `Infinity`). */
  flush(now: number = this.#now()): void {
    for (const [key, w] of this.#open) {
      if (now - w.startedAt < this.#windowMs) continue;
      this.#open.delete(key);
      if (w.count > 0) this.#emit(w.call, w.count, w.first, w.last);
    }
  }

  /** Writes every pending summary and stops the timer. */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.flush(Infinity);
  }

  #emit(call: RefusedCall, count: number, first: number, last: number): void {
    const input: AuditInput = {
      event: call.event,
      action: 'rpc-refused',
      result: 'refused',
      operator: call.operator ?? UNKNOWN,
      target: call.method,
      reason: call.reason === undefined ? call.code : `${call.code}: ${call.reason}`,
      details: {
        method: call.method,
        code: call.code,
        peer: call.peer ?? UNKNOWN,
        count,
        ...(count > 1 ? { first: new Date(first).toISOString(), last: new Date(last).toISOString() } : {}),
      },
    };
    try {
      this.#write(input);
    } catch {
      // A refused call stays refused; a failed audit write must not turn it into another error.
    }
  }
}

const keyOf = (c: RefusedCall): string => JSON.stringify([c.operator ?? UNKNOWN, c.method, c.code, c.reason ?? '', c.peer ?? UNKNOWN]);
