/**
 * The Go toolchain for the integration tests (issue 11 §1): builds integrations/go's commands
 * once with Debian's real `go` compiler, into a temporary folder, with GOCACHE and GOPATH there
 * too, so the tests run as any user and leave nothing behind. When `go` is missing the tests FAIL
 * with the sentence saying what to install; they never skip.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const GO_MODULE = join(ROOT, 'integrations', 'go');
export const MISSING_GO = 'The Go compiler (`go`) is not installed: install it with `sudo apt-get install -y golang-go` (or run `npm run setup` as root, which does), then run the tests again.';

export interface GoRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface GoToolchain {
  readonly env: NodeJS.ProcessEnv;
  /** Folder with the built commands (custos-store, custos-keydata, custos-agent-client). */
  readonly bin: string;
  readonly version: string;
  /** `go test ./...` in integrations/go (the Go package's own tests). */
  test(): GoRun;
  /** Runs a built command; never throws on a non-zero exit. */
  run(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): GoRun;
  /** The same without blocking the event loop (for a server in this process). */
  runAsync(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<GoRun>;
  close(): void;
}

/** Finds `go` (on `path`, default $PATH), builds the commands; throws MISSING_GO when there is no compiler. */
export function buildGo(path = process.env['PATH'] ?? ''): GoToolchain {
  const probe = spawnSync('go', ['version'], { encoding: 'utf8', env: { ...process.env, PATH: path } });
  if (probe.error !== undefined || probe.status !== 0) throw new Error(MISSING_GO);
  const tmp = mkdtempSync(join(tmpdir(), 'custos-go-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: path,
    GOCACHE: join(tmp, 'cache'),
    GOPATH: join(tmp, 'gopath'),
    GOFLAGS: '-mod=readonly',
    GOPROXY: 'off', // standard library only: nothing may be downloaded
    GOTOOLCHAIN: 'local',
    CGO_ENABLED: '0',
  };
  const bin = join(tmp, 'bin');
  execFileSync('go', ['build', '-o', `${bin}/`, './cmd/...'], { cwd: GO_MODULE, env, stdio: 'pipe' });
  return {
    env,
    bin,
    version: probe.stdout.trim(),
    run(command, args, extra = {}) {
      const r = spawnSync(join(bin, command), args, { encoding: 'utf8', env: { ...env, ...extra } });
      if (r.error !== undefined) throw r.error;
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    test() {
      const r = spawnSync('go', ['test', '-count=1', './...'], { cwd: GO_MODULE, encoding: 'utf8', env });
      if (r.error !== undefined) throw r.error;
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    runAsync(command, args, extra = {}) {
      return new Promise((resolve, reject) => {
        const child = spawn(join(bin, command), args, { env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
        child.on('error', reject);
        child.on('close', (code) => {
          resolve({ code: code ?? -1, stdout, stderr });
        });
      });
    },
    close() {
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
