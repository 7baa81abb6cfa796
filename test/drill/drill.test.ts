// The drill (npm run drill) end to end through the real agent and custodian services: both
// curves, both modes, both transports, a peer's public context, and refusals.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDrill, type DrillOptions } from '../../scripts/drill';
import { Agent } from '../../agent/service';

const F = new URL('../fixtures/tss-lib/', import.meta.url).pathname;
const base = { threshold: 3, total: 5, retain: 2 } as const;

const cases: (Pick<DrillOptions, 'mode' | 'transport'> & { curve: 'ecdsa' | 'eddsa' })[] = [];
for (const curve of ['ecdsa', 'eddsa'] as const)
  for (const mode of ['external-only', 'mixed'] as const) for (const transport of ['file', 'qr'] as const) cases.push({ curve, mode, transport });

describe('npm run drill', () => {
  it.each(cases)('$curve, $mode, $transport: recovered keydata identical, every check passed', async ({ curve, mode, transport }) => {
    const work = mkdtempSync(join(tmpdir(), 'drill-test-'));
    const r = await runDrill({ ...base, keydata: join(F, curve, 'keygen_data_0.json'), mode, transport, work });
    expect(r.failure).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(r.keydataIdentical).toBe(true);
    expect(r.curve).toBe(curve === 'ecdsa' ? 'secp256k1' : 'ed25519');
    expect(Object.values(r.selfCheck).every(Boolean)).toBe(true);
    expect(r.selfCheck['xiMatchesBigXj']).toBe(true);
    expect(r.auditVerified).toBe(true);
    expect(r.sharesUsed).toEqual(mode === 'mixed' ? { server: 2, external: 1 } : { server: 0, external: 3 });
    expect(r.deliveries).toEqual({ delivered: 3, confirmed: 3 });
    expect(r.approvals).toHaveLength(2);
    if (transport === 'qr') {
      expect(r.framesPerExport.length).toBe(mode === 'mixed' ? 1 : 3);
      expect(r.framesPerExport.every((n) => n >= 1)).toBe(true);
      // The PNG frames on disk are read by an independent reader too.
      const pngs = execFileSync('find', [join(work, 'exports'), '-name', '*.png'], { encoding: 'utf8' }).trim().split('\n');
      const scanned = execFileSync('zbarimg', ['--raw', '-q', '-Sdisable', '-Sqrcode.enable', pngs[0]!], { encoding: 'utf8' }).trim();
      expect(scanned.toLowerCase()).toMatch(/^ur:custos-recovery-export\//);
    }
    expect(existsSync(join(work, 'drill-report.md'))).toBe(true);
    expect(JSON.parse(readFileSync(join(work, 'drill-report.json'), 'utf8'))).toMatchObject({ ok: true, mode, transport });
    // The agent recorded the drill: GetBackupStatus shows it.
    const agent = await Agent.open(join(work, 'agent'));
    try {
      expect(agent.getBackupStatus(r.keyId, r.nodeId).lastDrill).toMatchObject({ ok: true, mode });
    } finally {
      agent.close();
    }
  });

  it('recovers from a peer keydata file as the public context, with other Shamir parameters', async () => {
    const r = await runDrill({
      keydata: join(F, 'eddsa', 'keygen_data_1.json'),
      peer: join(F, 'eddsa', 'keygen_data_2.json'),
      threshold: 2,
      total: 4,
      retain: 1,
      mode: 'external-only',
      transport: 'file',
    });
    expect(r.ok).toBe(true);
    expect(r.publicContext).toBe('peer');
    expect(r.sharesUsed).toEqual({ server: 0, external: 2 });
  });

  it('fails, with the step and the code, when the peer is of another key', async () => {
    const r = await runDrill({ ...base, keydata: join(F, 'ecdsa', 'keygen_data_0.json'), peer: join(F, 'eddsa', 'keygen_data_1.json'), mode: 'external-only', transport: 'file' });
    expect(r.ok).toBe(false);
    expect(r.keydataIdentical).toBe(false);
    expect(r.failure).toMatchObject({ step: 'recover', code: 'KEYDATA_INVALID' });
  });

  it('refuses Shamir parameters that would let the server recover alone', async () => {
    await expect(runDrill({ keydata: join(F, 'ecdsa', 'keygen_data_0.json'), threshold: 3, total: 5, retain: 3, mode: 'mixed', transport: 'file' })).rejects.toMatchObject({
      code: 'INVALID_PARAMETERS',
    });
  });

  it('as a command: --json prints the report, exit 0 on success and non-zero on failure', () => {
    const ok = spawnSync('npx', ['tsx', 'scripts/drill.ts', '--json', '--keydata', join(F, 'eddsa', 'keygen_data_0.json')], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    const report = JSON.parse(ok.stdout) as Record<string, unknown>;
    for (const k of ['ok', 'mode', 'transport', 'curve', 'keyId', 'nodeId', 'threshold', 'total', 'sharesUsed', 'framesPerExport', 'keydataIdentical', 'selfCheck', 'auditVerified', 'timingsMs']) {
      expect(report).toHaveProperty(k);
    }
    expect(report['mode']).toBe('external-only');
    const bad = spawnSync('npx', ['tsx', 'scripts/drill.ts', '--mode', 'sideways'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--mode must be external-only or mixed');
  });
});
