/**
 * The key-level series of a real agent's scrape (issue 11 §3): t, parties and the group key
 * fingerprint per key, and backup sets by status, with a resharing's old set counted as stale.
 * (deploy/prometheus's promtool tests feed such series from several agents to the alerts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALERT_FAMILIES, AgentMetrics } from '../../agent/metrics';
import { toHex } from '../../shared/bytes';
import { custodianIdentityFingerprint } from '../../shared/protocol';
import { createWorld, fixture, type World } from '../rpc/world';

/** The value of one exact series line (name with its labels) in an exposition text. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('key-level metrics', () => {
  let w: World;
  beforeAll(async () => {
    w = await createWorld({ keyId: 'key-1', nodeId: 'node-1' });
  });
  afterAll(() => {
    w.close();
  });

  it('exports t, parties and the group key per key, and sets by status (stale after a resharing)', async () => {
    const m = new AgentMetrics(w.agent, { defaultMetrics: false });
    const fp = w.imported.groupKeyFingerprint ?? '';
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    let text = await m.render();
    expect(sample(text, 'custos_key_tss_threshold{key_id="key-1"}')).toBe(2);
    expect(sample(text, 'custos_key_parties{key_id="key-1"}')).toBe(5);
    expect(sample(text, `custos_key_info{key_id="key-1",curve="secp256k1",group_key_fingerprint="${fp}"}`)).toBe(1);
    expect(sample(text, 'custos_backup_sets{state="active"}')).toBe(1);
    expect(sample(text, 'custos_backup_sets{state="stale"}')).toBe(0);

    // A second node of the same key on this agent counts twice in the info series.
    await w.agent.importKeyshare('key-1', 'node-2', fixture('ecdsa', 2));
    const fps = w.custodians.map((c) => toHex(custodianIdentityFingerprint(c)));
    await w.agent.capabilities.nodeImports.configure({ threshold: 3, total: 5, retain: 2, custodians: fps, outDir: join(w.dir, 'auto') });
    await w.agent.capabilities.nodeImports.importFromNode('key-1', 'node-1', fixture('ecdsa', 1));
    text = await m.render();
    expect(sample(text, `custos_key_info{key_id="key-1",curve="secp256k1",group_key_fingerprint="${fp}"}`)).toBe(2);
    expect(sample(text, 'custos_backup_sets{state="active"}')).toBe(1);
    expect(sample(text, 'custos_backup_sets{state="stale"}')).toBe(1);
    expect(sample(text, 'custos_backup_sets{state="superseded"}')).toBe(0);
    expect(sample(text, 'custos_backup_present{key_id="key-1",node_id="node-2"}')).toBe(0);

    // The per-node families are written as text by the agent itself: Prometheus' own parser
    // (promtool check metrics) must read the whole scrape; exit 3 is its naming lint only.
    const checked = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect([0, 3], checked.stdout + checked.stderr).toContain(checked.status);
    expect(checked.stdout + checked.stderr).not.toMatch(/pars|error/i);
    const types = [...text.matchAll(/^# TYPE (\S+) /gm)].map((x) => x[1] ?? '');
    expect(new Set(types).size).toBe(types.length);
    // perNode 'alerts': exactly the per-node families the rules' alerts read, and every one they read.
    const alertsOnly = await new AgentMetrics(w.agent, { defaultMetrics: false, perNode: 'alerts' }).render();
    const perNodeIn = (t: string): Set<string> => new Set([...t.matchAll(/^(custos_[a-z_]+)\{key_id="[^"]*",node_id="/gm)].map((x) => x[1] ?? ''));
    expect(perNodeIn(alertsOnly)).toEqual(new Set(ALERT_FAMILIES));
    expect(perNodeIn(text).size).toBeGreaterThan(ALERT_FAMILIES.size); // 20 here: no drill duration, no proof yet
    const rules = readFileSync(new URL('../../deploy/prometheus/custos-rules.yml', import.meta.url), 'utf8');
    const alertExprs = [...rules.matchAll(/- alert: \S+\n\s+expr: (.+)/g)].map((x) => x[1] ?? '').join('\n');
    const read = new Set([...perNodeIn(text)].filter((name) => new RegExp(`\\b${name}\\b`).test(alertExprs)));
    expect(read).toEqual(new Set(ALERT_FAMILIES));
    const broken = spawnSync('promtool', ['check', 'metrics'], { input: text.replace('custos_backup_present{key_id="key-1",node_id="node-2"} 0', 'custos_backup_present{key_id="key-1",node_id=node-2} 0'), encoding: 'utf8' });
    expect(broken.status).toBe(1);
  });
});
