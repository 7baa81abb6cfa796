// The headless CLI end to end, as a script would drive it: `tsx main/cli.ts …` (what `npm run
// custos --` runs) in a temp folder, the passphrase from the environment and once from a file
// descriptor, --json output parsed. The agent side is played in this process with shared/protocol.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../shared/bytes';
import { custodianFingerprint, openCustodianCard, openReceipt, openRecoveryExport, openRecoveryRequest } from '../../shared/protocol';
import { writeQrFiles } from '../../main/services/qr-files';
import { main } from '../../main/cli';
import { makeAgent, makeSet, recoveryRequest, tempDir, testApproverCards } from './helpers';

const ROOT = new URL('../..', import.meta.url).pathname;
const TSX = join(ROOT, 'node_modules/.bin/tsx');
const PASS = 'a long cli passphrase';

interface Result {
  readonly status: number;
  readonly json: Record<string, unknown>;
  readonly stdout: string;
  readonly stderr: string;
}

function custos(args: readonly string[], options: { env?: Record<string, string>; passphraseFile?: string } = {}): Result {
  const fd = options.passphraseFile === undefined ? undefined : openSync(options.passphraseFile, 'r');
  try {
    const run = spawnSync(TSX, ['main/cli.ts', ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, CUSTOS_INSECURE_SCRYPT_LOGN: '10', ...(fd === undefined ? { CUSTOS_PASSPHRASE: PASS } : { CUSTOS_PASSPHRASE: '' }), ...options.env },
      stdio: [fd ?? 'ignore', 'pipe', 'pipe'],
    });
    if (run.error !== undefined) throw run.error;
    let json: Record<string, unknown> = {};
    if (args.includes('--json') && run.stdout.trim() !== '') json = JSON.parse(run.stdout) as Record<string, unknown>;
    return { status: run.status ?? -1, json, stdout: run.stdout, stderr: run.stderr };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

describe('custodian CLI', () => {
  it('create, pin, import, list, receipts, recovery export, audit', async () => {
    const work = tempDir();
    const vault = join(work, 'vault');
    const now = Math.floor(Date.now() / 1000);

    const created = custos(['vault', 'create', '--vault', vault, '--name', 'Carol (CLI)', '--json']);
    expect(created.status, created.stderr).toBe(0);
    expect(created.json['code']).toMatch(/^[0-9]{4}( [0-9]{4}){5}$/);
    expect(created.stderr).toContain('deliberately weak');
    const card = openCustodianCard(new Uint8Array(readFileSync(created.json['card'] as string)));
    expect(card.code).toBe(created.json['code']);
    const me = { fingerprint: custodianFingerprint(card.body.sign_key, card.body.age_recipient), ageRecipient: card.body.age_recipient };

    // The passphrase is never taken from argv.
    const argvPass = custos(['list', '--vault', vault, '--passphrase', PASS]);
    expect(argvPass.status).toBe(2);
    expect(argvPass.stderr).toContain('never accepted on the command line');

    // Pinning demands the code comparison.
    const agent = makeAgent();
    const agentCard = join(work, 'agent-card.custos');
    writeFileSync(agentCard, agent.card);
    const unconfirmed = custos(['pin-agent', '--vault', vault, '--card', agentCard]);
    expect(unconfirmed.status).toBe(1);
    expect(unconfirmed.stderr).toContain('CONFIRMATION_REQUIRED');
    // The code to type comes from ops (agent info), never from this card: it is not printed.
    expect(unconfirmed.stderr + unconfirmed.stdout).not.toContain(agent.code);
    expect(unconfirmed.stderr + unconfirmed.stdout).not.toContain(agent.code.replace(/ /g, ''));
    expect(custos(['pin-agent', '--vault', vault, '--card', agentCard, '--confirm-code', '1111 1111 1111 1111 1111 1111']).stderr).toContain('CODE_MISMATCH');
    expect(custos(['pin-agent', '--vault', vault, '--card', agentCard, '--confirm-code', agent.code]).status).toBe(0);

    // Three good envelopes and a damaged one, imported from a folder.
    const inbox = join(work, 'inbox');
    mkdirSync(inbox);
    const sets = [];
    for (let i = 0; i < 3; i++) {
      const s = await makeSet(agent.id, me, { keyId: `key-${String(i)}`, now: now - 60 });
      sets.push(s);
      writeFileSync(join(inbox, `envelope-${String(i)}.custos`), s.envelope);
    }
    writeFileSync(join(inbox, 'damaged.custos'), sets[0]!.envelope.subarray(0, 200));
    // A fourth envelope arrives only as QR code images.
    const byQr = await makeSet(agent.id, me, { keyId: 'key-qr', now: now - 60 });
    const qr = await writeQrFiles(inbox, 'scanned', 'envelope', byQr.envelope, { png: true });
    rmSync(qr.framesFile!);
    const imported = custos(['import', '--vault', vault, inbox, '--json']);
    expect(imported.status, imported.stderr).toBe(3);
    expect(imported.json).toMatchObject({ ok: true, accepted: 4, refused: 1 });
    sets.push(byQr);
    const refused = (imported.json['results'] as { outcome: string; code?: string; message?: { en: string; 'zh-CN': string } }[]).find((r) => r.outcome === 'refused')!;
    expect(refused.code).toBe('MALFORMED');
    expect(refused.message?.['zh-CN']).toMatch(/[\u4e00-\u9fff]/);

    const listed = custos(['list', '--vault', vault, '--status', 'received', '--json']);
    expect((listed.json['shares'] as { keyId: string }[]).map((x) => x.keyId).sort()).toEqual(['key-0', 'key-1', 'key-2', 'key-qr']);

    // Receipts for everything received; the agent verifies them with the custodian's key.
    const receipts = join(work, 'receipts');
    const signed = custos(['receipt', '--vault', vault, '--all', '--status', 'accepted', '--out', receipts, '--json']);
    expect(signed.status, signed.stderr).toBe(0);
    const files = readdirSync(receipts).filter((f) => f.endsWith('.custos'));
    expect(files).toHaveLength(4);
    for (const f of files) expect(openReceipt(new Uint8Array(readFileSync(join(receipts, f))), card.body.sign_key).body.status).toBe('accepted');

    // The two approvers of the request, pinned after comparing the codes they read out (issue 12).
    for (const [i, a] of testApproverCards().entries()) {
      const f = join(work, `approver-${String(i)}.custos`);
      writeFileSync(f, a.card);
      const pinnedApprover = custos(['trust', 'approver', 'pin', '--vault', vault, '--card', f, '--confirm-code', a.code]);
      expect(pinnedApprover.status, pinnedApprover.stderr).toBe(0);
    }

    // Recovery, with the passphrase on standard input this time (--passphrase-fd 0: what survives npm run and tsx).
    const session = await recoveryRequest(agent.id, sets[1]!, { now: now - 30, notAfter: now + 3600, incident: 'INC-CLI-1' });
    const requestFile = join(work, 'request.custos');
    writeFileSync(requestFile, session.request);
    const passFile = join(work, 'pass.txt');
    writeFileSync(passFile, `${PASS}\n`, { mode: 0o600 });
    const shown = custos(['recovery', 'show', '--vault', vault, '--request', requestFile, '--passphrase-fd', '0'], { passphraseFile: passFile });
    expect(shown.status, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('incident INC-CLI-1');
    expect(shown.stdout).toContain('approved by Alice (security)');
    const noConfirm = custos(['recovery', 'export', '--vault', vault, '--request', requestFile, '--out', join(work, 'export')]);
    expect(noConfirm.status).toBe(1);
    expect(noConfirm.stderr).toContain('CONFIRMATION_REQUIRED');
    const exported = custos(['recovery', 'export', '--vault', vault, '--request', requestFile, '--confirm', '--qr', '--out', join(work, 'export'), '--json']);
    expect(exported.status, exported.stderr).toBe(0);
    const req = openRecoveryRequest(session.request, agent.id.signing.publicKey, now);
    const opened = await openRecoveryExport(new Uint8Array(readFileSync(exported.json['file'] as string)), req, [{ signKey: card.body.sign_key, ageRecipient: card.body.age_recipient }], session.sessionIdentity);
    expect(opened.share).toEqual(sets[1]!.share);
    expect((exported.json['qr'] as { png: string[] }).png.length).toBeGreaterThanOrEqual(1);

    const audit = custos(['audit', 'verify', '--vault', vault, '--json']);
    expect(audit.status).toBe(0);
    expect(audit.json['verdict']).toMatchObject({ ok: true });
    expect(fromHex((audit.json['head'] as { hash: string }).hash)).toHaveLength(32);
  }, 180_000);

  it('shares the runner with the agent CLI: help per group, usage exit 2, one JSON line, errors in the chosen language', async () => {
    const run = async (...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
      let stdout = '';
      let stderr = '';
      const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: {} });
      return { code, stdout, stderr };
    };
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^ {2}recovery show\|export\s+a recovery request reviewed/m);
    expect((await run('recovery', '--help')).stdout).toContain('  npm run custos -- recovery export --vault DIR --request FILE --confirm --out DIR [--qr] [--override-reason "…"]\n');
    const noSub = await run('vault');
    expect(noSub.code).toBe(2);
    expect(noSub.stderr).toMatch(/^error: Name a vault command: create, info\. \(USAGE\)$/m);
    expect((await run('list', '--lang', 'fr')).code).toBe(2);
    expect((await run('list', '--passphrase=x')).stderr).toContain('never accepted on the command line');

    const missing = join(tempDir(), 'no-vault');
    const zh = await run('vault', 'info', '--vault', missing, '--lang', 'zh-CN', '--json');
    expect(zh.code).toBe(1);
    expect(zh.stdout.trim().split('\n')).toHaveLength(1);
    const error = (JSON.parse(zh.stdout) as { ok: boolean; error: { code: string; message: string; sentence: { en: string; 'zh-CN': string } } }).error;
    expect(error.code).toBe('VAULT_NOT_FOUND');
    expect(error.sentence['zh-CN']).toMatch(/[\u4e00-\u9fff]/);
    expect(zh.stderr).toMatch(/^error: .*[\u4e00-\u9fff].* \(VAULT_NOT_FOUND\)\n/);
  });
});
