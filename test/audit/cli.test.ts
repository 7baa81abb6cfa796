// The audit group of the agent CLI: settings (interval, sink outside the data directory), checkpoint,
// verify and verify --from-checkpoint, export with checkpoints, show from the first entry (seq 0);
// the export verifies offline with the card (scripts/verify-audit.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyAuditFiles } from '../../scripts/verify-audit';
import { cli, cliJson, removeTempDirs, tempDir } from '../agent-cli/helpers';

afterAll(removeTempDirs);

describe('agent audit commands', () => {
  it('settings, checkpoint, verify (full and from the last checkpoint), export and offline verification', async () => {
    const data = tempDir('custos-audit-cli-');
    const D = ['--data', data, '--operator', 'ops-cli'];
    expect((await cli('init', '--data', data, '--name', 'audit cli')).code).toBe(0);

    const inside = await cli('audit', 'settings', ...D, '--sink', join(data, 'cp.jsonl'));
    expect(inside.code).not.toBe(0);
    expect(inside.stderr).toMatch(/inside the agent data directory/);

    const sink = join(tempDir('custos-sink-'), 'audit-checkpoints.jsonl');
    const set = await cliJson('audit', 'settings', ...D, '--every', '3', '--interval', '1h', '--sink', sink);
    expect(set.code, set.stderr).toBe(0);
    expect(set.json['status']).toMatchObject({ every: 3, intervalMs: 3_600_000, sink });
    const shown = await cli('audit', 'settings', ...D);
    expect(shown.stdout).toMatch(/every 3 entries, at the first entry 3600 s after the last one/);
    expect(shown.stdout).toContain(`Sink: ${sink}`);

    const cp = await cliJson('audit', 'checkpoint', ...D);
    expect(cp.code, cp.stderr).toBe(0);
    const list = await cli('audit', 'show', ...D);
    expect(list.stdout.split('\n')[0]).toMatch(/^0\s+\S+\s+init\/data-directory\s+ok/);
    expect(list.stdout).toMatch(/configure\/audit-checkpoints\s+ok\s+ops-cli/);

    const full = await cliJson('audit', 'verify', ...D);
    expect(full.code, full.stderr).toBe(0);
    expect(full.json['verification']).toMatchObject({ ok: true, mode: 'full' });
    const inc = await cli('audit', 'verify', ...D, '--from-checkpoint');
    expect(inc.code, inc.stderr).toBe(0);
    expect(inc.stdout).toMatch(/^The audit log verifies from its last checkpoint \(\d+ entries\)/);
    expect(inc.stdout).toMatch(/Last signed checkpoint: \d+ entries \(close, /);

    const out = join(tempDir('custos-export-'), 'audit.jsonl');
    const exported = await cliJson('audit', 'export', ...D, '--out', out);
    expect(exported.code, exported.stderr).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(exported.json).toMatchObject({ entries: text.split('\n').filter((l) => l.startsWith('{"seq"')).length, checkpoints: text.split('\n').filter((l) => l.startsWith('{"checkpoint"')).length });
    expect(exported.json['checkpoints']).toBeGreaterThan(0);
    expect(verifyAuditFiles([out, '--card', join(data, 'agent-card.cbor'), '--sink', sink]).exit).toBe(0);
    expect(readFileSync(sink, 'utf8').trim().split('\n').length).toBeGreaterThan(0);
  });
});
