// Wrong usage exits 2 in every Custos CLI (issue 13, "The rough edges"): a bad number, duration or
// word for an option is refused before anything is opened or written, with a sentence that names the
// option and what it takes. A representative set per CLI, in this process (the runners' `main`), and
// once per CLI as a spawned process, as a script would see it. Also the article slips ("a agent").
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main as custodianMain } from '../../main/cli';
import { aOrAn } from '../../node/cli/format';
import { resolveId } from '../../agent/core/cli-common';
import { approverWithEnv, cli, removeTempDirs, runCli, tempDir } from './helpers';

afterAll(removeTempDirs);

const capture = async (argv: readonly string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string }> => {
  let stderr = '';
  const code = await custodianMain(argv, { stdout: () => undefined, stderr: (t) => (stderr += t), env });
  return { code, stderr };
};

describe('usage errors exit 2', () => {
  it('agent CLI: numbers, durations, lists and words', async () => {
    const data = join(tempDir(), 'agent');
    const out = tempDir();
    const D = ['--data', data];
    expect((await cli('init', ...D)).code).toBe(0);
    const cases: readonly [readonly string[], RegExp][] = [
      [['backup', '--key-id', 'k', '--node-id', 'n', '--threshold', 'abc', '--custodians', 'x', '--out', out], /--threshold is a whole number from 1 to 255; got "abc"/],
      [['backup', '--all', '--total', '1.5', '--custodians', 'x', '--out', out], /--total is a whole number/],
      // Checked before the custodian list is looked up (a fingerprint prefix that names nobody is exit 1).
      [['keyshare', 'auto-backup', '--threshold', 'abc', '--custodians', 'abcdef0123', '--out', out], /--threshold is a whole number/],
      [['inventory', 'challenge', '--custodian', 'abcdef0123', '--out', join(out, 'c'), '--ttl', '-5'], /--ttl/],
      [['audit', 'show', '--limit', 'many'], /--limit is a whole number/],
      [['audit', 'settings', '--interval', 'soon'], /--interval is a duration such as 7d/],
      [['settings', 'set', '--deletion-cooling', '3 weeks'], /--deletion-cooling is a duration/],
      [['delivery', 'status', '--key-id', 'k', '--node-id', 'n', '--share-index', '0'], /--share-index is a whole number from 1 to 255/],
      [['delete', 'soft', '--key-id', 'k', '--node-id', 'n', '--index', '1,x'], /--index is a comma-separated list/],
      [['drill', 'record', '--key-id', 'k', '--node-id', 'n', '--mode', 'mixed', '--result', 'ok', '--duration-ms', 'abc'], /--duration-ms is a whole number/],
      [['session', 'open', '--key-id', 'k', '--node-id', 'n', '--mode', 'both', '--incident', 'i'], /--mode is mixed or external-only/],
      // The role is checked before the card file is read (a missing card is IO_FAILED, exit 1).
      [['custodian', 'add', '--card', join(out, 'no-such-card'), '--label', 'l', '--role', 'boss'], /--role is one of .*; got "boss"/],
      [['serve', '--listen', 'localhost'], /--listen is HOST:PORT/],
      [['serve', '--rate-limit', 'fast'], /--rate-limit is PER_MINUTE\/BURST/],
    ];
    for (const [argv, sentence] of cases) {
      const r = await cli(...argv, ...D);
      expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(sentence);
      expect(r.stderr).toContain('(USAGE)');
    }
    const spawned = await runCli(['backup', '--key-id', 'k', '--node-id', 'n', '--threshold', 'abc', '--custodians', 'x', '--out', out, ...D]);
    expect(spawned.code, spawned.stderr).toBe(2);
    expect(spawned.stderr).toBe('error: --threshold is a whole number from 1 to 255; got "abc". (USAGE)\n');
  });

  it('custodian CLI: checked before the vault is opened (a folder with no vault in it would be exit 1)', async () => {
    const vault = tempDir();
    const cases: readonly [readonly string[], RegExp][] = [
      [['settings', 'set', '--language', 'fr'], /--language is one of en, zh-CN; got "fr"/],
      [['settings', 'set', '--recovery-expect-mode', 'sometimes'], /--recovery-expect-mode is one of any, external-only/],
      [['settings', 'set', '--agent-url', 'ftp://agent.example'], /--agent-url takes an agent URL or none; "ftp:\/\/agent.example" must start with http:\/\/ or https:\/\//],
      [['settings', 'set', '--agent-url', 'http://10.0.0.5:8443'], /may use plain http only for this computer/],
      [['settings', 'set', '--auto-lock-minutes', 'abc'], /--auto-lock-minutes is a whole number from 0 to 1440/],
      [['settings', 'set', '--cooling-days', '0'], /--cooling-days is a whole number from 1 to 365/],
      [['list', '--index', 'abc'], /--index is a whole number from 1 to 255/],
      [['list', '--status', 'lost'], /--status is one of .*; got "lost"/],
      [['passphrase', 'generate', '--words', 'abc'], /--words is a whole number from 4 to 12/],
      [['--lang', 'fr', 'list'], /--lang is one of en, zh-CN/],
      [['list', '--passphrase-fd', 'x'], /--passphrase-fd takes a file descriptor number/],
    ];
    for (const [argv, sentence] of cases) {
      const r = await capture([...argv, '--vault', vault], { CUSTOS_PASSPHRASE: 'not used here at all' });
      expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(sentence);
    }
    const spawned = await runCli(['settings', 'set', '--vault', vault, '--language', 'fr'], 'main/cli.ts');
    expect(spawned.code, spawned.stderr).toBe(2);
    expect(spawned.stderr.split('\n')[0]).toBe('error: --language is one of en, zh-CN; got "fr". (USAGE)');
  });

  it("approver's program: work factor and days", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'k'));
    for (const [argv, sentence] of [
      [['keygen', '--out', join(dir, 'k', 'a.key'), '--name', 'A', '--kdf-log-n', 'abc'], /--kdf-log-n is the scrypt work factor/],
      [['sign-roster-change', '--key', join(dir, 'none.key'), '--roster', join(dir, 'none'), '--disable', 'ab', '--out', join(dir, 'o'), '--days', 'x'], /--days is a whole number from 1 to [0-9]+; got "x"/],
    ] as const) {
      const r = await approverWithEnv({ CUSTOS_APPROVER_PASSPHRASE: 'an approver passphrase here' }, ...argv);
      expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(sentence);
    }
    const spawned = await runCli(['keygen', '--out', join(dir, 'k', 'b.key'), '--name', 'B', '--kdf-log-n', '99'], 'approver/cli.ts');
    expect(spawned.code, spawned.stderr).toBe(2);
  });

  it('an unknown sub-command and a file too large name the group and the file with the right article', async () => {
    expect(aOrAn('agent card')).toBe('an agent card');
    expect(aOrAn('inventory attestation')).toBe('an inventory attestation');
    expect(aOrAn('share envelope')).toBe('a share envelope');
    expect(() => resolveId('xyz', [], 'approver fingerprint', 64)).toThrow('An approver fingerprint is hexadecimal; got "xyz".');
    expect(() => resolveId('xyz', [], 'session id', 32)).toThrow('A session id is hexadecimal');
    const r = await cli('inventory', 'count');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"count" is not an inventory command');
    const c = await capture(['audit']);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('Name an audit command');
  });
});
