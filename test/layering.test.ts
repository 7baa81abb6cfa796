// The layers (docs/architecture.md): shared → node → agent | main → preload → renderer, imports only
// downwards; the agent and the app never import each other. ESLint enforces it (eslint.config.mjs,
// `custos/layers`); this test shows the rule fails on a wrong import, that the real config turns it
// on for every layered folder, and scans the tree independently of ESLint.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import { FORBIDDEN_LAYERS, layersConfig } from '../eslint.config.mjs';

const root = resolve(import.meta.dirname, '..');
const forbidden = FORBIDDEN_LAYERS;

/** ESLint with only the layering block (no type information needed), on text at a given path. */
async function lint(path: string, code: string): Promise<string[]> {
  const eslint = new ESLint({
    cwd: root,
    overrideConfigFile: true,
    overrideConfig: [{ files: ['**/*.ts', '**/*.tsx'], languageOptions: { parser: tseslint.parser } }, layersConfig],
  });
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
}

describe('the layering rule (ESLint)', () => {
  it.each([
    ['agent/probe.ts', "import { x } from '../main/services/vault';", 'agent/ may not import main/'],
    ['agent/rpc/probe.ts', "import type { X } from '../rpc/../../main/x';", 'agent/ may not import main/'],
    ['agent/rpc/probe.ts', "export * from '../../renderer/src/x';", 'agent/ may not import renderer/'],
    ['main/services/probe.ts', "const m = await import('../../agent/service');", 'main/ may not import agent/'],
    ['node/probe.ts', "import { Agent } from '../agent/service';", 'node/ may not import agent/'],
    ['node/probe.ts', "export { v } from '../main/services/vault';", 'node/ may not import main/'],
    ['shared/qr/probe.ts', "import { writeFileAtomic } from '../../node/fs-atomic';", 'shared/ may not import node/'],
    ['shared/probe.ts', "type A = typeof import('../agent/api');", 'shared/ may not import agent/'],
    ['renderer/src/probe.tsx', "import { x } from '../../main/handlers';", 'renderer/ may not import main/'],
  ])('%s: %s is refused', async (path, code, want) => {
    const messages = await lint(path, code);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain('custos/layers');
    expect(messages[0]).toContain(want);
  });

  it.each([
    ['agent/probe.ts', "import { writeFileAtomicSync } from '../node/fs-atomic';"],
    ['agent/rpc/probe.ts', "import { CustosError } from '../../shared/errors'; import { Agent } from '../service';"],
    ['main/probe.ts', "import { installNodeVerifier } from '../node/ed25519'; import x from 'zod';"],
    ['node/probe.ts', "import { CustosError } from '../shared/errors'; import { readFileSync } from 'node:fs';"],
    ['renderer/src/probe.tsx', "type Api = typeof import('../../preload/api');"],
    ['test/probe.ts', "import { Agent } from '../agent/service'; import { Vault } from '../main/services/vault';"],
    ['scripts/probe.ts', "import { Agent } from '../agent/service'; import { Vault } from '../main/services/vault';"],
  ])('%s: %s is allowed', async (path, code) => {
    expect(await lint(path, code)).toEqual([]);
  });

  it('the real config turns the rule on for every layered folder, and not for test/ scripts/ bench/', async () => {
    const eslint = new ESLint({ cwd: root });
    for (const folder of Object.keys(forbidden)) {
      const config = (await eslint.calculateConfigForFile(join(root, folder, 'probe.ts'))) as { rules?: Record<string, unknown> };
      expect(config.rules?.['custos/layers'], folder).toEqual([2]);
    }
    for (const folder of ['test', 'scripts', 'bench']) {
      const config = (await eslint.calculateConfigForFile(join(root, folder, 'probe.ts'))) as { rules?: Record<string, unknown> };
      expect(config.rules?.['custos/layers'], folder).toBeUndefined();
    }
  });
});

// ---- an independent scan of the tree --------------------------------------------------------------

function sources(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'gen') return [];
    return statSync(p).isDirectory() ? sources(p) : /\.(ts|tsx|mts|mjs)$/.test(p) && !p.endsWith('.d.ts') ? [p] : [];
  });
}

const top = (path: string): string => relative(root, path).split(sep)[0] ?? '';

/** The forbidden imports in one file's text, as `from → to (specifier)`. */
function wrongImports(file: string, text: string): string[] {
  const from = top(file);
  const banned = forbidden[from] ?? [];
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const found: string[] = [];
  for (const m of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"]+)['"]/g)) {
    const spec = m[1] ?? '';
    if (!spec.startsWith('.')) continue;
    const to = top(resolve(dirname(file), spec));
    if (banned.includes(to)) found.push(`${from} → ${to} (${spec})`);
  }
  return found;
}

describe('the layering scan', () => {
  it('catches a wrong import (the scan itself works)', () => {
    expect(wrongImports(join(root, 'agent/rpc/x.ts'), "import { Vault } from '../../main/services/vault';")).toEqual(['agent → main (../../main/services/vault)']);
    expect(wrongImports(join(root, 'main/x.ts'), "const a = await import('../agent/service');")).toEqual(['main → agent (../agent/service)']);
    expect(wrongImports(join(root, 'shared/x.ts'), "export * from '../node/errors';")).toEqual(['shared → node (../node/errors)']);
    expect(wrongImports(join(root, 'agent/x.ts'), "// import { v } from '../main/x';\nimport { n } from '../node/errors';")).toEqual([]);
    expect(wrongImports(join(root, 'test/x.ts'), "import { Vault } from '../main/services/vault';")).toEqual([]);
  });

  it('no file in a layered folder imports a folder above it', () => {
    const files = Object.keys(forbidden).flatMap((folder) => sources(join(root, folder)));
    expect(files.length).toBeGreaterThan(100);
    const bad = files.flatMap((f) => wrongImports(f, readFileSync(f, 'utf8')).map((w) => `${relative(root, f)}: ${w}`));
    expect(bad).toEqual([]);
  });
});
