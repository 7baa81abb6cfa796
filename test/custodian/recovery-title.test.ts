// The incident's free-text title in the custodian's review and in the export's file name (issue 13):
// a request whose session is titled "交易所热钱包事故 2026/12" is shown with the title, and the saved
// export (file, QR frames) is named recovery-export-<incident_id>-<title>-<key>-<node>-s<n> with the
// Chinese kept and "/" made safe; the key, node and share index are never cut for a long title; a
// request without a title keeps the name it always had. Also through the custodian CLI, in both
// languages.
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { custodianFingerprint, openCustodianCard, openRecoveryExport, openRecoveryRequest } from '../../shared/protocol';
import { isSafeFileName } from '../../shared/file-name';
import { importEnvelopes } from '../../main/services/inbox';
import { installNodeVerifier } from '../../node/ed25519';
import { EXPORT_BASE_BYTES, exportBaseName, exportForRecovery, showRecoveryRequest, writeRecoveryExport } from '../../main/services/recovery';
import { main } from '../../main/cli';
import { Station } from '../../main/services/station';
import { createVault, makeAgent, makeSet, meOf, NOW, pinned, pinTestApprovers, recoveryRequest, tempDir, testApproverCards } from './helpers';

installNodeVerifier();

const TITLE = '交易所热钱包事故 2026/12';
const bytesOf = (s: string): number => new TextEncoder().encode(s).length;

describe('incident title at the custodian', () => {
  it('is shown in the summary and names the saved export, Chinese kept and "/" made safe; the agent opens the export', async () => {
    const v = await createVault();
    const agent = makeAgent();
    await pinned(v, agent);
    await pinTestApprovers(v);
    const set = await makeSet(agent.id, meOf(v));
    await importEnvelopes(v, [{ bytes: set.envelope }]);
    const s = await recoveryRequest(agent.id, set, { incident: 'INC-2026-0042', title: TITLE });

    const summary = showRecoveryRequest(v, s.request);
    expect(summary).toMatchObject({ incidentId: 'INC-2026-0042', incidentTitle: TITLE, exportable: true });
    const result = await exportForRecovery(v, s.request, summary.confirmation);
    expect(result.baseName).toBe('recovery-export-INC-2026-0042-交易所热钱包事故_2026_12-key-1-node-1-s3');

    const out = tempDir();
    const files = await writeRecoveryExport(result, out, { png: true, svg: false });
    expect(basename(files.file)).toBe('recovery-export-INC-2026-0042-交易所热钱包事故_2026_12-key-1-node-1-s3.custos');
    expect(files.png.length).toBeGreaterThanOrEqual(1);
    for (const name of readdirSync(out)) {
      expect(name).toContain('交易所热钱包事故');
      expect(name).not.toContain('/');
      expect(isSafeFileName(name), name).toBe(true);
    }
    // The file holds the signed export, which the agent opens for this titled session.
    const req = openRecoveryRequest(s.request, agent.id.signing.publicKey, NOW + 10);
    expect(req.session.incident_title).toBe(TITLE);
    const opened = await openRecoveryExport(new Uint8Array(readFileSync(files.file)), req, [{ signKey: v.identity.signing.publicKey, ageRecipient: v.info.ageRecipient }], s.sessionIdentity);
    expect(opened.share).toEqual(set.share);
  });

  it('a request without a title keeps the name it always had', async () => {
    const v = await createVault();
    const agent = makeAgent();
    await pinned(v, agent);
    await pinTestApprovers(v);
    const set = await makeSet(agent.id, meOf(v));
    await importEnvelopes(v, [{ bytes: set.envelope }]);
    const s = await recoveryRequest(agent.id, set, { incident: 'INC-7' });
    const summary = showRecoveryRequest(v, s.request);
    expect('incidentTitle' in summary).toBe(false);
    expect((await exportForRecovery(v, s.request, summary.confirmation)).baseName).toBe('recovery-export-INC-7-key-1-node-1-s3');
  });

  it('only the title is shortened: the id, key, node and share index stay whole within the byte limit', () => {
    const ids = { incidentId: 'INC-2026-0042', keyId: 'key-1', nodeId: 'node-1' };
    const long = exportBaseName({ ...ids, incidentTitle: '交易所热钱包事故'.repeat(25) }, 3);
    expect(bytesOf(long)).toBeLessThanOrEqual(EXPORT_BASE_BYTES);
    expect(long).toMatch(/^recovery-export-INC-2026-0042-(交易所热钱包事故)+[交易所热钱包事故]*-key-1-node-1-s3$/);
    // Cut between graphemes: a Devanagari cluster (letters with combining marks) is kept whole or left out, never split.
    const graphemes = (t: string): string[] => Array.from(new Intl.Segmenter('und', { granularity: 'grapheme' }).segment(t), (g) => g.segment);
    const hindi = 'क्षत्रिय'.repeat(20);
    const cut = exportBaseName({ ...ids, incidentTitle: hindi }, 4);
    expect(bytesOf(cut)).toBeLessThanOrEqual(EXPORT_BASE_BYTES);
    const part = cut.replace(/^recovery-export-INC-2026-0042-/, '').replace(/-key-1-node-1-s4$/, '');
    expect(part.length).toBeGreaterThan(0);
    expect(graphemes(part)).toEqual(graphemes(hindi).slice(0, graphemes(part).length));
    // Emoji are not letters: a title of only emoji and punctuation adds nothing to a file name.
    expect(exportBaseName({ ...ids, incidentTitle: '🔥🔥 !!' }, 3)).toBe('recovery-export-INC-2026-0042-key-1-node-1-s3');
    // A title that is the id again, or that is only unsafe characters, adds nothing.
    expect(exportBaseName({ ...ids, incidentTitle: 'INC-2026-0042' }, 3)).toBe('recovery-export-INC-2026-0042-key-1-node-1-s3');
    expect(exportBaseName({ ...ids, incidentTitle: '///' }, 3)).toBe('recovery-export-INC-2026-0042-key-1-node-1-s3');
    // Ids so long that no room is left: the title is left out, the ids are as they always were.
    const big = { incidentId: 'I'.repeat(60), keyId: 'k'.repeat(60), nodeId: 'n'.repeat(40) };
    expect(exportBaseName({ ...big, incidentTitle: TITLE }, 5)).toBe(`recovery-export-${big.incidentId}-${big.keyId}-${big.nodeId}-s5`);
  });

  it('custos recovery show prints the title in English and Chinese; recovery export saves the titled file name', async () => {
    const PASS = 'a long cli language passphrase';
    const env = { CUSTOS_INSECURE_SCRYPT_LOGN: '10', CUSTOS_PASSPHRASE: PASS };
    const custos = async (argv: readonly string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env });
      return { code, stdout, stderr };
    };
    const work = tempDir();
    const vault = join(work, 'vault');
    const now = Math.floor(Date.now() / 1000);
    const created = await custos(['vault', 'create', '--vault', vault, '--name', 'Lin', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const card = openCustodianCard(new Uint8Array(readFileSync((JSON.parse(created.stdout) as { card: string }).card)));
    const me = { fingerprint: custodianFingerprint(card.body.sign_key, card.body.age_recipient), ageRecipient: card.body.age_recipient };
    const agent = makeAgent();
    writeFileSync(join(work, 'agent-card.custos'), agent.card);
    expect((await custos(['pin-agent', '--vault', vault, '--card', join(work, 'agent-card.custos'), '--confirm-code', agent.code])).code).toBe(0);
    for (const [i, a] of testApproverCards().entries()) {
      writeFileSync(join(work, `approver-${String(i)}.custos`), a.card);
      expect((await custos(['trust', 'approver', 'pin', '--vault', vault, '--card', join(work, `approver-${String(i)}.custos`), '--confirm-code', a.code])).code).toBe(0);
    }
    const set = await makeSet(agent.id, me, { now: now - 60 });
    mkdirSync(join(work, 'inbox'));
    writeFileSync(join(work, 'inbox', 'envelope.custos'), set.envelope);
    expect((await custos(['import', '--vault', vault, join(work, 'inbox')])).code).toBe(0);
    const session = await recoveryRequest(agent.id, set, { now: now - 30, notAfter: now + 3600, incident: 'INC-2026-0042', title: TITLE });
    const request = join(work, 'request.custos');
    writeFileSync(request, session.request);

    const en = await custos(['recovery', 'show', '--vault', vault, '--request', request]);
    expect(en.code, en.stderr).toBe(0);
    expect(en.stdout).toContain('Recovery request for incident INC-2026-0042\n  incident title: 交易所热钱包事故 2026/12\n');
    const zh = await custos(['--lang', 'zh-CN', 'recovery', 'show', '--vault', vault, '--request', request]);
    expect(zh.code, zh.stderr).toBe(0);
    expect(zh.stdout).toContain('事件 INC-2026-0042 的恢复请求\n  事件名称：交易所热钱包事故 2026/12\n');
    const json = JSON.parse((await custos(['recovery', 'show', '--vault', vault, '--request', request, '--json'])).stdout) as { summary: { incidentTitle?: string } };
    expect(json.summary.incidentTitle).toBe(TITLE);

    const exported = await custos(['recovery', 'export', '--vault', vault, '--request', request, '--confirm', '--out', join(work, 'export'), '--json']);
    expect(exported.code, exported.stderr).toBe(0);
    const file = (JSON.parse(exported.stdout) as { file: string }).file;
    expect(basename(file)).toBe('recovery-export-INC-2026-0042-交易所热钱包事故_2026_12-key-1-node-1-s3.custos');
    expect(readdirSync(join(work, 'export'))).toEqual([basename(file)]);
  });
});

describe('incident title at the recovery station', () => {
  it('the station shows the title of a titled request, and none for an untitled one', async () => {
    const agent = makeAgent();
    const v = await createVault();
    const set = await makeSet(agent.id, meOf(v));
    const titled = await recoveryRequest(agent.id, set, { incident: 'INC-2026-0042', title: TITLE });
    const plain = await recoveryRequest(agent.id, set, { incident: 'INC-9' });
    const station = new Station();
    const added = station.add(
      [
        { name: 'titled.custos', bytes: titled.request },
        { name: 'plain.custos', bytes: plain.request },
      ],
      { agentKey: agent.id.signing.publicKey, now: NOW },
    );
    expect(added.map((a) => a.outcome)).toEqual(['added', 'added']);
    const [a, b] = [added[0]?.sessionId ?? '', added[1]?.sessionId ?? ''];
    expect(station.view(a)).toMatchObject({ incidentId: 'INC-2026-0042', incidentTitle: TITLE, request: { verified: true } });
    expect(station.view(b).incidentId).toBe('INC-9');
    expect('incidentTitle' in station.view(b)).toBe(false);
  });
});
