// The inbox: a batch of 500 envelopes with bad ones among the good, each refusal coded and worded
// in English and Chinese; one save for the whole batch and no KDF; duplicates and conflicting sets;
// supersede notices in the same batch as the new set.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderPng } from '../../shared/qr/render';
import { encodeFrames } from '../../shared/qr/ur';
import { assembleFrames } from '../../main/services/qr-import';
import { framesInText } from '../../shared/qr/assemble';
import { qrTextInPng as readQrPng } from '../../node/qr-files';
import { randomBytes } from '../../shared/bytes';
import { decodeCanonical, encodeCanonical } from '../../shared/protocol/cbor';
import { createAgentIdentity, makeEnvelope } from '../../shared/protocol';
import { importEnvelope, importEnvelopes, peekEnvelopeCoordinates, type ImportProgress } from '../../main/services/inbox';
import { countingKdf } from '../../main/services/kdf';
import { MESSAGES } from '../../main/services/messages';
import { installNodeVerifier } from '../../node/ed25519';
import { createVault, makeAgent, makeSet, meOf, NOW, PASSPHRASE, pinned, supersedeNotice, tempDir, testClock } from './helpers';

installNodeVerifier();

const CJK = /[\u4e00-\u9fff]/;

describe('inbox: batch import', () => {
  it('imports 500 envelopes with bad ones among them: per-envelope results, coded refusals in two languages, one save', async () => {
    const kdf = countingKdf();
    const clock = testClock(NOW + 60);
    const v = await createVault({ kdf, clock: clock.fn });
    const agent = makeAgent();
    await pinned(v, agent);
    const me = meOf(v);

    const good = [];
    for (let i = 0; i < 490; i++) good.push(await makeSet(agent.id, me, { keyId: `key-${String(i).padStart(4, '0')}` }));
    const items = good.map((s, i) => ({ name: `good-${String(i)}.custos`, bytes: s.envelope }));

    // The bad ones, each with the code it must get.
    const bad: { name: string; bytes: Uint8Array; code: string }[] = [];
    const tampered = decodeCanonical(good[0]!.envelope) as { s: Uint8Array };
    tampered.s[5]! ^= 1;
    bad.push({ name: 'tampered.custos', bytes: encodeCanonical(tampered), code: 'SIGNATURE_INVALID' });
    const someoneElse = await createVault();
    bad.push({ name: 'for-someone-else.custos', bytes: (await makeSet(agent.id, meOf(someoneElse), { keyId: 'other' })).envelope, code: 'WRONG_RECIPIENT' });
    bad.push({ name: 'expired.custos', bytes: (await makeSet(agent.id, me, { keyId: 'exp', notAfter: NOW + 30 })).envelope, code: 'EXPIRED' });
    bad.push({ name: 'future.custos', bytes: (await makeSet(agent.id, me, { keyId: 'fut', now: NOW + 86_400 })).envelope, code: 'NOT_YET_VALID' });
    bad.push({ name: 'rogue-agent.custos', bytes: (await makeSet(createAgentIdentity('rogue'), me, { keyId: 'rogue' })).envelope, code: 'UNTRUSTED_SIGNER' });
    bad.push({ name: 'garbage.custos', bytes: randomBytes(300), code: 'MALFORMED' });
    bad.push({ name: 'card.custos', bytes: agent.card, code: 'WRONG_TYPE' });
    // The same share, sealed again: not its commitment.
    const wrongShare = await makeSet(agent.id, me, { keyId: 'wrong-share' });
    const reSealed = await makeEnvelope(
      { manifestBytes: wrongShare.manifestBytes, manifest: wrongShare.manifest, shareIndex: 3, share: randomBytes(wrongShare.share.length), recipientFingerprint: me.fingerprint, recipientAge: me.ageRecipient, createdAt: NOW },
      agent.id.signing,
    );
    bad.push({ name: 'wrong-share.custos', bytes: reSealed, code: 'SHARE_COMMITMENT_MISMATCH' });
    bad.push({ name: 'again.custos', bytes: good[7]!.envelope, code: 'DUPLICATE_ENVELOPE' });
    // The same share of key-0008 in a second envelope (another creation time → another file hash).
    const again = await makeEnvelope(
      { manifestBytes: good[8]!.manifestBytes, manifest: good[8]!.manifest, shareIndex: 3, share: good[8]!.share, recipientFingerprint: me.fingerprint, recipientAge: me.ageRecipient, createdAt: NOW + 1 },
      agent.id.signing,
    );
    bad.push({ name: 'same-share.custos', bytes: again, code: 'DUPLICATE_SHARE' });
    expect(bad).toHaveLength(10);

    // Spread the bad ones through the batch.
    const all = [...items];
    for (const [j, b] of bad.entries()) all.splice(37 + j * 45, 0, b);
    expect(all).toHaveLength(500);

    const progress: ImportProgress[] = [];
    const generation = v.state.generation;
    const summary = await importEnvelopes(v, all, { onProgress: (p) => progress.push(p) });

    expect(summary).toMatchObject({ accepted: 490, refused: 10, aborted: false });
    expect(summary.results).toHaveLength(500);
    expect(progress).toHaveLength(500);
    expect(progress.at(-1)).toEqual({ done: 500, total: 500, accepted: 490, refused: 10 });
    expect(progress.every((p, i) => p.done === i + 1)).toBe(true);
    // One save for the batch, no KDF.
    expect(v.state.generation).toBe(generation + 1);
    expect(kdf.count).toBe(1);

    for (const b of bad) {
      const r = summary.results.find((x) => x.name === b.name)!;
      expect(r.outcome, b.name).toBe('refused');
      expect(r.code, b.name).toBe(b.code);
      expect(r.message?.en.length, b.name).toBeGreaterThan(20);
      expect(r.message?.['zh-CN'], b.name).toMatch(CJK);
      expect(r.message?.en).toBe(MESSAGES[b.code as keyof typeof MESSAGES].en);
    }
    const accepted = summary.results.filter((r) => r.outcome === 'accepted');
    expect(accepted.map((r) => r.name)).toEqual(items.map((i) => i.name));
    expect(v.state.shares).toHaveLength(490);
    expect(v.state.shares.every((s) => s.status === 'received')).toBe(true);
    // Refusals are remembered for rejected receipts, except the duplicate of a held envelope.
    expect(v.state.refusals.map((r) => r.code).sort()).toEqual(bad.map((b) => b.code).filter((c) => c !== 'DUPLICATE_ENVELOPE').sort());
    expect(v.state.refusals.find((r) => r.code === 'EXPIRED')?.fields).toMatchObject({ keyId: 'exp', shareIndex: 3 });
    expect(v.state.refusals.find((r) => r.code === 'MALFORMED')?.fields).toBeUndefined();
    // Every import and refusal is in the audit log.
    expect(v.state.audit.entries.length).toBeGreaterThanOrEqual(500);
  });

  it('reads coordinates from an unverified envelope only to label a refusal', async () => {
    const v = await createVault();
    const agent = makeAgent();
    const s = await makeSet(agent.id, meOf(v), { keyId: 'k', nodeId: 'n', epoch: 4 });
    expect(peekEnvelopeCoordinates(s.envelope)).toMatchObject({ keyId: 'k', nodeId: 'n', epoch: 4, shareIndex: 3 });
    expect(peekEnvelopeCoordinates(randomBytes(40))).toBeUndefined();
  });

  it('refuses everything while no agent is pinned', async () => {
    const v = await createVault();
    const agent = makeAgent();
    const s = await makeSet(agent.id, meOf(v));
    await expect(importEnvelope(v, s.envelope)).rejects.toMatchObject({ code: 'NOT_PINNED' });
  });
});

describe('inbox: QR codes', () => {
  it('reassembles envelopes from QR images and UR text, frames of two messages mixed, and refuses what is incomplete', async () => {
    const v = await createVault();
    const agent = makeAgent();
    await pinned(v, agent);
    const a = await makeSet(agent.id, meOf(v), { keyId: 'qr-a' });
    const b = await makeSet(agent.id, meOf(v), { keyId: 'qr-b' });
    const out = tempDir();
    // Small frames, so each envelope takes several codes.
    const framesA = encodeFrames(a.envelope, { type: 'custos-envelope', maxFragmentLength: 200, singleFrameMaxVersion: 5 });
    const framesB = encodeFrames(b.envelope, { type: 'custos-envelope', maxFragmentLength: 200, singleFrameMaxVersion: 5 });
    expect(framesA.length).toBeGreaterThan(1);
    const pngs = [];
    for (const [i, f] of framesA.entries()) {
      const p = join(out, `a-${String(i)}.png`);
      writeFileSync(p, await renderPng(f));
      pngs.push(p);
    }
    const sources = [
      ...pngs.map((p) => ({ name: p, frame: readQrPng(new Uint8Array(readFileSync(p)))! })),
      ...framesInText(framesB.join('\n')).map((frame) => ({ name: 'b.txt', frame })),
    ];
    // Interleave the two messages' frames, in another order.
    const mixed = sources.map((s, i) => ({ s, k: (i * 7) % sources.length })).sort((x, y) => x.k - y.k).map((x) => x.s);
    const { messages, problems } = assembleFrames(mixed);
    expect(problems).toEqual([]);
    expect(messages.map((m) => m.type)).toEqual(['custos-envelope', 'custos-envelope']);
    const summary = await importEnvelopes(v, messages.map((m) => ({ name: m.names.join(','), bytes: m.payload })));
    expect(summary.accepted).toBe(2);

    const partial = assembleFrames(framesA.slice(1).map((frame) => ({ name: 'partial', frame })));
    expect(partial.messages).toEqual([]);
    expect(partial.problems[0]?.problem.code).toBe('INCOMPLETE');
  });
});

describe('inbox: conflicting sets and supersede', () => {
  it('refuses another active set for the same key and node until the old one is superseded', async () => {
    const v = await createVault();
    const agent = makeAgent();
    await pinned(v, agent);
    const me = meOf(v);
    const a = await makeSet(agent.id, me, { epoch: 1 });
    const b = await makeSet(agent.id, me, { epoch: 2 });
    const otherNode = await makeSet(agent.id, me, { epoch: 2, nodeId: 'node-2' });
    expect((await importEnvelope(v, a.envelope)).outcome).toBe('accepted');
    const conflict = await importEnvelope(v, b.envelope, 'b.custos');
    expect(conflict).toMatchObject({ outcome: 'refused', code: 'CONFLICTING_SET' });
    expect(conflict.message?.en).toContain('epoch 1');
    expect(conflict.message?.['zh-CN']).toContain('纪元 1');
    expect((await importEnvelope(v, otherNode.envelope)).outcome).toBe('accepted');

    // The notice and the new envelope in one batch: the notice is applied first.
    const notice = supersedeNotice(agent.id, me, a, b, NOW + 30 * 86_400);
    const summary = await importEnvelopes(v, [
      { name: 'b.custos', bytes: b.envelope },
      { name: 'notice.custos', bytes: notice },
    ]);
    expect(summary.results.map((r) => [r.kind, r.outcome])).toEqual([
      ['envelope', 'accepted'],
      ['supersede', 'applied'],
    ]);
    const old = v.state.shares.find((s) => s.epoch === 1)!;
    expect(old.status).toBe('superseded');
    expect(old.superseded?.destroyAfter).toBe(NOW + 30 * 86_400);
    // The refusal of b was forgotten once b was accepted.
    expect(v.state.refusals).toHaveLength(0);

    // Another envelope of the superseded set: refused as superseded.
    const aAgain = await makeEnvelope(
      { manifestBytes: a.manifestBytes, manifest: a.manifest, shareIndex: 3, share: a.share, recipientFingerprint: me.fingerprint, recipientAge: me.ageRecipient, createdAt: NOW + 5 },
      agent.id.signing,
    );
    // Same share coordinates as the one held → DUPLICATE_SHARE is found first.
    expect((await importEnvelope(v, aAgain)).code).toBe('DUPLICATE_SHARE');
    const fresh = await createVault();
    await pinned(fresh, agent);
    const c1 = await makeSet(agent.id, meOf(fresh), { epoch: 1 });
    const c2 = await makeSet(agent.id, meOf(fresh), { epoch: 2 });
    await importEnvelopes(fresh, [{ bytes: supersedeNotice(agent.id, meOf(fresh), c1, c2, NOW + 10) }]);
    expect((await importEnvelope(fresh, c1.envelope)).code).toBe('SET_SUPERSEDED');
    expect((await importEnvelope(fresh, c2.envelope)).outcome).toBe('accepted');
  });

  it('stops a batch when asked and keeps what was accepted', async () => {
    const v = await createVault();
    const agent = makeAgent();
    await pinned(v, agent);
    const sets = [];
    for (let i = 0; i < 6; i++) sets.push(await makeSet(agent.id, meOf(v), { keyId: `k${String(i)}` }));
    const ctrl = new AbortController();
    const summary = await importEnvelopes(
      v,
      sets.map((s) => ({ bytes: s.envelope })),
      {
        saveEvery: 2,
        onProgress: (p) => {
          if (p.done === 3) ctrl.abort();
        },
        signal: ctrl.signal,
      },
    );
    expect(summary.aborted).toBe(true);
    expect(summary.accepted).toBe(3);
    await v.lock();
    await v.unlock(PASSPHRASE);
    expect(v.state.shares).toHaveLength(3);
  });
});
