// The share and audit pages main serves to the window (issue 10: the window never holds the whole
// vault; issue 13: a text search and an event filter on both screens), through the SAME dispatch
// against a real vault: paging and its clamping, search words (any case, all must match, across key,
// node, set, envelope id and incident), status and event filters, sorting both ways with ties in the
// vault's order, the counts, the filter menus capped at FACET_LIMIT, and that a change to the vault
// is seen by the next page (the sorted orders kept between pages are dropped).
import { describe, expect, it } from 'vitest';
import { toHex } from '../../shared/bytes';
import { fileHash } from '../../shared/crypto/hash';
import { FACET_LIMIT, SET_FACET_LIMIT } from '../../shared/ipc/contract';
import { makeAgent, makeSet } from '../custodian/helpers';
import { call, file, harness, refused, withVault, type Harness } from './helpers';

/** A vault with `n` shares: key-(i % 4), node-(i), imported in that order. */
async function vaultWith(n: number): Promise<{ h: Harness; ids: string[]; setIds: string[] }> {
  const h = harness();
  await withVault(h);
  const v = await h.ctx.vault();
  const me = { fingerprint: v.fingerprint, ageRecipient: v.info.ageRecipient };
  const agent = makeAgent();
  await call(h, 'trust:pin', { card: file('agent.custos', agent.card), confirmCode: agent.code });
  const sets = [];
  for (let i = 0; i < n; i++) sets.push(await makeSet(agent.id, me, { keyId: `key-${String(i % 4)}`, nodeId: `node-${String(i).padStart(2, '0')}` }));
  const r = await call(h, 'inbox:import', { opId: 'seed', files: sets.map((s, i) => file(`env-${String(i)}.custos`, s.envelope)) });
  expect(r.accepted).toBe(n);
  return { h, ids: sets.map((s) => toHex(fileHash(s.envelope))), setIds: sets.map((s) => toHex(s.setId)) };
}

describe('shares:page', () => {
  it('pages, searches, filters and sorts in main, and sees each change', async () => {
    const { h, ids, setIds } = await vaultWith(12);

    // The first page, in the vault's order; the counts; a page past the end is the last page.
    const first = await call(h, 'shares:page', { limit: 5 });
    expect(first).toMatchObject({ offset: 0, matched: 12, total: 12 });
    expect(first.shares.map((s) => s.id)).toEqual(ids.slice(0, 5));
    expect(first.facets).toEqual({ keyIds: ['key-0', 'key-1', 'key-2', 'key-3'], nodeIds: ids.map((_x, i) => `node-${String(i).padStart(2, '0')}`), setIds: [...setIds].sort(), more: { keyIds: false, nodeIds: false, setIds: false } });
    expect((await call(h, 'shares:page', { offset: 10, limit: 5 })).shares.map((s) => s.id)).toEqual(ids.slice(10));
    const past = await call(h, 'shares:page', { offset: 500, limit: 5 });
    expect(past.offset).toBe(10);
    expect(past.shares).toHaveLength(2);
    // Newest first: the same order reversed.
    expect((await call(h, 'shares:page', { limit: 3, sort: { by: 'received', dir: 'desc' } })).shares.map((s) => s.id)).toEqual(ids.slice(9).reverse());

    // Search: any case, every word must match, in any of the fields.
    const key1 = await call(h, 'shares:page', { query: 'KEY-1' });
    expect(key1.matched).toBe(3);
    expect(key1.shares.map((s) => s.nodeId)).toEqual(['node-01', 'node-05', 'node-09']);
    expect((await call(h, 'shares:page', { query: 'key-1 node-05' })).shares.map((s) => s.id)).toEqual([ids[5]]);
    expect((await call(h, 'shares:page', { query: 'key-1 node-04' })).matched).toBe(0);
    expect((await call(h, 'shares:page', { query: setIds[7]!.slice(0, 10).toUpperCase() })).shares.map((s) => s.id)).toEqual([ids[7]]);
    expect((await call(h, 'shares:page', { query: ids[3]!.slice(0, 12) })).shares.map((s) => s.id)).toEqual([ids[3]]);
    // Search and paging together: the offset counts matches, and a filter's page past the end is its last page.
    const paged = await call(h, 'shares:page', { query: 'key-2', limit: 2, offset: 2 });
    expect(paged).toMatchObject({ offset: 2, matched: 3, total: 12 });
    expect(paged.shares.map((s) => s.nodeId)).toEqual(['node-10']);
    expect((await call(h, 'shares:page', { query: 'key-2', limit: 2, offset: 40 })).offset).toBe(2);
    expect((await call(h, 'shares:page', { query: 'nothing-like-this' })).shares).toEqual([]);
    // Exact filters from the menus.
    expect((await call(h, 'shares:page', { keyId: 'key-3', nodeId: 'node-07' })).shares.map((s) => s.id)).toEqual([ids[7]]);
    expect((await call(h, 'shares:page', { setId: setIds[2]!.slice(0, 6) })).shares.map((s) => s.id)).toEqual([ids[2]]);
    expect((await call(h, 'shares:page', { shareIndex: 3 })).matched).toBe(12);
    expect((await call(h, 'shares:page', { shareIndex: 2 })).matched).toBe(0);

    // Sort by key (ties in the vault's order), both ways.
    const byKey = await call(h, 'shares:page', { sort: { by: 'key', dir: 'asc' } });
    expect(byKey.shares.map((s) => `${s.keyId}/${s.nodeId}`).slice(0, 4)).toEqual(['key-0/node-00', 'key-0/node-04', 'key-0/node-08', 'key-1/node-01']);
    const byKeyDesc = await call(h, 'shares:page', { limit: 2, sort: { by: 'key', dir: 'desc' } });
    expect(byKeyDesc.shares.map((s) => `${s.keyId}/${s.nodeId}`)).toEqual(['key-3/node-11', 'key-3/node-07']);
    expect((await call(h, 'shares:page', { limit: 1, sort: { by: 'node', dir: 'desc' } })).shares[0]?.nodeId).toBe('node-11');

    // A change (a signed receipt, a deletion) is seen by the next page: status, event and the status sort.
    await call(h, 'receipts:sign', { ids: [ids[4]!], status: 'accepted' });
    await call(h, 'deletion:soft', { id: ids[6]! });
    expect((await call(h, 'shares:page', { status: ['confirmed'] })).shares.map((s) => s.id)).toEqual([ids[4]]);
    expect((await call(h, 'shares:page', { status: ['confirmed', 'deleted'] })).matched).toBe(2);
    expect((await call(h, 'shares:page', { event: 'receipt-accepted' })).shares.map((s) => s.id)).toEqual([ids[4]]);
    expect((await call(h, 'shares:page', { event: 'deleted' })).shares.map((s) => s.id)).toEqual([ids[6]]);
    expect((await call(h, 'shares:page', { event: 'imported' })).matched).toBe(12);
    const byStatus = await call(h, 'shares:page', { limit: 2, sort: { by: 'status', dir: 'desc' } });
    expect(byStatus.shares.map((s) => s.status)).toEqual(['deleted', 'confirmed']);

    // Nothing secret in any answer; a bad request is refused with a coded error.
    for (const a of h.answers) expect(a).not.toMatch(/"share":\{"\$bytes"/);
    await refused(h, 'shares:page', { limit: 501 }, 'INVALID_PARAMETERS');
    await refused(h, 'shares:page', { sort: { by: 'secret', dir: 'asc' } }, 'INVALID_PARAMETERS');
    await refused(h, 'shares:page', { query: 'a\u0000b' }, 'INVALID_PARAMETERS');
    await call(h, 'vault:lock', {});
    await refused(h, 'shares:page', {}, 'VAULT_LOCKED');
  });

  it(`leaves a filter menu out past ${String(FACET_LIMIT)} values (the set menu past ${String(SET_FACET_LIMIT)})`, async () => {
    const h = harness();
    await withVault(h);
    const v = await h.ctx.vault();
    const template = v.state.shares;
    expect(template).toEqual([]);
    // Many distinct nodes under two keys, as summaries only need (no envelope is opened here).
    const base = { curve: 'secp256k1', threshold: 3, total: 5, manifestHash: '0'.repeat(64), agentKey: '0'.repeat(64), envelopeSize: 1, share: new Uint8Array(1), envelopeCreatedAt: 1, receivedAt: 1, status: 'received' as const, receipts: [], exports: [], history: [] };
    for (let i = 0; i <= FACET_LIMIT; i++) {
      template.push({ ...base, receivedAt: i === FACET_LIMIT ? 0 : 1, id: i.toString(16).padStart(64, '0'), keyId: `key-${String(i % 2)}`, nodeId: `node-${String(i)}`, setId: (i % 3).toString(16).padStart(32, '0'), epoch: 1, shareIndex: 1, receipts: [], exports: [], history: [] });
    }
    const page = await call(h, 'shares:page', { limit: 10 });
    expect(page.total).toBe(FACET_LIMIT + 1);
    // Received first, although added last: the received order is the received time's, not the vault's.
    expect(page.shares.map((x) => x.nodeId).slice(0, 3)).toEqual([`node-${String(FACET_LIMIT)}`, 'node-0', 'node-1']);
    expect(page.facets).toEqual({ keyIds: ['key-0', 'key-1'], nodeIds: [], setIds: ['0'.repeat(32), `${'0'.repeat(31)}1`, `${'0'.repeat(31)}2`], more: { keyIds: false, nodeIds: true, setIds: false } });
    expect((await call(h, 'shares:page', { query: `node-${String(FACET_LIMIT)}` })).shares.map((s) => s.nodeId)).toEqual([`node-${String(FACET_LIMIT)}`]);
    // The set menu stops earlier: past SET_FACET_LIMIT sets it is left out, the others stay.
    for (let i = 0; i < SET_FACET_LIMIT; i++) {
      template.push({ ...base, id: (i + FACET_LIMIT + 1).toString(16).padStart(64, '0'), keyId: 'key-0', nodeId: 'node-0', setId: (i + 3).toString(16).padStart(32, '0'), epoch: 1, shareIndex: 1, receipts: [], exports: [], history: [] });
    }
    expect((await call(h, 'shares:page', { limit: 1 })).facets).toEqual({ keyIds: ['key-0', 'key-1'], nodeIds: [], setIds: [], more: { keyIds: false, nodeIds: true, setIds: true } });
    template.length = 0;
  });
});

describe('audit:list search and event filter', () => {
  it('finds entries by their fields and event, newest first or not, counting matches', async () => {
    const { h, ids } = await vaultWith(5);
    await call(h, 'receipts:sign', { ids: [ids[2]!], status: 'accepted' });
    const all = await call(h, 'audit:list', { limit: 1000 });
    expect(all.matched).toBe(all.total);

    const imports = await call(h, 'audit:list', { event: 'import', limit: 2 });
    expect(imports.matched).toBe(5);
    expect(imports.entries).toHaveLength(2);
    const seqs = imports.entries.map((e) => ('entry' in e ? e.entry.seq : -1));
    expect(seqs[0]).toBeGreaterThan(seqs[1]!);
    const oldestFirst = await call(h, 'audit:list', { event: 'import', newestFirst: false, offset: 4, limit: 2 });
    expect(oldestFirst.entries.map((e) => 'entry' in e && e.entry.fields.envelope_hash)).toEqual([ids[4]]);

    // Words: any case, every word in some field of the same entry.
    const one = await call(h, 'audit:list', { query: ids[2]!.slice(0, 16).toUpperCase() });
    expect(one.entries.map((e) => 'entry' in e && e.entry.fields.event).sort()).toEqual(['import', 'receipt']);
    expect((await call(h, 'audit:list', { query: `${ids[2]!.slice(0, 16)} receipt`, event: 'receipt' })).matched).toBe(1);
    expect((await call(h, 'audit:list', { query: 'no-such-thing' })).entries).toEqual([]);
    // Damaged entries are shown when nothing filters, never counted as a match.
    const v = await h.ctx.vault();
    v.state.audit.entries.push({ seq: 'x' });
    const damaged = await call(h, 'audit:list', { limit: 1 });
    expect(damaged.entries[0]).toEqual({ damaged: true, position: all.total });
    expect(damaged.verdict.ok).toBe(false);
    expect((await call(h, 'audit:list', { query: 'x' })).entries.every((e) => 'entry' in e)).toBe(true);
    v.state.audit.entries.pop();
    // The verdict beside a page is walked on from the last page's walk: an entry replaced in the
    // part already walked is still found (the walk starts again), and so is an edited new one.
    expect((await call(h, 'audit:list', { limit: 1 })).verdict).toEqual({ ok: true, entries: all.total });
    const entries = v.state.audit.entries as { fields: { detail?: string } }[];
    const last = entries.length - 1;
    const original = entries[last]!;
    entries[last] = { ...original, fields: { ...original.fields, detail: 'nothing happened' } };
    expect((await call(h, 'audit:list', { limit: 1 })).verdict).toMatchObject({ ok: false, firstBad: { position: last, reason: 'edited' } });
    entries[last] = original;
    expect((await call(h, 'audit:list', { limit: 1 })).verdict.ok).toBe(true);
    await call(h, 'receipts:sign', { ids: [ids[3]!], status: 'accepted' });
    expect((await call(h, 'audit:list', { limit: 1 })).verdict).toEqual({ ok: true, entries: all.total + 1 });
    const grown = entries.length - 1;
    // "Verify log" always walks the whole log, whatever was walked before.
    entries[grown]!.fields.detail = 'edited after it was written';
    expect((await call(h, 'audit:verify', {})).verdict).toMatchObject({ ok: false, firstBad: { position: grown, reason: 'edited' } });
  });
});
