// Migration 3 on a database written by the agent before the one audit chain (test/fixtures/audit-v1,
// made by the v1 code, see its README): the old chain is verified under its own rules, re-chained in
// place under shared/audit/chain.ts keeping every field of every entry, the migration is recorded,
// and the result verifies with the one verifier. A v1 log that does not verify is refused and left
// exactly as it was.
import Database from 'better-sqlite3';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { attachCheckpoints, detachCheckpoints } from '../../agent/audit/checkpoint';
import { verifyAuditV1 } from '../../agent/audit/legacy-v1';
import { exportAuditJsonl, listAudit, verifyAudit } from '../../agent/audit/log';
import { DB_FILE, openDatabase, SCHEMA_VERSION } from '../../agent/db';
import { codeOf } from '../../agent/errors';
import { generateSigningKey } from '../../shared/protocol/frame';
import { removeTempDirs, tempDir } from '../agent/helpers';

afterEach(removeTempDirs);

const FIXTURE = new URL('../fixtures/audit-v1/custos-agent.db', import.meta.url);
const V1_HEAD = '179298e4b5ca3bdc7eccd26ac5658b7fb0385e1c33810d85ae80a0269b58220a';

function fixtureCopy(): string {
  const dir = tempDir('custos-audit-v1-');
  copyFileSync(FIXTURE, join(dir, DB_FILE));
  return dir;
}

function v1Entries(dir: string): Record<string, unknown>[] {
  const db = new Database(join(dir, DB_FILE), { readonly: true });
  try {
    const v = verifyAuditV1(db);
    expect(v).toMatchObject({ ok: true, entries: 30, headHash: V1_HEAD });
    return v.rows.map((r) => r.parsed);
  } finally {
    db.close();
  }
}

describe('migration 3: the agent audit log joins the one chain', () => {
  it('keeps every field of every entry, records the migration with the old head, and verifies', () => {
    const dir = fixtureCopy();
    const before = v1Entries(dir);
    expect(new Set(before.map((e) => e['event']))).toEqual(new Set(['init', 'register', 'import', 'generate', 'deliver', 'confirm', 'recover', 'drill', 'delete']));
    const db = openDatabase(dir);
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      const after = listAudit(db);
      expect(after).toHaveLength(31);
      for (const [i, old] of before.entries()) {
        const { v, ...rest } = old;
        expect(v).toBe(1);
        expect(after[i]!.entry).toEqual({ ...rest, seq: (old['seq'] as number) - 1 });
      }
      expect(after[30]!.entry).toMatchObject({
        seq: 30,
        event: 'configure',
        action: 'audit-migrate',
        result: 'ok',
        details: { entries: 30, v1_head_seq: 30, v1_head_hash: V1_HEAD },
      });
      expect(verifyAudit(db)).toMatchObject({ ok: true, entries: 31 });
      // The old table and head are gone; the new chain is append-only like the old one.
      expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'audit_log_v1'").get()).toBeUndefined();
      expect(db.prepare("SELECT value FROM meta WHERE name = 'audit_head_seq'").get()).toBeUndefined();
      expect(() => db.prepare("UPDATE audit_log SET entry = 'x' WHERE seq = 3").run()).toThrow(/append-only/);

      // The first open after the migration signs a checkpoint of the migrated chain; the export
      // then verifies offline with the one verifier.
      const key = generateSigningKey();
      attachCheckpoints(db, { signing: key, fingerprint: 'ab'.repeat(32), now: () => 1_800_000_000_000 });
      detachCheckpoints(db);
    } finally {
      db.close();
    }
    const again = openDatabase(dir);
    try {
      const rows = again.prepare('SELECT size, reason FROM audit_checkpoints').all();
      expect(rows).toEqual([{ size: 31, reason: 'migration' }]);
      const exported = exportAuditJsonl(again);
      expect(exported.trim().split('\n')).toHaveLength(32);
    } finally {
      again.close();
    }
  });

  it('refuses a v1 log that does not verify under its own rules, and changes nothing', () => {
    const dir = fixtureCopy();
    const raw = new Database(join(dir, DB_FILE));
    raw.exec('DROP TRIGGER audit_log_no_update');
    const row = raw.prepare('SELECT entry FROM audit_log WHERE seq = 12').get() as { entry: string };
    raw.prepare('UPDATE audit_log SET entry = ? WHERE seq = 12').run(row.entry.replace('"ops-1"', '"ops-9"'));
    raw.close();
    const contents = (): unknown => {
      const d = new Database(join(dir, DB_FILE), { readonly: true });
      try {
        return {
          version: d.pragma('user_version', { simple: true }),
          schema: d.prepare('SELECT type, name, sql FROM sqlite_master ORDER BY name').all(),
          audit: d.prepare('SELECT * FROM audit_log ORDER BY seq').all(),
          meta: d.prepare('SELECT * FROM meta ORDER BY name').all(),
        };
      } finally {
        d.close();
      }
    };
    const before = contents();
    let thrown: unknown;
    try {
      openDatabase(dir).close();
    } catch (error) {
      thrown = error;
    }
    expect(codeOf(thrown)).toBe('CORRUPT_FILE');
    expect((thrown as Error).message).toMatch(/Audit entry 12 was changed after it was written.*Nothing was changed/);
    // SQLite's header changes when the file is opened in WAL mode; every row and table stays.
    expect(contents()).toEqual(before);
    expect((before as { version: number }).version).toBe(2);
  });

  it('a fresh database starts the one chain at seq 0 with no migration entry', () => {
    const dir = tempDir();
    const db = openDatabase(dir, { create: true });
    try {
      expect(listAudit(db)).toEqual([]);
      expect(verifyAudit(db)).toMatchObject({ ok: true, entries: 0 });
    } finally {
      db.close();
    }
  });
});

