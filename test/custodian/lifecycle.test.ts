// The share lifecycle with a controllable clock: supersede notices, soft delete, cooling period,
// rollback, hard delete (also gone from the previous generation), and the audit log that records
// all of it and detects tampering. Plus trust (pin, code comparison, key rotation), settings and
// the bilingual message table.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditEntrySchema } from '../../shared/audit/chain';
import { toHex } from '../../shared/bytes';
import { fileHash } from '../../shared/crypto/hash';
import { ERROR_CODES } from '../../shared/errors';
import { createAgentIdentity, makeAgentCard, makeAgentKeyRotation } from '../../shared/protocol';
import { exportAuditJsonl, verifyAudit, verifyAuditJsonl } from '../../main/services/audit';
import { purgeDue, rollbackDelete, softDelete } from '../../main/services/deletion';
import { SERVICE_ERROR_CODES } from '../../main/services/errors';
import { importEnvelope, importEnvelopes } from '../../main/services/inbox';
import { explain, LANGUAGES, MESSAGES, sentence } from '../../main/services/messages';
import { DEFAULT_SETTINGS, readSettings, readSettingsOrDefaults, updateSettings } from '../../main/services/settings';
import { exportForRecovery, showRecoveryRequest } from '../../main/services/recovery';
import { applySupersede } from '../../main/services/supersede';
import { applyAgentKeyRotation, pinAgent, previewAgentCard } from '../../main/services/trust';
import { Vault } from '../../main/services/vault';
import {
  codeOf,
  createVault,
  makeAgent,
  makeSet,
  meOf,
  NOW,
  PASSPHRASE,
  pinned,
  pinTestApprovers,
  recoveryRequest,
  recordTexts,
  supersedeNotice,
  tempDir,
  testClock,
  writeLogEntry,
} from './helpers';

const DAY = 86_400;

describe('supersede and deletion', () => {
  it('soft delete, rollback in the cooling period, hard delete after it (also from the previous generation)', async () => {
    const clock = testClock();
    const v = await createVault({ clock: clock.fn });
    const agent = makeAgent();
    await pinned(v, agent);
    const set = await makeSet(agent.id, meOf(v));
    await importEnvelope(v, set.envelope);
    const id = toHex(fileHash(set.envelope));

    const deleted = await softDelete(v, id.slice(0, 10), { reason: 'drill clean-up' });
    expect(deleted).toMatchObject({ status: 'deleted', purgeAfter: NOW + 7 * DAY });
    expect(await codeOf(() => softDelete(v, id))).toBe('INVALID_STATE');
    clock.advance(3 * DAY);
    expect((await rollbackDelete(v, id)).status).toBe('received');
    expect(await codeOf(() => rollbackDelete(v, id))).toBe('INVALID_STATE');

    await softDelete(v, id, { coolingDays: 2 });
    clock.advance(DAY);
    expect((await purgeDue(v)).cooling).toEqual([{ id, purgeAfter: NOW + 3 * DAY + 2 * DAY }]);
    expect(v.state.shares).toHaveLength(1);
    clock.advance(DAY);
    expect(await codeOf(() => rollbackDelete(v, id))).toBe('INVALID_STATE');
    const purge = await purgeDue(v);
    expect(purge.purged.map((p) => p.id)).toEqual([id]);
    expect(v.state.shares).toHaveLength(0);
    expect(v.state.purged).toMatchObject([{ id, keyId: 'key-1', shareIndex: 3 }]);
    // No record file on disk still holds the share (no older snapshot, no journal entry).
    const texts = await recordTexts(v);
    expect(texts.size).toBeGreaterThan(0);
    for (const [f, text] of texts) {
      expect(text, f).not.toContain(toHex(set.share));
      expect(text, f).not.toContain(Buffer.from(set.envelope).toString('base64').slice(0, 200));
    }
    // It does not come back.
    expect((await importEnvelope(v, set.envelope)).code).toBe('ALREADY_DESTROYED');
    const events = v.state.audit.entries.map((e) => auditEntrySchema.parse(e).fields).filter((f) => f.event === 'delete' || f.event === 'rollback');
    expect(events.map((f) => `${f.event}:${f.detail?.split(' ')[0] ?? ''}`)).toEqual(['delete:soft', 'rollback:deletion', 'delete:soft', 'delete:hard']);
  });

  it('a supersede notice marks the old share and schedules its destruction at destroy_after', async () => {
    const clock = testClock();
    const v = await createVault({ clock: clock.fn });
    const agent = makeAgent();
    await pinned(v, agent);
    const old = await makeSet(agent.id, meOf(v), { epoch: 1 });
    const next = await makeSet(agent.id, meOf(v), { epoch: 2 });
    await importEnvelope(v, old.envelope);
    const notice = supersedeNotice(agent.id, meOf(v), old, next, NOW + 10 * DAY);
    const applied = await applySupersede(v, notice);
    expect(applied).toMatchObject({ oldEpoch: 1, newEpoch: 2, destroyAfter: NOW + 10 * DAY, alreadyApplied: false });
    expect(applied.affected).toHaveLength(1);
    expect((await applySupersede(v, notice)).alreadyApplied).toBe(true);
    await importEnvelope(v, next.envelope);
    expect(v.state.shares.map((s) => [s.epoch, s.status])).toEqual([
      [1, 'superseded'],
      [2, 'received'],
    ]);
    // A notice from another agent, or for another custodian, is refused.
    const rogue = createAgentIdentity('rogue');
    expect(await codeOf(() => applySupersede(v, supersedeNotice(rogue, meOf(v), old, next, NOW)))).toBe('UNTRUSTED_SIGNER');
    const someoneElse = await createVault();
    expect(await codeOf(() => applySupersede(v, supersedeNotice(agent.id, meOf(someoneElse), old, next, NOW)))).toBe('WRONG_RECIPIENT');

    clock.advance(9 * DAY);
    expect((await purgeDue(v)).scheduled).toHaveLength(0);
    clock.advance(DAY);
    const due = await purgeDue(v);
    expect(due.scheduled.map((s) => s.epoch)).toEqual([1]);
    expect(v.state.shares.find((s) => s.epoch === 1)?.status).toBe('deleted');
    // Rolling back restores "superseded", not "received".
    expect((await rollbackDelete(v, due.scheduled[0]!.id)).status).toBe('superseded');
    await purgeDue(v);
    clock.advance(7 * DAY);
    const gone = await purgeDue(v);
    expect(gone.purged.map((s) => s.epoch)).toEqual([1]);
    expect(v.state.shares.map((s) => s.epoch)).toEqual([2]);
  });
});

describe('audit log', () => {
  it('records everything, verifies, exports as JSON lines, and detects edits and truncation', async () => {
    const v = await createVault();
    const agent = makeAgent();
    await pinned(v, agent);
    const set = await makeSet(agent.id, meOf(v));
    await importEnvelopes(v, [{ bytes: set.envelope }, { bytes: new Uint8Array([1, 2, 3]) }]);
    await softDelete(v, toHex(fileHash(set.envelope)));
    await rollbackDelete(v, toHex(fileHash(set.envelope)));
    expect(verifyAudit(v.state)).toEqual({ ok: true, entries: 6 });
    const fields = v.state.audit.entries.map((e) => auditEntrySchema.parse(e).fields);
    expect(fields.map((f) => `${f.event}/${f.result}`)).toEqual(['register/ok', 'register/ok', 'import/ok', 'import/refused', 'delete/ok', 'rollback/ok']);
    expect(fields[2]).toMatchObject({ key_id: 'key-1', node_id: 'node-1', share_index: 3, envelope_hash: toHex(fileHash(set.envelope)), operator: 'Carol (cold storage)' });
    expect(fields[3]).toMatchObject({ reason: 'MALFORMED' });

    const exported = exportAuditJsonl(v.state);
    expect(exported.jsonl.trim().split('\n')).toHaveLength(6);
    expect(verifyAuditJsonl(exported.jsonl, exported.head ?? undefined).ok).toBe(true);
    const edited = exported.jsonl.replace('"result":"refused"', '"result":"ok"');
    expect(verifyAuditJsonl(edited, exported.head ?? undefined)).toMatchObject({ ok: false, firstBad: { seq: 3, reason: 'edited' } });
    const lines = exported.jsonl.trim().split('\n');
    expect(verifyAuditJsonl(lines.slice(0, 5).join('\n'), exported.head ?? undefined)).toMatchObject({ ok: false, firstBad: { reason: 'truncated' } });

    // Tampering inside the sealed vault itself (someone with the key): unlock says so.
    const tamper = async (change: (state: { audit: { entries: { fields: { detail?: string } }[] } }) => void): Promise<boolean> => {
      const state = JSON.parse(JSON.stringify({ audit: v.state.audit })) as Parameters<typeof change>[0];
      change(state);
      // A journal entry re-signed with the custodian's own key: the audit chain is what catches this.
      await writeLogEntry(v, { audit: { from: 0, entries: state.audit.entries } }, v.identity.signing);
      await v.lock();
      const r = await v.unlock(PASSPHRASE);
      return r.auditOk;
    };
    expect(await tamper((s) => (s.audit.entries[2]!.fields.detail = 'nothing happened'))).toBe(false);
    expect(verifyAudit(v.state).firstBad).toMatchObject({ seq: 2, reason: 'edited' });
    const v2 = await createVault();
    await v2.save();
    const tamper2 = async (): Promise<void> => {
      const entries = v2.state.audit.entries.slice(0, -1);
      await writeLogEntry(v2, { audit: { from: 0, entries } }, v2.identity.signing);
      await v2.lock();
    };
    await pinned(v2, agent);
    await tamper2();
    expect((await v2.unlock(PASSPHRASE)).auditOk).toBe(false);
    expect(verifyAudit(v2.state).firstBad?.reason).toBe('truncated');
  });
});

describe('trust', () => {
  it('pins only after the code matches, refuses another card, and accepts a new key only through a signed notice', async () => {
    const v = await createVault();
    const agent = makeAgent();
    const preview = previewAgentCard(agent.card);
    expect(preview.code).toBe(agent.code);
    expect(await codeOf(() => pinAgent(v, agent.card, '0000 0000 0000 0000 0000 0000'))).toBe('CODE_MISMATCH');
    expect(await codeOf(() => pinAgent(v, agent.card, ''))).toBe('CODE_MISMATCH');
    expect(v.state.agent).toBeNull();
    const pinnedNow = await pinAgent(v, agent.card, agent.code.replace(/ /g, '-'));
    expect(pinnedNow.alreadyPinned).toBe(false);
    expect((await pinAgent(v, agent.card, agent.code)).alreadyPinned).toBe(true);

    const other = makeAgent('agent impostor');
    expect(await codeOf(() => pinAgent(v, other.card, other.code))).toBe('AGENT_ALREADY_PINNED');

    // Rotation: a notice signed by the pinned key introduces the new card.
    const successor = createAgentIdentity('agent node-1 (2027)');
    const successorCard = makeAgentCard(successor, NOW);
    const forged = makeAgentKeyRotation(successorCard, other.id.signing, NOW);
    expect(await codeOf(() => applyAgentKeyRotation(v, forged))).toBe('UNTRUSTED_SIGNER');
    const notice = makeAgentKeyRotation(successorCard, agent.id.signing, NOW);
    // A share received before the rotation, from a set the old key signed.
    const before = await makeSet(agent.id, meOf(v), { keyId: 'before-rotation' });
    expect((await importEnvelope(v, before.envelope)).outcome).toBe('accepted');
    await pinTestApprovers(v); // they stay trusted across the agent's key replacement
    const rotated = await applyAgentKeyRotation(v, notice);
    expect(rotated.previous.code).toBe(agent.code);
    expect(rotated.next.name).toBe('agent node-1 (2027)');
    expect(v.state.agent?.via).toBe('rotation');
    expect(v.state.previousAgents).toHaveLength(1);
    // Envelopes now verify against the new key only.
    const byOld = await makeSet(agent.id, meOf(v), { keyId: 'old-key' });
    const byNew = await makeSet(successor, meOf(v), { keyId: 'new-key' });
    expect((await importEnvelope(v, byOld.envelope)).code).toBe('UNTRUSTED_SIGNER');
    expect((await importEnvelope(v, byNew.envelope)).outcome).toBe('accepted');
    // The new key can still run a recovery of the set the old key signed: the request is signed by
    // the pinned (new) key and carries the old manifest, accepted because the old key was pinned
    // before and replaced through a signed notice. A request signed by the old key is refused.
    const overOld = await recoveryRequest(successor, before);
    const summary = showRecoveryRequest(v, overOld.request);
    expect(summary.exportable).toBe(true);
    expect(summary.verifiedApprovals).toBe(2);
    expect(summary.warnings.map((w) => w.code)).toContain('agent-rotated');
    const exported = await exportForRecovery(v, overOld.request, summary.confirmation);
    expect(exported.bytes.length).toBeGreaterThan(0);
    const byOldKey = await recoveryRequest(agent.id, before);
    expect(await codeOf(() => showRecoveryRequest(v, byOldKey.request))).toBe('UNTRUSTED_SIGNER');
    // Survives a lock/unlock.
    await v.lock();
    await v.unlock(PASSPHRASE);
    expect(v.state.agent?.name).toBe('agent node-1 (2027)');
  });
});

describe('settings', () => {
  it('defaults, validated changes, strict agent URLs, and a damaged file refused with the field named', async () => {
    const path = join(tempDir(), 'settings.json');
    expect(await readSettings(path)).toEqual(DEFAULT_SETTINGS);
    expect(await updateSettings(path, { language: 'zh-CN', autoLockMinutes: 5 })).toMatchObject({ language: 'zh-CN', autoLockMinutes: 5 });
    expect(await updateSettings(path, { agentUrl: 'http://127.0.0.1:7443/' })).toMatchObject({ agentUrl: 'http://127.0.0.1:7443' });
    expect((await updateSettings(path, { agentUrl: 'https://agent.example.com/custos/' })).agentUrl).toBe('https://agent.example.com/custos');
    expect((await updateSettings(path, { agentUrl: 'http://[::1]:8080' })).agentUrl).toBe('http://[::1]:8080');
    for (const bad of ['http://agent.example.com', 'ftp://127.0.0.1', 'https://user:pw@agent.example.com', 'https://agent.example.com/?x=1', 'not a url', 'javascript:alert(1)']) {
      expect(await codeOf(() => updateSettings(path, { agentUrl: bad })), bad).toBe('SETTINGS_INVALID');
    }
    expect(await codeOf(() => updateSettings(path, { language: 'fr' }))).toBe('SETTINGS_INVALID');
    expect(await codeOf(() => updateSettings(path, { autoLockMinutes: -1 }))).toBe('SETTINGS_INVALID');
    expect(await codeOf(() => updateSettings(path, { unknown: true }))).toBe('SETTINGS_INVALID');
    expect((await readSettings(path)).agentUrl).toBe('http://[::1]:8080');

    writeFileSync(path, JSON.stringify({ ...DEFAULT_SETTINGS, autoLockMinutes: 'ten' }));
    try {
      await readSettings(path);
      expect.fail('read a damaged settings file');
    } catch (e) {
      expect(explain(e)).toMatchObject({ code: 'SETTINGS_INVALID', details: { field: 'autoLockMinutes' } });
    }
    const fallback = await readSettingsOrDefaults(path);
    expect(fallback.settings).toEqual(DEFAULT_SETTINGS);
    expect(fallback.problem?.code).toBe('SETTINGS_INVALID');
  });
});

describe('messages', () => {
  it('has a sentence in English and Simplified Chinese for every code', () => {
    for (const code of [...ERROR_CODES, ...SERVICE_ERROR_CODES]) {
      for (const lang of LANGUAGES) expect(MESSAGES[code][lang].length, `${code} ${lang}`).toBeGreaterThan(5);
      expect(MESSAGES[code]['zh-CN'], code).toMatch(/[\u4e00-\u9fff]/);
      expect(MESSAGES[code]['zh-CN'], code).not.toBe(MESSAGES[code].en);
    }
    expect(sentence('CONFLICTING_SET', 'zh-CN', { heldEpoch: 3 })).toContain('纪元 3');
    expect(sentence('CONFLICTING_SET', 'en')).toContain('epoch …');
    expect(explain(new Error('boom'))).toMatchObject({ code: 'INTERNAL' });
    expect(explain(new Error('boom')).detail).toBeUndefined();
  });

  it('stays pure so the renderer can import it (no Node, no Electron, down to its imports)', () => {
    const seen = new Set<string>();
    const visit = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, 'utf8');
      expect(source, file).not.toMatch(/from '(node:|electron|fs|path|crypto)/);
      for (const m of source.matchAll(/from '(\.{1,2}\/[^']+)'/g)) visit(join(dirname(file), `${m[1]!}.ts`));
    };
    visit(new URL('../../main/services/messages.ts', import.meta.url).pathname);
    expect(seen.size).toBeGreaterThanOrEqual(3);
  });
});

describe('vault folder', () => {
  it('is reopened by path alone', async () => {
    const v = await createVault();
    await v.lock();
    expect(await Vault.exists(v.dir)).toBe(true);
    expect(await Vault.exists(tempDir())).toBe(false);
  });
});
