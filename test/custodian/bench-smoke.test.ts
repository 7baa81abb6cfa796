// bench/custodian.ts at its smallest size, so it cannot rot: it runs, and prints every figure it
// promises (ratios against their floors, stalls, memory). Timings belong in the bench's output,
// never in a test: only the shape of the report is checked here.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('bench/custodian.ts (smoke)', () => {
  it('runs at a minimal size and reports each goal as a measured ratio or figure', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/custodian.ts', '20', '300'], { encoding: 'utf8', timeout: 170_000, env: { ...process.env, BENCH_IMPORT_ROUNDS: '2' } });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const out = run.stdout;
    expect(out).toMatch(/import 20 envelopes: .* ratio \d+\.\d\d× \(goal ≤ 1\.3×: (met|NOT met)\)/);
    expect(out).toMatch(/peak RSS during the import \d+ MB/);
    expect(out.match(/round \d of 2:/g)).toHaveLength(2);
    expect(out).toMatch(/import 20 envelopes, median of 2 rounds \(rounds: \d+\.\d\d×, \d+\.\d\d×\): ratio \d+\.\d\d× \(goal ≤ 1\.3×: (met|NOT met)\)/);
    expect(out).toMatch(/peak RSS during the import \d+ MB \(rounds: \d+ MB, \d+ MB; goal ≤ 300 MB at 10,000: (met|NOT met)\)/);
    expect(out).toMatch(/300 shares: a save after one change .* ratio \d+\.\d\d× \(goal ≤ 2×: (met|NOT met)\)/);
    expect(out).toMatch(/300 shares, fresh process: unlock .* in the worker thread [\d.]+ m?s vs in-process [\d.]+ m?s: ratio \d+\.\d\d×/);
    expect(out).toMatch(/unlock .*longest event-loop stall [\d.]+ ms \(goal ≤ 100 ms: (met|NOT met)\)/);
    expect(out).toMatch(/the longest the main thread RAN without letting the event loop go .*: [\d.]+ ms \(goal ≤ 100 ms: (met|NOT met)\)/);
    expect(out).toMatch(/peak RSS unlocking \d+ MB .*the unlocked vault holds \d+ MB \(heap \+ buffers after GC\), [\d.]+ MB per 1,000 shares against [\d.]+ MB per 1,000 on disk/);
    expect(out).toMatch(/a compaction .*longest stall [\d.]+ ms/);
  }, 180_000);
});
