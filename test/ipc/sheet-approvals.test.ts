// Issue 12 (H14): the printed recovery sheet shows each approval's standing as the review screen
// does (verified against a pinned approver / changed key, with the pinned name and code / unknown),
// the verified count, and an override with the reason the custodian typed, in English and Chinese.
// Read back from the PDF with pdftotext, through the real IPC export.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApproverIdentity, makeApproverCard, openApproverCard } from '../../shared/protocol';
import { makeAgent, makeSet, NOW, recoveryRequest, tempDir, testApproverCards } from '../custodian/helpers';
import { call, file, harness, ROOT } from './helpers';

function pdfText(pdf: Uint8Array, keepAs?: string): string {
  const dir = tempDir('custos-sheet-appr-');
  writeFileSync(join(dir, 's.pdf'), pdf);
  if (keepAs !== undefined) {
    // Page 1 as a picture in test-results/, to look at.
    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    spawnSync('pdftoppm', ['-r', '90', '-png', '-f', '1', '-l', '1', '-singlefile', join(dir, 's.pdf'), join(ROOT, 'test-results', keepAs)]);
  }
  const r = spawnSync('pdftotext', [join(dir, 's.pdf'), '-'], { encoding: 'utf8' });
  if (r.error !== undefined) throw new Error(`pdftotext is missing: apt-get install -y poppler-utils (${r.error.message})`);
  return r.stdout.replace(/\s+/g, ' ');
}

/** Line wrapping puts breaks anywhere (between two CJK characters too): compare without white space. */
const squeeze = (t: string): string => t.replace(/\s+/g, '');

describe('recovery sheet: approvals as the review screen shows them', () => {
  it('prints verified, changed key (with the pinned code) and the override reason; all verified prints no override', async () => {
    const h = harness();
    await call(h, 'vault:create', { name: 'Carol (sheet)', passphrase: 'correct horse battery staple' });
    const v = await h.ctx.vault();
    const agent = makeAgent();
    await call(h, 'trust:pin', { card: file('agent.custos', agent.card), confirmCode: agent.code });
    const [alice] = testApproverCards();
    await call(h, 'approvers:pin', { card: file('alice.custos', alice!.card), confirmCode: alice!.code });
    // Someone else's key under Bob's name: the request's real Bob then has a changed key.
    const impostorCard = makeApproverCard(createApproverIdentity('Bob (business owner)'), NOW - 100);
    const impostorCode = openApproverCard(impostorCard).code;
    await call(h, 'approvers:pin', { card: file('bob.custos', impostorCard), confirmCode: impostorCode });

    const set = await makeSet(agent.id, { fingerprint: v.fingerprint, ageRecipient: v.info.ageRecipient });
    await call(h, 'inbox:import', { opId: 'i', files: [file('e.custos', set.envelope)] });
    const session = await recoveryRequest(agent.id, set, { incident: 'INC-2026-0099' });
    const shown = await call(h, 'recovery:show', { request: file('req.custos', session.request) });
    expect(shown.approvals.map((a) => a.verdict).sort()).toEqual(['changed-key', 'verified']);
    const reason = 'Called Bob on +41 44 000 00 00, he confirmed INC-2026-0099 and his new key';
    const exported = await call(h, 'recovery:export', { request: file('req.custos', session.request), confirmation: shown.confirmation, override: reason });
    const text = pdfText(exported.sheet!.bytes, 'recovery-sheet-approvals');
    for (const must of [
      `Alice (security) (${alice!.code})`,
      'Verified: an approver you pinned 已验证：您已信任的审批人',
      'Bob (business owner)',
      'Changed key: not the key you pinned for this name 密钥已变：不是您为此姓名信任的密钥',
      `You pinned Bob (business owner) with code ${impostorCode}.`,
      `您信任的 Bob (business owner) 校验码为 ${impostorCode}。`,
      '1 of the 2 approvals needed verify against approvers you pinned.',
      '所需 2 个审批中，1 个经您已信任的审批人验证。',
      'Override',
      '越过审批人检查',
      'Exported without two verified approvers. The reason typed:',
      `"${reason}"`,
    ]) {
      expect(squeeze(text), must).toContain(squeeze(must));
    }

    // Unknown: a second vault that pinned nobody but the agent; with both approvers pinned, no override row.
    const h2 = harness();
    await call(h2, 'vault:create', { name: 'Dave (sheet)', passphrase: 'correct horse battery staple' });
    const v2 = await h2.ctx.vault();
    await call(h2, 'trust:pin', { card: file('agent.custos', agent.card), confirmCode: agent.code });
    const set2 = await makeSet(agent.id, { fingerprint: v2.fingerprint, ageRecipient: v2.info.ageRecipient });
    await call(h2, 'inbox:import', { opId: 'i', files: [file('e.custos', set2.envelope)] });
    const req2 = await recoveryRequest(agent.id, set2, { incident: 'INC-2026-0100' });
    const shown2 = await call(h2, 'recovery:show', { request: file('r2.custos', req2.request) });
    const ex2 = await call(h2, 'recovery:export', { request: file('r2.custos', req2.request), confirmation: shown2.confirmation, override: 'Called both approvers at the numbers on file; both confirmed' });
    const text2 = pdfText(ex2.sheet!.bytes);
    expect(text2.match(/Unknown approver: not pinned in this vault 未知审批人：未在本保险库中信任/g)).toHaveLength(2);
    expect(text2).toContain('0 of the 2 approvals needed verify');

    for (const a of testApproverCards()) await call(h2, 'approvers:pin', { card: file('a.custos', a.card), confirmCode: a.code });
    const set3 = await makeSet(agent.id, { fingerprint: v2.fingerprint, ageRecipient: v2.info.ageRecipient }, { keyId: 'key-3' });
    await call(h2, 'inbox:import', { opId: 'j', files: [file('e3.custos', set3.envelope)] });
    const req3 = await recoveryRequest(agent.id, set3, { incident: 'INC-2026-0101' });
    const shown3 = await call(h2, 'recovery:show', { request: file('r3.custos', req3.request) });
    const text3 = pdfText((await call(h2, 'recovery:export', { request: file('r3.custos', req3.request), confirmation: shown3.confirmation })).sheet!.bytes);
    expect(text3.match(/Verified: an approver you pinned/g)).toHaveLength(2);
    expect(text3).toContain('2 of the 2 approvals needed verify');
    expect(text3).not.toContain('Override');
  });
});
