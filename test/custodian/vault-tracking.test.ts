// The tracking view a vault change gets (main/services/vault-tracking.ts): what it notes decides what
// a save writes, so every kind of write must be seen and a read must note nothing. Since issue 10
// every item proxy shares one handler and finds its item through an owner map: these cases pin that
// a write deep inside an item (or inside an object reached from it) still marks exactly that item.
import { describe, expect, it } from 'vitest';
import { Tracker } from '../../main/services/vault-tracking';
import type { VaultState } from '../../main/services/state';

interface Item {
  id: string;
  status: string;
  history: { at: number; event: string }[];
  meta: { nested: { n: number } };
  bytes: Uint8Array;
}

const item = (id: string): Item => ({ id, status: 'received', history: [{ at: 1, event: 'imported' }], meta: { nested: { n: 0 } }, bytes: new Uint8Array([1, 2]) });

function fixture(n = 5): VaultState {
  return { shares: Array.from({ length: n }, (_, i) => item(`s${String(i)}`)), refusals: [item('r0')], supersedes: [], purged: [], audit: { entries: [{ seq: 0 }], head: null } } as unknown as VaultState;
}

const dirtyIds = (t: Tracker, c: 'shares' | 'refusals'): string[] => [...(t.changes.dirty.get(c) ?? [])].map((x) => (x as Item).id).sort();

describe('vault tracking view', () => {
  it('notes nothing for reads, however many items are read', () => {
    const state = fixture(1000);
    const t = new Tracker();
    const v = t.view(state);
    const found = v.shares.filter((r) => r.id.startsWith('s99'));
    expect(found.map((r) => r.id)).toEqual(['s99', 's990', 's991', 's992', 's993', 's994', 's995', 's996', 's997', 's998', 's999']);
    expect(v.shares.find((r) => r.id === 's7')?.history[0]?.event).toBe('imported');
    expect(t.changes.dirty.size).toBe(0);
    expect(t.changes.structural.size).toBe(0);
  });

  it('marks exactly the item written to, at any depth, through any path to it', () => {
    const state = fixture();
    const t = new Tracker();
    const v = t.view(state);
    const s1 = v.shares.find((r) => r.id === 's1') as unknown as Item;
    s1.status = 'confirmed';
    (v.shares[3] as unknown as Item).history.push({ at: 2, event: 'confirmed' });
    const nested = (v.shares[4] as unknown as Item).meta.nested;
    nested.n = 7;
    delete (v.refusals[0] as unknown as Partial<Item>).status;
    expect(dirtyIds(t, 'shares')).toEqual(['s1', 's3', 's4']);
    expect(dirtyIds(t, 'refusals')).toEqual(['r0']);
    expect(t.changes.structural.size).toBe(0);
    // The writes went through to the state itself.
    expect((state.shares[1] as unknown as Item).status).toBe('confirmed');
    expect((state.shares[3] as unknown as Item).history).toHaveLength(2);
    expect((state.shares[4] as unknown as Item).meta.nested.n).toBe(7);
    // The same object gives the same proxy; byte arrays are not wrapped; unwrap gives the raw object.
    expect(v.shares[1]).toBe(v.shares[1]);
    expect((v.shares[1] as unknown as Item).bytes).toBe((state.shares[1] as unknown as Item).bytes);
    expect(t.unwrap(v.shares[1])).toBe(state.shares[1]);
  });

  it('stores raw objects, not proxies, when a proxy is written into the state', () => {
    const state = fixture();
    const t = new Tracker();
    const v = t.view(state);
    const a = v.shares[0] as unknown as Item;
    (v.shares[2] as unknown as Item).meta = a.meta;
    expect((state.shares[2] as unknown as Item).meta).toBe((state.shares[0] as unknown as Item).meta);
    expect(dirtyIds(t, 'shares')).toEqual(['s2']);
  });

  it('notes appends as new items and any other list change as structural', () => {
    const state = fixture();
    const t = new Tracker();
    const v = t.view(state);
    v.shares.push(item('s5') as never);
    expect(dirtyIds(t, 'shares')).toEqual(['s5']);
    expect(t.changes.structural.has('shares')).toBe(false);
    v.shares.splice(0, 1);
    expect(t.changes.structural.has('shares')).toBe(true);
    const t2 = new Tracker();
    const v2 = t2.view(fixture());
    v2.refusals = [];
    expect(t2.changes.structural.has('refusals')).toBe(true);
  });

  it('notes a change to an existing audit entry as structural (appends are found by length)', () => {
    const t = new Tracker();
    const v = t.view(fixture());
    (v.audit.entries[0] as { seq: number }).seq = 5;
    expect(t.changes.structural.has('audit')).toBe(true);
    expect(t.changes.dirty.size).toBe(0);
  });
});
