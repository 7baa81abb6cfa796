// receipts:sequence (issue 13): a batch of receipts laid out in main as ONE animated QR sequence,
// without pictures. Each receipt comes back with what it answers, its bytes and its pure frame
// count at every density, the same count the frames themselves have; a receipt the vault recorded
// is known by its hash, any other must carry this vault's signature (the same answer with the vault
// locked, where only the signature can tell); a receipt of someone else, an envelope, or a
// receipt with one bit of its signature changed is refused with its code and the file's name; progress is reported.
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../shared/bytes';
import { fileHash } from '../../shared/crypto/hash';
import { createCustodianIdentity } from '../../shared/protocol';
import { decodeCanonical, encodeCanonical } from '../../shared/protocol/cbor';
import { makeReceipt, openReceipt } from '../../shared/protocol/receipt';
import { DENSITIES, framesAt } from '../../shared/qr/loop';
import { FrameAssembler } from '../../shared/qr/ur';
import { makeAgent, makeSet, NOW, PASSPHRASE } from '../custodian/helpers';
import { call, file, harness, refused, withVault } from './helpers';

const idOf = (s: { envelope: Uint8Array }): string => toHex(fileHash(s.envelope));

describe('receipts:sequence', () => {
  it('lays out every receipt of a batch with its frame counts, known by hash or by signature', async () => {
    const h = harness();
    await withVault(h);
    const v = await h.ctx.vault();
    const me = { fingerprint: v.fingerprint, ageRecipient: v.info.ageRecipient };
    const agent = makeAgent();
    await call(h, 'trust:pin', { card: file('agent.custos', agent.card), confirmCode: agent.code });
    const sets = [];
    for (let i = 0; i < 7; i++) sets.push(await makeSet(agent.id, me, { keyId: `key-${String(i)}`, nodeId: 'node-1' }));
    await call(h, 'inbox:import', { opId: 'i1', files: sets.map((s, i) => file(`env-${String(i)}.custos`, s.envelope)) });
    const accepted = await call(h, 'receipts:sign', { ids: sets.slice(0, 5).map(idOf), status: 'accepted' });
    // A longer receipt (a note) has more frames at the coarse density than the others.
    const rejected = await call(h, 'receipts:sign', { ids: sets.slice(5).map(idOf), status: 'rejected', reason: 'OTHER', note: 'Not ours: this backup set was never announced to us. '.repeat(6).trim() });
    const signed = [...accepted.receipts, ...rejected.receipts];
    const files = signed.map((r) => r.file);

    const seq = await call(h, 'receipts:sequence', { receipts: files, opId: 'q1' });
    expect(seq.messages.map((m) => [m.name, m.id, m.status])).toEqual(signed.map((r) => [r.file.name, r.id, r.status]));
    for (const [i, m] of seq.messages.entries()) {
      expect(m.type).toBe('custos-receipt');
      expect(m.payload).toEqual(files[i]!.bytes);
      // The counts are those of the frames the player will cut at each density.
      expect(m.lens).toEqual(DENSITIES.map((d) => ({ version: d.version, frames: framesAt(m.payload, m.type, d.version).length })));
      const assembler = new FrameAssembler({ type: m.type });
      for (const f of framesAt(m.payload, m.type, 10)) assembler.add(f);
      expect(openReceipt(assembler.result().payload, fromHex(v.info.signKey)).body.status).toBe(m.status);
    }
    const coarse = (m: (typeof seq.messages)[number]): number => m.lens.find((l) => l.version === 10)?.frames ?? 0;
    expect(coarse(seq.messages[6]!)).toBeGreaterThan(coarse(seq.messages[0]!));
    const progress = h.events.filter((e) => e.event === 'progress').map((e) => e.payload);
    expect(progress.at(-1)).toEqual({ opId: 'q1', channel: 'receipts:sequence', phase: 'exporting', done: files.length, total: files.length });

    // Locked, the vault's record cannot be read: the signature tells, with the same answer.
    await call(h, 'vault:lock', {});
    expect(await call(h, 'receipts:sequence', { receipts: files })).toEqual(seq);
    await call(h, 'vault:unlock', { passphrase: PASSPHRASE });

    // Not this vault's receipt: refused, naming the file, nothing laid out.
    const stranger = await createCustodianIdentity('Dave (elsewhere)');
    const body = openReceipt(files[0]!.bytes, fromHex(v.info.signKey)).body;
    const theirs = file('theirs.custos', makeReceipt({ ...body, received_at: NOW }, stranger.signing));
    const e1 = await refused(h, 'receipts:sequence', { receipts: [files[1]!, theirs] }, 'UNTRUSTED_SIGNER');
    expect(e1.detail ?? e1.message.en).toContain('theirs.custos');
    await refused(h, 'receipts:sequence', { receipts: [file('envelope.custos', sets[0]!.envelope)] }, 'WRONG_TYPE');
    const frame = decodeCanonical(files[2]!.bytes) as { s: Uint8Array };
    const sig = Uint8Array.from(frame.s);
    sig[0]! ^= 0x01;
    const changed = encodeCanonical({ ...frame, s: sig });
    await refused(h, 'receipts:sequence', { receipts: [file('changed.custos', changed)] }, 'SIGNATURE_INVALID');
    await refused(h, 'receipts:sequence', { receipts: [] }, 'INVALID_PARAMETERS');
  });
});
