// The shared CLI runner (node/cli/runner.ts) as the agent and approver programs use it: help for the
// program, a group and a command; usage errors (exit 2) with a hint, also as one JSON response;
// the approver's tools answered by name of their new program; bash completion run by real bash.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { approver, cli } from './helpers';

describe('CLI runner', () => {
  it('prints help for the program, a group and a command', async () => {
    const bare = await cli();
    expect(bare.code).toBe(2);
    expect(bare.stdout).toMatch(/^Custos recovery agent CLI\n/);
    expect(bare.stdout).toMatch(/^ {2}custodian add\|list\|disable\s+the custodians who hold shares$/m);
    expect(bare.stdout).toMatch(/^ {2}status\s+backup status/m);
    expect(bare.stdout).toMatch(/^ {2}approver add\|list\|disable\|roster\s/m); // keygen and sign moved to the approver program
    expect((await cli('--help')).code).toBe(0);
    expect((await cli('help')).stdout).toBe(bare.stdout);

    const group = await cli('custodian', '--help');
    expect(group.code).toBe(0);
    expect(group.stdout).toContain('  npm run agent -- custodian add --card FILE --label L --role security-team|independent-custodian|cold-storage [--confirm-code "1234 5678 …"]\n');
    expect(group.stdout).toContain('  npm run agent -- custodian disable FINGERPRINT\n');

    const one = await cli('help', 'session', 'open');
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(/^Usage: npm run agent -- session open --incident ID --key-id K/);
    expect(one.stdout).toMatch(/^Options: --key-id VALUE, --node-id VALUE, --incident VALUE/m);
    expect((await cli('session', 'open', '-h')).stdout).toBe(one.stdout);

    const tool = await approver('--help');
    expect(tool.code).toBe(0);
    expect(tool.stdout).toMatch(/^ {2}keygen\s+a new approver key/m);
    expect(tool.stdout).toMatch(/^ {2}sign\s+/m);
  });

  it('refuses wrong usage with exit 2, a sentence, a hint, and one JSON response with --json', async () => {
    const unknownOption = await cli('status', '--qr');
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toMatch(/^error: Unknown option '--qr'.* \(USAGE\)\nRun "npm run agent -- status --help" for its options\.\n$/);
    expect(unknownOption.stdout).toBe('');

    const noSub = await cli('custodian');
    expect(noSub.code).toBe(2);
    expect(noSub.stderr).toMatch(/^error: Name a custodian command: add, list, disable\. \(USAGE\)$/m);
    expect((await cli('custodian', 'remove')).stderr).toMatch(/^error: "remove" is not a custodian command; it has add, list, disable\. \(USAGE\)$/m);

    const extra = await cli('status', 'key-1');
    expect(extra.code).toBe(2);
    expect(extra.stderr).toMatch(/^error: status takes no arguments; got "key-1"\. \(USAGE\)$/m);

    const json = await cli('no-such-command', '--json');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({ ok: false, error: { code: 'USAGE', message: 'Unknown command "no-such-command".', details: {} } });
    expect(json.stdout.trim().split('\n')).toHaveLength(1);

    // Secrets never on the command line: refused before anything is parsed.
    const token = await cli('--token', 'abc', 'status');
    expect(token.code).toBe(2);
    expect(token.stderr).toMatch(/never given on the command line.*api\.token/);
    expect(token.stderr + token.stdout).not.toContain('abc');
  });

  it("answers the approver's old agent commands with the new program's name", async () => {
    for (const sub of ['keygen', 'sign']) {
      const r = await cli('approver', sub, '--out', '/tmp', '--name', 'x', '--key', 'k', '--yes');
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`npm run approver -- ${sub}`);
      expect(r.stderr).toMatch(/\(USAGE\)\n$/);
    }
  });

  it('generates a bash completion script that real bash completes from', async () => {
    const r = await cli('completion', 'bash');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('complete -o default -F _custos_agent_complete custos-agent');
    const complete = (...words: string[]): string =>
      spawnSync('bash', ['-c', `${r.stdout}\nCOMP_WORDS=(custos-agent ${words.join(' ')}); COMP_CWORD=${String(words.length)}; _custos_agent_complete; echo "\${COMPREPLY[*]}"`], { encoding: 'utf8' }).stdout.trim();
    expect(complete('cust')).toBe('custodian');
    expect(complete('custodian', '')).toBe('add list disable');
    expect(complete('session', 'open', '--inc')).toBe('--incident --incident-title');
    expect(complete('backup', '--q')).toBe('--qr --quiet');
    expect((await cli('completion', 'zsh')).code).toBe(2);
  });
});
