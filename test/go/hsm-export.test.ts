/**
 * The node's path to its keydata when the agent's KEK is in an HSM (docs/storage.md §6): a real
 * PKCS#11 token (SoftHSM2), an agent whose files are sealed under a key that never leaves it. The
 * Go reader cannot open those files and says where to go instead; `agent keyshare export` writes
 * the keydata to the node's storage (0600) and custos-keydata --plain loads it, byte for byte.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '../../agent/service';
import { makeToken, removeTokens, SOFTHSM_MODULE, type Token } from '../kek/softhsm';
import { fixture } from '../rpc/world';
import { buildGo, ROOT, type GoToolchain } from './go';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('an HSM-sealed keydata reaches the node through `agent keyshare export`', () => {
  let go: GoToolchain;
  let token: Token;
  let dir: string;
  let data: string;
  let keydataSha = '';

  beforeAll(async () => {
    go = buildGo();
    token = makeToken('custos-go');
    dir = mkdtempSync(join(tmpdir(), 'custos-go-hsm-'));
    data = join(dir, 'data');
    await Agent.init(data, { operator: 'go-test', kekChoice: { provider: 'pkcs11', module: SOFTHSM_MODULE, tokenLabel: token.label, keyLabel: 'custos-kek-1', pinFile: token.pinFile } });
    const agent = await Agent.open(data, { operator: 'go-test' });
    try {
      keydataSha = (await agent.importKeyshare('key-ed', 'node-0', fixture('eddsa', 0))).keydataSha256;
    } finally {
      agent.close();
    }
  });
  afterAll(() => {
    (go as GoToolchain | undefined)?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    removeTokens();
  });

  it('the Go reader refuses the HSM-sealed files and names the export', () => {
    const header = readFileSync(join(data, 'keys', 'key-ed', 'node-0.keydata.enc'));
    expect(header.subarray(7, 7 + header[6]!).toString('latin1')).toMatch(/^pkcs11:[0-9a-f]{16}$/);
    for (const args of [
      ['custos-store', ['open', '--data', data, '--kind', 'keydata', '--key-id', 'key-ed', '--node-id', 'node-0', '--out', join(dir, 'never.json')]],
      ['custos-keydata', ['--data', data, '--key-id', 'key-ed', '--node-id', 'node-0']],
    ] as const) {
      const r = go.run(args[0], args[1]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('FAILED_PRECONDITION');
      expect(r.stderr).toContain('PKCS#11 token');
      expect(r.stderr).toContain('agent keyshare export --key-id K --node-id N --out FILE');
    }
  });

  it('keyshare export writes it to the node\'s storage and custos-keydata --plain loads it', () => {
    const exported = join(dir, 'node-storage.export.json');
    const exp = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsx'), ['agent/cli.ts', 'keyshare', 'export', '--data', data, '--key-id', 'key-ed', '--node-id', 'node-0', '--out', exported], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...token.env, NODE_NO_WARNINGS: '1' },
    });
    expect(exp.status, exp.stderr).toBe(0);
    expect(statSync(exported).mode & 0o777).toBe(0o600);
    expect(sha256(readFileSync(exported))).toBe(keydataSha);

    const loaded = join(dir, 'node-storage.json');
    const r = go.run('custos-keydata', ['--plain', exported, '--out', loaded]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("ed25519, party 0 of 5 (tss-lib's compact json.Marshal form)");
    expect(r.stdout).toContain(`sha256 ${keydataSha}`);
    expect(readFileSync(loaded).equals(readFileSync(exported))).toBe(true);
    expect(statSync(loaded).mode & 0o777).toBe(0o600);
  });
});
