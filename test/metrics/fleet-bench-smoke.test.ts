// bench/fleet.ts (`npm run bench:fleet`) at its smallest size, so it cannot rot: two keys of two
// nodes and a few finished sessions. Only that it runs and prints what it promises is checked;
// timings belong in the benchmark's own output, never in a test.
import { describe, expect, it } from 'vitest';
import { runFleetBench } from '../../bench/fleet';

describe('bench/fleet.ts (smoke)', () => {
  it('builds a tiny fleet and reports status, list, scrape, audit verify and database size with the goal ratio', async () => {
    const lines: string[] = [];
    const r = await runFleetBench({ keys: 2, nodes: 2, sessions: 3, scrapes: 1, log: (l) => lines.push(l) });
    expect(r).toMatchObject({ keys: 2, nodes: 2, sessions: 3 });
    // 4 nodes: at least one custos_backup_recoverable sample each, plus the agent-wide series.
    expect(r.scrapeSeries).toBeGreaterThan(4 * 20);
    expect(r.scrapeBytes).toBeGreaterThan(1000);
    expect(r.dbBytes).toBeGreaterThan(0);
    // init, 2 custodians' registrations... at least one entry per import, backup, open and cancel.
    expect(r.auditEntries).toBeGreaterThan(4 * 2 + 3 * 2);
    expect(r.verifyCheckpointMs).toBeDefined();
    expect(Number.isFinite(r.scrapeGoalRatio)).toBe(true);
    const text = lines.join('\n');
    expect(text).toMatch(/scrape \/ goal = \d+\.\d\d \((met|NOT met)\)/);
    expect(text).toMatch(/audit verify, from checkpoint +\d/);
    expect(text).toMatch(/database +\d/);
  }, 120_000);
});
