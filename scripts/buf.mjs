#!/usr/bin/env node
// Runs the buf CLI from its platform package. We depend on @bufbuild/buf-linux-x64 directly (as an
// optional dependency) rather than on the @bufbuild/buf wrapper, because the registry these machines
// use does not serve the wrapper's other-platform packages, which breaks `npm ci`. The generated code
// in proto/gen is committed, so only regenerating it needs buf: on another platform install the
// matching @bufbuild/buf-<os>-<arch> package (same version) or buf itself.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const bufPath = fileURLToPath(new URL(`../node_modules/@bufbuild/buf-${process.platform}-${process.arch === 'arm64' && process.platform === 'linux' ? 'aarch64' : process.arch}/bin/buf`, import.meta.url));

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!existsSync(bufPath)) {
    console.error(`buf is not installed for ${process.platform}-${process.arch}: install @bufbuild/buf-${process.platform}-${process.arch}@1.75.0 (linux-x64 is installed by npm ci).`);
    process.exit(1);
  }
  const r = spawnSync(bufPath, process.argv.slice(2), { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
