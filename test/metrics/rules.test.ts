// The Prometheus rules and the Grafana dashboard in deploy/ (issue 10): the real promtool checks
// the rules and runs their unit tests (alerts fire on the series that should fire them, and not on
// the others), and every metric a dashboard panel or a rule queries is one a real agent exports,
// read from a real scrape of a real agent's /metrics endpoint.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AgentMetrics, startMetricsServer } from '../../agent/metrics';
import { Agent } from '../../agent/service';
import { createCustodianIdentity, makeCustodianCard } from '../../shared/protocol';

const DEPLOY = new URL('../../deploy/', import.meta.url).pathname;
const RULES = join(DEPLOY, 'prometheus/custos-rules.yml');
const RULE_TESTS = join(DEPLOY, 'prometheus/custos-rules.test.yml');
const DASHBOARD = join(DEPLOY, 'grafana/custos-dashboard.json');
const FIXTURE = new URL('../fixtures/tss-lib/eddsa/keygen_data_0.json', import.meta.url);

const promtool = (...args: string[]): string => execFileSync('promtool', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

const Dashboard = z.object({
  title: z.string(),
  uid: z.string(),
  panels: z.array(z.object({ id: z.number(), title: z.string(), type: z.string(), targets: z.array(z.object({ refId: z.string(), expr: z.string().min(1) })).min(1) })).min(1),
});

/** Metric names in a PromQL expression: custos_* identifiers and custos:* recording rules. */
function namesIn(expr: string): string[] {
  return [...expr.matchAll(/\b(custos(?:_|:)[a-zA-Z0-9_:]+)/g)].map((m) => m[1] ?? '');
}

/** A histogram's or summary's series name back to its family. */
const family = (name: string): string => name.replace(/_(bucket|sum|count)$/, '');

let root: string;
let scrape: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'custos-rules-test-'));
  const dir = join(root, 'agent');
  await Agent.init(dir, { name: 'rules test agent', operator: 'test' });
  const agent = await Agent.open(dir, { operator: 'test' });
  try {
    const fps: string[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await createCustodianIdentity(`custodian ${String(i)}`);
      fps.push((await agent.addCustodian(makeCustodianCard(c, Math.floor(Date.now() / 1000)), `C${String(i)}`, 'independent-custodian')).fingerprint);
    }
    await agent.importKeyshare('key-1', 'node-0', new Uint8Array(readFileSync(FIXTURE)));
    await agent.backup('key-1', 'node-0', {}, fps, join(root, 'out'), { qr: false });
    const metrics = new AgentMetrics(agent);
    const server = await startMetricsServer(metrics);
    try {
      scrape = await (await fetch(server.url)).text();
    } finally {
      await server.close();
    }
  } finally {
    agent.close();
  }
}, 120_000);

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('deploy/prometheus/custos-rules.yml', () => {
  it('passes promtool check rules', () => {
    expect(promtool('check', 'rules', RULES)).toMatch(/SUCCESS: \d+ rules found/);
  });

  it("passes promtool's unit tests (alerts fire and stay quiet as expected)", () => {
    expect(promtool('test', 'rules', RULE_TESTS)).toMatch(/SUCCESS/);
  });

  it('fails promtool test rules when an expectation is wrong (the unit tests can fail)', () => {
    const broken = join(root, 'broken.test.yml');
    const text = readFileSync(RULE_TESTS, 'utf8').replace(`rule_files:\n  - custos-rules.yml`, `rule_files:\n  - ${RULES}`).replace('node_id: n2 }', 'node_id: n1 }');
    execFileSync('sh', ['-c', 'cat > "$0"', broken], { input: text });
    expect(() => promtool('test', 'rules', broken)).toThrow();
  });

  it('queries only metrics a real agent exports, or recording rules of the same file', () => {
    const exported = new Set([...scrape.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] ?? ''));
    expect(exported.has('custos_backup_recoverable')).toBe(true);
    const rulesText = readFileSync(RULES, 'utf8');
    const recorded = new Set([...rulesText.matchAll(/record: (\S+)/g)].map((m) => m[1] ?? ''));
    const exprs = [...rulesText.matchAll(/expr: (.+)/g)].map((m) => m[1] ?? '');
    for (const name of exprs.flatMap(namesIn)) expect(recorded.has(name) || exported.has(family(name)), name).toBe(true);
  });
});

describe('deploy/grafana/custos-dashboard.json', () => {
  it("parses, and every panel's query names metrics the agent exports or the rules record", () => {
    const dashboard = Dashboard.parse(JSON.parse(readFileSync(DASHBOARD, 'utf8')) as unknown);
    const exported = new Set([...scrape.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] ?? ''));
    const recorded = new Set([...readFileSync(RULES, 'utf8').matchAll(/record: (\S+)/g)].map((m) => m[1] ?? ''));
    for (const panel of dashboard.panels) {
      const names = panel.targets.flatMap((t) => namesIn(t.expr));
      expect(names.length, panel.title).toBeGreaterThan(0);
      for (const name of names) expect(recorded.has(name) || exported.has(family(name)), `${panel.title}: ${name}`).toBe(true);
    }
  });
});
