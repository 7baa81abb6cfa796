/**
 * The shares in the vault: listing with filters, lookup by id (or a unique prefix of at least 8 hex
 * digits), and "verify all", which decrypts every envelope again with the custodian's identity and
 * checks the share against the stored copy and the commitment in the signed manifest.
 *
 * `pageShares` is what the Shares screen reads (issue 10: the window stays fast at 100,000 shares):
 * one page, searched, filtered and sorted here in main, with the counts and the filter menus' values;
 * the sorted orders, the filter menus and each share's search text are kept between pages and
 * dropped when the vault changes (its generation) or the share list is another array or length.
 */
import { constantTimeEqual, toHex } from '../../shared/bytes';
import { verifyEnvelope, unsealEnvelopeShare } from '../../shared/protocol/envelope';
import { ServiceError } from './errors';
import { explain, type Explained } from './messages';
import { FACET_LIMIT, SET_FACET_LIMIT, type ShareEvent, type ShareSort } from '../../shared/ipc/contract';
import type { RefusalRecord, ShareCoordinates, ShareRecord, ShareStatus } from './state';
import type { Vault } from './vault';

export interface ShareFilter {
  readonly keyId?: string;
  readonly nodeId?: string;
  /** hex, or a prefix of it */
  readonly setId?: string;
  readonly shareIndex?: number;
  readonly status?: ShareStatus | readonly ShareStatus[];
}

/** What a list shows: no secret (no share, no envelope bytes). */
export interface ShareSummary extends ShareCoordinates {
  readonly id: string;
  readonly status: ShareStatus;
  readonly curve: string;
  readonly threshold: number;
  readonly total: number;
  readonly receivedAt: number;
  readonly notAfter?: number;
  readonly receipt?: 'accepted' | 'rejected';
  readonly exports: number;
  readonly purgeAfter?: number;
  readonly destroyAfter?: number;
}

export function summarize(r: ShareRecord): ShareSummary {
  const last = r.receipts.at(-1);
  return {
    id: r.id,
    keyId: r.keyId,
    nodeId: r.nodeId,
    setId: r.setId,
    epoch: r.epoch,
    shareIndex: r.shareIndex,
    status: r.status,
    curve: r.curve,
    threshold: r.threshold,
    total: r.total,
    receivedAt: r.receivedAt,
    ...(r.notAfter === undefined ? {} : { notAfter: r.notAfter }),
    ...(last === undefined ? {} : { receipt: last.status }),
    exports: r.exports.length,
    ...(r.deletion === undefined ? {} : { purgeAfter: r.deletion.purgeAfter }),
    ...(r.superseded === undefined ? {} : { destroyAfter: r.superseded.destroyAfter }),
  };
}

export function matches(r: ShareRecord, f: ShareFilter): boolean {
  if (f.keyId !== undefined && r.keyId !== f.keyId) return false;
  if (f.nodeId !== undefined && r.nodeId !== f.nodeId) return false;
  if (f.setId !== undefined && !r.setId.startsWith(f.setId.toLowerCase())) return false;
  if (f.shareIndex !== undefined && r.shareIndex !== f.shareIndex) return false;
  if (f.status !== undefined) {
    const statuses: readonly ShareStatus[] = typeof f.status === 'string' ? [f.status] : f.status;
    if (!statuses.includes(r.status)) return false;
  }
  return true;
}

export function listShares(vault: Vault, filter: ShareFilter = {}): ShareSummary[] {
  return vault.state.shares.filter((r) => matches(r, filter)).map(summarize);
}

export interface SharePageQuery {
  readonly offset: number;
  readonly limit: number;
  /** Words that must each appear (any case) in the key id, node id, set id, envelope id, curve or an export's incident id. */
  readonly query?: string;
  readonly keyId?: string;
  readonly nodeId?: string;
  readonly setId?: string;
  readonly shareIndex?: number;
  readonly status?: readonly ShareStatus[];
  /** Only shares whose history has this event. */
  readonly event?: ShareEvent;
  readonly sort?: { readonly by: ShareSort; readonly dir: 'asc' | 'desc' };
}

export interface SharePage {
  readonly shares: ShareSummary[];
  /** Where the page starts (past the end: the last page's start). */
  readonly offset: number;
  readonly matched: number;
  readonly total: number;
  readonly facets: {
    readonly keyIds: string[];
    readonly nodeIds: string[];
    readonly setIds: string[];
    readonly more: { readonly keyIds: boolean; readonly nodeIds: boolean; readonly setIds: boolean };
  };
}

const STATUS_ORDER: Readonly<Record<ShareStatus, number>> = { received: 0, confirmed: 1, exported: 2, superseded: 3, deleted: 4 };
const cmp = (a: string | number, b: string | number): number => (a < b ? -1 : a > b ? 1 : 0);
const SORT_KEY: Readonly<Record<Exclude<ShareSort, 'received'>, (r: ShareRecord) => string | number>> = {
  key: (r) => r.keyId,
  node: (r) => r.nodeId,
  set: (r) => r.setId,
  index: (r) => r.shareIndex,
  status: (r) => STATUS_ORDER[r.status],
};

/** What pages of one share list have in common while the vault does not change. */
interface ListCache {
  readonly generation: number;
  readonly length: number;
  /** Positions in the vault's order, sorted ascending by each key (ties in vault order). */
  readonly orders: Map<ShareSort, Uint32Array>;
  facets?: SharePage['facets'];
  /** Each share's search text, by its position in the vault (built by the first search). */
  texts?: string[];
}
const caches = new WeakMap<readonly ShareRecord[], ListCache>();

function cacheFor(vault: Vault, shares: readonly ShareRecord[]): ListCache {
  const generation = vault.state.generation;
  const c = caches.get(shares);
  if (c !== undefined && c.generation === generation && c.length === shares.length) return c;
  const fresh: ListCache = { generation, length: shares.length, orders: new Map() };
  caches.set(shares, fresh);
  return fresh;
}

function orderBy(cache: ListCache, shares: readonly ShareRecord[], by: ShareSort): Uint32Array {
  const known = cache.orders.get(by);
  if (known !== undefined) return known;
  const order = new Uint32Array(shares.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  if (by !== 'received') {
    const key = SORT_KEY[by];
    const keys = shares.map(key);
    order.sort((a, b) => cmp(keys[a] ?? '', keys[b] ?? '') || a - b);
  } else {
    // Received time, then the vault's order. Imports append, so the vault's order is almost always
    // already this one: one pass checks it (a 100,000-share vault's first page without a sort).
    let sorted = true;
    for (let i = 1; i < shares.length && sorted; i++) sorted = (shares[i - 1]?.receivedAt ?? 0) <= (shares[i]?.receivedAt ?? 0);
    if (!sorted) order.sort((a, b) => cmp(shares[a]?.receivedAt ?? 0, shares[b]?.receivedAt ?? 0) || a - b);
  }
  cache.orders.set(by, order);
  return order;
}

/** What a search looks in (an export adds its incident id: a change, so a new generation and a new cache). */
const haystack = (r: ShareRecord): string => [r.keyId, r.nodeId, r.setId, r.id, r.curve, ...r.exports.map((e) => e.incidentId)].join('\n').toLowerCase();

function facetsOf(shares: readonly ShareRecord[]): SharePage['facets'] {
  const keys = new Set<string>();
  const nodes = new Set<string>();
  const sets = new Set<string>();
  // A menu past its limit is left out: stop collecting it there (100,000 set ids are not hashed).
  for (const r of shares) {
    if (keys.size <= FACET_LIMIT) keys.add(r.keyId);
    if (nodes.size <= FACET_LIMIT) nodes.add(r.nodeId);
    if (sets.size <= SET_FACET_LIMIT) sets.add(r.setId);
    if (keys.size > FACET_LIMIT && nodes.size > FACET_LIMIT && sets.size > SET_FACET_LIMIT) break;
  }
  const capped = (xs: Set<string>, limit: number): string[] => (xs.size > limit ? [] : [...xs].sort());
  return {
    keyIds: capped(keys, FACET_LIMIT),
    nodeIds: capped(nodes, FACET_LIMIT),
    setIds: capped(sets, SET_FACET_LIMIT),
    more: { keyIds: keys.size > FACET_LIMIT, nodeIds: nodes.size > FACET_LIMIT, setIds: sets.size > SET_FACET_LIMIT },
  };
}

/** One page of the vault's shares: searched, filtered and sorted in main (nothing secret in it). */
export function pageShares(vault: Vault, q: SharePageQuery): SharePage {
  const shares = vault.state.shares;
  const cache = cacheFor(vault, shares);
  const sort = q.sort ?? { by: 'received', dir: 'asc' };
  const order = orderBy(cache, shares, sort.by);
  const words = (q.query ?? '').toLowerCase().split(/\s+/).filter((w) => w !== '');
  const setId = q.setId?.toLowerCase();
  const statuses = q.status !== undefined && q.status.length > 0 ? new Set(q.status) : undefined;
  const texts = words.length === 0 ? undefined : (cache.texts ??= shares.map(haystack));
  const passes = (r: ShareRecord, position: number): boolean => {
    if (q.keyId !== undefined && r.keyId !== q.keyId) return false;
    if (q.nodeId !== undefined && r.nodeId !== q.nodeId) return false;
    if (setId !== undefined && !r.setId.startsWith(setId)) return false;
    if (q.shareIndex !== undefined && r.shareIndex !== q.shareIndex) return false;
    if (statuses !== undefined && !statuses.has(r.status)) return false;
    if (q.event !== undefined && !r.history.some((h) => h.event === q.event)) return false;
    if (texts !== undefined) {
      const text = texts[position] ?? '';
      for (const w of words) if (!text.includes(w)) return false;
    }
    return true;
  };
  const filtered = q.keyId !== undefined || q.nodeId !== undefined || setId !== undefined || q.shareIndex !== undefined || statuses !== undefined || q.event !== undefined || words.length > 0;
  const n = order.length;
  const positionAt = (k: number): number => order[sort.dir === 'asc' ? k : n - 1 - k] ?? 0;
  const at = (k: number): ShareRecord | undefined => shares[positionAt(k)];
  const limit = Math.max(1, q.limit);
  let page: ShareRecord[] = [];
  let matched: number;
  let offset = Math.max(0, q.offset);
  if (!filtered) {
    matched = n;
    if (offset >= n) offset = Math.max(0, Math.floor((n - 1) / limit) * limit);
    for (let k = offset; k < Math.min(n, offset + limit); k++) {
      const r = at(k);
      if (r !== undefined) page.push(r);
    }
  } else {
    const hits: ShareRecord[] = [];
    for (let k = 0; k < n; k++) {
      const position = positionAt(k);
      const r = shares[position];
      if (r !== undefined && passes(r, position)) hits.push(r);
    }
    matched = hits.length;
    if (offset >= matched) offset = Math.max(0, Math.floor((matched - 1) / limit) * limit);
    page = hits.slice(offset, offset + limit);
  }
  cache.facets ??= facetsOf(shares);
  return { shares: page.map(summarize), offset, matched, total: n, facets: cache.facets };
}

/** Refused envelopes kept for `rejected` receipts. */
export function listRefusals(vault: Vault): readonly RefusalRecord[] {
  return vault.state.refusals;
}

function resolve<T extends { id: string }>(items: readonly T[], idOrPrefix: string): T | undefined {
  const q = idOrPrefix.toLowerCase();
  if (!/^[0-9a-f]{8,64}$/.test(q)) {
    throw new ServiceError('USAGE', 'An envelope id is its SHA-256 in hex (at least its first 8 digits).');
  }
  const found = items.filter((r) => r.id.startsWith(q));
  if (found.length > 1) throw new ServiceError('AMBIGUOUS_ID', `The id prefix ${q} matches ${String(found.length)} records; type more digits.`);
  return found[0];
}

/** The share with this envelope id (or unique prefix); NOT_FOUND otherwise. */
export function findShare(records: readonly ShareRecord[], idOrPrefix: string): ShareRecord {
  const r = resolve(records, idOrPrefix);
  if (r === undefined) throw new ServiceError('NOT_FOUND', `No share in the vault has the envelope id ${idOrPrefix}.`, { details: { id: idOrPrefix } });
  return r;
}

/** A held share or a refused envelope with this id (or unique prefix). */
export function findShareOrRefusal(vault: Vault, idOrPrefix: string): { share: ShareRecord } | { refusal: RefusalRecord } {
  const q = idOrPrefix.toLowerCase();
  const inShares = resolve(vault.state.shares, q);
  const inRefusals = resolve(vault.state.refusals, q);
  if (inShares !== undefined && inRefusals !== undefined && inShares.id !== inRefusals.id) {
    throw new ServiceError('AMBIGUOUS_ID', `The id prefix ${q} matches more than one record; type more digits.`);
  }
  if (inShares !== undefined) return { share: inShares };
  if (inRefusals !== undefined) return { refusal: inRefusals };
  throw new ServiceError('NOT_FOUND', `Nothing in the vault has the envelope id ${idOrPrefix}.`, { details: { id: idOrPrefix } });
}

export interface VerifyResult {
  readonly id: string;
  readonly share: ShareCoordinates;
  readonly ok: boolean;
  readonly problem?: Explained;
}

/**
 * Verifies every share: the envelope's signature (against the agent key that signed it at import),
 * decryption of its payload with this identity, equality with the stored share, and the commitment
 * in the signed manifest. Records the run in the audit log.
 */
export async function verifyAll(vault: Vault, options: { onProgress?: (done: number, total: number) => void } = {}): Promise<{ results: VerifyResult[]; ok: number; failed: number }> {
  return vault.update(async (tx) => {
    const results: VerifyResult[] = [];
    const records = tx.state.shares;
    for (const [i, r] of records.entries()) {
      const coords: ShareCoordinates = { keyId: r.keyId, nodeId: r.nodeId, setId: r.setId, epoch: r.epoch, shareIndex: r.shareIndex };
      try {
        const opened = verifyEnvelope(await tx.envelope(r), Buffer.from(r.agentKey, 'hex'), tx.fingerprint, r.envelopeCreatedAt);
        if (toHex(opened.hash) !== r.id) throw new ServiceError('VAULT_CORRUPT', 'The stored envelope no longer has the hash it was filed under.');
        const share = await unsealEnvelopeShare(opened, tx.identity.age.identity);
        const same = constantTimeEqual(share, r.share);
        share.fill(0);
        if (!same) throw new ServiceError('VAULT_CORRUPT', `The stored copy of share ${String(r.shareIndex)} differs from the one in its envelope.`);
        results.push({ id: r.id, share: coords, ok: true });
      } catch (error) {
        results.push({ id: r.id, share: coords, ok: false, problem: explain(error) });
      }
      options.onProgress?.(i + 1, records.length);
      if (i % 64 === 63) await new Promise((resolve) => setImmediate(resolve));
    }
    const failed = results.filter((x) => !x.ok).length;
    tx.audit({
      event: 'inspect',
      result: failed === 0 ? 'ok' : 'failed',
      detail: `verify all: ${String(results.length - failed)} ok, ${String(failed)} failed`,
      ...(failed === 0 ? {} : { reason: results.find((x) => !x.ok)?.problem?.code ?? 'INTERNAL' }),
    });
    return { results, ok: results.length - failed, failed };
  });
}
