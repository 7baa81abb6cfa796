// README.md's walkthrough of the real (non-drill) flow is true (issue 13, "The rough edges"): the
// fenced block after the `walkthrough:` marker runs with bash -e from the repository, through the
// real CLIs (`npm run -s agent|custos|approver`), and the keydata the agent writes back at the end
// is the node's keydata byte for byte; the files it names are the ones the tools wrote. The only
// changes to the block: cheap KDFs (CUSTOS_INSECURE_SCRYPT_LOGN, the approver's --kdf-log-n 15), and
// `tsx <entry>` for `npm run -s <script> --` (what package.json's scripts run, without npm's second
// or two per process; the block itself is checked to say `npm run -s`). About 35 CLI processes:
// measured 87 s this way at load 6 on the 2-core machine (244 s through npm at load 8).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseKeydata, writeKeydata } from '../../shared/keydata';

const ROOT = join(import.meta.dirname, '..', '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The fenced sh block after the marker comment. */
function walkthrough(): string {
  const at = readme.indexOf('<!-- walkthrough:');
  expect(at, 'README.md has the walkthrough marker').toBeGreaterThan(0);
  const m = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  expect(m, 'a ```sh block after the marker').not.toBeNull();
  return m?.[1] ?? '';
}

describe('README walkthrough', () => {
  it('runs as written and gives the keydata back', { timeout: 600_000 }, () => {
    const block = walkthrough();
    for (const cmd of ['agent init', 'custos vault create', 'agent custodian add', '--confirm-code', 'pin-agent', 'keyshare import', 'agent backup', 'custos import', 'custos receipt', 'delivery confirm', 'session open', 'approver sign', 'session approve', 'session request', 'recovery show', 'recovery export', 'session submit', 'session complete']) {
      expect(block, `the walkthrough shows ${cmd}`).toContain(cmd);
    }
    const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    let script = block.replace(/approver keygen /g, 'approver keygen --kdf-log-n 15 ');
    for (const name of ['agent', 'custos', 'approver']) {
      const via = `npm run -s ${name} --`;
      expect(block, `the walkthrough runs ${name} as "${via}"`).toContain(via);
      expect(scripts.scripts[name]).toMatch(/^tsx [a-z/]+\.ts$/);
      script = script.replaceAll(via, join(ROOT, 'node_modules/.bin/', scripts.scripts[name] ?? ''));
    }
    script = `${script}\necho "WORK=$W"\n`;
    const run = spawnSync('bash', ['-e', '-c', script], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, CUSTOS_INSECURE_SCRYPT_LOGN: '10', NODE_NO_WARNINGS: '1', CUSTOS_PASSPHRASE: '', CUSTOS_VAULT: '' },
      maxBuffer: 64 * 1024 * 1024,
    });
    const work = /^WORK=(.+)$/m.exec(run.stdout)?.[1];
    try {
      expect(run.status, `${run.stdout.slice(-3000)}\n${run.stderr.slice(-3000)}`).toBe(0);
      expect(work).toBeDefined();
      const W = work ?? '';
      // The keydata is back, as the node had it (the compact form the agent writes).
      const original = writeKeydata(parseKeydata(new Uint8Array(readFileSync(join(ROOT, 'test/fixtures/tss-lib/eddsa/keygen_data_0.json')))));
      expect(Buffer.from(readFileSync(join(W, 'ops/recovered.json'))).equals(Buffer.from(original))).toBe(true);
      expect(run.stdout).toContain('Recovered: the share and keydata were written back and checked.');
      // The file names the README gives are the ones the tools wrote.
      expect(existsSync(join(W, 'ops/agent/agent-card.cbor'))).toBe(true);
      expect(existsSync(join(W, 'carol/vault/enrollment-card.custos'))).toBe(true);
      expect(readdirSync(join(W, 'media/envelopes')).sort()).toEqual(['key-1_node-0_e1.manifest.cbor', 'key-1_node-0_e1_share2.envelope.cbor', 'key-1_node-0_e1_share3.envelope.cbor']);
      expect(readdirSync(join(W, 'media/receipts')).every((f) => /^receipt-key-1-node-0-s[23]-[0-9a-f]{12}\.custos$/.test(f))).toBe(true);
      expect(readdirSync(join(W, 'media/exports'))).toEqual(['recovery-export-INC-1-热钱包事故_2026_12-key-1-node-0-s2.custos']);
      expect(existsSync(join(W, 'alice/approver.card')) && existsSync(join(W, 'alice/approver.key'))).toBe(true);
      for (const name of ['agent-card.cbor', 'enrollment-card.custos', 'approver.card', 'approver.key']) expect(readme).toContain(name);
      expect(readme).toContain('recovery-export-<incident>-<title>-<key>-<node>-s<i>.custos');
      expect(readme).toContain('recovery-export-<incident>-<key>-<node>-s<i>.custos');
      expect(readme).toContain('receipt-<key>-<node>-s<i>-<id>.custos');
      expect(readme).not.toMatch(/approver-card\.custos|agent\.custos/);
    } finally {
      if (work !== undefined && work.startsWith('/tmp/')) rmSync(work, { recursive: true, force: true });
    }
  });
});
