import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { canonicalJson, entryHash, GENESIS_HASH } from '../../agent/audit/log';
import { DB_FILE } from '../../agent/db';
import { Agent } from '../../agent/service';
import { Clock, removeTempDirs, tempDir } from './helpers';

afterEach(removeTempDirs);

/** An agent with a few audit entries, closed; returns its directory. */
async function agentWithLog(): Promise<string> {
  const dir = tempDir();
  const clock = new Clock();
  await Agent.init(dir, { now: clock.now, operator: 'ops-1' });
  const agent = await Agent.open(dir, { now: clock.now, operator: 'ops-1' });
  for (const bad of ['not a card', 'still not', 'nope']) {
    clock.advance(1);
    await agent.addApprover(new TextEncoder().encode(bad)).catch(() => undefined);
  }
  expect(agent.verifyAudit()).toMatchObject({ ok: true, entries: 4 });
  agent.close();
  return dir;
}

/** Raw database access, as an attacker with the file would have it (append-only triggers dropped). */
function tamper(dir: string, fn: (db: Database.Database) => void): void {
  const db = new Database(join(dir, DB_FILE));
  db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');
  fn(db);
  db.close();
}

async function verify(dir: string): Promise<ReturnType<Agent['verifyAudit']>> {
  const agent = await Agent.open(dir);
  try {
    return agent.verifyAudit();
  } finally {
    agent.close();
  }
}

describe('the hash-chained audit log', () => {
  it('records the SOP fields and verifies; hashes chain from the genesis hash', async () => {
    const dir = await agentWithLog();
    const agent = await Agent.open(dir);
    const entries = agent.auditEntries();
    agent.close();
    expect(entries.map((e) => [e.entry.seq, e.entry.event, e.entry.result])).toEqual([
      [1, 'init', 'ok'],
      [2, 'register', 'refused'],
      [3, 'register', 'refused'],
      [4, 'register', 'refused'],
    ]);
    expect(entries[0]!.prevHash).toBe(GENESIS_HASH);
    for (const [i, e] of entries.entries()) {
      expect(e.hash).toBe(entryHash(e.prevHash, canonicalJson(e.entry)));
      if (i > 0) expect(e.prevHash).toBe(entries[i - 1]!.hash);
    }
    expect(entries[1]!.entry).toMatchObject({ operator: 'ops-1', version: 1, reason: expect.stringMatching(/^MALFORMED: /) as unknown });
    expect(entries[1]!.entry.time).toBe(new Date(entries[1]!.entry.ts).toISOString());
  });

  it('is append-only for ordinary writers (triggers)', async () => {
    const dir = await agentWithLog();
    const db = new Database(join(dir, DB_FILE));
    expect(() => db.prepare("UPDATE audit_log SET entry = 'x' WHERE seq = 2").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_log WHERE seq = 2').run()).toThrow(/append-only/);
    db.close();
  });

  it('names an edited entry', async () => {
    const dir = await agentWithLog();
    tamper(dir, (db) => {
      const row = db.prepare('SELECT entry FROM audit_log WHERE seq = 3').get() as { entry: string };
      db.prepare('UPDATE audit_log SET entry = ? WHERE seq = 3').run(row.entry.replace('"refused"', '"ok"'));
    });
    expect(await verify(dir)).toMatchObject({ ok: false, firstBad: { seq: 3, problem: 'edited' } });
  });

  it('names an entry edited with a recomputed hash by the broken link after it', async () => {
    const dir = await agentWithLog();
    tamper(dir, (db) => {
      const row = db.prepare('SELECT entry, prev_hash FROM audit_log WHERE seq = 2').get() as { entry: string; prev_hash: string };
      const forged = row.entry.replace('"ops-1"', '"someone-else"');
      db.prepare('UPDATE audit_log SET entry = ?, hash = ? WHERE seq = 2').run(forged, entryHash(row.prev_hash, forged));
    });
    expect(await verify(dir)).toMatchObject({ ok: false, firstBad: { seq: 3, problem: 'chain-broken' } });
  });

  it('names a removed entry', async () => {
    const dir = await agentWithLog();
    tamper(dir, (db) => db.prepare('DELETE FROM audit_log WHERE seq = 2').run());
    expect(await verify(dir)).toMatchObject({ ok: false, firstBad: { seq: 2, problem: 'missing' } });
  });

  it('names a removed entry after renumbering', async () => {
    const dir = await agentWithLog();
    tamper(dir, (db) => {
      db.prepare('DELETE FROM audit_log WHERE seq = 2').run();
      db.prepare('UPDATE audit_log SET seq = seq - 1 WHERE seq > 2').run();
    });
    expect(await verify(dir)).toMatchObject({ ok: false, firstBad: { seq: 2, problem: 'reordered' } });
  });

  it('names reordered entries', async () => {
    const dir = await agentWithLog();
    tamper(dir, (db) => {
      const a = db.prepare('SELECT * FROM audit_log WHERE seq = 2').get() as Record<string, string>;
      const b = db.prepare('SELECT * FROM audit_log WHERE seq = 3').get() as Record<string, string>;
      const set = db.prepare('UPDATE audit_log SET entry = ?, prev_hash = ?, hash = ? WHERE seq = ?');
      set.run(b['entry'], b['prev_hash'], b['hash'], 2);
      set.run(a['entry'], a['prev_hash'], a['hash'], 3);
    });
    expect(await verify(dir)).toMatchObject({ ok: false, firstBad: { seq: 2, problem: 'reordered' } });
  });

  it('names entries cut off the end', async () => {
    const dir = await agentWithLog();
    tamper(dir, (db) => db.prepare('DELETE FROM audit_log WHERE seq = 4').run());
    expect(await verify(dir)).toMatchObject({ ok: false, firstBad: { seq: 4, problem: 'truncated' } });
  });

  it('canonical JSON sorts keys, omits undefined and refuses fractions', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined, d: { z: 0, y: '\u2028' } })).toBe('{"a":[true,null,"x"],"b":1,"d":{"y":"\u2028","z":0}}');
    expect(() => canonicalJson({ a: 1.5 })).toThrow();
  });
});
