/**
 * A token bucket for the recovery operations (seeds SOP §8 "速率限制与异常告警"): `burst` calls at
 * once, refilled at `perMinute`. Uses the agent's clock, so tests control it.
 */
import { AgentError } from './errors';

export interface RateLimit {
  readonly burst: number;
  readonly perMinute: number;
}

export const DEFAULT_RECOVERY_RATE_LIMIT: RateLimit = { burst: 60, perMinute: 30 };

export class TokenBucket {
  readonly #limit: RateLimit;
  readonly #now: () => number;
  #tokens: number;
  #at: number;

  constructor(limit: RateLimit, now: () => number) {
    if (!(limit.burst >= 1) || !(limit.perMinute > 0)) throw new AgentError('INTERNAL', 'A rate limit needs burst >= 1 and perMinute > 0.');
    this.#limit = limit;
    this.#now = now;
    this.#tokens = limit.burst;
    this.#at = now();
  }

  /** Takes one token or throws RATE_LIMITED saying when to retry. */
  take(what: string): void {
    const now = this.#now();
    const elapsed = Math.max(0, now - this.#at);
    this.#tokens = Math.min(this.#limit.burst, this.#tokens + (elapsed * this.#limit.perMinute) / 60_000);
    this.#at = now;
    if (this.#tokens < 1) {
      const waitMs = Math.ceil(((1 - this.#tokens) * 60_000) / this.#limit.perMinute);
      throw new AgentError('RATE_LIMITED', `Too many ${what} calls; try again in ${String(Math.ceil(waitMs / 1000))} s.`, { details: { retryAfterMs: waitMs } });
    }
    this.#tokens -= 1;
  }
}
