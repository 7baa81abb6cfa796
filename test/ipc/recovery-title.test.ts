// The incident title through the window's IPC (issue 13): recovery:show carries `incidentTitle`
// (the response schema is strict, so a field it did not know would be refused), and recovery:export
// names the export file and its sheet with the title, the Chinese kept and "/" made safe, names the
// window's save dialog accepts (isSafeFileName); the sheet prints the title (read back by pdftotext).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSafeFileName } from '../../shared/file-name';
import { makeAgent, makeSet, recoveryRequest, tempDir, testApproverCards } from '../custodian/helpers';
import { call, file, harness } from './helpers';

const TITLE = '交易所热钱包事故 2026/12';

describe('recovery:show and recovery:export with an incident title', () => {
  it('shows the title and names the file and the sheet with it', async () => {
    const h = harness();
    await call(h, 'vault:create', { name: 'Carol', passphrase: 'correct horse battery staple' });
    const v = await h.ctx.vault();
    const agent = makeAgent();
    await call(h, 'trust:pin', { card: file('agent.custos', agent.card), confirmCode: agent.code });
    for (const a of testApproverCards()) await call(h, 'approvers:pin', { card: file('approver.custos', a.card), confirmCode: a.code });
    const set = await makeSet(agent.id, { fingerprint: v.fingerprint, ageRecipient: v.info.ageRecipient });
    await call(h, 'inbox:import', { opId: 'i', files: [file('e.custos', set.envelope)] });
    const session = await recoveryRequest(agent.id, set, { incident: 'INC-2026-0042', title: TITLE });
    const shown = await call(h, 'recovery:show', { request: file('req.custos', session.request) });
    expect(shown).toMatchObject({ incidentId: 'INC-2026-0042', incidentTitle: TITLE });
    const exported = await call(h, 'recovery:export', { request: file('req.custos', session.request), confirmation: shown.confirmation });
    expect(exported.summary.incidentTitle).toBe(TITLE);
    expect(exported.file.name).toBe('recovery-export-INC-2026-0042-交易所热钱包事故_2026_12-key-1-node-1-s3.custos');
    expect(exported.sheet?.name).toBe('recovery-export-INC-2026-0042-交易所热钱包事故_2026_12-key-1-node-1-s3-sheet.pdf');
    for (const name of [exported.file.name, exported.sheet?.name ?? '']) expect(isSafeFileName(name), name).toBe(true);
    // The sheet prints the title under the incident id, in both languages' label.
    const dir = tempDir('custos-sheet-title-');
    writeFileSync(join(dir, 's.pdf'), exported.sheet?.bytes ?? new Uint8Array());
    const text = spawnSync('pdftotext', ['-layout', join(dir, 's.pdf'), '-'], { encoding: 'utf8' });
    if (text.error !== undefined) throw new Error(`pdftotext is missing: apt-get install -y poppler-utils (${text.error.message})`);
    expect(text.stdout).toMatch(/^Incident title\s+交易所热钱包事故 2026\/12$/m);
    expect(text.stdout).toMatch(/^事件名称$/m);
  });
});
