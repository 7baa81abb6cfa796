// The cluster drill (npm run drill -- --cluster DIR, issue 11 §3) on the bundled fixtures: every
// node by its own agent and custodians, t+1 recovered external-only, and the proof that the
// recovered shares together give the group public key. Also what it refuses.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseKeydata } from '../../shared/keydata';
import { renderCluster, runClusterDrill, tssThresholdOf } from '../../scripts/drill-cluster';
import { main, runDrill } from '../../scripts/drill';

const F = new URL('../fixtures/tss-lib/', import.meta.url).pathname;
const fixture = (curve: string, i: number): string => join(F, curve, `keygen_data_${String(i)}.json`);

describe('cluster drill', () => {
  it('reads tss-lib t from the public keydata (the fixtures are a t = 2 keygen of 5)', async () => {
    const { readFileSync } = await import('node:fs');
    for (const curve of ['ecdsa', 'eddsa']) {
      const k = parseKeydata(new Uint8Array(readFileSync(fixture(curve, 0))));
      expect(k.Ks).toHaveLength(5);
      expect(tssThresholdOf(k)).toBe(2);
      // Two parties' points swapped: no set of parties interpolates to the group key any more.
      const swapped = { ...k, BigXj: [k.BigXj[1], k.BigXj[0], ...k.BigXj.slice(2)] } as typeof k;
      expect(() => tssThresholdOf(swapped)).toThrow(/interpolates/);
    }
  });

  it.each(['ecdsa', 'eddsa'])('%s: t+1 nodes recovered external-only, each equal to its original, together the group key', async (curve) => {
    const work = mkdtempSync(join(tmpdir(), 'cluster-test-'));
    const r = await runClusterDrill({ dir: join(F, curve), work }, runDrill);
    const text = renderCluster(r);
    expect(r.ok, text).toBe(true);
    expect(r.tssThreshold).toBe(2);
    expect(r.recovered).toHaveLength(3);
    expect(r.interpolatesToGroupKey).toBe(true);
    for (const n of r.recovered) {
      expect(n.ok).toBe(true);
      expect(n.xiMatchesBigXj).toBe(true);
      expect(n.sharesUsed).toEqual({ server: 0, external: 3 });
      // The fixtures are indented: the honest claim is same content, never byte identity.
      expect(n.keydataMatch).toBe('same-content');
      expect(n.originalSha256).not.toBe(n.regeneratedSha256);
      expect(n.custodiansUsed).toHaveLength(3);
      expect(n.totalMs).toBeGreaterThan(0);
      expect(statSync(join(work, `${n.nodeId}.recovered.json`)).mode & 0o777).toBe(0o600);
    }
    expect(new Set(r.recovered.map((n) => n.partyIndex))).toEqual(new Set([0, 1, 2]));
    expect(text).toMatch(/interpolate .* to the group public key: yes/);
    expect(text).toMatch(/same content as the original, written in tss-lib's encoding/);
  }, 240_000);

  it('refuses fewer than t+1 nodes, parties of different keys, and an empty folder', async () => {
    const two = mkdtempSync(join(tmpdir(), 'cluster-two-'));
    copyFileSync(fixture('ecdsa', 0), join(two, 'a.json'));
    copyFileSync(fixture('ecdsa', 1), join(two, 'b.json'));
    await expect(runClusterDrill({ dir: two }, runDrill)).rejects.toMatchObject({ code: 'BELOW_THRESHOLD' });
    copyFileSync(fixture('eddsa', 2), join(two, 'c.json'));
    await expect(runClusterDrill({ dir: two }, runDrill)).rejects.toMatchObject({ code: 'INVALID_PARAMETERS' });
    const empty = mkdtempSync(join(tmpdir(), 'cluster-empty-'));
    const out: string[] = [];
    const code = await main(['--cluster', empty], { stdout: (s: string) => out.push(s), stderr: (s: string) => out.push(s), env: process.env });
    expect(code).not.toBe(0);
    expect(out.join('')).toMatch(/holds no keydata/);
    // As a program (npm run drill -- --cluster DIR): a usage error, exit 2.
    const run = spawnSync('npx', ['tsx', 'scripts/drill.ts', '--cluster', empty], { cwd: new URL('../..', import.meta.url).pathname, encoding: 'utf8', timeout: 120_000 });
    expect(run.stderr).toMatch(/holds no keydata/);
    expect(run.status).toBe(2);
  }, 150_000);
});
