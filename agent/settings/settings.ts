/**
 * The agent's settings (seeds SOP §6 cooling-off period, §4.3 inventory cadence): stored in the
 * `meta` table under their own names, bounded, changed only through an audited `configure`
 * entry that records the old and the new values. Embedders and tests may override the two
 * durations at open time (AgentOptions).
 */
import { CustosError } from '../../shared/errors';
import type { AgentSettings, OpContext } from '../api';
import type { AgentCore } from '../core/context';
import { sec } from '../core/util';
import { inTransaction } from '../db';

/** Seeds: soft delete → cooling-off period (7 days) → hard delete, rollback allowed meanwhile. */
export const DEFAULT_DELETION_COOLDOWN_MS = 7 * 24 * 3600 * 1000;
/** A custodian whose last proof of possession is older than this is overdue (quarterly, as the SOP's drills). */
export const DEFAULT_INVENTORY_MAX_AGE_MS = 90 * 24 * 3600 * 1000;
/** How long an inventory challenge can be answered. */
export const DEFAULT_CHALLENGE_TTL_S = 7 * 24 * 3600;

/** Bounds of the settings (seconds). */
export const SETTING_BOUNDS = {
  deletionCoolingSeconds: [3600, 365 * 24 * 3600],
  inventoryMaxAgeSeconds: [24 * 3600, 3 * 365 * 24 * 3600],
  inventoryChallengeTtlSeconds: [300, 90 * 24 * 3600],
} as const satisfies Record<keyof AgentSettings, readonly [number, number]>;

const SETTING_META: Record<keyof AgentSettings, string> = {
  deletionCoolingSeconds: 'deletion_cooling_s',
  inventoryMaxAgeSeconds: 'inventory_max_age_s',
  inventoryChallengeTtlSeconds: 'inventory_challenge_ttl_s',
};

export interface SettingsOverrides {
  /** Soft-deleted server shares can be purged after this long (overrides the stored setting). */
  readonly deletionCooldownMs?: number | undefined;
  /** A proof of possession older than this makes its custodian overdue (overrides the stored setting). */
  readonly inventoryMaxAgeMs?: number | undefined;
}

export class Settings {
  readonly #c: AgentCore;
  readonly #overrides: SettingsOverrides;

  constructor(core: AgentCore, overrides: SettingsOverrides) {
    this.#c = core;
    this.#overrides = overrides;
  }

  get(): AgentSettings {
    const stored = (name: keyof AgentSettings, fallback: number): number => {
      const row = this.#c.db.prepare('SELECT value FROM meta WHERE name = ?').get(SETTING_META[name]) as { value: string } | undefined;
      const v = row === undefined ? NaN : Number(row.value);
      return Number.isSafeInteger(v) && v > 0 ? v : fallback;
    };
    const { deletionCooldownMs, inventoryMaxAgeMs } = this.#overrides;
    return {
      deletionCoolingSeconds: deletionCooldownMs === undefined ? stored('deletionCoolingSeconds', sec(DEFAULT_DELETION_COOLDOWN_MS)) : sec(deletionCooldownMs),
      inventoryMaxAgeSeconds: inventoryMaxAgeMs === undefined ? stored('inventoryMaxAgeSeconds', sec(DEFAULT_INVENTORY_MAX_AGE_MS)) : sec(inventoryMaxAgeMs),
      inventoryChallengeTtlSeconds: stored('inventoryChallengeTtlSeconds', DEFAULT_CHALLENGE_TTL_S),
    };
  }

  /** The cooling-off period of a soft delete, in milliseconds. */
  cooldownMs(): number {
    return this.#overrides.deletionCooldownMs ?? this.get().deletionCoolingSeconds * 1000;
  }

  /** The age after which a proof of possession no longer counts, in milliseconds. */
  maxAgeMs(): number {
    return this.#overrides.inventoryMaxAgeMs ?? this.get().inventoryMaxAgeSeconds * 1000;
  }

  /** Changes settings (whole seconds within bounds); audited as `configure` with the old and new values. */
  async update(patch: Partial<AgentSettings>, ctx: OpContext = {}): Promise<AgentSettings> {
    const base = { event: 'configure', action: 'settings', operator: this.#c.op(ctx) } as const;
    return this.#c.audited(base, () => {
      const entries = Object.entries(patch as Record<string, unknown>).filter(([, v]) => v !== undefined);
      if (entries.length === 0) throw new CustosError('INVALID_PARAMETERS', 'Name at least one setting to change.');
      const known = (name: string): name is keyof AgentSettings => Object.hasOwn(SETTING_BOUNDS, name);
      for (const [name, value] of entries) {
        if (!known(name)) throw new CustosError('INVALID_PARAMETERS', `There is no setting "${name}".`);
        const bounds = SETTING_BOUNDS[name];
        if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < bounds[0] || value > bounds[1]) {
          throw new CustosError('INVALID_PARAMETERS', `${name} is whole seconds from ${String(bounds[0])} to ${String(bounds[1])}.`, { details: { field: name } });
        }
      }
      const before = this.get();
      return Promise.resolve(
        inTransaction(this.#c.db, () => {
          const set = this.#c.db.prepare('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value');
          for (const [name, value] of entries) if (known(name)) set.run(SETTING_META[name], String(value));
          const after = this.get();
          this.#c.audit({ ...base, result: 'ok', target: 'agent', details: { before: { ...before }, after: { ...after } } });
          return after;
        }),
      );
    });
  }
}
