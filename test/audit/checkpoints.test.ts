// Signed audit checkpoints (issue 9 §2): made by interval and on sensitive events, kept in the
// database and in a sink outside the data directory; a chain rewritten consistently in SQLite is
// named at the first entry after the last checkpoint that still matches; entries cut off the end
// are caught against the sink; verification from the last checkpoint reads only what follows; an
// export verifies offline with the agent card alone.
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { attachCheckpoints, checkpoint, detachCheckpoints, sensitiveReason } from '../../agent/audit/checkpoint';
import { appendAudit } from '../../agent/audit/log';
import { DB_FILE, openDatabase } from '../../agent/db';
import { Agent, CARD_FILE } from '../../agent/service';
import { nextEntry, type AuditEntry } from '../../shared/audit/chain';
import { generateSigningKey } from '../../shared/protocol/frame';
import { verifyAuditFiles } from '../../scripts/verify-audit';
import { Clock, expectCode, removeTempDirs, tempDir } from '../agent/helpers';

afterEach(removeTempDirs);

/** An agent checkpointing every 5 entries into a sink outside its directory, with `n` entries. */
async function agentWith(n: number): Promise<{ dir: string; sink: string; clock: Clock }> {
  const dir = tempDir();
  const sink = join(tempDir('custos-sink-'), 'audit-checkpoints.jsonl');
  const clock = new Clock();
  await Agent.init(dir, { now: clock.now, operator: 'ops-1' });
  const agent = await Agent.open(dir, { now: clock.now, operator: 'ops-1' });
  agent.configureAudit({ every: 5, sink }); // entry 1
  for (let i = agent.auditEntries().length; i < n; i++) {
    clock.advance(1);
    await agent.addApprover(new TextEncoder().encode(`not a card ${String(i)}`)).catch(() => undefined);
  }
  expect(agent.auditEntries()).toHaveLength(n);
  agent.close();
  return { dir, sink, clock };
}

function raw(dir: string, fn: (db: Database.Database) => void): void {
  const db = new Database(join(dir, DB_FILE));
  try {
    fn(db);
  } finally {
    db.close();
  }
}

function checkpointSizes(dir: string): number[] {
  let sizes: number[] = [];
  raw(dir, (db) => (sizes = (db.prepare('SELECT size FROM audit_checkpoints ORDER BY size').all() as { size: number }[]).map((r) => r.size)));
  return sizes;
}

function sinkLines(sink: string): string[] {
  return readFileSync(sink, 'utf8').trim().split('\n');
}

/** What an attacker with write access to the file does: re-chain every entry from `from` on, consistently. */
function rewriteFrom(db: Database.Database, from: number): void {
  db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');
  const rows = (db.prepare('SELECT entry FROM audit_log ORDER BY seq').all() as { entry: string }[]).map((r) => JSON.parse(r.entry) as AuditEntry);
  let head: AuditEntry | null = null;
  const update = db.prepare('UPDATE audit_log SET entry = ?, hash = ? WHERE seq = ?');
  for (const e of rows) {
    const fields = e.seq >= from ? { ...e.fields, operator: 'nobody' } : e.fields;
    const next: AuditEntry = nextEntry(head, e.at, fields);
    update.run(JSON.stringify(next), next.hash, next.seq);
    head = next;
  }
  if (head !== null) {
    db.prepare("UPDATE meta SET value = ? WHERE name = 'audit_size'").run(String(head.seq + 1));
    db.prepare("UPDATE meta SET value = ? WHERE name = 'audit_head'").run(head.hash);
  }
}

function dropCheckpoints(db: Database.Database, where = '1 = 1'): void {
  db.exec('DROP TRIGGER IF EXISTS audit_checkpoints_no_delete;');
  db.prepare(`DELETE FROM audit_checkpoints WHERE ${where}`).run();
}

async function verify(dir: string, options: { fromCheckpoint?: boolean } = {}): Promise<ReturnType<Agent['verifyAudit']>> {
  const agent = await Agent.open(dir, { operator: 'verifier' });
  try {
    return agent.verifyAudit(options);
  } finally {
    agent.close(); // its close checkpoint is refused on a chain that does not extend the last one
  }
}

describe('signed audit checkpoints', () => {
  it('are made every N entries and at close, in the database and appended to the sink', async () => {
    const { dir, sink } = await agentWith(23);
    expect(checkpointSizes(dir)).toEqual([5, 10, 15, 20, 23]); // 23: the close checkpoint
    let lines: string[] = [];
    raw(dir, (db) => (lines = (db.prepare('SELECT line FROM audit_checkpoints ORDER BY size').all() as { line: string }[]).map((r) => r.line)));
    expect(sinkLines(sink)).toEqual(lines);
    expect(await verify(dir)).toMatchObject({ ok: true, entries: 23, mode: 'full', checkpoints: { valid: 5, invalid: 0, lastMatched: { size: 23, reason: 'close' } } });
  });

  it('a chain rewritten consistently in SQLite is named at the first entry after the last checkpoint that still matches', async () => {
    const { dir } = await agentWith(23);
    raw(dir, (db) => { rewriteFrom(db, 7); });
    const full = await verify(dir);
    expect(full).toMatchObject({ ok: false, firstBad: { seq: 5, problem: 'rewritten' } });
    expect(full.firstBad?.message).toMatch(/Audit entries 5 to 9 do not match the agent's signed checkpoint of 10 entries.*rewritten from entry 5 on/);
    expect(await verify(dir, { fromCheckpoint: true })).toMatchObject({ ok: false, firstBad: { seq: 5, problem: 'rewritten' } });
  });

  it('the attacker also deletes the database checkpoints: the sink still names the entry', async () => {
    const { dir } = await agentWith(23);
    raw(dir, (db) => {
      rewriteFrom(db, 12);
      dropCheckpoints(db);
    });
    expect(await verify(dir)).toMatchObject({ ok: false, firstBad: { seq: 10, problem: 'rewritten' } });
    expect(await verify(dir, { fromCheckpoint: true })).toMatchObject({ ok: false, firstBad: { seq: 10, problem: 'rewritten' } });
  });

  it('entries cut off the end with the head moved back are caught against the sink', async () => {
    const { dir } = await agentWith(23);
    raw(dir, (db) => {
      db.exec('DROP TRIGGER audit_log_no_delete;');
      db.prepare('DELETE FROM audit_log WHERE seq >= 19').run();
      const last = db.prepare('SELECT hash FROM audit_log WHERE seq = 18').get() as { hash: string };
      db.prepare("UPDATE meta SET value = '19' WHERE name = 'audit_size'").run();
      db.prepare("UPDATE meta SET value = ? WHERE name = 'audit_head'").run(last.hash);
      dropCheckpoints(db, 'size > 19');
    });
    for (const fromCheckpoint of [false, true]) {
      const v = await verify(dir, { fromCheckpoint });
      expect(v).toMatchObject({ ok: false, firstBad: { seq: 19, problem: 'truncated' } });
      expect(v.firstBad?.message).toMatch(/signed a checkpoint of 23 entries \(close, .*\) but the log ends after 19: entries 19 to 22 were cut off the end/);
    }
  });

  it('verification from the last checkpoint reads only what follows it; a full one reads everything', async () => {
    const { dir, clock } = await agentWith(23);
    const agent = await Agent.open(dir, { now: clock.now, operator: 'ops-1' });
    try {
      await agent.addApprover(new TextEncoder().encode('x')).catch(() => undefined);
      await agent.addApprover(new TextEncoder().encode('y')).catch(() => undefined);
      expect(agent.verifyAudit({ fromCheckpoint: true })).toMatchObject({ ok: true, entries: 2, size: 25, mode: 'from-checkpoint', checkpoints: { from: 23 } });
      expect(agent.verifyAudit()).toMatchObject({ ok: true, entries: 25, size: 25, mode: 'full' });
    } finally {
      agent.close();
    }
    // The trade-off, stated: an entry edited before the last checkpoint (its hash left as it was)
    // is found by a full verification; the incremental one trusts what the signature covers.
    raw(dir, (db) => {
      db.exec('DROP TRIGGER audit_log_no_update;');
      const row = db.prepare('SELECT entry FROM audit_log WHERE seq = 3').get() as { entry: string };
      db.prepare('UPDATE audit_log SET entry = ? WHERE seq = 3').run(row.entry.replace('"refused"', '"ok"'));
    });
    expect(await verify(dir)).toMatchObject({ ok: false, firstBad: { seq: 3, problem: 'edited' } });
    expect(await verify(dir, { fromCheckpoint: true })).toMatchObject({ ok: true, mode: 'from-checkpoint' });
  });

  it('a forged checkpoint (not signed by the agent key) fails verification', async () => {
    const { dir } = await agentWith(8);
    const other = generateSigningKey();
    const db0 = openDatabase(tempDir(), { create: true });
    attachCheckpoints(db0, { signing: other, now: () => 1 });
    appendAudit(db0, { event: 'init', action: 'x', result: 'ok' }, 1);
    const forged = checkpoint(db0, 'manual')!;
    detachCheckpoints(db0);
    db0.close();
    raw(dir, (db) => db.prepare('INSERT INTO audit_checkpoints (size, head, at, reason, line) VALUES (99, ?, 1, ?, ?)').run(forged.head, 'manual', forged.line));
    expect(await verify(dir)).toMatchObject({ ok: false, firstBad: { problem: 'checkpoint-invalid' } });
  });
});

describe('the checkpoint policy', () => {
  function db(): { d: Database.Database; sink: string; dir: string } {
    const dir = tempDir();
    const d = openDatabase(dir, { create: true });
    const sink = join(tempDir('custos-sink-'), 'cp.jsonl');
    d.prepare("INSERT INTO meta (name, value) VALUES ('audit_sink', ?), ('audit_checkpoint_every', '0')").run(sink);
    attachCheckpoints(d, { signing: generateSigningKey(), now: () => 1_800_000_000_000 });
    return { d, sink, dir };
  }
  const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

  it('sensitive events make a checkpoint by themselves; one inside a rolled-back transaction never reaches the sink', async () => {
    const { d, sink } = db();
    appendAudit(d, { event: 'register', action: 'approver-add', result: 'ok' }, 1);
    expect(d.prepare('SELECT count(*) AS n FROM audit_checkpoints').get()).toEqual({ n: 0 });
    appendAudit(d, { event: 'delete', action: 'hard-delete', result: 'ok' }, 2);
    appendAudit(d, { event: 'recover', action: 'session-complete', result: 'refused' }, 3); // refused: not sensitive
    appendAudit(d, { event: 'recover', action: 'session-complete', result: 'ok' }, 4);
    appendAudit(d, { event: 'configure', action: 'kek-rotate', result: 'ok' }, 5);
    expect(d.prepare('SELECT size, reason FROM audit_checkpoints ORDER BY size').all()).toEqual([
      { size: 2, reason: 'hard-delete' },
      { size: 4, reason: 'recovery-completed' },
      { size: 5, reason: 'kek-rotation' },
    ]);
    expect(() =>
      d.transaction(() => {
        appendAudit(d, { event: 'delete', action: 'zero-retention', result: 'ok' }, 6);
        throw new Error('the change it records failed');
      })(),
    ).toThrow(/failed/);
    await tick();
    expect(d.prepare('SELECT max(size) AS m FROM audit_checkpoints').get()).toEqual({ m: 5 });
    expect(readFileSync(sink, 'utf8').trim().split('\n')).toHaveLength(3);
    expect(checkpoint(d, 'manual')).toBeUndefined(); // the head is already covered
    appendAudit(d, { event: 'register', action: 'approver-add', result: 'ok' }, 7);
    expect(checkpoint(d, 'manual')).toMatchObject({ size: 6, reason: 'manual' });
    expect(readFileSync(sink, 'utf8').trim().split('\n')).toHaveLength(4);
    detachCheckpoints(d);
    d.close();
  });

  it('a sensitive entry written while no signer was attached (e.g. `agent kek rotate` on the database) is checkpointed at the next open', () => {
    const dir = tempDir();
    const d = openDatabase(dir, { create: true });
    appendAudit(d, { event: 'init', action: 'data-directory', result: 'ok' }, 1);
    appendAudit(d, { event: 'configure', action: 'kek-rotate', result: 'ok' }, 2);
    appendAudit(d, { event: 'register', action: 'approver-add', result: 'ok' }, 3);
    expect(d.prepare('SELECT count(*) AS n FROM audit_checkpoints').get()).toEqual({ n: 0 });
    attachCheckpoints(d, { signing: generateSigningKey(), now: () => 4 });
    expect(d.prepare('SELECT size, reason FROM audit_checkpoints').all()).toEqual([{ size: 3, reason: 'kek-rotation' }]);
    detachCheckpoints(d);
    d.close();
  });

  it('a sink that cannot be written does not stop the agent; the next flush writes what is missing', async () => {
    const { d, sink } = db();
    mkdirSync(sink); // a folder where the file should be: appends fail
    appendAudit(d, { event: 'delete', action: 'hard-delete', result: 'ok' }, 1);
    await tick();
    const { auditStatus } = await import('../../agent/audit/checkpoint');
    expect(auditStatus(d).sinkError).toMatch(/cannot be written \(EISDIR\)/);
    rmSync(sink, { recursive: true });
    appendAudit(d, { event: 'delete', action: 'purge', result: 'ok' }, 2);
    await tick();
    expect(auditStatus(d).sinkError).toBeUndefined();
    expect(readFileSync(sink, 'utf8').trim().split('\n')).toHaveLength(2);
    detachCheckpoints(d);
    d.close();
  });

  it('the sink must lie outside the data directory, in a folder that exists; changing it is audited', async () => {
    const dir = tempDir();
    const clock = new Clock();
    await Agent.init(dir, { now: clock.now });
    const agent = await Agent.open(dir, { now: clock.now, operator: 'ops-1' });
    try {
      await expectCode(() => agent.configureAudit({ sink: join(dir, 'cp.jsonl') }), 'INVALID_PARAMETERS');
      await expectCode(() => agent.configureAudit({ sink: 'relative/cp.jsonl' }), 'INVALID_PARAMETERS');
      await expectCode(() => agent.configureAudit({ sink: join(tempDir(), 'no', 'such', 'cp.jsonl') }), 'NOT_FOUND');
      await expectCode(() => agent.configureAudit({ every: -1 }), 'INVALID_PARAMETERS');
      const sink = join(tempDir('custos-sink-'), 'cp.jsonl');
      agent.auditCheckpoint('manual'); // before the sink exists: the sink gets it when configured
      const status = agent.configureAudit({ sink, every: 100, intervalMs: 60_000 });
      expect(status).toMatchObject({ sink, every: 100, intervalMs: 60_000, sinkSize: 1 });
      expect(readFileSync(sink, 'utf8').trim().split('\n')).toHaveLength(1);
      expect(agent.auditEntries().at(-1)!.entry).toMatchObject({ event: 'configure', action: 'audit-checkpoints', operator: 'ops-1', details: { every: 100, interval_ms: 60_000, sink } });
      // By time: the first entry an interval after the last checkpoint.
      clock.advance(61);
      await agent.addApprover(new TextEncoder().encode('x')).catch(() => undefined);
      expect(agent.auditStatus().lastCheckpoint).toMatchObject({ size: agent.auditEntries().length });
    } finally {
      agent.close();
    }
  });

  it('only a completed recovery, a hard delete or purge, and a KEK rotation count as sensitive', () => {
    const e = (event: string, action: string, result = 'ok'): Parameters<typeof sensitiveReason>[0] => ({ seq: 0, at: 0, prev: '0'.repeat(64), hash: '0'.repeat(64), fields: { event, action, result } as never });
    expect(sensitiveReason(e('recover', 'session-complete'))).toBe('recovery-completed');
    expect(sensitiveReason(e('drill', 'session-drill'))).toBeUndefined();
    expect(sensitiveReason(e('delete', 'soft-delete'))).toBeUndefined();
    expect(sensitiveReason(e('delete', 'hard-delete', 'refused'))).toBeUndefined();
    expect(sensitiveReason(e('configure', 'kek-rotate'))).toBe('kek-rotation');
  });
});

describe('an exported log verifies offline with the agent card alone', () => {
  it('entries and checkpoints; a consistent rewrite of the export is named; the sink catches a cut export', async () => {
    const { dir, sink } = await agentWith(17);
    const agent = await Agent.open(dir, { operator: 'ops-1' });
    const exported = agent.exportAudit();
    agent.close();
    const out = tempDir('custos-export-');
    const file = join(out, 'audit.jsonl');
    writeFileSync(file, exported);
    const card = join(dir, CARD_FILE);
    const ok = verifyAuditFiles([file, '--card', card]);
    expect(ok.exit).toBe(0);
    expect(ok.json.verification).toMatchObject({ ok: true, entries: 17, checkpoints: { valid: 4, lastMatched: { size: 17 } } });

    // Rewritten consistently from entry 6 on, checkpoints kept: named at 5.
    const lines = exported.trim().split('\n');
    let head: AuditEntry | null = null;
    const forged = lines.map((l) => {
      const v = JSON.parse(l) as AuditEntry | { checkpoint: unknown };
      if ('checkpoint' in v) return l;
      head = nextEntry(head, v.at, v.seq >= 6 ? { ...v.fields, operator: 'nobody' } : v.fields);
      return JSON.stringify(head);
    });
    writeFileSync(file, `${forged.join('\n')}\n`);
    expect(verifyAuditFiles([file, '--card', card]).json.verification).toMatchObject({ ok: false, firstBad: { seq: 5, problem: 'rewritten' } });

    // Cut to 12 entries with every checkpoint removed: fine alone, caught with the sink.
    const cut = lines.filter((l) => !l.includes('"checkpoint"')).slice(0, 12);
    writeFileSync(file, `${cut.join('\n')}\n`);
    expect(verifyAuditFiles([file, '--card', card]).exit).toBe(0);
    const withSink = verifyAuditFiles([file, '--card', card, '--sink', sink]);
    expect(withSink.exit).toBe(3);
    expect(withSink.json.verification).toMatchObject({ firstBad: { seq: 12, problem: 'truncated' } });

    // Another agent's card: its checkpoints do not count, and say so.
    const otherDir = tempDir();
    await Agent.init(otherDir, {});
    writeFileSync(file, exported);
    expect(verifyAuditFiles([file, '--card', join(otherDir, CARD_FILE)]).json.verification).toMatchObject({ ok: false, firstBad: { problem: 'checkpoint-invalid' } });

    // And as a standalone program.
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/verify-audit.ts', file, '--card', card, '--json'], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ verification: { ok: true, entries: 17 } });
  });
});
