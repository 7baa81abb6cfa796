/**
 * Audit verification benchmark (issues 9 §2 and 10): `npx tsx bench/audit.ts [--sizes 100000,1000000]
 * [--runs 3] [--every 1000]`. For each size it builds a real agent database (agent/db.ts, the
 * agent's append path agent/audit/log.ts with its checkpoint policy: a signed checkpoint every
 * `--every` entries, appended to a sink file too), with entries shaped like the agent's own (key,
 * node, set, share index, envelope hash, operator, details), and then measures side by side in the
 * same run:
 *
 *   full         verifyAudit(db): every entry from the first, against every checkpoint
 *   incremental  verifyAudit(db, { fromCheckpoint: true }): the last valid checkpoint's signature,
 *                the entry it ends on, and what follows (`--tail` entries, default 100, appended
 *                one by one after the last checkpoint, as in a running agent)
 *
 * Full verification grows with the history; incremental must stay flat (its ratio between the
 * sizes near 1). Medians of `--runs` runs (the full one at the largest size runs once unless
 * --runs-full says otherwise: it takes tens of seconds). The sink lives outside the database's
 * folder, as the agent requires.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type Database from 'better-sqlite3';
import { attachCheckpoints, checkpoint, detachCheckpoints } from '../agent/audit/checkpoint';
import { appendAudit, verifyAudit, type AuditInput } from '../agent/audit/log';
import { openDatabase } from '../agent/db';
import { nodeVerifier } from '../node/ed25519';
import { generateSigningKey } from '../shared/protocol/frame';

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

function entry(i: number): AuditInput {
  const hex = (n: number): string => n.toString(16).padStart(8, '0').repeat(8);
  return {
    event: i % 3 === 0 ? 'deliver' : i % 3 === 1 ? 'confirm' : 'generate',
    action: i % 3 === 0 ? 'envelope' : i % 3 === 1 ? 'receipt' : 'share-envelope',
    result: 'ok',
    keyId: `key-${String(i % 1000)}`,
    nodeId: `node-${String(i % 5)}`,
    setId: hex(i).slice(0, 32),
    epoch: 1,
    shareIndex: (i % 5) + 1,
    envelopeSha256: hex(i * 7),
    operator: 'ops-bench',
    target: `custodian:${hex(i % 3)}`,
    details: { status: 'delivered', received_at: 1_790_000_000 + i },
  };
}

interface Built {
  readonly dir: string;
  readonly sinkDir: string;
  readonly db: Database.Database;
  readonly buildMs: number;
}

function build(size: number, every: number, tail: number): Built {
  const dir = mkdtempSync(join(tmpdir(), 'custos-bench-audit-'));
  const sinkDir = mkdtempSync(join(tmpdir(), 'custos-bench-sink-'));
  const db = openDatabase(dir, { create: true });
  db.prepare('INSERT INTO meta (name, value) VALUES (?, ?), (?, ?), (?, ?)').run('audit_checkpoint_every', String(every), 'audit_checkpoint_interval_ms', '0', 'audit_sink', join(sinkDir, 'cp.jsonl'));
  let t = 1_790_000_000_000;
  attachCheckpoints(db, { signing: generateSigningKey(), now: () => t, verify: nodeVerifier });
  const started = performance.now();
  const BATCH = 10_000;
  const total = size - tail;
  for (let i = 0; i < total; i += BATCH) {
    db.transaction(() => {
      for (let j = i; j < Math.min(i + BATCH, total); j++) appendAudit(db, entry(j), (t += 1));
    }).immediate();
  }
  // The last checkpoint, then `tail` entries after it, as in a running agent.
  checkpoint(db, 'manual');
  for (let j = total; j < size; j++) appendAudit(db, entry(j), (t += 1));
  return { dir, sinkDir, db, buildMs: performance.now() - started };
}

export interface AuditBenchRow {
  readonly size: number;
  readonly buildMs: number;
  readonly fullMs: number;
  readonly incrementalMs: number;
  readonly incrementalEntries: number;
}

export function runAuditBench(options: { sizes: readonly number[]; runs: number; runsFull?: number; every: number; tail: number; log?: (line: string) => void }): AuditBenchRow[] {
  const log = options.log ?? ((l: string): void => {
    console.log(l);
  });
  const rows: AuditBenchRow[] = [];
  for (const size of options.sizes) {
    const b = build(size, options.every, options.tail);
    try {
      const full: number[] = [];
      const inc: number[] = [];
      let incEntries = 0;
      const runsFull = options.runsFull ?? (size >= 1_000_000 ? 1 : options.runs);
      for (let r = 0; r < Math.max(options.runs, runsFull); r++) {
        // Interleaved, so both see the same machine load.
        if (r < runsFull) {
          const s = performance.now();
          const v = verifyAudit(b.db);
          full.push(performance.now() - s);
          if (!v.ok || v.entries !== size) throw new Error(`full verification failed at ${String(size)}: ${JSON.stringify(v.firstBad)}`);
        }
        if (r < options.runs) {
          const s = performance.now();
          const v = verifyAudit(b.db, { fromCheckpoint: true });
          inc.push(performance.now() - s);
          if (!v.ok || v.mode !== 'from-checkpoint') throw new Error(`incremental verification failed at ${String(size)}`);
          incEntries = v.entries;
        }
      }
      const row = { size, buildMs: b.buildMs, fullMs: median(full), incrementalMs: median(inc), incrementalEntries: incEntries };
      rows.push(row);
      log(
        `${String(size).padStart(9)} entries  build ${(row.buildMs / 1000).toFixed(1).padStart(6)} s   full ${(row.fullMs / 1000).toFixed(2).padStart(7)} s (${String(runsFull)} run${runsFull === 1 ? '' : 's'})   ` +
          `from checkpoint ${row.incrementalMs.toFixed(2).padStart(7)} ms (${String(incEntries)} entries read)   full / incremental ${(row.fullMs / row.incrementalMs).toFixed(0)}×`,
      );
    } finally {
      detachCheckpoints(b.db);
      b.db.close();
      rmSync(b.dir, { recursive: true, force: true });
      rmSync(b.sinkDir, { recursive: true, force: true });
    }
  }
  const first = rows[0];
  const last = rows[rows.length - 1];
  if (first !== undefined && last !== undefined && first !== last) {
    log(
      `growth ${String(first.size)} → ${String(last.size)} entries (${(last.size / first.size).toFixed(0)}×): full ${(last.fullMs / first.fullMs).toFixed(1)}×, ` +
        `from checkpoint ${(last.incrementalMs / first.incrementalMs).toFixed(2)}× (flat means ≈ 1)`,
    );
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const { values } = parseArgs({
    options: { sizes: { type: 'string' }, runs: { type: 'string' }, 'runs-full': { type: 'string' }, every: { type: 'string' }, tail: { type: 'string' } },
  });
  const sizes = (values.sizes ?? '100000,1000000').split(',').map(Number);
  const runs = Number(values.runs ?? 5);
  const every = Number(values.every ?? 1000);
  const tail = Number(values.tail ?? 100);
  console.log(`Audit verification, full vs from the last checkpoint (a checkpoint every ${String(every)} entries, ${String(tail)} entries after the last; medians of ${String(runs)}):`);
  runAuditBench({ sizes, runs, every, tail, ...(values['runs-full'] === undefined ? {} : { runsFull: Number(values['runs-full']) }) });
}
