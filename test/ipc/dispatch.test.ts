// Round trips through the SAME dispatch the Electron glue and the test host run, against a real
// vault in a temp folder: first run, lock/unlock with a wrong passphrase, trust, a batch import
// with bad envelopes among good ones (with progress), list/filter/details/verify, receipts,
// recovery export (file, QR, sheet), inventory, supersede, deletion, audit, settings, QR, files,
// auto-lock. Every answer also goes through the wire encoding and must never carry a share.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../shared/bytes';
import { fileHash } from '../../shared/crypto/hash';
import { openChallenge, openReceipt, openRecoveryExport, openRecoveryRequest, verifyAttestation } from '../../shared/protocol';
import { FrameAssembler } from '../../shared/qr/ur';
import { toWire } from '../../shared/ipc/wire';
import { renderPng } from '../../shared/qr/render';
import { framesFor } from '../../main/services/qr-files';
import type { Timers } from '../../main/services/autolock';
import { dispatch } from '../../main/dispatch';
import { challenge, makeAgent, makeSet, NOW, PASSPHRASE, recoveryRequest, supersedeNotice, testApproverCards } from '../custodian/helpers';
import { call, file, harness, refused, withVault } from './helpers';

describe('dispatch round trips against a real vault', () => {
  it('first run, lock, wrong passphrase with a growing delay, unlock', async () => {
    const h = harness();
    const first = await call(h, 'vault:status', {});
    expect(first).toMatchObject({ exists: false, unlocked: false, info: null, counts: null });
    const created = await call(h, 'vault:create', { name: 'Carol (cold storage)', passphrase: PASSPHRASE, opId: 'c1' });
    expect(created.info.code).toMatch(/^[0-9]{4}( [0-9]{4}){5}$/);
    expect(created.card.name).toBe('enrollment-card-Carol__cold_storage_.custos');
    expect(new Uint8Array(readFileSync(join(h.vaultDir, 'enrollment-card.custos')))).toEqual(created.card.bytes);
    expect(created.qr.frames[0]).toMatch(/^ur:custos-custodian-card\//);
    expect(created.qr.svgs[0]).toContain('<svg');
    expect(h.events.filter((e) => e.event === 'progress').map((e) => (e.payload as { phase: string }).phase)).toEqual(['deriving', 'deriving']);
    expect((await call(h, 'vault:status', {})).unlocked).toBe(true);

    await call(h, 'vault:lock', {});
    expect(h.events.at(-1)).toEqual({ event: 'vault:locked', payload: { reason: 'request', at: NOW } });
    const locked = await call(h, 'vault:status', {});
    expect(locked).toMatchObject({ exists: true, unlocked: false, unlockDelayMs: 0, agent: null, counts: null });
    // Locked: what needs the vault is refused with VAULT_LOCKED, in both languages.
    const e = await refused(h, 'shares:list', { filter: {} }, 'VAULT_LOCKED');
    expect(e.message['zh-CN']).toContain('保险库已锁定');

    const wrong = await refused(h, 'vault:unlock', { passphrase: 'not the passphrase' }, 'WRONG_PASSPHRASE');
    expect(wrong.details['delaySeconds']).toBe(0.5);
    expect(wrong.message.en).toContain('Wait 0.5 s');
    expect(wrong.message['zh-CN']).toContain('0.5 秒');
    expect((await call(h, 'vault:status', {})).unlockDelayMs).toBe(500);
    const wrong2 = await refused(h, 'vault:unlock', { passphrase: 'still not it' }, 'WRONG_PASSPHRASE');
    expect(wrong2.details['delaySeconds']).toBe(1);
    const ok = await call(h, 'vault:unlock', { passphrase: PASSPHRASE, opId: 'u1' });
    expect(ok).toMatchObject({ recoveredFromPrevious: false, auditOk: true });
    await refused(h, 'vault:unlock', { passphrase: PASSPHRASE }, 'INVALID_STATE');
    // A second vault is refused.
    await refused(h, 'vault:create', { name: 'Mallory', passphrase: PASSPHRASE }, 'VAULT_EXISTS');
  });

  it('trust, batch import with refusals and progress, list, details, verify, receipts', async () => {
    const h = harness();
    await withVault(h);
    const v = await h.ctx.vault();
    const me = { fingerprint: v.fingerprint, ageRecipient: v.info.ageRecipient };
    const agent = makeAgent();
    const preview = await call(h, 'trust:previewAgent', { card: file('agent.custos', agent.card) });
    expect(preview.code).toBe(agent.code);
    await refused(h, 'trust:pin', { card: file('agent.custos', agent.card), confirmCode: '0000 0000 0000 0000 0000 0000' }, 'CODE_MISMATCH');
    await refused(h, 'inbox:import', { opId: 'i0', files: [] }, 'NOT_PINNED');
    const pinned = await call(h, 'trust:pin', { card: file('agent.custos', agent.card), confirmCode: agent.code.replace(/ /g, '-') });
    expect(pinned).toMatchObject({ name: agent.id.name, alreadyPinned: false });
    expect((await call(h, 'trust:status', {})).agent?.code).toBe(agent.code);

    const sets = [];
    for (let i = 0; i < 6; i++) sets.push(await makeSet(agent.id, me, { keyId: `key-${String(i % 3)}`, nodeId: `node-${String(i)}` }));
    const expired = await makeSet(agent.id, me, { keyId: 'late', notAfter: NOW - 10 });
    const other = makeAgent('an impostor');
    const forged = await makeSet(other.id, me, { keyId: 'forged' });
    // A photo of each of an envelope's QR frames (a version-15 code holds part of one): together they are one envelope.
    const photos = [];
    for (const [i, f] of framesFor('envelope', sets[5]!.envelope).entries()) photos.push(file(`photo-${String(i + 1)}.png`, await renderPng(f)));
    const frames = framesFor('envelope', sets[4]!.envelope);
    const result = await call(h, 'inbox:import', {
      opId: 'import-1',
      files: [
        ...sets.slice(0, 4).map((s, i) => file(`env-${String(i)}.custos`, s.envelope)),
        file('late.custos', expired.envelope),
        file('forged.custos', forged.envelope),
        file('junk.bin', new Uint8Array([1, 2, 3])),
        file('env-0-again.custos', sets[0]!.envelope),
        ...photos,
        file('blank.png', await renderPng('ur:custos-envelope/aeadaolazmjendeoti')),
      ],
      frames: frames.map((f, i) => ({ name: `camera-${String(i)}`, frame: f })),
    });
    expect(result.accepted).toBe(6);
    const byName: Partial<Record<string, (typeof result.results)[number]>> = Object.fromEntries(result.results.map((r) => [r.name ?? '', r]));
    expect(byName['late.custos']?.problem?.code).toBe('EXPIRED');
    expect(byName['forged.custos']?.problem?.code).toBe('UNTRUSTED_SIGNER');
    expect(byName['junk.bin']).toMatchObject({ kind: 'other', outcome: 'refused', problem: { code: 'MALFORMED' } });
    expect(byName['env-0-again.custos']?.problem?.code).toBe('DUPLICATE_ENVELOPE');
    expect(byName[photos.map((p) => p.name).join(', ')]?.outcome).toBe('accepted');
    expect(byName['camera-0']?.outcome ?? byName[frames.map((_f, i) => `camera-${String(i)}`).join(', ')]?.outcome).toBe('accepted');
    expect(result.unread.map((u) => u.problem.code)).toEqual(['MALFORMED']);
    for (const r of result.results.filter((x) => x.outcome === 'refused')) {
      expect(r.problem?.message.en.length).toBeGreaterThan(10);
      expect(r.problem?.message['zh-CN']).toMatch(/[\u4e00-\u9fff]/);
    }
    const progress = h.events.filter((e) => e.event === 'progress').map((e) => e.payload as { opId: string; done: number; total: number; accepted: number });
    expect(progress.at(-1)).toMatchObject({ opId: 'import-1', done: 10, total: 10, accepted: 6 });

    const listed = await call(h, 'shares:list', { filter: { keyId: 'key-1' } });
    expect(listed.shares).toHaveLength(2);
    expect(listed.total).toBe(6);
    expect(listed.facets.keyIds).toEqual(['key-0', 'key-1', 'key-2']);
    expect((await call(h, 'shares:list', { filter: { status: ['confirmed'] } })).shares).toHaveLength(0);
    expect((await call(h, 'shares:list', { filter: { setId: toHex(sets[2]!.setId).slice(0, 6) } })).shares).toHaveLength(1);
    const id = toHex(fileHash(sets[0]!.envelope));
    const details = await call(h, 'shares:details', { id: id.slice(0, 10) });
    expect(details).toMatchObject({ id, status: 'received', envelopeSize: sets[0]!.envelope.length });
    expect(details.history[0]?.event).toBe('imported');
    await refused(h, 'shares:details', { id: 'ffffffffff' }, 'NOT_FOUND');
    const verified = await call(h, 'shares:verifyAll', { opId: 'v1' });
    expect(verified).toMatchObject({ ok: 6, failed: 0 });

    const receipts = await call(h, 'receipts:sign', { ids: 'all', status: 'accepted' });
    expect(receipts.receipts).toHaveLength(6);
    const first = receipts.receipts[0]!;
    expect(openReceipt(first.file.bytes, Buffer.from(v.info.signKey, 'hex')).body.status).toBe('accepted');
    expect(first.file.name).toMatch(/^receipt-key-[0-9]-node-[0-9]-s3-[0-9a-f]{12}\.custos$/);
    const rejected = await call(h, 'receipts:sign', { ids: 'all', status: 'rejected', note: 'expired on arrival' });
    expect(rejected.receipts.map((r) => r.reason).sort()).toEqual(['EXPIRED', 'UNTRUSTED_SIGNER']);
    const asQr = await call(h, 'receipts:export', { receipts: [first.file] });
    expect(asQr.receipts[0]).toMatchObject({ id: first.id, status: 'accepted' });
    const assembler = new FrameAssembler();
    for (const f of asQr.receipts[0]!.qr.frames) assembler.add(f);
    expect(assembler.result().payload).toEqual(first.file.bytes);
    await refused(h, 'receipts:export', { receipts: [file('envelope.custos', sets[0]!.envelope)] }, 'WRONG_TYPE');
    await refused(h, 'receipts:send', { receipts: [first.file] }, 'AGENT_NOT_LINKED');
    const refusals = await call(h, 'inbox:refusals', {});
    expect(refusals.refusals.map((r) => r.code).sort()).toEqual(['EXPIRED', 'MALFORMED', 'UNTRUSTED_SIGNER']);
    expect((await call(h, 'vault:status', {})).counts).toMatchObject({ confirmed: 6, refused: 3 });

    // Nothing of a share ever crossed: no response carried a share's bytes (hex or base64).
    const shares = (await h.ctx.unlocked()).state.shares.map((s) => s.share);
    const everything = toWire(h.events) + h.answers.join('\n');
    expect(h.answers.length).toBeGreaterThanOrEqual(20);
    for (const s of shares) {
      expect(everything).not.toContain(toHex(s));
      expect(everything).not.toContain(Buffer.from(s).toString('base64'));
    }
  });

  it('recovery export as file, QR frames and sheet; inventory; supersede; deletion; audit', async () => {
    const h = harness();
    await withVault(h);
    const v = await h.ctx.vault();
    const me = { fingerprint: v.fingerprint, ageRecipient: v.info.ageRecipient };
    const agent = makeAgent();
    await call(h, 'trust:pin', { card: file('agent.custos', agent.card), confirmCode: agent.code });
    for (const a of testApproverCards()) await call(h, 'approvers:pin', { card: file('approver.custos', a.card), confirmCode: a.code });
    const set = await makeSet(agent.id, me, { keyId: 'key-9', nodeId: 'node-9' });
    await call(h, 'inbox:import', { opId: 'i', files: [file('e.custos', set.envelope)] });
    const session = await recoveryRequest(agent.id, set, { incident: 'INC-7' });
    const shown = await call(h, 'recovery:show', { request: file('request.custos', session.request) });
    expect(shown).toMatchObject({ incidentId: 'INC-7', keyId: 'key-9', mode: 'external-only', exportable: true, share: { shareIndex: 3 } });
    expect(shown.approvals.map((a) => a.name)).toEqual(['Alice (security)', 'Bob (business owner)']);
    // The confirmation names this exact request: a wrong one is refused and nothing is exported.
    await refused(h, 'recovery:export', { request: file('r', session.request), confirmation: '0'.repeat(64) }, 'CONFIRMATION_REQUIRED');
    expect((await call(h, 'shares:list', { filter: { status: 'exported' } })).shares).toHaveLength(0);
    const exported = await call(h, 'recovery:export', { request: file('r', session.request), confirmation: shown.confirmation.toUpperCase(), extraFrames: 3, opId: 'x1' });
    expect(exported.file.name).toBe('recovery-export-INC-7-key-9-node-9-s3.custos');
    expect(exported.hash).toBe(toHex(fileHash(exported.file.bytes)));
    const req = openRecoveryRequest(session.request, agent.id.signing.publicKey, NOW);
    const opened = await openRecoveryExport(exported.file.bytes, req, [{ signKey: v.identity.signing.publicKey, ageRecipient: v.info.ageRecipient }], session.sessionIdentity);
    expect(opened.share).toEqual(set.share);
    const fromQr = new FrameAssembler();
    for (const f of [...exported.qr.loop, ...exported.qr.frames]) fromQr.add(f);
    expect(fromQr.result().payload).toEqual(exported.file.bytes);
    expect(exported.qr.loop).toHaveLength(exported.qr.frames.length > 1 ? 3 : 0);
    expect(exported.sheet?.name).toBe('recovery-export-INC-7-key-9-node-9-s3-sheet.pdf');
    expect(Buffer.from(exported.sheet!.bytes.subarray(0, 5)).toString('latin1')).toBe('%PDF-');
    expect((await call(h, 'shares:list', { filter: { status: 'exported' } })).shares).toHaveLength(1);

    const ch = challenge(agent.id, me, [set]);
    const answer = await call(h, 'inventory:answer', { challenge: file('challenge.custos', ch.bytes) });
    expect(answer).toMatchObject({ held: 1, missing: 0 });
    expect(answer.file.name).toMatch(/^inventory-attestation-[0-9a-f]{32}\.custos$/);
    const challengeBody = openChallenge(ch.bytes, agent.id.signing.publicKey, v.fingerprint, NOW).body;
    const { verdicts } = verifyAttestation(answer.file.bytes, { bytes: ch.bytes, body: challengeBody }, v.identity.signing.publicKey, (item) => set.manifest.shares[item.share_index - 1]?.possession_key);
    expect(verdicts.map((x) => x.result)).toEqual(['proven']);
    expect(answer.qr.frames.length).toBeGreaterThan(0);

    const next = await makeSet(agent.id, me, { keyId: 'key-9', nodeId: 'node-9', epoch: 2 });
    const notice = supersedeNotice(agent.id, me, set, next, NOW + 86_400);
    const applied = await call(h, 'supersede:apply', { notices: [file('notice.custos', notice), file('junk', new Uint8Array([9]))] });
    expect(applied.results.map((r) => r.ok)).toEqual([true, false]);
    expect(applied.results[0]?.result?.affected).toHaveLength(1);
    expect(applied.results[1]?.problem?.code).toBe('MALFORMED');

    const id = toHex(fileHash(set.envelope));
    await call(h, 'settings:set', { change: { deletionCoolingDays: 2 } });
    const deleted = await call(h, 'deletion:soft', { id, reason: 'superseded, cleaning up' });
    expect(deleted.share).toMatchObject({ status: 'deleted', purgeAfter: NOW + 2 * 86_400 });
    expect((await call(h, 'deletion:rollback', { id })).share.status).toBe('superseded');
    await refused(h, 'deletion:rollback', { id }, 'INVALID_STATE');
    const purge = await call(h, 'deletion:purge', {});
    expect(purge.purged).toHaveLength(0);

    const audit = await call(h, 'audit:list', { limit: 3 });
    expect(audit.entries).toHaveLength(3);
    expect(audit.verdict.ok).toBe(true);
    const newest = audit.entries[0]!;
    expect('entry' in newest && newest.entry.fields.event).toBe('rollback');
    const all = await call(h, 'audit:list', { newestFirst: false, limit: 1000 });
    expect(all.total).toBe(audit.total);
    expect('entry' in all.entries[0]! && all.entries[0].entry.seq).toBe(0);
    expect((await call(h, 'audit:verify', {})).verdict.ok).toBe(true);
    const auditExport = await call(h, 'audit:export', {});
    expect(new TextDecoder().decode(auditExport.file.bytes).trim().split('\n')).toHaveLength(audit.total);
    expect(auditExport.file.name).toMatch(/^custos-audit-.*\.jsonl$/);
    expect(JSON.parse(new TextDecoder().decode(auditExport.headFile.bytes))).toMatchObject({ head: auditExport.head });
  });

  it('settings, QR channels, file dialogs, auto-lock', async () => {
    let fire: (() => void) | undefined;
    let armed = 0;
    const timers: Timers = {
      setTimeout: (fn) => {
        fire = fn;
        armed++;
        return armed;
      },
      clearTimeout: () => {
        fire = undefined;
      },
    };
    const h = harness({ timers });
    // Settings work before any vault exists (the first screen needs the language).
    expect((await call(h, 'settings:get', {})).settings).toMatchObject({ language: 'en', agentUrl: null, autoLockMinutes: 10 });
    const set = await call(h, 'settings:set', { change: { language: 'zh-CN', agentUrl: 'http://127.0.0.1:8443/' } });
    expect(set.settings).toMatchObject({ language: 'zh-CN', agentUrl: 'http://127.0.0.1:8443' });
    expect(h.ctx.agentOrigin()).toBe('http://127.0.0.1:8443');
    expect(h.events.at(-1)?.event).toBe('settings:changed');
    const bad = await refused(h, 'settings:set', { change: { agentUrl: 'http://agent.example.com' } }, 'SETTINGS_INVALID');
    expect(bad.detail).toContain('plain http only for this computer');
    expect((await call(h, 'agent:status', {})).tokenSet).toBe(false);
    expect((await call(h, 'agent:setToken', { token: 'x'.repeat(32) })).tokenSet).toBe(true);
    expect(await call(h, 'agent:status', {})).toEqual({ url: 'http://127.0.0.1:8443', tokenSet: true, check: null });

    // QR: encode, decode a PNG, assemble frames of two messages mixed with an incomplete one.
    const payload = new Uint8Array(3000).map((_x, i) => (i * 7) % 256);
    const qr = await call(h, 'qr:encode', { type: 'recovery-export', bytes: payload });
    expect(qr.frames.length).toBeGreaterThan(1);
    expect((await call(h, 'qr:decodeImage', { image: file('f.png', await renderPng(qr.frames[0]!)) })).frame?.toLowerCase()).toBe(qr.frames[0]);
    await refused(h, 'qr:decodeImage', { image: file('photo.jpg', new Uint8Array([0xff, 0xd8, 0xff])) }, 'MALFORMED');
    const small = await call(h, 'qr:encode', { type: 'receipt', bytes: new Uint8Array([1, 2, 3]) });
    const assembled = await call(h, 'qr:assemble', { frames: [...qr.frames.slice(1), ...small.frames, qr.frames[0]!].map((f, i) => ({ name: `scan-${String(i)}`, frame: f })) });
    expect(assembled.messages.map((m) => m.urType).sort()).toEqual(['custos-receipt', 'custos-recovery-export']);
    expect(assembled.messages.find((m) => m.urType === 'custos-recovery-export')?.bytes).toEqual(payload);
    const partial = await call(h, 'qr:assemble', { frames: [{ name: 'one', frame: qr.frames[0]! }] });
    expect(partial.problems[0]?.problem).toMatchObject({ code: 'INCOMPLETE', details: { expected: qr.frames.length } });

    // Files: save, save all (never overwriting), open (names only, never paths).
    expect(await call(h, 'files:save', { file: { name: 'a.custos', bytes: new Uint8Array([1]) } })).toEqual({ saved: true, name: 'a.custos' });
    expect(await call(h, 'files:saveAll', { files: [{ name: 'a.custos', bytes: new Uint8Array([2]) }, { name: 'b.custos', bytes: new Uint8Array([3]) }] })).toEqual({ saved: true, folder: 'downloads', names: ['a (2).custos', 'b.custos'] });
    expect(readFileSync(join(h.dialogs.downloads, 'a (2).custos'))).toEqual(Buffer.from([2]));
    h.dialogs.cancelNextSave = true;
    expect(await call(h, 'files:save', { file: { name: 'c.custos', bytes: new Uint8Array([4]) } })).toEqual({ saved: false });
    h.dialogs.openQueue.push([{ name: 'x.custos', bytes: new Uint8Array([5]) }, { name: 'y.custos', bytes: new Uint8Array([6]) }]);
    expect((await call(h, 'files:open', { purpose: 'envelopes', multiple: true })).files.map((f) => f.name)).toEqual(['x.custos', 'y.custos']);
    expect((await call(h, 'files:open', { purpose: 'agent-card' })).files).toEqual([]);
    await refused(h, 'files:save', { file: { name: '../../etc/passwd', bytes: new Uint8Array([1]) } }, 'INVALID_PARAMETERS');

    // Auto-lock: the idle timer fires, the vault locks and the renderer is told.
    await withVault(h);
    expect(fire).toBeDefined();
    fire?.();
    await new Promise((r) => setTimeout(r, 20));
    expect(h.events.at(-1)).toEqual({ event: 'vault:locked', payload: { reason: 'idle', at: NOW } });
    expect((await call(h, 'vault:status', {})).unlocked).toBe(false);
    await call(h, 'vault:unlock', { passphrase: PASSPHRASE });
    // A call restarts the timer, a passive one (a screen polling its status) does not.
    const before = armed;
    await call(h, 'vault:status', {});
    await call(h, 'settings:get', {});
    expect(armed).toBe(before);
    await call(h, 'shares:list', { filter: {} });
    expect(armed).toBe(before + 1);
    await call(h, 'app:activity', {});
    expect(armed).toBe(before + 2);
    // 0 minutes turns auto-lock off.
    await call(h, 'settings:set', { change: { autoLockMinutes: 0 } });
    expect(fire).toBeUndefined();
  });

  it('never answers with a stack, a cause or a file-system path', async () => {
    const h = harness();
    const r = await dispatch('vault:unlock', { passphrase: PASSPHRASE }, h.ctx);
    expect(r.ok).toBe(false);
    const text = JSON.stringify(r);
    expect(text).toContain('VAULT_NOT_FOUND');
    expect(text).not.toContain(h.dir);
    expect(text).not.toMatch(/\bat .*\.ts:\d+/);
    expect(text).not.toContain('"cause"');
    expect(text).not.toContain('"stack"');
  });
});
