// The custodian CLI as a person at a terminal uses it for issue 12 (the program's own `main`, with
// its parsing, runner and output; one run as a real process at the end): the agent pinned with a
// call-back contact, approver cards pinned only with the code the approver read out (never printed
// to paste), `trust list`, the recovery policy in `settings set`, `recovery show` with each
// approval's verdict and the warnings in both languages, an export refused below two verified
// approvers and made with --override-reason.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentFingerprint, approverFingerprint, createApproverIdentity, openCustodianCard, signRoster, openRecoveryExport, openRecoveryRequest, recoveryExportSchema } from '../../shared/protocol';
import { Vault } from '../../main/services/vault';
import { main } from '../../main/cli';
import { makeAgent, makeSet, recoveryRequest, tempDir, testApproverCards, TEST_APPROVERS } from '../custodian/helpers';

const ROOT = new URL('../..', import.meta.url).pathname;
const ENV = { CUSTOS_PASSPHRASE: 'a long cli passphrase', CUSTOS_INSECURE_SCRYPT_LOGN: '10' };

async function custos(...argv: string[]): Promise<{ code: number; out: string; err: string; json: Record<string, unknown> }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t), env: ENV });
  return { code, out, err, json: argv.includes('--json') && out.trim() !== '' ? (JSON.parse(out) as Record<string, unknown>) : {} };
}

describe('custodian CLI: pinned approvers, contacts, the recovery review', () => {
  it('pins with codes and contacts, reviews a request in both languages, refuses then overrides an export', async () => {
    const work = tempDir();
    const vault = join(work, 'vault');
    const now = Math.floor(Date.now() / 1000);
    const created = await custos('vault', 'create', '--vault', vault, '--name', 'Carol (cold storage)', '--json');
    expect(created.code, created.err).toBe(0);

    const agent = makeAgent();
    const agentCard = join(work, 'agent.custos');
    writeFileSync(agentCard, agent.card);
    const halfContact = await custos('pin-agent', '--vault', vault, '--card', agentCard, '--confirm-code', agent.code, '--contact-name', 'Li Wei');
    expect(halfContact.code).toBe(2);
    expect(halfContact.err).toContain('--contact-reach');
    const pinnedAgent = await custos('pin-agent', '--vault', vault, '--card', agentCard, '--confirm-code', agent.code, '--contact-name', 'Li Wei (ops on call)', '--contact-reach', '+86 21 5555 0100');
    expect(pinnedAgent.code, pinnedAgent.err).toBe(0);

    // Approver cards: without the code, a sentence saying whom to ask (and never the code itself); a wrong code refused.
    const cards = testApproverCards();
    const files = cards.map((c, i) => {
      const f = join(work, `approver-${String(i)}.custos`);
      writeFileSync(f, c.card);
      return f;
    });
    const noCode = await custos('trust', 'approver', 'pin', '--vault', vault, '--card', files[0]!);
    expect(noCode.code).toBe(1);
    expect(noCode.err).toContain('CONFIRMATION_REQUIRED');
    expect(noCode.err).toContain('Ask the approver to read out their code');
    expect(noCode.err + noCode.out).not.toContain(cards[0]!.code);
    expect(noCode.err + noCode.out).not.toContain(cards[0]!.code.replace(/ /g, ''));
    const wrong = await custos('trust', 'approver', 'pin', '--vault', vault, '--card', files[0]!, '--confirm-code', '1111 1111 1111 1111 1111 1111');
    expect(wrong.err).toContain('CODE_MISMATCH');
    const alice = await custos('trust', 'approver', 'pin', '--vault', vault, '--card', files[0]!, '--confirm-code', cards[0]!.code, '--contact-name', 'Alice Zhang', '--contact-reach', '+86 10 5555 0199');
    expect(alice.code, alice.err).toBe(0);
    expect(alice.out).toContain('Approver "Alice (security)" is now trusted');

    // The agent-signed roster: the first one needs the agent's code again; an older one is refused.
    const rosterBody = (version: number) => ({
      agent_name: agent.id.name,
      agent_key: agent.id.signing.publicKey,
      agent_fingerprint: agentFingerprint(agent.id.signing.publicKey),
      version,
      issued_at: now - 100 + version,
      approvers: [{ name: TEST_APPROVERS[0]!.name, sign_key: TEST_APPROVERS[0]!.signing.publicKey, fingerprint: approverFingerprint(TEST_APPROVERS[0]!.signing.publicKey), status: 'enabled' as const, added_at: now - 200 }],
    });
    const rosters = [1, 2].map((n) => {
      const f = join(work, `roster-v${String(n)}.custos`);
      writeFileSync(f, signRoster(rosterBody(n), agent.id.signing));
      return f;
    });
    const rosterNoCode = await custos('trust', 'roster', 'pin', '--vault', vault, '--roster', rosters[1]!);
    expect(rosterNoCode.err).toContain('CONFIRMATION_REQUIRED');
    expect(rosterNoCode.err + rosterNoCode.out).not.toContain(agent.code);
    const rosterPinned = await custos('trust', 'roster', 'pin', '--vault', vault, '--roster', rosters[1]!, '--confirm-code', agent.code);
    expect(rosterPinned.code, rosterPinned.err).toBe(0);
    expect(rosterPinned.out).toContain('Approver roster version 2 is now trusted (agent code compared)');
    const rollback = await custos('trust', 'roster', 'pin', '--vault', vault, '--roster', rosters[0]!);
    expect(rollback.err).toContain('ROSTER_ROLLBACK');

    const listed = await custos('trust', 'list', '--vault', vault, '--json');
    expect(listed.json['agent']).toMatchObject({ code: agent.code, contact: { name: 'Li Wei (ops on call)', reach: '+86 21 5555 0100' } });
    expect(listed.json['approvers']).toMatchObject([{ name: 'Alice (security)', code: cards[0]!.code, via: 'card', status: 'enabled', contact: { name: 'Alice Zhang' } }]);
    expect(listed.json['roster']).toMatchObject({ version: 2 });

    // The policy: warn below 2 hours left, and on mixed mode.
    const policy = await custos('settings', 'set', '--vault', vault, '--recovery-min-expiry-minutes', '120', '--recovery-expect-mode', 'external-only', '--json');
    expect(policy.code, policy.err).toBe(0);
    expect(await custos('settings', 'set', '--vault', vault, '--recovery-expect-mode', 'sometimes')).toMatchObject({ code: 2 }); // wrong usage: exit 2 (issue 13)

    // A share, and a request approved by Alice and by someone this vault never pinned, mixed mode, 30 minutes left.
    const opened = await Vault.open(vault);
    await opened.unlock(ENV.CUSTOS_PASSPHRASE);
    const set = await makeSet(agent.id, { fingerprint: opened.fingerprint, ageRecipient: opened.info.ageRecipient });
    await opened.lock();
    const envelope = join(work, 'envelope.custos');
    writeFileSync(envelope, set.envelope);
    expect((await custos('import', '--vault', vault, envelope)).code).toBe(0);
    const mallory = createApproverIdentity('Mallory (business owner)');
    const session = await recoveryRequest(agent.id, set, { now: now - 30, notAfter: now + 1800, incident: 'INC-CLI-12', mode: 'mixed', approvers: [TEST_APPROVERS[0]!, mallory] });
    const request = join(work, 'request.custos');
    writeFileSync(request, session.request);

    const shown = await custos('recovery', 'show', '--vault', vault, '--request', request);
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out).toMatch(/approved by Alice \(security\) .*: verified: a pinned approver/);
    expect(shown.out).toMatch(/approved by Mallory \(business owner\) .*: UNKNOWN APPROVER/);
    expect(shown.out).toContain('verified approvers: 1 of 2 needed');
    expect(shown.out).toContain('agent: agent node-1 (code ');
    expect(shown.out).toContain('call back: Li Wei (ops on call), +86 21 5555 0100');
    expect(shown.out).toContain('WARNING: Only 1 of the 2 approvals needed come from approvers you trusted.');
    expect(shown.out).toContain('less than your minimum of 120 minutes');
    expect(shown.out).toContain('mixed mode');
    expect(shown.out).toContain('--override-reason');
    const zh = await custos('recovery', 'show', '--vault', vault, '--request', request, '--lang', 'zh-CN');
    expect(zh.out).toContain('未知审批人');
    expect(zh.out).toContain('混合模式');
    expect(zh.out).toContain('回电核实：Li Wei (ops on call), +86 21 5555 0100');

    const out = join(work, 'export');
    const refused = await custos('recovery', 'export', '--vault', vault, '--request', request, '--confirm', '--out', out);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('APPROVERS_UNVERIFIED');
    expect(refused.err).toContain('"Mallory (business owner)" (unknown)');
    const short = await custos('recovery', 'export', '--vault', vault, '--request', request, '--confirm', '--out', out, '--override-reason', 'ok');
    expect(short.err).toContain('USAGE');
    const reason = 'Called Alice and the CFO on known numbers; both confirmed INC-CLI-12.';
    // The real process once, as a script would run it.
    const run = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), ['main/cli.ts', 'recovery', 'export', '--vault', vault, '--request', request, '--confirm', '--out', out, '--override-reason', reason, '--json'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, ...ENV },
    });
    expect(run.status, run.stderr).toBe(0);
    const done = JSON.parse(run.stdout) as { file: string; overridden: boolean };
    expect(done.overridden).toBe(true);
    const req = openRecoveryRequest(session.request, agent.id.signing.publicKey, now);
    const custodianCard = openCustodianCard(readFileSync(created.json['card'] as string));
    const agentSide = await openRecoveryExport(readFileSync(done.file), req, [{ signKey: custodianCard.body.sign_key, ageRecipient: custodianCard.body.age_recipient }], session.sessionIdentity);
    expect(agentSide.export.body.override).toEqual({ reason, verified_approvals: 1 });
    expect(recoveryExportSchema.safeParse(agentSide.export.body).success).toBe(true);

    const audit = await custos('audit', 'verify', '--vault', vault, '--json');
    expect(audit.json['verdict']).toMatchObject({ ok: true });
  });
});
