// The metrics' per-node series are updated incrementally (issue 10): a change made through the
// agent after the first scrape shows at the next scrape (the audit entry names its node), sessions
// are counted by state, and a node's series keep their values when nothing touched the node.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentMetrics } from '../../agent/metrics';
import { Agent } from '../../agent/service';
import { createCustodianIdentity, makeCustodianCard } from '../../shared/protocol';

const FIXTURE = new URL('../fixtures/tss-lib/eddsa/keygen_data_0.json', import.meta.url);
const root = mkdtempSync(join(tmpdir(), 'custos-metrics-incr-'));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('agent metrics at fleet size', () => {
  it('show a change at the next scrape, count sessions by state, and keep untouched nodes', async () => {
    const dir = join(root, 'agent');
    await Agent.init(dir, { name: 'incremental metrics', operator: 'test' });
    const agent = await Agent.open(dir, { operator: 'test' });
    try {
      const fps: string[] = [];
      for (let i = 0; i < 3; i++) {
        const c = await createCustodianIdentity(`c${String(i)}`);
        fps.push((await agent.addCustodian(makeCustodianCard(c, Math.floor(Date.now() / 1000)), `C${String(i)}`, 'independent-custodian')).fingerprint);
      }
      const keydata = new Uint8Array(readFileSync(FIXTURE));
      await agent.importKeyshare('k1', 'n1', keydata);
      await agent.importKeyshare('k1', 'n2', keydata);
      await agent.backup('k1', 'n2', {}, fps, join(root, 'out'), { qr: false });
      const metrics = new AgentMetrics(agent, { defaultMetrics: false });
      const first = await metrics.render();
      expect(sample(first, 'custos_backup_present{key_id="k1",node_id="n1"}')).toBe(0);
      expect(sample(first, 'custos_backup_present{key_id="k1",node_id="n2"}')).toBe(1);
      expect(sample(first, 'custos_backup_threshold{key_id="k1",node_id="n1"}')).toBeUndefined();
      expect(sample(first, 'custos_recovery_sessions{state="cancelled"}')).toBe(0);

      await agent.backup('k1', 'n1', {}, fps, join(root, 'out'), { qr: false });
      const opened = await agent.openSession({ incidentId: 'INC-1', keyId: 'k1', nodeId: 'n2', mode: 'mixed' });
      await agent.cancelSession(opened.session.sessionId);
      const second = await metrics.render();
      expect(sample(second, 'custos_backup_present{key_id="k1",node_id="n1"}')).toBe(1);
      expect(sample(second, 'custos_backup_threshold{key_id="k1",node_id="n1"}')).toBe(3);
      expect(sample(second, 'custos_backup_present{key_id="k1",node_id="n2"}')).toBe(1);
      expect(sample(second, 'custos_recovery_sessions{state="cancelled"}')).toBe(1);
      expect(sample(second, 'custos_recovery_sessions{state="collecting"}')).toBe(0);
      expect(sample(second, 'custos_nodes')).toBe(2);
    } finally {
      agent.close();
    }
  }, 120_000);
});
