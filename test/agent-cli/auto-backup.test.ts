// `agent keyshare auto-backup` (the policy ImportKeyshare backs up with, issue 11 §2) through the
// CLI's own `main`: shown when unset, set with custodians named by fingerprint prefixes, shown
// again, refused with a sentence and nothing changed; then a node's keydata and its resharing
// handed over as ImportKeyshare does, and `status` showing the key-level line and the stale set.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/service';
import { cli, cliJson, makeCustodians, removeTempDirs, ROOT, runCli, tempDir, type Custodian } from './helpers';

afterAll(removeTempDirs);

const data = tempDir('custos-auto-backup-data-');
const work = tempDir('custos-auto-backup-work-');
const D = ['--data', data];
let custodians: Custodian[] = [];
const eddsa = (party: number): Uint8Array => new Uint8Array(readFileSync(join(ROOT, 'test', 'fixtures', 'tss-lib', 'eddsa', `keygen_data_${String(party)}.json`)));

beforeAll(async () => {
  const init = await runCli(['init', ...D, '--name', 'auto-backup test']);
  expect(init.code, init.stderr).toBe(0);
  custodians = await makeCustodians(work, 3);
  for (const [i, c] of custodians.entries()) {
    const r = await cli('custodian', 'add', ...D, '--card', c.cardFile, '--label', `C${String(i + 1)}`, '--role', 'independent-custodian', '--confirm-code', c.code);
    expect(r.code, r.stderr).toBe(0);
  }
}, 60_000);

describe('agent keyshare auto-backup', () => {
  it('shows that no policy is set, then sets one by fingerprint prefixes and shows it', async () => {
    const none = await cliJson('keyshare', 'auto-backup', ...D);
    expect(none.code, none.stderr).toBe(0);
    expect(none.json).toMatchObject({ ok: true, policy: null });
    expect((await cli('keyshare', 'auto-backup', ...D)).stdout).toMatch(/No auto-backup policy is set/);

    const out = join(work, 'auto');
    const set = await cliJson('keyshare', 'auto-backup', ...D, '--custodians', custodians.map((c) => c.fingerprint.slice(0, 8)).join(','), '--out', out, '--operator', 'ops-1');
    expect(set.code, set.stderr).toBe(0);
    expect(set.json['policy']).toEqual({ threshold: 3, total: 5, retain: 2, custodians: custodians.map((c) => c.fingerprint), outDir: out });
    const shown = await cli('keyshare', 'auto-backup', ...D);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/3-of-5, server keeps 2/);
    expect(shown.stdout).toContain(out);
  });

  it('refuses a policy that cannot work, with a sentence and an exit code, and keeps the stored one', async () => {
    const before = await cliJson('keyshare', 'auto-backup', ...D);
    const noOut = await cli('keyshare', 'auto-backup', ...D, '--custodians', custodians[0]?.fingerprint ?? '');
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/needs --custodians and --out/);
    const two = await cliJson('keyshare', 'auto-backup', ...D, '--custodians', custodians.slice(0, 2).map((c) => c.fingerprint).join(','), '--out', join(work, 'x'));
    expect(two.code).toBe(1);
    expect(two.json).toMatchObject({ ok: false, error: { code: 'INVALID_PARAMETERS' } });
    expect(String((two.json['error'] as { message?: string }).message)).toMatch(/3 shares go to custodians .* but 2 custodian\(s\) were named/);
    const notRel = await cliJson('keyshare', 'auto-backup', ...D, '--custodians', custodians.map((c) => c.fingerprint).join(','), '--out', join(work, 'y'), '--threshold', '6');
    expect(notRel.code).toBe(1);
    expect((await cliJson('keyshare', 'auto-backup', ...D)).json).toEqual(before.json);
  });

  it('backs a handed-over keydata up by the policy; status shows the key line and, after a resharing, the stale set', async () => {
    const agent = await Agent.open(data, { operator: 'node' });
    const handOver = async (): Promise<string> => {
      try {
        const created = await agent.capabilities.nodeImports.importFromNode('key-9', 'node-0', eddsa(0));
        expect(created.outcome).toBe('created');
        const r = await agent.capabilities.nodeImports.importFromNode('key-9', 'node-0', eddsa(1));
        expect(r).toMatchObject({ outcome: 'reshared', stale: { setId: created.setId } });
        return created.setId;
      } finally {
        agent.close();
      }
    };
    const first = await handOver();
    const one = await cli('status', ...D, '--key-id', 'key-9', '--node-id', 'node-0');
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/key\s+tss-lib t = 2 \(3 of 5 parties sign\), group key [0-9a-f]{8}/);
    expect(one.stdout).toMatch(new RegExp(`stale sets\\s+${first.slice(0, 8)}`));
    const all = await cli('status', ...D);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/key key-9: 0 of 1 node\(s\) on this agent recoverable; 3 of 5 nodes needed to sign/);
    expect(all.stdout).toMatch(new RegExp(`stale sets \\(replaced after a resharing\\): node-0 ${first.slice(0, 8)}`));
    const json = await cliJson('status', ...D, '--key-id', 'key-9', '--node-id', 'node-0');
    expect(json.json['status']).toMatchObject({ tssThreshold: 2, parties: 5, staleSetIds: [first] });
  });
});
