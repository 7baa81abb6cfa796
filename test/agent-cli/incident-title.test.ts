// `agent session open --incident-title TEXT` (issue 13): the title in any script goes into the
// details file; `session show` prints it; the approver's program shows it among the lines to compare
// and signs it; the agent takes that approval and refuses one signed over other details. A bad
// title is wrong input (exit 1 with the field named, nothing written).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCanonical, sessionDetailsSchema } from '../../shared/protocol';
import { approver, approverCode, APPROVER_TEST_KDF, cli, cliJson, FIXTURE, makeCustodians, removeTempDirs, runApprover, tempDir } from './helpers';
import { readSessionDetails } from '../../approver/key';
import { encodeCanonical } from '../../shared/protocol/cbor';

afterAll(removeTempDirs);

const TITLE = '交易所热钱包事故 2026/12';
const data = tempDir('custos-title-data-');
const work = tempDir('custos-title-work-');
const machine = tempDir('custos-title-approver-');
const D = ['--data', data];

beforeAll(async () => {
  expect((await cli('init', ...D, '--name', 'agent under test')).code).toBe(0);
  const keygen = await runApprover(['keygen', '--out', machine, '--name', 'Alice (security)', ...APPROVER_TEST_KDF]);
  expect(keygen.code, keygen.stderr).toBe(0);
  expect((await cli('approver', 'add', ...D, '--card', join(machine, 'approver.card'), '--confirm-code', approverCode(join(machine, 'approver.card')))).code).toBe(0);
  const custodians = await makeCustodians(work, 3);
  for (const c of custodians) expect((await cli('custodian', 'add', ...D, '--card', c.cardFile, '--label', 'C', '--role', 'cold-storage', '--confirm-code', c.code)).code).toBe(0);
  expect((await cli('keyshare', 'import', ...D, '--key-id', 'key-1', '--node-id', 'node-0', '--keydata', FIXTURE)).code).toBe(0);
  const b = await cli('backup', ...D, '--key-id', 'key-1', '--node-id', 'node-0', '--custodians', custodians.map((c) => c.fingerprint).join(','), '--out', join(work, 'envelopes'));
  expect(b.code, b.stderr).toBe(0);
}, 120_000);

describe('session open --incident-title', () => {
  it('writes the title into the details the approver reads and signs; the agent records that approval', async () => {
    const file = join(work, 'session.cbor');
    const opened = await cliJson('session', 'open', ...D, '--incident', 'INC-2026-0042', '--incident-title', TITLE, '--key-id', 'key-1', '--node-id', 'node-0', '--mode', 'external-only', '--out', file);
    expect(opened.code, opened.stderr).toBe(0);
    const session = opened.json['session'] as { sessionId: string; incidentTitle?: string };
    expect(session.incidentTitle).toBe(TITLE);
    expect(sessionDetailsSchema.parse(decodeCanonical(new Uint8Array(readFileSync(file)))).incident_title).toBe(TITLE);

    const show = await cli('session', 'show', ...D, '--session-id', session.sessionId);
    expect(show.stdout).toMatch(/^ {2}incident title\s+交易所热钱包事故 2026\/12$/m);

    const key = join(machine, 'approver.key');
    const review = await approver('sign', '--key', key, '--session', file, '--out', join(work, 'unused.cbor'));
    expect(review.code).toBe(1);
    expect(review.stdout).toMatch(/^ {2}incident title\s+交易所热钱包事故 2026\/12$/m);
    const signed = await approver('sign', '--key', key, '--session', file, '--out', join(work, 'approval.cbor'), '--yes', '--json');
    expect(signed.code, signed.stderr).toBe(0);
    expect(JSON.parse(signed.stdout.trim().split('\n').at(-1) ?? '{}')).toMatchObject({ session: { incidentId: 'INC-2026-0042', incidentTitle: TITLE } });
    const approved = await cliJson('session', 'approve', ...D, '--session-id', session.sessionId, '--approval', join(work, 'approval.cbor'));
    expect(approved.code, approved.stderr).toBe(0);
    expect((approved.json['session'] as { approvals: unknown[] }).approvals).toHaveLength(1);

    // A details file with another title, signed by the same approver, is not an approval of this session.
    const other = join(work, 'other-title.cbor');
    writeFileSync(other, encodeCanonical({ ...readSessionDetails(new Uint8Array(readFileSync(file))), incident_title: '另一起事故' }));
    expect((await approver('sign', '--key', key, '--session', other, '--out', join(work, 'other-approval.cbor'), '--yes')).code).toBe(0);
    const refused = await cli('session', 'approve', ...D, '--session-id', session.sessionId, '--approval', join(work, 'other-approval.cbor'));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/\(SESSION_MISMATCH\)\n$/);
  });

  it('refuses a bad title as wrong usage (exit 2) before anything is opened or written', async () => {
    const file = join(work, 'bad.cbor');
    const cases: readonly [string, RegExp][] = [
      ['hot\u0007wallet', /^error: --incident-title must not contain control characters, line separators or bidirectional controls \(after Unicode NFC and trimming\)\. \(USAGE\)\n$/],
      ['事'.repeat(201), /^error: --incident-title must be 1 to 200 characters \(after Unicode NFC and trimming\)\. \(USAGE\)\n$/],
      ['   ', /^error: --incident-title must be 1 to 200 characters/],
    ];
    for (const [title, sentence] of cases) {
      const r = await cli('session', 'open', ...D, '--incident', 'INC-9', '--incident-title', title, '--key-id', 'key-1', '--node-id', 'node-0', '--mode', 'external-only', '--out', file);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(sentence);
      expect(existsSync(file)).toBe(false);
    }
    expect(((await cliJson('session', 'list', ...D)).json['sessions'] as unknown[]).length).toBe(1);
  });
});
