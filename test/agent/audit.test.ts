import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { canonicalJsonV1 as canonicalJson } from '../../agent/audit/legacy-v1';
import { entryHash, GENESIS, type AuditEntry as ChainEntry } from '../../shared/audit/chain';
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

/** The stored chain entries (what an export holds). */
function rows(dir: string): ChainEntry[] {
  const db = new Database(join(dir, DB_FILE), { readonly: true });
  try {
    return (db.prepare('SELECT entry FROM audit_log ORDER BY seq').all() as { entry: string }[]).map((r) => JSON.parse(r.entry) as ChainEntry);
  } finally {
    db.close();
  }
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
      [0, 'init', 'ok'],
      [1, 'register', 'refused'],
      [2, 'register', 'refused'],
      [3, 'register', 'refused'],
    ]);
    expect(entries[0]!.prevHash).toBe(GENESIS);
    const stored = rows(dir);
    for (const [i, e] of entries.entries()) {
      const c = stored[i]!;
      expect(c.fields).toMatchObject({ event: e.entry.event, action: e.entry.action, result: e.entry.result });
      expect(e.hash).toBe(entryHash(c.seq, c.at, e.prevHash, c.fields));
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
      const row = db.prepare('SELECT entry FROM audit_log WHERE seq = 2').get() as { entry: string };
      db.prepare('UPDATE audit_log SET entry = ? WHERE seq = 2').run(row.entry.replace('"refused"', '"ok"'));
    });
    expect(await verify(dir)).toMatchObject({ ok: false, firstBad: { seq: 2, problem: 'edited' } });
  });

  it('names an entry edited with a recomputed hash by the broken link after it', async () => {
    const dir = await agentWithLog();
    tamper(dir, (db) => {
      const row = JSON.parse((db.prepare('SELECT entry FROM audit_log WHERE seq = 1').get() as { entry: string }).entry) as ChainEntry;
      const fields = { ...row.fields, operator: 'someone-else' };
      const hash = entryHash(row.seq, row.at, row.prev, fields);
      db.prepare('UPDATE audit_log SET entry = ?, hash = ? WHERE seq = 1').run(JSON.stringify({ ...row, fields, hash }), hash);
    });
    expect(await verify(dir)).toMatchObject({ ok: false, firstBad: { seq: 2, problem: 'chain-broken' } });
  });

  it('names a removed entry', async () => {
    const dir = await agentWithLog();
    tamper(dir, (db) => db.prepare('DELETE FROM audit_log WHERE seq = 1').run());
    expect(await verify(dir)).toMatchObject({ ok: false, firstBad: { seq: 1, problem: 'missing' } });
  });

  it('names a removed entry after renumbering', async () => {
    const dir = await agentWithLog();
    tamper(dir, (db) => {
      db.prepare('DELETE FROM audit_log WHERE seq = 1').run();
      db.prepare('UPDATE audit_log SET seq = seq - 1 WHERE seq > 1').run();
    });
    expect(await verify(dir)).toMatchObject({ ok: false, firstBad: { seq: 1, problem: 'reordered' } });
  });

  it('names reordered entries', async () => {
    const dir = await agentWithLog();
    tamper(dir, (db) => {
      const a = db.prepare('SELECT * FROM audit_log WHERE seq = 1').get() as Record<string, string>;
      const b = db.prepare('SELECT * FROM audit_log WHERE seq = 2').get() as Record<string, string>;
      const set = db.prepare('UPDATE audit_log SET entry = ?, hash = ? WHERE seq = ?');
      set.run(b['entry'], b['hash'], 1);
      set.run(a['entry'], a['hash'], 2);
    });
    expect(await verify(dir)).toMatchObject({ ok: false, firstBad: { seq: 1, problem: 'reordered' } });
  });

  it('names entries cut off the end', async () => {
    const dir = await agentWithLog();
    tamper(dir, (db) => db.prepare('DELETE FROM audit_log WHERE seq = 3').run());
    expect(await verify(dir)).toMatchObject({ ok: false, firstBad: { seq: 3, problem: 'truncated' } });
  });

  it('canonical JSON sorts keys, omits undefined and refuses fractions', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined, d: { z: 0, y: '\u2028' } })).toBe('{"a":[true,null,"x"],"b":1,"d":{"y":"\u2028","z":0}}');
    expect(() => canonicalJson({ a: 1.5 })).toThrow();
  });
});
