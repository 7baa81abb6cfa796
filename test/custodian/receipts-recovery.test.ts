// Receipts (verified with openReceipt), recovery export (opened at the agent side with
// openRecoveryExport, also through its QR frames read back by jsqr and zbarimg) and inventory
// attestations (verified with verifyAttestation).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../shared/bytes';
import { fileHash } from '../../shared/crypto/hash';
import { openChallenge, openReceipt, openRecoveryExport, openRecoveryRequest, verifyAttestation, type InventoryItem } from '../../shared/protocol';
import { decodeQrImage } from '../../shared/qr/decode';
import { FrameAssembler } from '../../shared/qr/ur';
import { importEnvelopes } from '../../main/services/inbox';
import { answerChallenge } from '../../main/services/inventory';
import { installNodeVerifier } from '../../node/ed25519';
import { signReceipts, writeReceipts } from '../../main/services/receipts';
import { exportForRecovery, showRecoveryRequest, writeRecoveryExport } from '../../main/services/recovery';
import { softDelete } from '../../main/services/deletion';
import { auditEntrySchema } from '../../shared/audit/chain';
import { challenge, codeOf, createVault, makeAgent, makeSet, meOf, NOW, pinned, pinTestApprovers, recoveryRequest, tempDir, testClock } from './helpers';

installNodeVerifier();

function readQr(path: string): string {
  const png = PNG.sync.read(readFileSync(path));
  const text = decodeQrImage(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height);
  if (text === null) throw new Error(`no QR code found in ${path}`);
  return text;
}

describe('receipts', () => {
  it('signs accepted receipts in batch and rejected ones for refusals; the agent verifies them', async () => {
    const v = await createVault();
    const agent = makeAgent();
    await pinned(v, agent);
    const sets = [];
    for (let i = 0; i < 4; i++) sets.push(await makeSet(agent.id, meOf(v), { keyId: `key-${String(i)}` }));
    const expired = await makeSet(agent.id, meOf(v), { keyId: 'late', notAfter: NOW - 10 });
    await importEnvelopes(v, [...sets.map((s) => ({ bytes: s.envelope })), { name: 'late.custos', bytes: expired.envelope }]);

    // A share the custodian rejected is not swept up by "accept all".
    const fifth = await makeSet(agent.id, meOf(v), { keyId: 'doubtful' });
    await importEnvelopes(v, [{ bytes: fifth.envelope }]);
    const [doubt] = await signReceipts(v, { ids: [toHex(fileHash(fifth.envelope))], status: 'rejected', reason: 'OTHER', note: 'not expected' });
    expect(doubt?.body.status).toBe('rejected');

    const accepted = await signReceipts(v, { ids: 'all', status: 'accepted' });
    expect(accepted).toHaveLength(4);
    expect(accepted.map((r) => r.id)).not.toContain(doubt?.id);
    for (const r of accepted) {
      const opened = openReceipt(r.bytes, fromHex(v.info.signKey));
      const set = sets.find((s) => toHex(fileHash(s.envelope)) === r.id)!;
      expect(opened.body).toMatchObject({ status: 'accepted', key_id: set.manifest.key_id, share_index: 3, epoch: 1 });
      expect(opened.body.envelope_hash).toEqual(fileHash(set.envelope));
    }
    expect(v.state.shares.filter((s) => s.id !== doubt?.id).every((s) => s.status === 'confirmed')).toBe(true);
    // Nothing left to accept.
    expect(await signReceipts(v, { ids: 'all', status: 'accepted' })).toHaveLength(0);

    const rejected = await signReceipts(v, { ids: 'all', status: 'rejected', note: 'expired on arrival' });
    expect(rejected).toHaveLength(1);
    const body = openReceipt(rejected[0]!.bytes, v.identity.signing.publicKey).body;
    expect(body).toMatchObject({ status: 'rejected', reason: 'EXPIRED', key_id: 'late', note: 'expired on arrival' });
    expect(body.envelope_hash).toEqual(fileHash(expired.envelope));

    // Rejecting a held share needs a reason; accepting a refused envelope is refused; a bad id changes nothing.
    const oneId = accepted[0]!.id;
    expect(await codeOf(() => signReceipts(v, { ids: [oneId], status: 'rejected' }))).toBe('USAGE');
    expect(await codeOf(() => signReceipts(v, { ids: [rejected[0]!.id.slice(0, 10)], status: 'accepted' }))).toBe('INVALID_STATE');
    const gen = v.state.generation;
    expect(await codeOf(() => signReceipts(v, { ids: [oneId, 'deadbeefdeadbeef'], status: 'rejected', reason: 'OTHER' }))).toBe('NOT_FOUND');
    expect(v.state.generation).toBe(gen);
    expect(v.state.shares.find((s) => s.id === oneId)!.receipts).toHaveLength(1);

    // Files and QR frames.
    const out = tempDir();
    const files = await writeReceipts(accepted.slice(0, 1), out, { png: true, svg: true });
    expect(new Uint8Array(readFileSync(files[0]!.file))).toEqual(accepted[0]!.bytes);
    expect(files[0]!.png).toHaveLength(1);
    const asm = new FrameAssembler({ type: 'custos-receipt' });
    asm.add(readQr(files[0]!.png[0]!));
    expect(asm.result().payload).toEqual(accepted[0]!.bytes);
    expect(readFileSync(files[0]!.svg[0]!, 'utf8')).toMatch(/^<svg/);
  });
});

describe('recovery export', () => {
  it('shows the request in plain words, requires a confirmation, and exports what the agent opens', async () => {
    const clock = testClock();
    const v = await createVault({ clock: clock.fn });
    const agent = makeAgent();
    await pinned(v, agent);
    await pinTestApprovers(v);
    const set = await makeSet(agent.id, meOf(v));
    await importEnvelopes(v, [{ bytes: set.envelope }]);
    const s = await recoveryRequest(agent.id, set, { incident: 'INC-7' });

    const summary = showRecoveryRequest(v, s.request);
    expect(summary).toMatchObject({
      incidentId: 'INC-7',
      keyId: 'key-1',
      nodeId: 'node-1',
      setId: toHex(set.setId),
      mode: 'external-only',
      notAfter: NOW + 3600,
      exportable: true,
      share: { shareIndex: 3, status: 'received' },
      agent: { name: 'agent node-1', code: agent.code },
    });
    expect(summary.approvals.map((a) => a.name)).toEqual(['Alice (security)', 'Bob (business owner)']);
    expect(summary.approvals.every((a) => /^[0-9]{4}( [0-9]{4}){5}$/.test(a.code))).toBe(true);

    // No confirmation, or one for another request: refused (and audited), nothing exported.
    expect(await codeOf(() => exportForRecovery(v, s.request, undefined))).toBe('CONFIRMATION_REQUIRED');
    const other = await recoveryRequest(agent.id, set, { incident: 'INC-8' });
    expect(await codeOf(() => exportForRecovery(v, s.request, showRecoveryRequest(v, other.request).confirmation))).toBe('CONFIRMATION_REQUIRED');
    expect(v.state.shares[0]!.status).toBe('received');
    const refusedAudit = v.state.audit.entries.map((e) => auditEntrySchema.parse(e)).filter((e) => e.fields.event === 'export');
    expect(refusedAudit.map((e) => e.fields.result)).toEqual(['refused', 'refused']);

    const result = await exportForRecovery(v, s.request, summary.confirmation);
    expect(v.state.shares[0]!.status).toBe('exported');
    expect(v.state.shares[0]!.exports).toHaveLength(1);

    // The agent's side.
    const req = openRecoveryRequest(s.request, agent.id.signing.publicKey, NOW + 10);
    const registered = [{ signKey: v.identity.signing.publicKey, ageRecipient: v.info.ageRecipient }];
    const opened = await openRecoveryExport(result.bytes, req, registered, s.sessionIdentity);
    expect(opened.shareIndex).toBe(3);
    expect(opened.share).toEqual(set.share);

    // As files and QR frames (PNG read back by jsqr and by zbarimg, SVG written).
    const out = tempDir();
    const files = await writeRecoveryExport(result, out, { png: true, svg: true });
    expect(new Uint8Array(readFileSync(files.file))).toEqual(result.bytes);
    expect(files.png.length).toBeGreaterThanOrEqual(1);
    expect(files.svg).toHaveLength(files.png.length);
    const asm = new FrameAssembler({ type: 'custos-recovery-export' });
    for (const p of files.png) asm.add(readQr(p));
    expect(asm.result().payload).toEqual(result.bytes);
    const zbar = spawnSync('zbarimg', ['--raw', '-q', '-Sdisable', '-Sqrcode.enable', files.png[0]!], { encoding: 'utf8' });
    if (zbar.error !== undefined) throw new Error('zbarimg is missing: apt-get install -y zbar-tools');
    expect(zbar.stdout.trim().toLowerCase()).toBe(files.frames[0]);

    // Expired request; a deleted share.
    clock.advance(7200);
    expect(await codeOf(() => showRecoveryRequest(v, s.request))).toBe('EXPIRED');
    const s2 = await recoveryRequest(agent.id, set, { notAfter: NOW + 86_400 * 30 });
    await softDelete(v, v.state.shares[0]!.id);
    const blocked = showRecoveryRequest(v, s2.request);
    expect(blocked.exportable).toBe(false);
    expect(blocked.problem?.code).toBe('INVALID_STATE');
    expect(await codeOf(() => exportForRecovery(v, s2.request, blocked.confirmation))).toBe('INVALID_STATE');
  });

  it('says so when the vault holds no share of the requested set', async () => {
    const v = await createVault();
    const agent = makeAgent();
    await pinned(v, agent);
    const set = await makeSet(agent.id, meOf(v));
    const s = await recoveryRequest(agent.id, set);
    const summary = showRecoveryRequest(v, s.request);
    expect(summary.exportable).toBe(false);
    expect(summary.problem?.code).toBe('NO_MATCHING_SHARE');
    expect(summary.problem?.message['zh-CN']).toMatch(/[\u4e00-\u9fff]/);
  });
});

describe('inventory', () => {
  it('answers a challenge with an attestation the agent verifies: proven for held shares, missing otherwise', async () => {
    const v = await createVault();
    const agent = makeAgent();
    await pinned(v, agent);
    const held = await makeSet(agent.id, meOf(v), { keyId: 'held' });
    const deleted = await makeSet(agent.id, meOf(v), { keyId: 'deleted' });
    const never = await makeSet(agent.id, meOf(v), { keyId: 'never' });
    await importEnvelopes(v, [{ bytes: held.envelope }, { bytes: deleted.envelope }]);
    await softDelete(v, toHex(fileHash(deleted.envelope)));
    const ch = challenge(agent.id, meOf(v), [held, deleted, never]);
    const answer = await answerChallenge(v, ch.bytes);
    expect(answer.items.map((i) => [i.key_id, i.answer, i.local])).toEqual([
      ['held', 'held', 'held'],
      ['deleted', 'held', 'deleted'],
      ['never', 'missing', 'not-held'],
    ]);
    const sets = [held, deleted, never];
    const possession = (item: InventoryItem): Uint8Array | undefined => sets.find((s) => s.manifest.key_id === item.key_id)?.manifest.shares[item.share_index - 1]?.possession_key;
    const agentView = openChallenge(ch.bytes, agent.id.signing.publicKey, v.fingerprint, NOW);
    const { verdicts } = verifyAttestation(answer.bytes, agentView, fromHex(v.info.signKey), possession);
    expect(verdicts.map((x) => x.result)).toEqual(['proven', 'proven', 'missing']);
  });
});
