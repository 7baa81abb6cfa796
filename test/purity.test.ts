// shared/ runs unchanged in the renderer, the Electron main process and the agent. ESLint enforces
// this (eslint.config.mjs); this test checks the same facts independently of the lint config, and
// checks that the scan itself catches a violation.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const FORBIDDEN_GLOBALS = ['window', 'document', 'navigator', 'localStorage', 'sessionStorage', 'process', 'Buffer', 'require', '__dirname', '__filename'];
const builtins = new Set(builtinModules.filter((m) => !m.startsWith('_')));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

function violations(source: string): string[] {
  const found: string[] = [];
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1').replace(/'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g, (m) => (m.startsWith("'") ? m : '``'));
  for (const m of code.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
    const spec = m[1] ?? '';
    if (spec.startsWith('node:') || spec === 'electron' || spec.startsWith('electron/') || builtins.has(spec.split('/')[0] ?? '')) found.push(`imports ${spec}`);
  }
  const bare = code.replace(/'(?:[^'\\\n]|\\.)*'/g, "''");
  for (const g of FORBIDDEN_GLOBALS) {
    if (new RegExp(`(?<![\\w.$'"])${g}\\s*[.[(]`).test(bare)) found.push(`uses ${g}`);
  }
  return found;
}

describe('shared/ is pure', () => {
  it('catches a violation (the scan itself works)', () => {
    expect(violations("import { readFileSync } from 'node:fs';")).toEqual(['imports node:fs']);
    expect(violations("import x from 'fs/promises';")).toEqual(['imports fs/promises']);
    expect(violations("import { app } from 'electron';")).toEqual(['imports electron']);
    expect(violations('const x = window.location;')).toEqual(['uses window']);
    expect(violations('const b = Buffer.from([1]);')).toEqual(['uses Buffer']);
    expect(violations("const s = 'window.open is blocked';")).toEqual([]);
  });

  it('no file in shared/ imports Node or Electron or touches DOM/Node globals', () => {
    const list = files(join(root, 'shared'));
    expect(list.length).toBeGreaterThan(10);
    const bad = list.flatMap((f) => violations(readFileSync(f, 'utf8')).map((v) => `${relative(root, f)}: ${v}`));
    expect(bad).toEqual([]);
  });
});
