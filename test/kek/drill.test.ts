// The drill with its KEK in an HSM (issue 9 §1: "The drill gets --kek file|pkcs11 and reports
// which provider it used"): a mixed recovery, so the server's retained shares are unwrapped inside
// a real PKCS#11 token (a SoftHSM2 token the drill makes in its work folder), and the report names it.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readKekState } from '../../agent/kek/config';
import { main, renderText, runDrill } from '../../scripts/drill';
import { requireSoftHsm } from './softhsm';

const F = new URL('../fixtures/tss-lib/', import.meta.url).pathname;
const works: string[] = [];
afterEach(() => {
  for (const w of works.splice(0)) rmSync(w, { recursive: true, force: true });
});
const work = (): string => {
  const w = mkdtempSync(join(tmpdir(), 'custos-kek-drill-'));
  works.push(w);
  return w;
};

describe('npm run drill --kek', () => {
  it('pkcs11: a mixed recovery through a SoftHSM2 token; the report names the provider and the KEK id', async () => {
    requireSoftHsm();
    const w = work();
    const r = await runDrill({ threshold: 3, total: 5, retain: 2, keydata: join(F, 'ecdsa', 'keygen_data_0.json'), mode: 'mixed', transport: 'file', work: w, kek: { kek: 'pkcs11' } });
    expect(r.failure).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(r.sharesUsed).toEqual({ server: 2, external: 1 });
    expect(r.kek).toMatchObject({ provider: 'pkcs11', id: expect.stringMatching(/^pkcs11:[0-9a-f]{16}$/) as unknown });
    expect(readKekState(join(w, 'agent'))?.current).toMatchObject({ provider: 'pkcs11', tokenLabel: 'custos-drill' });
    expect(existsSync(join(w, 'agent', 'kek.key'))).toBe(false);
    expect(renderText(r)).toMatch(/KEK: pkcs11, a SoftHSM2 token made for this drill \(pkcs11:[0-9a-f]{16}\)/);
  });

  it('file (the default): the report says so; an unknown provider is a usage error', async () => {
    const w = work();
    const r = await runDrill({ threshold: 3, total: 5, retain: 2, keydata: join(F, 'eddsa', 'keygen_data_0.json'), mode: 'external-only', transport: 'file', work: w });
    expect(r.ok).toBe(true);
    expect(r.kek).toMatchObject({ provider: 'file', id: expect.stringMatching(/^local-file:/) as unknown });
    expect(renderText(r)).toMatch(/KEK: file \(local-file:/);
    let err = '';
    const code = await main(['--kek', 'vault'], { stdout: () => undefined, stderr: (t) => (err += t), env: {} });
    expect(code).toBe(2);
    expect(err).toMatch(/"file" or "pkcs11"/);
  });
});
