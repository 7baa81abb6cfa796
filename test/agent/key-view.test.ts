/**
 * The key-level view per node (issue 11 §3) and the stale status of a backup set (§2):
 * - tss-lib's t from the public data (t+1 BigXj interpolate to the group key, t do not), the party
 *   count and the group key fingerprint, checked against noble's own point encoding;
 * - stored at import, shown by GetBackupStatus and listNodes, changed by a resharing;
 * - a resharing marks the old set stale in `backup_sets`, and its supersede notices say so, while a
 *   rotation's notices carry no reason;
 * - migration 4 backfills an older database (columns absent, stale marks in `meta` rows).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { Agent } from '../../agent/service';
import { DB_FILE, SCHEMA_VERSION } from '../../agent/db';
import { keyViewOf, migrateKeyView, tssThresholdOf } from '../../agent/keyshare/key-view';
import { toHex } from '../../shared/bytes';
import { parseKeydata, splitKeydata, type EcPoint, type PublicContext } from '../../shared/keydata';
import { custodianIdentityFingerprint } from '../../shared/protocol';
import { openSupersede } from '../../shared/protocol/supersede';
import { createWorld, fixture, type World } from '../rpc/world';
import { bearer, RecordingLogger } from '../rpc/helpers';
import { createClient, createRouterTransport } from '@connectrpc/connect';
import { BackupService } from '../../proto/gen/infra/v1/backup_pb';
import { createRpc } from '../../agent/rpc/router';
import { agentOps } from '../../agent/rpc/agent-ops';

const contextOf = (curve: 'ecdsa' | 'eddsa', party: number): PublicContext => splitKeydata(parseKeydata(fixture(curve, party))).context;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The fingerprint computed with noble's own encodings (an independent implementation of SEC1 / RFC 8032). */
function nobleFingerprint(c: PublicContext): string {
  const p: EcPoint = c.curve === 'secp256k1' ? c.ECDSAPub : c.EDDSAPub;
  const [x, y] = p.Coords;
  return c.curve === 'secp256k1' ? sha(secp256k1.Point.fromAffine({ x, y }).toBytes(true)) : sha(ed25519.Point.fromAffine({ x, y }).toBytes());
}

describe('the key view of a public context', () => {
  it('derives t = 2 of the 3-of-5 fixtures, 5 parties, and the group key fingerprint, alike at every party', () => {
    for (const curve of ['ecdsa', 'eddsa'] as const) {
      const views = [0, 1, 2].map((p) => keyViewOf(contextOf(curve, p)));
      for (const v of views) expect(v).toEqual({ curve: curve === 'ecdsa' ? 'secp256k1' : 'ed25519', tssThreshold: 2, parties: 5, groupKeyFingerprint: nobleFingerprint(contextOf(curve, 0)) });
      expect(views[0]?.groupKeyFingerprint).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(keyViewOf(contextOf('ecdsa', 0))?.groupKeyFingerprint).not.toBe(keyViewOf(contextOf('eddsa', 0))?.groupKeyFingerprint);
  });

  it('finds t by interpolation, not by counting: another group key gives another t, or none', () => {
    const c = contextOf('ecdsa', 0);
    if (c.curve !== 'secp256k1') throw new Error('fixture');
    // A "group key" equal to party 0's public share is interpolated by that one party: t = 0.
    expect(tssThresholdOf({ ...c, ECDSAPub: c.BigXj[0]! })).toBe(0);
    // The generator is no interpolation of any prefix of these shares.
    const g = secp256k1.Point.BASE.toAffine();
    expect(tssThresholdOf({ ...c, ECDSAPub: { Curve: 'secp256k1', Coords: [g.x, g.y] } })).toBeUndefined();
    expect(keyViewOf({ ...c, ECDSAPub: { Curve: 'secp256k1', Coords: [g.x, g.y] } })).toBeUndefined();
    // The self-check's t+1 is used when given (and ignored when out of range).
    expect(keyViewOf(c, 3)?.tssThreshold).toBe(2);
    expect(keyViewOf(c, 99)?.tssThreshold).toBe(2);
  });
});

describe('the key view and stale sets in the agent', () => {
  let w: World;
  let outDir = '';
  let firstSet = '';
  let secondSet = '';

  beforeAll(async () => {
    w = await createWorld({ keyId: 'key-1', nodeId: 'node-1' });
    outDir = join(w.dir, 'auto');
  });
  afterAll(() => {
    w.close();
  });

  it('stores t, parties and the fingerprint at import and reports them in status and the node list', () => {
    const fp = nobleFingerprint(contextOf('ecdsa', 0));
    expect(w.imported).toMatchObject({ tssThreshold: 2, parties: 5, groupKeyFingerprint: fp });
    expect(w.agent.getBackupStatus('key-1', 'node-1')).toMatchObject({ tssThreshold: 2, parties: 5, groupKeyFingerprint: fp, staleSetIds: [], recoverable: false });
    expect(w.agent.listNodes()[0]).toMatchObject({ tssThreshold: 2, groupKeyFingerprint: fp });
  });

  it('GetBackupStatus carries them over the RPC (tss_threshold, parties, group_key_fingerprint)', async () => {
    const rpc = createRpc({ ops: agentOps(w.agent), token: w.token, logger: new RecordingLogger() });
    const t = createRouterTransport(rpc.routes, { router: rpc.routerOptions, transport: { interceptors: [bearer(w.token)] } });
    const st = await createClient(BackupService, t).getBackupStatus({ keyId: 'key-1', nodeId: 'node-1' });
    expect(st).toMatchObject({ tssThreshold: 2, parties: 5, groupKeyFingerprint: nobleFingerprint(contextOf('ecdsa', 0)), recoverable: false, staleSetIds: [] });
  });

  it('a rotation supersedes without a reason; a resharing marks the old set stale and its notices say so', async () => {
    const fps = w.custodians.map((c) => toHex(custodianIdentityFingerprint(c)));
    const me = (i: number): Uint8Array => custodianIdentityFingerprint(w.custodians[i]!);
    const rotated = await w.agent.backup('key-1', 'node-1', {}, fps, join(w.dir, 'rotation'), { qr: false });
    const rotationNotice = rotated.superseded?.notices[0];
    if (rotationNotice === undefined) throw new Error('no notice');
    const opened = openSupersede(new Uint8Array(readFileSync(rotationNotice.file)), w.agent.publicKey, me(0));
    expect(opened.body.reason).toBeUndefined();
    expect(w.agent.getBackupStatus('key-1', 'node-1').staleSetIds).toEqual([]);
    firstSet = rotated.setId;

    await w.agent.capabilities.nodeImports.configure({ threshold: 3, total: 5, retain: 2, custodians: fps, outDir });
    const r = await w.agent.capabilities.nodeImports.importFromNode('key-1', 'node-1', fixture('ecdsa', 1));
    expect(r).toMatchObject({ outcome: 'reshared', stale: { setId: firstSet, epoch: 2 } });
    secondSet = r.setId;
    const st = w.agent.getBackupStatus('key-1', 'node-1');
    expect(st).toMatchObject({ setId: secondSet, staleSetIds: [firstSet], tssThreshold: 2, parties: 5 });
    expect(w.agent.capabilities.nodeImports.staleSets('key-1', 'node-1')).toEqual([expect.objectContaining({ setId: firstSet, epoch: 2, reason: 'reshared', replacedBy: secondSet })]);
    const notices = readdirSync(outDir).filter((f) => f.endsWith('.supersede.cbor')).sort();
    expect(notices).toHaveLength(3);
    const bodies = notices.map((f, i) => openSupersede(new Uint8Array(readFileSync(join(outDir, f))), w.agent.publicKey, me(i)).body);
    for (const b of bodies) expect(b).toMatchObject({ reason: 'reshared', old_epoch: 2, new_epoch: 3 });
    const stale = w.agent.auditEntries({ limit: 100000 }).map((x) => x.entry).filter((e) => e.action === 'backup-set-stale');
    expect(stale.map((e) => ({ set: e.set_id, result: e.result, reason: e.details?.['reason'], by: e.details?.['new_set_id'] }))).toEqual([{ set: firstSet, result: 'ok', reason: 'reshared', by: secondSet }]);
  });

  it('migration 4 fills the key view in and moves stale marks out of meta rows, on a database from before it', async () => {
    const data = join(w.dir, 'data');
    w.agent.close();
    const db = new Database(join(data, DB_FILE));
    // Back to what the schema had before migration 4: no key-view or stale columns, the stale mark as a meta row.
    db.prepare('INSERT INTO meta (name, value) VALUES (?, ?)').run(`stale_set:${firstSet}`, JSON.stringify({ epoch: 2, at: 1_700_000_000_000, reason: 'reshared', replacedBy: secondSet }));
    for (const [t, col] of [['nodes', 'tss_threshold'], ['nodes', 'group_key_fingerprint'], ['backup_sets', 'stale_reason'], ['backup_sets', 'stale_at'], ['backup_sets', 'stale_replaced_by']] as const) {
      db.exec(`ALTER TABLE ${t} DROP COLUMN ${col}`);
    }
    // The migration itself, in a transaction as agent/db.ts runs it (later migrations stay applied).
    db.transaction(() => {
      migrateKeyView(db);
    }).immediate();
    db.close();

    const agent = await Agent.open(data, { operator: 'test' });
    try {
      const raw = new Database(join(data, DB_FILE), { readonly: true });
      expect(raw.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(raw.prepare("SELECT COUNT(*) AS n FROM meta WHERE name LIKE 'stale_set:%'").get()).toEqual({ n: 0 });
      expect(raw.prepare('SELECT stale_reason, stale_at, stale_replaced_by FROM backup_sets WHERE set_id = ?').get(firstSet)).toEqual({ stale_reason: 'reshared', stale_at: 1_700_000_000_000, stale_replaced_by: secondSet });
      raw.close();
      expect(agent.getBackupStatus('key-1', 'node-1')).toMatchObject({ staleSetIds: [firstSet], tssThreshold: 2, parties: 5, groupKeyFingerprint: nobleFingerprint(contextOf('ecdsa', 0)) });
    } finally {
      agent.close();
    }
    const dir = w.dir;
    w = { ...w, close: () => {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
});
