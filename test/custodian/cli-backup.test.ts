// The custodian CLI's passphrase and backup commands, run in-process through the shared runner as a
// person would type them: a weak passphrase refused at `vault create` (exit 1, the reason and the
// guessing time), `passphrase generate` accepted by the policy, `backup` verified and
// `backup status` exit 3 while no backup is verified, `backup restore`; and numeric options
// that are not numbers are wrong usage (exit 2) before anything runs.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../main/cli';
import { tempDir } from './helpers';

async function custos(argv: readonly string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string; json: Record<string, unknown> }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env: { CUSTOS_INSECURE_SCRYPT_LOGN: '10', ...env } });
  const json = argv.includes('--json') && stdout.trim() !== '' ? (JSON.parse(stdout) as Record<string, unknown>) : {};
  return { code, stdout, stderr, json };
}

describe('custodian CLI: passphrases and backup', () => {
  it('refuses "password" and "aaaaaaaaaaaa" at vault create, and creates with a generated one', async () => {
    const work = tempDir();
    for (const weak of ['password', 'aaaaaaaaaaaa']) {
      const r = await custos(['vault', 'create', '--vault', join(work, 'v'), '--name', 'Carol', '--json'], { CUSTOS_PASSPHRASE: weak });
      expect(r.code).toBe(1);
      expect(r.json['error']).toMatchObject({ code: 'WEAK_PASSPHRASE', details: { logN: 15 } });
      expect(r.stderr).toMatch(/too weak: .*would guess it in less than a second \(scrypt logN 15\)/);
      expect(readdirSync(work)).toEqual([]);
    }
    const g = await custos(['passphrase', 'generate', '--json']);
    expect(g.code).toBe(0);
    const pass = g.json['passphrase'] as string;
    expect(pass.split(' ')).toHaveLength(6);
    const checked = await custos(['passphrase', 'check', '--json'], { CUSTOS_PASSPHRASE: pass });
    expect(checked).toMatchObject({ code: 0, json: { ok: true } });
    const weakCheck = await custos(['passphrase', 'check'], { CUSTOS_PASSPHRASE: 'password' });
    expect(weakCheck.code).toBe(1);
    expect(weakCheck.stdout).toMatch(/^Refused: This is a heavily used password/);

    const vault = join(work, 'v');
    const env = { CUSTOS_PASSPHRASE: pass };
    expect((await custos(['vault', 'create', '--vault', vault, '--name', 'Carol'], env)).code).toBe(0);
    const before = await custos(['backup', 'status', '--vault', vault, '--json']);
    expect(before).toMatchObject({ code: 3, json: { due: true, last: null } });

    const usb = tempDir('custos-usb-');
    const b = await custos(['backup', '--vault', vault, '--to', usb, '--json'], env);
    expect(b.code, b.stderr).toBe(0);
    expect(readdirSync(usb)).toEqual([(b.json['backup'] as string).slice(usb.length + 1)]);
    expect(await custos(['backup', 'status', '--vault', vault])).toMatchObject({ code: 0 });

    // A wrong passphrase leaves no second copy and counts an attempt (the service test checks the counter).
    const wrong = await custos(['backup', '--vault', vault, '--to', usb], { CUSTOS_PASSPHRASE: 'definitely not the passphrase' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('WRONG_PASSPHRASE');
    expect(readdirSync(usb)).toHaveLength(1);

    const to = join(work, 'restored');
    const restored = await custos(['backup', 'restore', '--from', b.json['backup'] as string, '--vault', to, '--json'], env);
    expect(restored.code, restored.stderr).toBe(0);
    expect((await custos(['vault', 'info', '--vault', to, '--json'])).json['name']).toBe('Carol');
    expect((await custos(['backup', 'restore', '--from', b.json['backup'] as string, '--vault', vault], env)).code).toBe(1);
  });

  it('numeric options that are not numbers are wrong usage (exit 2), before any vault is needed', async () => {
    const vault = join(tempDir(), 'none');
    for (const argv of [
      ['list', '--vault', vault, '--index', 'abc'],
      ['settings', 'set', '--vault', vault, '--auto-lock-minutes', 'abc'],
      ['settings', 'set', '--vault', vault, '--cooling-days', '-1'],
      ['passphrase', 'generate', '--words', 'many'],
      ['passphrase', 'generate', '--words', '3'],
    ]) {
      const r = await custos([...argv, '--json']);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.json['error']).toMatchObject({ code: 'USAGE' });
    }
  });
});
