// The agent benchmark (bench/agent.ts, `npm run bench:agent`) at its smallest size, so it cannot
// rot: one recovery per mode and a fleet of two keys. Only that it runs and reports what it
// promises is checked here; timings belong in the benchmark's own output, never in a test.
import { describe, expect, it } from 'vitest';
import { runAgentBench } from '../bench/agent';

describe('bench/agent.ts (smoke)', () => {
  it('runs at a minimal size and reports ratios and what dominates, in plain words', async () => {
    const lines: string[] = [];
    const report = await runAgentBench({ runs: 1, fleet: 2, log: (l) => lines.push(l) });
    expect(report.recovery.map((r) => r.mode)).toEqual(['mixed', 'external-only']);
    for (const r of report.recovery) {
      expect(r.endToEndMs).toBeGreaterThan(0);
      expect(Number.isFinite(r.ratio)).toBe(true);
      expect(r.parts.map((p) => p.name)).toEqual(
        expect.arrayContaining(['keydata self-check', 'keydata regeneration', 'Shamir combine + secret commitment', 'age decryption of the exports', 'AES-GCM decrypt + encrypt of the files (with KEK wrap)']),
      );
      expect(r.dominant).toMatch(/(dominates|is the largest)/);
    }
    expect(report.fleet).toMatchObject({ keys: 2, floorKeys: 2 });
    expect(report.fleet.agentPerSecond).toBeGreaterThan(0);
    expect(Number.isFinite(report.fleet.ratio)).toBe(true);
    const text = lines.join('\n');
    expect(text).toMatch(/end to end \/ sum of the measured parts = \d+\.\d\d/);
    expect(text).toMatch(/agent \/ floor = \d+\.\d\d/);
    expect(text).toMatch(/^In plain words:$/m);
  });
});
