// Envelopes stay on disk (main/services/vault-envelopes.ts, docs/custodian-vault.md "Memory"): the
// unlocked vault holds each share's record without its envelope and reads the envelope from the
// sealed file that holds it, checked by that file's hash before it is decrypted and by the share id
// after. Followed through an import, a change, a restart, a compaction and a hard delete.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AgeResealer } from '../../shared/crypto/seal';
import { utf8 } from '../../shared/bytes';
import { importEnvelope } from '../../main/services/inbox';
import { verifyAll } from '../../main/services/shares';
import { codeOf, createVault, makeAgent, makeSet, meOf, PASSPHRASE, pinned, recordTexts, storeDir, storeFiles } from './helpers';

describe('envelopes on disk', () => {
  it('keeps no envelope in memory, reads each from its file, and follows it through changes, unlock and compaction', async () => {
    const v = await createVault();
    const agent = makeAgent();
    await pinned(v, agent);
    const sets = [await makeSet(agent.id, meOf(v), { nodeId: 'node-1' }), await makeSet(agent.id, meOf(v), { nodeId: 'node-2' })];
    const ids: string[] = [];
    for (const s of sets) {
      const r = await importEnvelope(v, s.envelope);
      expect(r.outcome).toBe('accepted');
      ids.push(r.id!);
    }
    // The record has the size, not the bytes.
    for (const [i, r] of v.state.shares.entries()) {
      expect(r).not.toHaveProperty('envelope');
      expect(r.envelopeSize).toBe(sets[i]!.envelope.length);
    }
    expect(await v.envelope(ids[0]!)).toEqual(sets[0]!.envelope);
    // A change to a share does not copy its envelope into the journal again.
    await v.update((tx) => {
      tx.state.shares[0]!.status = 'confirmed';
      tx.changed();
    });
    const texts = await recordTexts(v);
    const lastLog = [...texts.keys()].filter((f) => f.startsWith('log-')).at(-1)!;
    expect(texts.get(lastLog)).toContain(ids[0]);
    expect(texts.get(lastLog)).not.toContain('"envelope"');

    // After a restart: read from the journal entry that brought it in.
    await v.lock();
    await v.unlock(PASSPHRASE);
    expect(v.state.shares[0]!.status).toBe('confirmed');
    expect(v.state.shares[0]!.envelopeSize).toBe(sets[0]!.envelope.length);
    expect(await v.envelope(ids[1]!)).toEqual(sets[1]!.envelope);
    // After a compaction: from the new snapshot's part (the journal entries are gone).
    await v.compact();
    // Only the kept previous generation needs the journal now: without it, the envelopes still read.
    for (const f of storeFiles(v).filter((x) => x.startsWith('log-'))) rmSync(join(storeDir(v), f));
    for (const [i, id] of ids.entries()) expect(await v.envelope(id)).toEqual(sets[i]!.envelope);
    const verified = await verifyAll(v);
    expect(verified).toMatchObject({ ok: 2, failed: 0 });
    await v.lock();
    await v.unlock(PASSPHRASE);
    expect((await verifyAll(v)).ok).toBe(2);
  });

  it('refuses a record file changed after unlock before decrypting it, and an envelope that is not the one filed', async () => {
    const v = await createVault();
    const agent = makeAgent();
    await pinned(v, agent);
    const set = await makeSet(agent.id, meOf(v));
    const id = (await importEnvelope(v, set.envelope)).id!;
    await v.compact();
    await v.lock();
    await v.unlock(PASSPHRASE);
    const texts = await recordTexts(v);
    const sharesPart = [...texts.entries()].find(([f, t]) => /-[0-9]{4}\.age$/.test(f) && t.includes('"collection":"shares"'))![0];
    // Someone with the folder replaces the part with another well-formed file sealed to the public recipient.
    const sealer = await AgeResealer.forRecipient(v.info.ageRecipient);
    const forged = (texts.get(sharesPart) ?? '').replace(/"envelope":"[A-Za-z0-9+/]{8}/, '"envelope":"AAAAAAAA');
    writeFileSync(join(storeDir(v), sharesPart), sealer.seal(utf8(forged)));
    expect(await codeOf(() => v.envelope(id))).toBe('VAULT_CORRUPT');
    expect((await verifyAll(v)).failed).toBe(1);
  });

  it('keeps the envelope of a share imported in this session until its journal entry is written, then reads it from there', async () => {
    const v = await createVault();
    const agent = makeAgent();
    await pinned(v, agent);
    const set = await makeSet(agent.id, meOf(v));
    const id = (await importEnvelope(v, set.envelope)).id!;
    const log = storeFiles(v).filter((f) => f.startsWith('log-')).at(-1)!;
    const texts = await recordTexts(v);
    expect(texts.get(log)).toContain('"envelope"');
    // Remove the entry's bytes from under the vault: the envelope is read from that file, not memory.
    const bytes = readFileSync(join(storeDir(v), log));
    writeFileSync(join(storeDir(v), log), bytes.subarray(0, bytes.length - 1));
    expect(await codeOf(() => v.envelope(id))).toBe('VAULT_CORRUPT');
    writeFileSync(join(storeDir(v), log), bytes);
    expect(await v.envelope(id)).toEqual(set.envelope);
  });
});
