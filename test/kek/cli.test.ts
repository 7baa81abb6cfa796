// The KEK commands of the agent CLI: `init --kek pkcs11 …` and `init --kek-file`, `info` and
// `kek status` saying where the key is (and warning when it is weak), `kek rotate`, and the
// refusals: a PIN on the command line, a key file inside the data directory, a resume of nothing.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../agent/cli';
import { removeTempDirs, tempDir } from '../agent/helpers';
import { runCli } from '../agent-cli/helpers';
import { makeToken, removeTokens, SOFTHSM_MODULE, USER_PIN } from './softhsm';

afterEach(() => {
  removeTempDirs();
  removeTokens();
});

async function cli(env: NodeJS.ProcessEnv, ...argv: string[]): Promise<{ code: number; out: string; err: string; json: Record<string, unknown> }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t), env });
  const last = out.trim().split('\n').at(-1) ?? '';
  let json: Record<string, unknown> = {};
  if (argv.includes('--json')) json = JSON.parse(last) as Record<string, unknown>;
  return { code, out, err, json };
}

describe('agent CLI: the KEK', () => {
  it('init --kek pkcs11 with a PIN file; info and kek status name the token; kek rotate to a file and back to the HSM', async () => {
    const token = makeToken();
    const data = join(tempDir(), 'data');
    const hsm = ['--pkcs11-module', SOFTHSM_MODULE, '--token-label', token.label, '--key-label', 'custos-kek-1', '--pin-file', token.pinFile];
    const init = await cli({}, 'init', '--data', data, '--kek', 'pkcs11', ...hsm);
    expect(init.err).toBe('');
    expect(init.code).toBe(0);
    expect(init.out).toMatch(/inside the HSM token "custos-test".*non-extractable/);
    const info = await cli({}, 'info', '--data', data, '--json');
    expect(info.json).toMatchObject({ ok: true, kek: { provider: 'pkcs11', where: { tokenLabel: token.label, keyLabel: 'custos-kek-1' }, warnings: [] } });
    const status = await cli({}, 'kek', 'status', '--data', data);
    expect(status.out).toMatch(/provider\s+pkcs11/);

    const keyFile = join(tempDir(), 'agent.kek');
    const toFile = await cli({}, 'kek', 'rotate', '--data', data, '--to', 'file', '--kek-file', keyFile, '--json');
    expect(toFile.code).toBe(0);
    expect(toFile.json).toMatchObject({ ok: true, rotation: { rewrapped: 1, to: { provider: 'file', path: keyFile } } });
    expect((await cli({}, 'info', '--data', data)).out).toMatch(/Warning: The key-encryption key is a file/);
    // Back into the HSM under a new label, the PIN from the environment this time.
    const back = await cli({ CUSTOS_PKCS11_PIN: USER_PIN }, 'kek', 'rotate', '--data', data, '--to', 'pkcs11', '--pkcs11-module', SOFTHSM_MODULE, '--token-label', token.label, '--key-label', 'custos-kek-2');
    expect(back.err).toMatch(/Rotating 1 sealed objects/);
    expect(back.code).toBe(0);
    expect(back.out).toMatch(/destroy it and its backups/);
    const retired = await cli({}, 'kek', 'status', '--data', data, '--json');
    expect((retired.json.kek as { retired: string[] }).retired).toHaveLength(2);
    // Nothing to resume.
    expect((await cli({}, 'kek', 'rotate', '--data', data, '--resume')).code).toBe(1);
  });

  it('refuses a PIN on the command line, a key file inside the data directory and HSM options without --kek pkcs11, creating nothing', async () => {
    const root = tempDir();
    const data = join(root, 'data');
    const pin = await cli({}, 'init', '--data', data, '--kek', 'pkcs11', '--pkcs11-module', SOFTHSM_MODULE, '--token-label', 't', '--key-label', 'k', '--pin', '1234');
    expect(pin.code).toBe(2);
    expect(pin.err).toMatch(/never given on the command line/);
    expect((await cli({}, 'init', '--data', data, '--kek', 'pkcs11', '--pkcs11-module', SOFTHSM_MODULE, '--token-label', 't', '--key-label', 'k')).err).toMatch(/--pin-file FILE .* or set CUSTOS_PKCS11_PIN/);
    expect((await cli({}, 'init', '--data', data, '--token-label', 't')).code).toBe(2);
    expect(existsSync(data)).toBe(false);
    const inside = await cli({}, 'init', '--data', data, '--kek-file', join(data, 'kek.key'), '--json');
    expect(inside.code).toBe(1);
    expect(inside.json).toMatchObject({ ok: false, error: { code: 'FAILED_PRECONDITION' } });
    expect(existsSync(data) ? readdirSync(data) : []).toEqual([]);
    expect(readdirSync(root)).toEqual(existsSync(data) ? ['data'] : []);
  });

  it('a real process: init says what the file KEK protects against, and the HSM PIN comes from the environment', async () => {
    const token = makeToken();
    const data = join(tempDir(), 'data');
    const plain = await runCli(['init', '--data', data]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/outside the data directory/);
    expect(plain.stdout).toMatch(/does NOT protect against anyone who can read both/);
    expect(plain.stdout).toMatch(/Recommended: keep the key in an HSM/);
    const saved = process.env.CUSTOS_PKCS11_PIN;
    process.env.CUSTOS_PKCS11_PIN = USER_PIN;
    try {
      const hsmData = join(tempDir(), 'hsm-data');
      const r = await runCli(['init', '--data', hsmData, '--kek', 'pkcs11', '--pkcs11-module', SOFTHSM_MODULE, '--token-label', token.label, '--key-label', 'k1', '--json']);
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout.trim())).toMatchObject({ ok: true, kekId: expect.stringMatching(/^pkcs11:/) as unknown });
      const info = await runCli(['info', '--data', hsmData]);
      expect(info.code).toBe(0);
      expect(info.stdout).toMatch(/KEK provider\s+pkcs11 token "custos-test" key "k1"/);
    } finally {
      if (saved === undefined) delete process.env.CUSTOS_PKCS11_PIN;
      else process.env.CUSTOS_PKCS11_PIN = saved;
    }
  });
});
