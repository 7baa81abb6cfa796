// The whole agent loop on real tss-lib keydata, both curves (issue 3 "Tests"): import, backup
// 3-of-5 retaining 2, envelopes opened and receipts signed by custodian identities, files deleted,
// recovery in mixed mode (2 server + 1 external) and external-only mode (3 external), and
// external-only recovery from a peer's keydata after the whole keys directory is gone. Every
// regenerated keydata must be byte-identical to tss-lib's compact form of the original.
import Database from 'better-sqlite3';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DB_FILE } from '../../agent/db';
import { assembleQrPngs, UR_TYPES } from '../../node/qr-files';
import { openManifest } from '../../shared/protocol';
import { toHex } from '../../shared/bytes';
import { fileHash } from '../../shared/crypto/hash';
import {
  approvedSession,
  compactFixture,
  exportFor,
  fixture,
  makeWorld,
  openAllEnvelopes,
  receiptFor,
  removeTempDirs,
  type Scheme,
  type World,
} from './helpers';

afterAll(removeTempDirs);

function sessionKeyOf(w: World, sessionId: string): Uint8Array | null {
  const db = new Database(join(w.dir, DB_FILE), { readonly: true });
  try {
    return (db.prepare('SELECT identity_sealed FROM recovery_sessions WHERE session_id = ?').get(sessionId) as { identity_sealed: Uint8Array | null }).identity_sealed;
  } finally {
    db.close();
  }
}

describe.each(['eddsa', 'ecdsa'] as const)('the full agent loop, %s', (scheme: Scheme) => {
  it('imports, backs up, delivers, confirms, and recovers mixed, external-only and from a peer, byte for byte', async () => {
    const w = await makeWorld();
    const { agent } = w;
    const original = compactFixture(scheme, 0);

    // Import: stored encrypted, the keydata comes back as tss-lib's compact form.
    const imported = await agent.importKeyshare('key-1', 'node-0', fixture(scheme, 0));
    expect(imported).toMatchObject({ keyId: 'key-1', nodeId: 'node-0', curve: scheme === 'ecdsa' ? 'secp256k1' : 'ed25519', partyIndex: 0, parties: 5 });
    expect(imported.keydataSha256).toBe(toHex(fileHash(original)));
    expect(imported.selfCheck.every((c) => c.ok)).toBe(true);
    for (const f of ['node-0.enc', 'node-0.keydata.enc']) expect(statSync(join(w.dir, 'keys', 'key-1', f)).mode & 0o777).toBe(0o600);
    expect(await agent.exportKeydata('key-1', 'node-0')).toEqual(original);

    // Backup 3-of-5, the server keeps 2; envelopes, QR frames and the manifest go to the out dir.
    const backup = await agent.backup('key-1', 'node-0', { threshold: 3, total: 5, retain: 2 }, w.fingerprints, w.out);
    expect(backup).toMatchObject({ epoch: 1, threshold: 3, total: 5, retainedIndexes: [1, 2] });
    expect(backup.envelopes.map((e) => [e.shareIndex, e.custodian])).toEqual([
      [3, w.fingerprints[0]],
      [4, w.fingerprints[1]],
      [5, w.fingerprints[2]],
    ]);
    const manifest = openManifest(new Uint8Array(readFileSync(backup.manifestFile)), agent.publicKey).body;
    expect(manifest.shares.map((s) => s.custodian === null)).toEqual([true, true, false, false, false]);
    for (const i of [1, 2]) expect(existsSync(join(w.dir, 'backup', 'key-1', 'node-0', backup.setId, `${String(i)}.enc`))).toBe(true);
    const first = backup.envelopes[0]!;
    expect(first.qrFrames.length).toBeGreaterThan(0);
    const fromQr = assembleQrPngs(
      first.qrFrames.map((f) => new Uint8Array(readFileSync(f))),
      UR_TYPES.envelope,
    );
    expect(fromQr).toEqual(new Uint8Array(readFileSync(first.file)));

    // Delivery: hand out, custodians open with every check and sign receipts; the agent confirms.
    for (const e of backup.envelopes) {
      const d = await agent.requestShareDelivery({ keyId: 'key-1', nodeId: 'node-0', shareIndex: e.shareIndex });
      expect(d.envelope).toEqual(new Uint8Array(readFileSync(e.file)));
      expect(d.status).toMatchObject({ status: 'delivered', envelopeSha256: e.sha256 });
    }
    const held = await openAllEnvelopes(w, backup);
    for (const [index, h] of held) {
      const status = await agent.confirmShareDelivery(receiptFor(w, backup, h, index));
      expect(status).toMatchObject({ shareIndex: index, status: 'confirmed' });
    }
    expect(agent.getBackupStatus('key-1', 'node-0')).toMatchObject({
      setId: backup.setId,
      serverSharesHeld: 2,
      externalDelivered: 3,
      externalConfirmed: 3,
      recoverable: true,
      externalOnlyRecoverable: true,
    });
    const listed = agent.listBackupShares('key-1', 'node-0');
    expect(listed.map((s) => [s.shareIndex, s.state, s.commitment])).toEqual([
      [1, 'held', toHex(manifest.shares[0]!.commitment)],
      [2, 'held', toHex(manifest.shares[1]!.commitment)],
    ]);
    for (const s of listed) expect(Object.keys(s).sort()).toEqual(['commitment', 'createdAt', 'epoch', 'keyId', 'nodeId', 'setId', 'setState', 'shareIndex', 'state']);

    // The node loses its files. Mixed recovery: the 2 server shares and 1 external export.
    const keysDir = join(w.dir, 'keys', 'key-1');
    rmSync(join(keysDir, 'node-0.enc'));
    rmSync(join(keysDir, 'node-0.keydata.enc'));
    await expect(agent.exportKeydata('key-1', 'node-0')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const mixed = await approvedSession(w, { keyId: 'key-1', nodeId: 'node-0', mode: 'mixed' });
    expect(agent.getSession(mixed.sessionId)).toMatchObject({ state: 'collecting', serverAvailable: [1, 2], missing: [3, 4, 5], requestIssued: true });
    const sub = await agent.submitExports(mixed.sessionId, [await exportFor(w, mixed.request, held.get(4)!, 4)]);
    expect(sub).toMatchObject({ accepted: [4], refused: [] });
    expect(sessionKeyOf(w, mixed.sessionId)).not.toBeNull();
    const outMixed = await agent.completeRecovery(mixed.sessionId);
    expect(outMixed).toMatchObject({ success: true, sharesUsed: { server: 2, external: 1 }, indexesUsed: [1, 2, 4], contextSource: 'stored', written: true });
    expect(outMixed.session.state).toBe('completed');
    expect(outMixed.selfCheck.every((c) => c.ok)).toBe(true);
    expect(sessionKeyOf(w, mixed.sessionId)).toBeNull();
    expect(await agent.exportKeydata('key-1', 'node-0')).toEqual(original);

    // External-only: 3 custodian exports, the server's shares are not used.
    rmSync(join(keysDir, 'node-0.enc'));
    rmSync(join(keysDir, 'node-0.keydata.enc'));
    const ext = await approvedSession(w, { keyId: 'key-1', nodeId: 'node-0', mode: 'external-only', incidentId: 'INC-2026-0043' });
    expect(agent.getSession(ext.sessionId).serverAvailable).toEqual([]);
    const exports = await Promise.all([3, 4, 5].map((i) => exportFor(w, ext.request, held.get(i)!, i)));
    expect(await agent.submitExports(ext.sessionId, exports)).toMatchObject({ accepted: [3, 4, 5], refused: [] });
    const outExt = await agent.completeRecovery(ext.sessionId);
    expect(outExt).toMatchObject({ success: true, sharesUsed: { server: 0, external: 3 }, indexesUsed: [3, 4, 5] });
    expect(await agent.exportKeydata('key-1', 'node-0')).toEqual(original);

    // The server lost everything under keys/: external-only, public context from a peer's file.
    rmSync(join(w.dir, 'keys'), { recursive: true });
    const peer = await approvedSession(w, { keyId: 'key-1', nodeId: 'node-0', mode: 'external-only', incidentId: 'INC-2026-0044' });
    await agent.submitExports(peer.sessionId, await Promise.all([5, 3, 4].map((i) => exportFor(w, peer.request, held.get(i)!, i))));
    const outPeer = await agent.completeRecovery(peer.sessionId, { peerKeydata: fixture(scheme, 1) });
    expect(outPeer).toMatchObject({ success: true, contextSource: 'peer', sharesUsed: { server: 0, external: 3 } });
    expect(await agent.exportKeydata('key-1', 'node-0')).toEqual(original);
    const inspect = await agent.inspectNode('key-1', 'node-0');
    expect(inspect).toMatchObject({ shareFile: 'ok', keydataFile: 'ok', consistent: true, ok: true });

    // A drill: everything verified, nothing written, recorded for GetBackupStatus.
    const drill = await approvedSession(w, { keyId: 'key-1', nodeId: 'node-0', mode: 'external-only', incidentId: 'DRILL-2026-Q3' });
    await agent.submitExports(drill.sessionId, await Promise.all([3, 4, 5].map((i) => exportFor(w, drill.request, held.get(i)!, i))));
    w.clock.advance(2);
    const outDrill = await agent.completeRecovery(drill.sessionId, { drill: true });
    expect(outDrill).toMatchObject({ success: true, written: false });
    expect(agent.getBackupStatus('key-1', 'node-0').lastDrill).toMatchObject({ ok: true, mode: 'external-only', setId: backup.setId });

    // The audit log holds every step and verifies.
    const audit = agent.verifyAudit();
    expect(audit.ok).toBe(true);
    const events = new Set(agent.auditEntries().map((e) => `${e.entry.event}/${e.entry.action}/${e.entry.result}`));
    for (const e of [
      'import/keyshare/ok',
      'generate/backup-set/ok',
      'generate/share-envelope/ok',
      'deliver/envelope/ok',
      'confirm/receipt/ok',
      'recover/approval-add/ok',
      'recover/export-submit/ok',
      'recover/session-complete/ok',
      'drill/session-drill/ok',
    ]) {
      expect(events, e).toContain(e);
    }
    const delivered = agent.auditEntries().find((e) => e.entry.event === 'confirm');
    expect(delivered?.entry).toMatchObject({ key_id: 'key-1', node_id: 'node-0', set_id: backup.setId, operator: 'tester', envelope_sha256: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown });
    agent.close();
  });
});
