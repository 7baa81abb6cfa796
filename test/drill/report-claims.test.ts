/**
 * The drill report says exactly what it proved (issue 11 §4): "identical" only when the bytes of
 * the file given were compared equal to the regenerated keydata; for an original that is not in
 * tss-lib's compact json.Marshal form (the bundled fixtures are indented) it says "same content as
 * the original, written in tss-lib's encoding" and gives both hashes. `--out FILE` writes the
 * regenerated keydata in plaintext, mode 0600, never over a file, with a warning.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderText, runDrill } from '../../scripts/drill';
import { parseKeydata, writeKeydata } from '../../shared/keydata';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const INDENTED = join(ROOT, 'test', 'fixtures', 'tss-lib', 'eddsa', 'keygen_data_0.json');
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const base = { threshold: 3, total: 5, retain: 2, mode: 'mixed', transport: 'file' } as const;

const tmp = mkdtempSync(join(tmpdir(), 'drill-claims-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('the drill report claims only what it compared', () => {
  const indented = new Uint8Array(readFileSync(INDENTED));
  const compact = writeKeydata(parseKeydata(indented));
  const compactFile = join(tmp, 'compact.json');
  writeFileSync(compactFile, compact, { mode: 0o600 });

  it('an indented original: same content in tss-lib\'s encoding, both hashes, never "identical"', async () => {
    const work = join(tmp, 'indented');
    const r = await runDrill({ ...base, keydata: INDENTED, work });
    expect(r.ok).toBe(true);
    expect(sha256(compact)).not.toBe(sha256(indented));
    expect(r.keydataMatch).toBe('same-content');
    expect(r.original).toEqual({ sha256: sha256(indented), compact: false });
    expect(r.keydataSha256).toBe(sha256(compact));
    const text = renderText(r);
    expect(text).toContain(`same content as the original, written in tss-lib's encoding (original sha256 ${sha256(indented)}, regenerated sha256 ${sha256(compact)})`);
    expect(text).not.toMatch(/identical/i);
    const md = readFileSync(join(work, 'drill-report.md'), 'utf8');
    expect(md).toContain("same content as the original, written in tss-lib's encoding");
    expect(md).toContain(sha256(indented));
    expect(md).toContain(sha256(compact));
    expect(md).not.toMatch(/identical/i);
    expect(JSON.parse(readFileSync(join(work, 'drill-report.json'), 'utf8'))).toMatchObject({ keydataMatch: 'same-content', original: { sha256: sha256(indented), compact: false } });
  });

  it('a compact original: identical to the file given, byte for byte', async () => {
    const r = await runDrill({ ...base, keydata: compactFile, work: join(tmp, 'compact') });
    expect(r.ok).toBe(true);
    expect(r.keydataMatch).toBe('identical');
    expect(r.original).toEqual({ sha256: sha256(compact), compact: true });
    expect(renderText(r)).toContain(`identical to the file given, byte for byte (sha256 ${sha256(compact)})`);
  });

  it('--out writes the regenerated keydata in plaintext, 0600, with a warning, and never over a file', () => {
    const out = join(tmp, 'regenerated.json');
    const run = (work: string) =>
      spawnSync(join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/drill.ts', '--keydata', INDENTED, '--mode', 'mixed', '--work', join(tmp, work), '--out', out], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, NODE_NO_WARNINGS: '1' },
      });
    const first = run('out-1');
    expect(first.status, first.stderr).toBe(0);
    expect(Buffer.from(readFileSync(out)).equals(Buffer.from(compact))).toBe(true);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(first.stderr).toContain(`WARNING: ${out} holds the node's secret keydata in plaintext`);
    expect(JSON.parse(readFileSync(join(tmp, 'out-1', 'drill-report.json'), 'utf8'))).toMatchObject({ keydataOut: out });

    writeFileSync(out, 'keep me', { mode: 0o600 });
    const second = run('out-2');
    expect(second.status).toBe(2);
    expect(second.stderr).toContain(`${out} exists already`);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
  });
});
