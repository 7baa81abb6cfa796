// Runs @doyensec/electronegativity over one folder and writes its result as JSON.
// Usage: node test/packaging/electronegativity-scan.mjs INPUT_DIR OUTPUT_JSON
//
// A separate process because electronegativity's programmatic API calls process.exit on a bad
// check name, registers a global `__` and logs to stdout. test/packaging/electronegativity.test.ts
// runs it and judges the result.
//
// Excluded checks, and why (the test asserts this list):
//  - AvailableSecurityFixesGlobalCheck downloads Electron's release list from GitHub at run time:
//    offline it silently finds nothing, online its answer changes from one day to the next, so it
//    cannot be a test. The Electron version is pinned in package.json and raised deliberately.
//  - ElectronVersionJSONCheck only feeds that check (it reports the version as a finding of its own
//    when the global check is off).
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node electronegativity-scan.mjs INPUT_DIR OUTPUT_JSON');
  process.exit(2);
}

const EXCLUDED = ['AvailableSecurityFixesGlobalCheck', 'ElectronVersionJSONCheck'];

// electronegativity is CommonJS without an exports map: its module.exports arrive as `default`.
const { default: run } = await import('@doyensec/electronegativity/dist/runner.js');
const { default: loaders } = await import('@doyensec/electronegativity/dist/loader/index.js');
const { LoaderDirectory } = loaders;

async function main() {
  const loader = new LoaderDirectory();
  await loader.load(input);
  const result = await run({ input, isRelative: true, customScan: [], excludeFromScan: EXCLUDED });
  const json = {
    excluded: EXCLUDED,
    electronVersion: loader.electronVersion ?? null,
    files: [...loader.list_files].map((f) => relative(input, f)).sort(),
    globalChecks: result.globalChecks,
    atomicChecks: result.atomicChecks,
    errors: result.errors.map((e) => ({ file: relative(input, e.file), message: e.message, tolerable: e.tolerable })),
    issues: result.issues.map((i) => ({
      id: i.id,
      file: i.file,
      line: i.location.line,
      column: i.location.column,
      severity: i.severity.name,
      confidence: i.confidence.name,
      manualReview: Boolean(i.manualReview),
      description: i.description,
      sample: typeof i.sample === 'string' ? i.sample : '',
    })),
  };
  writeFileSync(output, JSON.stringify(json, null, 2));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
