import { describe, expect, it } from 'vitest';
import { nextEntry, verifyChain, type AuditEntry } from '../shared/audit/chain';

function chain(n: number): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (let i = 0; i < n; i++) {
    const head = out.at(-1) ?? null;
    out.push(nextEntry(head, 1_700_000_000 + i, { event: 'import', result: 'ok', key_id: `k${String(i)}`, share_index: (i % 5) + 1, operator: 'ops' }));
  }
  return out;
}

describe('hash-chained audit log', () => {
  it('verifies an intact chain, with its head', () => {
    const c = chain(10);
    const last = c.at(-1)!;
    expect(verifyChain(c, { seq: last.seq, hash: last.hash })).toEqual({ ok: true, entries: 10 });
  });

  it('names the first edited entry', () => {
    const c = chain(10);
    c[4] = { ...c[4]!, fields: { ...c[4]!.fields, result: 'failed' } };
    expect(verifyChain(c).firstBad).toMatchObject({ seq: 4, reason: 'edited' });
  });

  it('finds a removed entry and a reordering', () => {
    const removed = chain(10);
    removed.splice(3, 1);
    expect(verifyChain(removed).firstBad).toMatchObject({ position: 3, reason: 'removed-or-reordered' });
    const swapped = chain(10);
    [swapped[5], swapped[6]] = [swapped[6]!, swapped[5]!];
    expect(verifyChain(swapped).firstBad).toMatchObject({ position: 5, reason: 'removed-or-reordered' });
  });

  it('finds entries cut from the end when the head is kept apart', () => {
    const c = chain(10);
    const head = { seq: c.at(-1)!.seq, hash: c.at(-1)!.hash };
    expect(verifyChain(c.slice(0, 8), head).firstBad).toMatchObject({ reason: 'truncated' });
  });

  it('finds a rewritten chain by its head: recomputing hashes after an edit does not help', () => {
    const c = chain(5);
    const head = { seq: c.at(-1)!.seq, hash: c.at(-1)!.hash };
    const forged: AuditEntry[] = [];
    for (const e of c) forged.push(nextEntry(forged.at(-1) ?? null, e.at, e.seq === 2 ? { ...e.fields, result: 'refused' } : e.fields));
    expect(verifyChain(forged).ok).toBe(true);
    expect(verifyChain(forged, head).firstBad).toMatchObject({ reason: 'truncated' });
  });
});
