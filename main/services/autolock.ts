/**
 * Auto-lock after an idle time (settings.autoLockMinutes; 0 = never). The Electron glue calls
 * `activity()` on user input and IPC calls; after `minutes` without activity the vault is locked
 * (keys and shares wiped from memory) and `onLocked` is told. Timers are injectable for tests.
 */
import type { Vault } from './vault';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => {
    clearTimeout(h as ReturnType<typeof setTimeout>);
  },
};

export class AutoLock {
  readonly #vault: Vault;
  readonly #timers: Timers;
  readonly #onLocked: () => void;
  #minutes: number;
  #handle: unknown = undefined;

  constructor(vault: Vault, minutes: number, onLocked: () => void = () => undefined, timers: Timers = realTimers) {
    this.#vault = vault;
    this.#minutes = minutes;
    this.#onLocked = onLocked;
    this.#timers = timers;
    this.activity();
  }

  /** Restarts the idle timer. */
  activity(): void {
    this.stop();
    if (this.#minutes <= 0 || !this.#vault.unlocked) return;
    this.#handle = this.#timers.setTimeout(() => {
      this.#handle = undefined;
      void this.#vault.lock().then(() => {
        this.#onLocked();
      });
    }, this.#minutes * 60_000);
  }

  setMinutes(minutes: number): void {
    this.#minutes = minutes;
    this.activity();
  }

  stop(): void {
    if (this.#handle !== undefined) this.#timers.clearTimeout(this.#handle);
    this.#handle = undefined;
  }
}
