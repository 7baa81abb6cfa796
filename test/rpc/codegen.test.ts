/**
 * The generated code in proto/gen is committed; this regenerates it from proto/ with the repo's
 * buf.gen.yaml into a temporary directory and requires the two trees to be identical, so the
 * contract and the code cannot drift. Fix a failure with `npm run proto`.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'node_modules', '.bin');
// buf comes from its platform package (see scripts/buf.mjs for why).
const BUF = join(ROOT, 'node_modules', '@bufbuild', 'buf-linux-x64', 'bin', 'buf');
if (!existsSync(BUF)) throw new Error('buf is missing: run `npm ci` on linux-x64, or install @bufbuild/buf-<os>-<arch>@1.75.0 (see scripts/buf.mjs).');

function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

describe('generated protobuf code', () => {
  it('is exactly what `buf generate` produces from proto/', () => {
    const out = mkdtempSync(join(tmpdir(), 'custos-buf-'));
    try {
      execFileSync(BUF, ['generate', '--template', 'buf.gen.yaml', '--output', out], {
        cwd: ROOT,
        env: { ...process.env, PATH: `${BIN}${delimiter}${process.env['PATH'] ?? ''}` },
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 60_000,
      });
      const fresh = files(join(out, 'proto', 'gen'));
      const committed = files(join(ROOT, 'proto', 'gen'));
      expect([...fresh.keys()].sort()).toEqual([...committed.keys()].sort());
      expect(fresh.size).toBeGreaterThan(0);
      for (const [name, text] of fresh) expect(committed.get(name), `proto/gen/${name} is stale: run npm run proto`).toBe(text);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('keeps the seeds\' line references: RecoverMPCShare on line 12, GetBackupStatus 15, ListBackupShares 18', () => {
    const lines = readFileSync(join(ROOT, 'proto', 'infra', 'v1', 'backup.proto'), 'utf8').split('\n');
    expect(lines[11]).toMatch(/^\s*rpc RecoverMPCShare\(/);
    expect(lines[14]).toMatch(/^\s*rpc GetBackupStatus\(/);
    expect(lines[17]).toMatch(/^\s*rpc ListBackupShares\(/);
  });

  it('passes buf lint', () => {
    execFileSync(BUF, ['lint'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  });
});
