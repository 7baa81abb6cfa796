/**
 * The one rate limiter of the recovery calls (seeds SOP §8 "速率限制与异常告警"; issue 3,
 * "Interfaces": "recovery calls are rate limited"). One token bucket per caller: `burst` calls at
 * once, refilled continuously at `perMinute`. A refused call is RATE_LIMITED and says when to
 * retry (details.retryAfterSeconds; the RPC layer also sends it as `retry-after`).
 *
 * Where it applies (one charge per recovery call):
 * - the RPC server (agent/rpc/router.ts) charges each RecoverMPCShare call once, per bearer
 *   token, with {@link DEFAULT_RECOVERY_RATE_LIMIT} unless told otherwise; the handler then calls
 *   the recovery module directly, which charges nothing more;
 * - the `Agent` facade charges its recovery methods only when it was opened with a
 *   `recoveryRateLimit` (an in-process caller holds the data directory and its key already; the
 *   network surface is what the limit protects).
 */
import { AgentError } from './errors';

export interface RateLimit {
  /** Calls refilled per minute. */
  readonly perMinute: number;
  /** Calls allowed at once (bucket capacity). */
  readonly burst: number;
}

export const DEFAULT_RECOVERY_RATE_LIMIT: RateLimit = { perMinute: 10, burst: 5 };

export type Clock = () => number; // milliseconds

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly ratePerMs: number;

  constructor(
    readonly limit: RateLimit,
    private readonly now: Clock = Date.now,
    private readonly maxKeys = 1024,
  ) {
    if (!Number.isFinite(limit.perMinute) || limit.perMinute <= 0) throw new RangeError(`rate limit: perMinute must be > 0, got ${String(limit.perMinute)}`);
    if (!Number.isInteger(limit.burst) || limit.burst < 1) throw new RangeError(`rate limit: burst must be an integer >= 1, got ${String(limit.burst)}`);
    this.ratePerMs = limit.perMinute / 60_000;
  }

  /** Takes one token for `key`: 0 when allowed, else the milliseconds until one is available. */
  take(key: string): number {
    const t = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.prune(t);
      b = { tokens: this.limit.burst, at: t };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.limit.burst, b.tokens + Math.max(0, t - b.at) * this.ratePerMs);
      b.at = t;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / this.ratePerMs);
  }

  /** Takes one token for `key` or throws RATE_LIMITED saying when to retry. */
  spend(key: string): void {
    const waitMs = this.take(key);
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      throw new AgentError(
        'RATE_LIMITED',
        `Too many recovery calls: at most ${String(this.limit.perMinute)} per minute (burst ${String(this.limit.burst)}). Retry in ${String(seconds)} s.`,
        { details: { retryAfterSeconds: seconds } },
      );
    }
  }

  /** Drops full buckets (they hold no state worth keeping), then the oldest if still too many. */
  private prune(t: number): void {
    for (const [k, b] of this.buckets) {
      if (b.tokens + (t - b.at) * this.ratePerMs >= this.limit.burst) this.buckets.delete(k);
    }
    while (this.buckets.size >= this.maxKeys) {
      const oldest = this.buckets.keys().next();
      if (oldest.done === true) break;
      this.buckets.delete(oldest.value);
    }
  }
}
