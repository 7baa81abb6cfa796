// Metrics (issue 5, "Metrics"): a real `serve --metrics` process scraped over HTTP/1.1 while the
// CLI changes the same data directory from this process. Checked for real values: backup coverage
// after a backup, an authentication failure after a wrong token, confirmations, a custodian's
// rejection, a drill; then a clean stop on SIGTERM. And the endpoint's refusals, in-process.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, ConnectError, Code } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupService } from '../../proto/gen/infra/v1/backup_pb';
import { Agent } from '../../agent/service';
import { AgentMetrics, startMetricsServer } from '../../agent/metrics';
import { cli, cliJson, FIXTURE, makeCustodians, openEnvelopes, removeTempDirs, spawnCli, tempDir, writeReceipt, type Held } from './helpers';

const data = tempDir('custos-metrics-data-');
const work = tempDir('custos-metrics-work-');
const D = ['--data', data];
let held: Held[] = [];

afterAll(removeTempDirs);

beforeAll(async () => {
  expect((await cli('init', ...D)).code).toBe(0);
  const custodians = await makeCustodians(work, 3);
  for (const c of custodians) expect((await cli('custodian', 'add', ...D, '--card', c.cardFile, '--label', 'C', '--role', 'cold-storage', '--confirm-code', c.code)).code).toBe(0);
  expect((await cli('keyshare', 'import', ...D, '--key-id', 'key-1', '--node-id', 'node-0', '--keydata', FIXTURE)).code).toBe(0);
  expect((await cli('keyshare', 'import', ...D, '--key-id', 'key-2', '--node-id', 'node-0', '--keydata', FIXTURE)).code).toBe(0);
  const b = await cliJson('backup', ...D, '--key-id', 'key-1', '--node-id', 'node-0', '--custodians', custodians.map((c) => c.fingerprint).join(','), '--out', join(work, 'out'));
  expect(b.code, b.stderr).toBe(0);
  held = await openEnvelopes(data, custodians, (b.json['backup'] as { envelopes: { shareIndex: number; custodian: string; file: string }[] }).envelopes);
});

/** Sample values of the exposition text: `name{labels}` (labels as printed) → value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return samples(await res.text());
}

const K1 = '{key_id="key-1",node_id="node-0"}';
const K2 = '{key_id="key-2",node_id="node-0"}';

describe('agent metrics', () => {
  it('are served by `serve --metrics`, with real values from the state, the audit log and the RPC', async () => {
    const child = spawnCli(['serve', ...D, '--listen', '127.0.0.1:0', '--metrics', '127.0.0.1:0', '--json']);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    let stdout = '';
    const [first] = (await new Promise<string[]>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString('utf8');
        if (stdout.includes('\n')) resolve(stdout.split('\n'));
      });
      child.on('exit', (code) => {
        reject(new Error(`serve exited early (${String(code)}): ${stderr}`));
      });
    })) as [string];
    const listening = (JSON.parse(first) as { listening: { url: string; metricsUrl: string } }).listening;
    expect(listening.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    try {
      // After the backup: coverage of key-1, and key-2 imported but never backed up.
      let m = await scrape(listening.metricsUrl);
      expect(m.get(`custos_backup_present${K1}`)).toBe(1);
      expect(m.get(`custos_backup_server_shares_held${K1}`)).toBe(2);
      expect(m.get(`custos_backup_external_shares${K1}`)).toBe(3);
      expect(m.get(`custos_backup_external_confirmed${K1}`)).toBe(0);
      expect(m.get(`custos_backup_recoverable${K1}`)).toBe(0);
      expect(m.get(`custos_delivery_confirmation_ratio${K1}`)).toBe(0);
      expect(m.get(`custos_backup_present${K2}`)).toBe(0);
      expect(m.get(`custos_backup_recoverable${K2}`)).toBe(0);
      expect(m.get(`custos_drill_last_timestamp_seconds${K1}`)).toBe(0);
      expect(m.get('custos_nodes')).toBe(2);
      expect(m.get('custos_custodians{enabled="true"}')).toBe(3);
      expect(m.get('custos_audit_events_total{event="generate",result="ok"}')).toBe(6);
      expect(m.get('custos_rpc_auth_failures_total{reason="wrong"}')).toBe(0);

      // A wrong token and a good one, over gRPC.
      const client = (token: string) =>
        createClient(
          BackupService,
          createGrpcTransport({
            baseUrl: listening.url,
            interceptors: [
              (next) => (req) => {
                req.header.set('authorization', `Bearer ${token}`);
                return next(req);
              },
            ],
          }),
        );
      const wrong = await client('not-the-token-at-all').getBackupStatus({ keyId: 'key-1', nodeId: 'node-0' }).catch((e: unknown) => e);
      expect(wrong).toBeInstanceOf(ConnectError);
      expect((wrong as ConnectError).code).toBe(Code.Unauthenticated);
      const token = readFileSync(join(data, 'api.token'), 'utf8').trim();
      expect((await client(token).getBackupStatus({ keyId: 'key-1', nodeId: 'node-0' })).serverSharesHeld).toBe(2);
      const unknown = await client(token).getBackupStatus({ keyId: 'nope', nodeId: 'node-0' }).catch((e: unknown) => e);
      expect((unknown as ConnectError).code).toBe(Code.NotFound);

      // Meanwhile, from another process (this one), the CLI records receipts (one rejected) and a drill.
      const files = held.map((h, i) => writeReceipt(join(work, `r${String(h.shareIndex)}.cbor`), 'key-1', 'node-0', h, i === 2 ? 'rejected' : 'accepted'));
      expect((await cli('delivery', 'confirm', ...D, ...files)).code).toBe(0);
      expect((await cli('drill', 'record', ...D, '--key-id', 'key-1', '--node-id', 'node-0', '--mode', 'external-only', '--result', 'ok', '--duration-ms', '1500')).code).toBe(0);

      m = await scrape(listening.metricsUrl);
      expect(m.get('custos_rpc_auth_failures_total{reason="wrong"}')).toBe(1);
      expect(m.get('custos_rpc_refused_total{method="GetBackupStatus",code="UNAUTHENTICATED"}')).toBe(1);
      expect(m.get('custos_rpc_refused_total{method="GetBackupStatus",code="NOT_FOUND"}')).toBe(1);
      expect(m.get('custos_rpc_requests_total{method="GetBackupStatus",status="OK"}')).toBe(1);
      expect(m.get('custos_rpc_request_duration_seconds_count{method="GetBackupStatus"}')).toBe(3);
      expect(m.get(`custos_backup_external_confirmed${K1}`)).toBe(2);
      expect(m.get(`custos_backup_external_rejected${K1}`)).toBe(1);
      expect(m.get(`custos_delivery_confirmation_ratio${K1}`)).toBeCloseTo(2 / 3, 10);
      expect(m.get(`custos_backup_recoverable${K1}`)).toBe(1); // 2 held + 2 confirmed >= 3
      expect(m.get(`custos_backup_external_only_recoverable${K1}`)).toBe(0);
      expect(m.get('custos_delivery_failures_total{kind="custodian_rejected",reason="OTHER"}')).toBe(1);
      expect(m.get('custos_drills_total{result="success"}')).toBe(1);
      expect(m.get('custos_drill_duration_seconds_sum')).toBe(1.5);
      expect(m.get(`custos_drill_last_success${K1}`)).toBe(1);
      expect(m.get(`custos_drill_last_duration_seconds${K1}`)).toBe(1.5);
      expect(m.get(`custos_drill_last_timestamp_seconds${K1}`)).toBeGreaterThan(Date.now() / 1000 - 600);

      // No secrets: neither the token nor anything but ids and numbers.
      const text = await (await fetch(listening.metricsUrl)).text();
      expect(text).not.toContain(token);
      expect((await fetch(listening.metricsUrl.replace('/metrics', '/'))).status).toBe(404);
      expect((await fetch(listening.metricsUrl, { method: 'POST' })).status).toBe(405);
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code, stderr).toBe(0);
    expect(stdout.trim().split('\n').pop()).toBe('{"ok":true,"stopped":true}');
  });

  it('listen on loopback only, and count refreshes that fail instead of failing the scrape', async () => {
    const agent = await Agent.open(data);
    try {
      const metrics = new AgentMetrics(agent, { defaultMetrics: false });
      await expect(startMetricsServer(metrics, { host: '0.0.0.0' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
      const refused = await cli('serve', ...D, '--metrics', '0.0.0.0:9464');
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/--metrics listens on loopback only/);

      const broken = new AgentMetrics(
        {
          fingerprint: agent.fingerprint,
          kekId: agent.kekId,
          listNodes: () => {
            throw new Error('database is locked');
          },
          getBackupStatus: agent.getBackupStatus.bind(agent),
          queryShareStatus: agent.queryShareStatus.bind(agent),
          listSessions: agent.listSessions.bind(agent),
          listCustodians: agent.listCustodians.bind(agent),
          listApprovers: agent.listApprovers.bind(agent),
          auditEntries: agent.auditEntries.bind(agent),
        },
        { defaultMetrics: false },
      );
      const m = samples(await broken.render());
      expect(m.get('custos_metrics_refresh_errors_total')).toBe(1);
      expect(m.get('custos_audit_events_total{event="init",result="ok"}')).toBe(1);
    } finally {
      agent.close();
    }
  });
});
