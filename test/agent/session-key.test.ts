// A recovery session's one-time key is destroyed when the session ends: not only set to NULL in the
// database, but gone from the database file and its write-ahead log.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { fixture, makeWorld, approvedSession } from './helpers';

function contains(haystack: Buffer, needle: Uint8Array): boolean {
  return haystack.indexOf(Buffer.from(needle)) !== -1;
}

describe('session key destruction', () => {
  it('leaves no copy of the sealed session key in custos-agent.db or its WAL after the session ends', async () => {
    const w = await makeWorld();
    await w.agent.importKeyshare('key-1', 'node-0', fixture('eddsa', 0));
    await w.agent.backup('key-1', 'node-0', {}, w.fingerprints, w.out, { qr: false });
    const { sessionId } = await approvedSession(w, { keyId: 'key-1', nodeId: 'node-0', mode: 'mixed' });
    const dbPath = join(w.dir, 'custos-agent.db');
    const reader = new Database(dbPath, { readonly: true });
    const row = reader.prepare('SELECT identity_sealed FROM recovery_sessions WHERE session_id = ?').get(sessionId) as { identity_sealed: Uint8Array | null };
    reader.close();
    const sealed = row.identity_sealed;
    expect(sealed).not.toBeNull();
    const files = (): Buffer => Buffer.concat([readFileSync(dbPath), existsSync(`${dbPath}-wal`) ? readFileSync(`${dbPath}-wal`) : Buffer.alloc(0)]);
    expect(contains(files(), sealed!)).toBe(true);

    await w.agent.cancelSession(sessionId);
    expect(contains(files(), sealed!)).toBe(false);
    w.agent.close();
  });
});
