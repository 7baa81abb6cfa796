/**
 * What one vault change touched, so a save writes only that (docs/custodian-vault.md, "Saving").
 *
 * The services change the state in place (`tx.state.shares.push(r)`, `r.status = 'deleted'`,
 * `r.receipts.push(…)`, `tx.state.shares = keep`). During a change the vault hands them a tracking
 * view of the state (a Proxy) instead of the state itself: the writes go through to the real
 * objects, and the tracker notes
 *   - for each collection (shares, refusals, supersedes, purged): the items written to (any write
 *     anywhere inside an item marks the item) and the items appended; and whether the list itself
 *     was rearranged (an index overwritten, shortened, or the whole list replaced): `structural`;
 *   - for the audit log: whether an existing entry was changed or removed (appends are found by
 *     length, since the vault appends through the real state).
 * The small rest of the state (custodian, agents, audit head) is compared as JSON at each save.
 *
 * A write that bypasses the view (to an object kept from before the change) is not seen. The test
 * suite runs with the vault's self-check (vault-store.ts `selfCheckEnabled`): after every save the
 * files are read back and must give exactly the state in memory.
 */
import { COLLECTIONS, type CollectionName, type VaultState } from './state';

export interface Changes {
  /** Raw items written to or appended, per collection. */
  readonly dirty: Map<CollectionName, Set<object>>;
  /** Collections whose list was rearranged or replaced, and 'audit' if an entry was changed. */
  readonly structural: Set<CollectionName | 'audit'>;
}

export function noChanges(): Changes {
  return { dirty: new Map(), structural: new Set() };
}

const isTrackable = (v: unknown): v is object => typeof v === 'object' && v !== null && !ArrayBuffer.isView(v);
const isIndex = (p: string | symbol): p is string => typeof p === 'string' && /^(?:0|[1-9][0-9]*)$/.test(p);
const COLLECTION_SET: ReadonlySet<string> = new Set(COLLECTIONS);

/** Which item a (nested) raw object belongs to: a write anywhere inside it marks that item. */
interface Owner {
  readonly c: CollectionName | 'audit';
  readonly item: object;
}

/**
 * One tracking view per change: proxies are cached so the same object always gives the same proxy.
 * An item read through the view costs one Proxy and two map entries, with ONE handler shared by every
 * item proxy (its owner looked up by target): a change that scans 100,000 shares through the view
 * (`findShare`, a filter) made five closures per share before and took seconds (issue 10).
 * Plain Maps, not WeakMaps: the tracker lives for one change, and ephemerons are costly to collect.
 */
export class Tracker {
  readonly changes: Changes = noChanges();
  readonly #proxies = new Map<object, object>();
  readonly #raws = new Map<object, object>();
  readonly #owners = new Map<object, Owner>();

  /** The raw object behind a proxy (or the value itself). */
  unwrap<T>(value: T): T {
    return (isTrackable(value) ? (this.#raws.get(value) as T | undefined) : undefined) ?? value;
  }

  #cached<T extends object>(raw: T, make: () => T): T {
    const hit = this.#proxies.get(raw);
    if (hit !== undefined) return hit as T;
    const proxy = make();
    this.#proxies.set(raw, proxy);
    this.#raws.set(proxy, raw);
    return proxy;
  }

  #markItem(c: CollectionName, raw: object): void {
    let set = this.changes.dirty.get(c);
    if (set === undefined) this.changes.dirty.set(c, (set = new Set()));
    set.add(raw);
  }

  #written(target: object): void {
    const owner = this.#owners.get(target);
    if (owner === undefined) return;
    if (owner.c === 'audit') this.changes.structural.add('audit');
    else this.#markItem(owner.c, owner.item);
  }

  /** The one handler of every deep (item) proxy. */
  readonly #deepHandler: ProxyHandler<object> = {
    get: (target, prop, receiver) => {
      const v: unknown = Reflect.get(target, prop, receiver);
      if (!isTrackable(v) || typeof v === 'function') return v;
      const owner = this.#owners.get(target);
      return owner === undefined ? v : this.#deep(v, owner);
    },
    set: (target, prop, value, receiver) => {
      this.#written(target);
      return Reflect.set(target, prop, this.unwrap(value), receiver);
    },
    deleteProperty: (target, prop) => {
      this.#written(target);
      return Reflect.deleteProperty(target, prop);
    },
    defineProperty: (target, prop, desc) => {
      this.#written(target);
      return Reflect.defineProperty(target, prop, desc);
    },
  };

  /** A deep view: any write inside `raw` marks `owner`'s item. Byte arrays are returned as they are. */
  #deep<T extends object>(raw: T, owner: Owner): T {
    const hit = this.#proxies.get(raw);
    if (hit !== undefined) return hit as T;
    if (!this.#owners.has(raw)) this.#owners.set(raw, owner);
    const proxy = new Proxy<T>(raw, this.#deepHandler);
    this.#proxies.set(raw, proxy);
    this.#raws.set(proxy, raw);
    return proxy;
  }

  /**
   * A list view: appending (writing at index ≥ length) marks the new item (or, with no collection,
   * nothing: the audit log's appends are found by length); any other change to the list is structural.
   */
  #list<T extends object>(raw: T[], c: CollectionName | 'audit'): T[] {
    return this.#cached(raw, () => {
      return new Proxy(raw, {
        get: (target, prop, receiver) => {
          const v: unknown = Reflect.get(target, prop, receiver);
          if (!isIndex(prop) || !isTrackable(v)) return v;
          return this.#proxies.get(v) ?? this.#deep(v, { c, item: v });
        },
        set: (target, prop, value: unknown, receiver) => {
          const raw = this.unwrap(value);
          if (isIndex(prop) && Number(prop) >= target.length) {
            if (c !== 'audit' && isTrackable(raw)) this.#markItem(c, raw);
          } else if (prop === 'length') {
            if (typeof raw === 'number' && raw < target.length) this.changes.structural.add(c);
          } else {
            this.changes.structural.add(c);
          }
          return Reflect.set(target, prop, raw, receiver);
        },
        deleteProperty: (target, prop) => {
          this.changes.structural.add(c);
          return Reflect.deleteProperty(target, prop);
        },
      });
    });
  }

  /** The view of the whole state handed to a change. */
  view(state: VaultState): VaultState {
    return this.#cached(state, () => {
      return new Proxy(state, {
        get: (target, prop, receiver) => {
          const v: unknown = Reflect.get(target, prop, receiver);
          if (typeof prop === 'string' && COLLECTION_SET.has(prop)) return this.#list(v as object[], prop as CollectionName);
          if (prop === 'audit') return this.#auditView(v as VaultState['audit']);
          return v;
        },
        set: (target, prop, value, receiver) => {
          let raw: unknown = this.unwrap(value);
          if (typeof prop === 'string' && COLLECTION_SET.has(prop)) {
            this.changes.structural.add(prop as CollectionName);
            raw = Array.isArray(raw) ? raw.map((x: unknown) => this.unwrap(x)) : raw;
          } else if (prop === 'audit') {
            this.changes.structural.add('audit');
          }
          return Reflect.set(target, prop, raw, receiver);
        },
      });
    });
  }

  #auditView(audit: VaultState['audit']): VaultState['audit'] {
    return this.#cached(audit, () => {
      return new Proxy(audit, {
        get: (target, prop, receiver) => {
          const v: unknown = Reflect.get(target, prop, receiver);
          return prop === 'entries' ? this.#list(v as object[], 'audit') : v;
        },
        set: (target, prop, value, receiver) => {
          // The head is part of the compared meta; replacing the entries array is structural.
          if (prop === 'entries') this.changes.structural.add('audit');
          return Reflect.set(target, prop, this.unwrap(value), receiver);
        },
      });
    });
  }
}
