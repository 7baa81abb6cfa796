// The agent CLI end to end (issue 3, "Interfaces"): a data directory made by a spawned `init`,
// approver keys made and approvals signed on "another machine" (other temp dirs, spawned), and the
// rest through the CLI's own `main` in this process: custodians registered from cards made with
// shared/protocol, the tss-lib EdDSA fixture imported, a 3-of-5 backup, receipts, a session opened,
// approved and its request issued, exports submitted as a file and as PNG QR frames, recovery
// completed byte-identically, status --json checked, and refusals with a sentence and an exit code.
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseKeydata, writeKeydata, groupKeyOf } from '../../shared/keydata';
import { fileHash } from '../../shared/crypto/hash';
import { toHex } from '../../shared/bytes';
import { encodeFrames } from '../../shared/qr/ur';
import { renderPng } from '../../shared/qr/render';
import {
  approver,
  approverCode,
  APPROVER_TEST_KDF,
  APPROVER_TEST_PASSPHRASE,
  cli,
  cliJson,
  FIXTURE,
  makeCustodians,
  makeExport,
  openEnvelopes,
  removeTempDirs,
  runApprover,
  runCli,
  tempDir,
  writeReceipt,
  type Custodian,
  type Held,
} from './helpers';
import { decryptWithPassphrase } from '../../node/age-scrypt';

afterAll(removeTempDirs);

const data = tempDir('custos-cli-data-');
const work = tempDir('custos-cli-work-');
const machineA = tempDir('custos-approver-a-'); // "another machine" for each approver
const machineB = tempDir('custos-approver-b-');
const D = ['--data', data];
let custodians: Custodian[] = [];
let held: Held[] = [];
let sessionId = '';
const secrets: string[] = [];

beforeAll(async () => {
  // Three real processes at once: the agent's init, and two approvers' keygen on their machines.
  const [init, a, b] = await Promise.all([
    runCli(['init', ...D, '--name', 'agent under test']),
    runApprover(['keygen', '--out', machineA, '--name', 'Alice (security)', ...APPROVER_TEST_KDF]),
    runApprover(['keygen', '--out', machineB, '--name', 'Bob (business owner)', '--json', ...APPROVER_TEST_KDF]),
  ]);
  expect(init.code, init.stderr).toBe(0);
  expect(init.stdout).toMatch(/^Initialised the agent in /);
  expect(init.stdout).toMatch(/fingerprint code\s+(\d{4} ){5}\d{4}/);
  expect(a.code, a.stderr).toBe(0);
  expect(b.code, b.stderr).toBe(0);
  expect(JSON.parse(b.stdout)).toMatchObject({ ok: true, name: 'Bob (business owner)', keyFile: join(machineB, 'approver.key'), cardFile: join(machineB, 'approver.card') });
  for (const [dir, run] of [
    [machineA, a],
    [machineB, b],
  ] as const) {
    const keyFile = join(dir, 'approver.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'approver.card')).mode & 0o777).toBe(0o644);
    // The key file is an age passphrase file; the seed inside never appears in it, or in any output.
    const sealed = new Uint8Array(readFileSync(keyFile));
    expect(new TextDecoder().decode(sealed.subarray(0, 22))).toBe('age-encryption.org/v1\n');
    const seed = (JSON.parse(new TextDecoder().decode(await decryptWithPassphrase(sealed, APPROVER_TEST_PASSPHRASE))) as { seed: string }).seed;
    expect(seed).toMatch(/^[0-9a-f]{64}$/);
    expect(Buffer.from(sealed).toString('latin1')).not.toContain(seed);
    secrets.push(seed);
    expect(run.stdout + run.stderr).not.toContain(seed);
  }
  custodians = await makeCustodians(work, 3);
});

describe('agent CLI', () => {
  it('registers custodians and approvers, imports the keydata and backs it up 3-of-5', async () => {
    const roles = ['security-team', 'independent-custodian', 'cold-storage'];
    for (const [i, c] of custodians.entries()) {
      const r = await cliJson('custodian', 'add', ...D, '--card', c.cardFile, '--label', `Custodian ${String(i + 1)}`, '--role', roles[i]!, '--confirm-code', c.code);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json['custodian']).toMatchObject({ fingerprint: c.fingerprint, role: roles[i], enabled: true, cardName: `custodian ${String(i + 1)}` });
    }
    const list = await cli('custodian', 'list', ...D);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^FINGERPRINT\s+ROLE\s+STATE\s+CODE\s+LABEL$/);
    expect(list.stdout).toContain('Custodian 3');

    for (const dir of [machineA, machineB]) {
      const r = await cli('approver', 'add', ...D, '--card', join(dir, 'approver.card'), '--confirm-code', approverCode(join(dir, 'approver.card')));
      expect(r.code, r.stderr).toBe(0);
    }

    const imported = await cliJson('keyshare', 'import', ...D, '--key-id', 'key-1', '--node-id', 'node-0', '--keydata', FIXTURE);
    expect(imported.code, imported.stderr).toBe(0);
    const compact = writeKeydata(parseKeydata(new Uint8Array(readFileSync(FIXTURE))));
    expect(imported.json['imported']).toMatchObject({ keyId: 'key-1', nodeId: 'node-0', curve: 'ed25519', partyIndex: 0, keydataSha256: toHex(fileHash(compact)) });

    // Custodians named by fingerprint prefixes (8 hex digits), as an operator would type them.
    const out = join(work, 'envelopes');
    const b = await cliJson('backup', ...D, '--key-id', 'key-1', '--node-id', 'node-0', '--custodians', custodians.map((c) => c.fingerprint.slice(0, 8)).join(','), '--out', out);
    expect(b.code, b.stderr).toBe(0);
    const backup = b.json['backup'] as { epoch: number; retainedIndexes: number[]; envelopes: { shareIndex: number; custodian: string; file: string; qrFrames: string[] }[] };
    expect(backup.epoch).toBe(1);
    expect(backup.retainedIndexes).toEqual([1, 2]);
    expect(backup.envelopes.map((e) => e.custodian)).toEqual(custodians.map((c) => c.fingerprint));
    expect(backup.envelopes.every((e) => e.qrFrames.length === 0 && existsSync(e.file))).toBe(true);
    held = await openEnvelopes(data, custodians, backup.envelopes);
  });

  it('reports status as JSON for scripts and aligned lines for people', async () => {
    const s = await cliJson('status', ...D, '--key-id', 'key-1', '--node-id', 'node-0');
    expect(s.code).toBe(0);
    expect(s.json).toMatchObject({
      ok: true,
      status: { keyId: 'key-1', nodeId: 'node-0', epoch: 1, curve: 'ed25519', threshold: 3, total: 5, retain: 2, serverSharesHeld: 2, externalDelivered: 0, externalConfirmed: 0, recoverable: false, externalOnlyRecoverable: false },
    });
    const all = await cli('status', ...D);
    expect(all.stdout.split('\n')[0]).toMatch(/^KEY\s+NODE\s+SET\s+T\/N\s+SERVER\s+DELIVERED\s+CONFIRMED\s+RECOVERABLE\s+LAST DRILL\s+ATTESTED\s+OVERDUE$/);
    expect(all.stdout).toMatch(/key-1\s+node-0\s+e1\s+3\/5\s+2\s+0\s+0\s+NO\s+never\s+0\s+0/);
  });

  it('records custodians\' receipts; a second copy of the same batch is refused by name, exit 3', async () => {
    const files = held.map((h) => writeReceipt(join(work, `receipt-${String(h.shareIndex)}.cbor`), 'key-1', 'node-0', h));
    const r = await cliJson('delivery', 'confirm', ...D, ...files.flatMap((f) => ['--receipt', f]));
    expect(r.code, r.stderr).toBe(0);
    expect((r.json['confirmed'] as { status: string }[]).map((x) => x.status)).toEqual(['confirmed', 'confirmed', 'confirmed']);
    const s = await cliJson('status', ...D, '--key-id', 'key-1', '--node-id', 'node-0');
    expect(s.json['status']).toMatchObject({ externalConfirmed: 3, recoverable: true, externalOnlyRecoverable: true });

    writeFileSync(join(work, 'garbage.cbor'), 'not a receipt');
    const mixed = await cli('delivery', 'confirm', ...D, '--receipt', files[0]!, '--receipt', join(work, 'garbage.cbor'));
    expect(mixed.code).toBe(3);
    expect(mixed.stdout).toMatch(/refused\s+\S*garbage\.cbor: .+ \(MALFORMED\)/);
  });

  it('opens a session whose details two approvers sign on their own machines, then issues the request', async () => {
    const sessionFile = join(work, 'session.cbor');
    const opened = await cliJson('session', 'open', ...D, '--incident', 'INC-2026-0042', '--key-id', 'key-1', '--node-id', 'node-0', '--mode', 'external-only', '--ttl', '3600', '--out', sessionFile);
    expect(opened.code, opened.stderr).toBe(0);
    const session = opened.json['session'] as { sessionId: string; state: string; missing: number[] };
    expect(session).toMatchObject({ state: 'awaiting-approvals', missing: [3, 4, 5] });
    sessionId = session.sessionId;
    expect(statSync(sessionFile).mode & 0o777).toBe(0o644);

    // Without --yes: the details in plain words, nothing signed, exit 1 with a sentence.
    const approvalA = join(machineA, 'approval.cbor');
    const unconfirmed = await approver('sign', '--key', join(machineA, 'approver.key'), '--session', sessionFile, '--out', approvalA);
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stdout).toMatch(/incident\s+INC-2026-0042/);
    expect(unconfirmed.stdout).toMatch(/mode\s+external-only: custodian shares only/);
    expect(unconfirmed.stderr).toMatch(/^error: Nothing was signed\. .* --yes\. \(CONFIRMATION_REQUIRED\)$/m);
    expect(existsSync(approvalA)).toBe(false);

    // Signed on the approvers' machines: one as a separate process, one in-process.
    const approvalB = join(machineB, 'approval.cbor');
    const [signedA, signedB] = await Promise.all([
      runApprover(['sign', '--key', join(machineA, 'approver.key'), '--session', sessionFile, '--out', approvalA, '--yes']),
      approver('sign', '--key', join(machineB, 'approver.key'), '--session', sessionFile, '--out', approvalB, '--yes'),
    ]);
    for (const r of [signedA, signedB]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`session      ${sessionId}`);
      for (const s of secrets) expect(r.stdout + r.stderr).not.toContain(s);
    }

    // Session ids may be shortened to a unique prefix.
    const approved = await cliJson('session', 'approve', ...D, '--session-id', sessionId.slice(0, 10), '--approval', approvalA, '--approval', approvalB);
    expect(approved.code, approved.stderr).toBe(0);
    expect((approved.json['session'] as { approvals: { name: string }[] }).approvals.map((a) => a.name).sort()).toEqual(['Alice (security)', 'Bob (business owner)']);

    const again = await cli('session', 'approve', ...D, '--session-id', sessionId, '--approval', approvalA);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: Alice \(security\) has approved this session already; .+\. \(DUPLICATE_APPROVER\)\n$/);
    expect(again.stderr).not.toMatch(/\n\s+at /);

    const request = await cliJson('session', 'request', ...D, '--session-id', sessionId, '--out', join(work, 'request.cbor'));
    expect(request.code, request.stderr).toBe(0);
    const show = await cli('session', 'show', ...D, '--session-id', sessionId);
    expect(show.stdout).toMatch(/^Session [0-9a-f]{32}: collecting$/m);
    expect(show.stdout).toMatch(/request\s+issued/);
  });

  it('takes exports as a file and as mixed PNG QR frames, then recovers the keydata byte for byte', async () => {
    const request = join(work, 'request.cbor');
    const [h3, h4, h5] = [held[0]!, held[1]!, held[2]!];
    const file3 = join(work, 'export-3.cbor');
    writeFileSync(file3, await makeExport(data, request, h3));
    // Two exports as small multi-frame QR sequences (the custodian app's UR type), frames mixed in one folder.
    const frames = join(work, 'frames');
    mkdirSync(frames);
    let n = 0;
    for (const h of [h4, h5]) {
      const parts = encodeFrames(await makeExport(data, request, h), { type: 'custos-recovery-export', singleFrameMaxVersion: 5, maxFragmentLength: 400 });
      expect(parts.length).toBeGreaterThan(1);
      for (const p of parts) writeFileSync(join(frames, `frame-${String(n++ % 2)}-${String(n).padStart(3, '0')}.png`), await renderPng(p));
    }
    expect(readdirSync(frames).length).toBe(n);

    const one = await cliJson('session', 'submit', ...D, '--session-id', sessionId, file3);
    expect(one.code, one.stderr).toBe(0);
    expect(one.json['accepted']).toEqual([3]);
    const pngs = await cliJson('session', 'submit', ...D, '--session-id', sessionId, frames);
    expect(pngs.code, pngs.stderr).toBe(0);
    expect(pngs.json['accepted']).toEqual([4, 5]);
    expect(pngs.json['inputs']).toMatchObject({ qrFrames: n, exports: 2 });
    expect(pngs.stderr).toMatch(/reading QR frame \d+\/\d+/);

    const done = await cliJson('session', 'complete', ...D, '--session-id', sessionId);
    expect(done.code, done.stderr).toBe(0);
    const compact = writeKeydata(parseKeydata(new Uint8Array(readFileSync(FIXTURE))));
    expect(done.json['outcome']).toMatchObject({ success: true, written: true, sharesUsed: { server: 0, external: 3 }, keydataSha256: toHex(fileHash(compact)) });
    // Issue 12: the recovered group public key, to compare (shared/keydata/group-key.ts).
    expect(done.json['outcome']).toMatchObject({ groupPublicKey: groupKeyOf(parseKeydata(compact)).compressed });

    const exported = join(work, 'recovered.json');
    expect((await cli('keyshare', 'export', ...D, '--key-id', 'key-1', '--node-id', 'node-0', '--out', exported)).code).toBe(0);
    expect(new Uint8Array(readFileSync(exported))).toEqual(compact);
    expect(statSync(exported).mode & 0o777).toBe(0o600);

    const audit = await cliJson('audit', 'verify', ...D);
    expect(audit.code).toBe(0);
    expect(audit.json['verification']).toMatchObject({ ok: true });
  });

  it('refuses with a sentence and a non-zero exit, never a stack trace: a real process and in-process', async () => {
    const spawned = await runCli(['status', ...D, '--key-id', 'no-such-key', '--node-id', 'node-0']);
    expect(spawned.code).toBe(1);
    expect(spawned.stdout).toBe('');
    expect(spawned.stderr).toBe('error: Key no-such-key node node-0 is not known to this agent; import its keydata first. (NOT_FOUND)\n');

    const json = await cliJson('status', ...D, '--key-id', 'no-such-key', '--node-id', 'node-0');
    expect(json.code).toBe(1);
    expect(json.json).toEqual({ ok: false, error: { code: 'NOT_FOUND', message: expect.stringMatching(/not known to this agent/) as unknown, details: { keyId: 'no-such-key', nodeId: 'node-0' } } });

    const usage = await cli('backup', ...D, '--key-id', 'key-1');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toBe('error: --out is required here. (USAGE)\n');
    expect((await cli('status', '--token', 'x')).code).toBe(2);
    const missing = await cli('keyshare', 'import', ...D, '--key-id', 'k', '--node-id', 'n', '--keydata', join(work, 'nope.json'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: The keydata file .*nope\.json does not exist or cannot be read\. \(IO_FAILED\)\n$/);

    // A key file others can read is refused before it is used.
    const leaky = join(machineA, 'approver.key');
    chmodSync(leaky, 0o644);
    const refused = await approver('sign', '--key', leaky, '--session', join(work, 'session.cbor'), '--out', join(machineA, 'x.cbor'), '--yes');
    chmodSync(leaky, 0o600);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/approver\.key is accessible to group or others \(mode 644\).*\(PERMISSION_DENIED\)/);
    for (const s of secrets) expect(refused.stdout + refused.stderr).not.toContain(s);
  });
});
