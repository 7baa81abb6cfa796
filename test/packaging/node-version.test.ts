// The Node versions README.md states (issue 13, "The rough edges"): the range it says installs
// without warnings passes npm's own engine check (npm-install-checks, the code that prints
// EBADENGINE) for every package of package-lock.json, the version just below it does not (so the
// sentence is not too cautious either), and package.json's engines field is the oldest Node it
// names as supported, which this machine satisfies.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { engines?: { node?: string } }> };
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } };

// npm's own modules, from the npm that runs here (what `npm ci` uses to decide EBADENGINE).
const npmRoot = dirname(execFileSync('node', ['-e', 'process.stdout.write(require.resolve("npm/package.json", { paths: [require("node:path").join(process.execPath, "../../lib/node_modules")] }))'], { encoding: 'utf8' }));
const npmRequire = createRequire(join(npmRoot, 'package.json'));
const { checkEngine } = npmRequire('npm-install-checks') as { checkEngine: (target: unknown, npm: string | null, node: string) => void };
const semver = npmRequire('semver') as { satisfies: (v: string, range: string) => boolean };

/** Packages whose engines refuse Node `version`. */
function refusing(version: string): string[] {
  const out: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.engines?.node === undefined) continue;
    try {
      checkEngine({ _id: path, engines: { node: entry.engines.node } }, null, version);
    } catch {
      out.push(`${path} (${entry.engines.node})`);
    }
  }
  return out;
}

describe('Node version stated in README and package.json', () => {
  const stated = /installs without\s+warnings\*\* \(`([^`]+)`/.exec(readme)?.[1];

  it('the README says which Node installs without warnings, and npm agrees for every locked package', () => {
    expect(stated, 'README: "installs without warnings** (`RANGE`"').toBeDefined();
    const range = stated ?? '';
    for (const v of ['22.13.0', '22.20.0', '24.0.0', '25.1.0']) {
      if (semver.satisfies(v, range)) expect(refusing(v), `Node ${v}`).toEqual([]);
    }
    // The lowest version of each part of the range is accepted; the one just below each is refused.
    expect(refusing('22.13.0')).toEqual([]);
    expect(refusing('24.0.0')).toEqual([]);
    expect(refusing('22.12.0').length).toBeGreaterThan(0);
    expect(refusing('23.11.0').length).toBeGreaterThan(0);
    expect(semver.satisfies('22.12.0', range) || semver.satisfies('23.11.0', range)).toBe(false);
  });

  it('package.json engines is the oldest supported Node the README names, and this machine satisfies it', () => {
    expect(pkg.engines.node).toBe('>=20.19');
    expect(readme).toContain('`engines.node >= 20.19`');
    expect(semver.satisfies(process.versions.node, pkg.engines.node)).toBe(true);
    // On this Node the README's EBADENGINE sentence is true: the electron tooling it names refuses it, nothing else.
    if (!semver.satisfies(process.versions.node, stated ?? '')) {
      // Top-level packages only (a package nested under another is that one's dependency).
      const names = refusing(process.versions.node).map((p) => p.replace(/ \(.*$/, '')).filter((p) => p.split('node_modules/').length === 2);
      for (const n of names) expect(readme, `README names ${n} among the packages that warn`).toContain(n.replace('node_modules/', ''));
    }
  });
});
