/**
 * Issue 12: the code comparison is two-sided. `agent custodian add` and `agent approver add`
 * register a card only once the operator typed the code its owner read out (their app, their
 * approver program); without one (and no terminal to ask on) or with another code they refuse
 * with a coded error, never print the card's code to copy, and register nothing.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approver, approverCode, APPROVER_TEST_KDF, cli, cliJson, makeCustodians, removeTempDirs, runCli, tempDir, type Custodian } from './helpers';

const data = tempDir('custos-confirm-data-');
const work = tempDir('custos-confirm-work-');
const D = ['--data', data];
const approverDir = join(work, 'approver');
let custodian: Custodian;

afterAll(removeTempDirs);

beforeAll(async () => {
  expect((await cli('init', ...D)).code).toBe(0);
  [custodian] = (await makeCustodians(work, 1)) as [Custodian];
  expect((await approver('keygen', '--out', approverDir, '--name', 'Alice (security)', ...APPROVER_TEST_KDF)).code).toBe(0);
});

const digits = (code: string): string => code.replace(/\s/g, '');
const registered = async (group: 'custodian' | 'approver'): Promise<unknown[]> => (await cliJson(group, 'list', ...D)).json[`${group}s`] as unknown[];

describe('registering a card needs the code its owner reads out', () => {
  it('custodian add without --confirm-code, from a script (no terminal), refuses and does not print the code', async () => {
    const r = await runCli(['custodian', 'add', ...D, '--card', custodian.cardFile, '--label', 'Cold 1', '--role', 'cold-storage']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('(CONFIRMATION_REQUIRED)');
    expect(r.stderr).toContain('read out');
    expect(r.stdout + r.stderr).not.toContain(custodian.code);
    expect(r.stdout + r.stderr).not.toContain(digits(custodian.code));
    expect(await registered('custodian')).toEqual([]);
  });

  it('custodian add with another code refuses with CODE_MISMATCH and registers nothing', async () => {
    const wrong = custodian.code.replace(/^\d/, (d) => String((Number(d) + 1) % 10));
    const r = await cli('custodian', 'add', ...D, '--card', custodian.cardFile, '--label', 'Cold 1', '--role', 'cold-storage', '--confirm-code', wrong);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('(CODE_MISMATCH)');
    expect(r.stderr).toContain('report it to security');
    expect(r.stdout + r.stderr).not.toContain(custodian.code);
    const short = await cli('custodian', 'add', ...D, '--card', custodian.cardFile, '--label', 'Cold 1', '--role', 'cold-storage', '--confirm-code', '1234');
    expect(short.stderr).toContain('(CODE_MISMATCH)');
    expect(await registered('custodian')).toEqual([]);
  });

  it('custodian add with the code as read out (spaces, dashes or none) registers the custodian', async () => {
    const dashed = custodian.code.replace(/ /g, '-');
    const r = await cliJson('custodian', 'add', ...D, '--card', custodian.cardFile, '--label', 'Cold 1', '--role', 'cold-storage', '--confirm-code', dashed);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json['custodian']).toMatchObject({ fingerprint: custodian.fingerprint, code: custodian.code, enabled: true });
  });

  it('approver add refuses without or with a wrong code, and registers with the code the approver program printed', async () => {
    const card = join(approverDir, 'approver.card');
    const none = await runCli(['approver', 'add', ...D, '--card', card]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('(CONFIRMATION_REQUIRED)');
    expect(none.stdout + none.stderr).not.toContain(approverCode(card));
    const wrong = await cli('approver', 'add', ...D, '--card', card, '--confirm-code', '0000 0000 0000 0000 0000 0000');
    expect(wrong.stderr).toContain('(CODE_MISMATCH)');
    expect(await registered('approver')).toEqual([]);

    // What the approver reads out: the code `approver keygen` printed on their machine.
    const printed = /code\s+((?:\d{4} ){5}\d{4})/.exec((await approver('keygen', '--out', join(work, 'other'), '--name', 'Bob', ...APPROVER_TEST_KDF)).stdout)?.[1];
    expect(printed).toMatch(/^(\d{4} ){5}\d{4}$/);
    const ok = await cli('approver', 'add', ...D, '--card', join(work, 'other', 'approver.card'), '--confirm-code', printed ?? '');
    expect(ok.code, ok.stderr).toBe(0);
    expect(await registered('approver')).toHaveLength(1);
  });
});
