// Helpers for the agent CLI tests: the CLI called in-process through its `main` (most cases) or
// spawned as a real process with tsx (a few: init, the approver's machine, an error, serve), the
// approver's own program (approver/cli.ts) the same two ways, and the custodians' side of the
// protocol made with shared/protocol as the custodian app would.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../agent/cli';
import { main as approverMain } from '../../approver/cli';
import {
  createCustodianIdentity,
  custodianIdentityFingerprint,
  makeCustodianCard,
  makeReceipt,
  makeRecoveryExport,
  openAgentCard,
  openApproverCard,
  openCustodianCard,
  openEnvelope,
  openRecoveryRequest,
  type CustodianIdentity,
} from '../../shared/protocol';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const FIXTURE = join(ROOT, 'test', 'fixtures', 'tss-lib', 'eddsa', 'keygen_data_0.json');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

const dirs: string[] = [];

export function tempDir(prefix = 'custos-cli-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) {
    rmSync(d, { recursive: true, force: true });
    rmSync(`${d}.kek.key`, { force: true }); // a data directory's default KEK file lies beside it
    rmSync(`${d}.kek.key.erase`, { recursive: true, force: true }); // and that file's erase keys
  }
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The approver key files' passphrase in these tests, as CUSTOS_APPROVER_PASSPHRASE gives it to the
 * approver program (in this process and when spawned); keygen in tests adds APPROVER_TEST_KDF (the
 * lowest production scrypt work factor) to stay fast.
 */
export const APPROVER_TEST_PASSPHRASE = 'quarry velvet tundra pickle oxygen summit';
export const APPROVER_TEST_KDF = ['--kdf-log-n', '15'] as const;
const APPROVER_ENV = { CUSTOS_APPROVER_PASSPHRASE: APPROVER_TEST_PASSPHRASE };

async function inProcess(run: typeof main, argv: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env,
  });
  return { code, stdout, stderr };
}

const lastJson = (r: CliRun): { code: number; json: Record<string, unknown>; stderr: string } => {
  const lines = r.stdout.trim().split('\n');
  return { code: r.code, json: JSON.parse(lines[lines.length - 1] ?? 'null') as Record<string, unknown>, stderr: r.stderr };
};

/** Runs the agent CLI in this process (its `main`, with captured output). */
export function cli(...argv: string[]): Promise<CliRun> {
  return inProcess(main, argv);
}

/** The agent CLI in this process with --json; returns the parsed object and the exit status. */
export async function cliJson(...argv: string[]): Promise<{ code: number; json: Record<string, unknown>; stderr: string }> {
  return lastJson(await cli(...argv, '--json'));
}

/** Runs the approver's program (approver/cli.ts) in this process, its key passphrase in the environment. */
export function approver(...argv: string[]): Promise<CliRun> {
  return inProcess(approverMain, argv, APPROVER_ENV);
}

/** The approver's program in this process with exactly `env` (no passphrase unless given). */
export function approverWithEnv(env: Readonly<Record<string, string>>, ...argv: string[]): Promise<CliRun> {
  return inProcess(approverMain, argv, env);
}

/** The approver's program in this process with --json. */
export async function approverJson(...argv: string[]): Promise<{ code: number; json: Record<string, unknown>; stderr: string }> {
  return lastJson(await approver(...argv, '--json'));
}

/** Starts a CLI as its own process (tsx agent/cli.ts ..., or another program's entry file); the approver program gets its key passphrase in the environment. */
export function spawnCli(argv: readonly string[], entry = 'agent/cli.ts'): ChildProcessWithoutNullStreams {
  const extra = entry === 'approver/cli.ts' ? APPROVER_ENV : {};
  return spawn(TSX, [entry, ...argv], { cwd: ROOT, env: { ...process.env, NODE_NO_WARNINGS: '1', ...extra }, stdio: 'pipe' });
}

/** Runs a CLI as its own process to the end (the agent's by default). */
export function runCli(argv: readonly string[], entry = 'agent/cli.ts'): Promise<CliRun> {
  const child = spawnCli(argv, entry);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** Runs the approver's program as its own process (tsx approver/cli.ts ...), as on the approver's machine. */
export function runApprover(argv: readonly string[]): Promise<CliRun> {
  return runCli(argv, 'approver/cli.ts');
}

export interface Custodian {
  readonly identity: CustodianIdentity;
  readonly cardFile: string;
  readonly fingerprint: string;
  /** The comparison code the custodian's app shows for this card (what they read out to ops). */
  readonly code: string;
}

/** The comparison code an approver's program shows for its card (what they read out to ops). */
export function approverCode(cardFile: string): string {
  return openApproverCard(new Uint8Array(readFileSync(cardFile))).code;
}

/** `n` custodian identities, each with its enrollment card written to `dir`. */
export async function makeCustodians(dir: string, n: number): Promise<Custodian[]> {
  const out: Custodian[] = [];
  for (let i = 1; i <= n; i++) {
    const identity = await createCustodianIdentity(`custodian ${String(i)}`);
    const cardFile = join(dir, `custodian-${String(i)}.card`);
    const card = makeCustodianCard(identity, Math.floor(Date.now() / 1000));
    writeFileSync(cardFile, card);
    out.push({ identity, cardFile, fingerprint: Buffer.from(custodianIdentityFingerprint(identity)).toString('hex'), code: openCustodianCard(card).code });
  }
  return out;
}

export const agentKeyOf = (dataDir: string): Uint8Array => openAgentCard(new Uint8Array(readFileSync(join(dataDir, 'agent-card.cbor')))).body.sign_key;

export interface Held {
  readonly custodian: Custodian;
  readonly shareIndex: number;
  readonly share: Uint8Array;
  readonly hash: Uint8Array;
  readonly setId: Uint8Array;
  readonly epoch: number;
}

/** Each custodian opens the envelope addressed to it (every check of the custodian app). */
export async function openEnvelopes(dataDir: string, custodians: readonly Custodian[], envelopes: readonly { shareIndex: number; custodian: string; file: string }[]): Promise<Held[]> {
  const agentKey = agentKeyOf(dataDir);
  const now = Math.floor(Date.now() / 1000);
  const held: Held[] = [];
  for (const e of envelopes) {
    const c = custodians.find((x) => x.fingerprint === e.custodian)!;
    const opened = await openEnvelope(new Uint8Array(readFileSync(e.file)), agentKey, { fingerprint: custodianIdentityFingerprint(c.identity), ageIdentity: c.identity.age.identity }, now);
    held.push({ custodian: c, shareIndex: e.shareIndex, share: opened.share, hash: opened.hash, setId: opened.manifest.body.set_id, epoch: opened.manifest.body.epoch });
  }
  return held;
}

/** A custodian's signed receipt for its envelope, written to `file`. */
export function writeReceipt(file: string, keyId: string, nodeId: string, h: Held, status: 'accepted' | 'rejected' = 'accepted'): string {
  const receipt = makeReceipt(
    {
      envelope_hash: h.hash,
      key_id: keyId,
      node_id: nodeId,
      set_id: h.setId,
      epoch: h.epoch,
      share_index: h.shareIndex,
      status,
      ...(status === 'rejected' ? { reason: 'OTHER' as const, note: 'label unreadable' } : {}),
      received_at: Math.floor(Date.now() / 1000),
    },
    h.custodian.identity.signing,
  );
  writeFileSync(file, receipt);
  return file;
}

/** A custodian's recovery export of its share for a signed recovery request. */
export async function makeExport(dataDir: string, requestFile: string, h: Held): Promise<Uint8Array> {
  const now = Math.floor(Date.now() / 1000);
  const req = openRecoveryRequest(new Uint8Array(readFileSync(requestFile)), agentKeyOf(dataDir), now);
  return makeRecoveryExport(req, h.shareIndex, h.share, { signing: h.custodian.identity.signing, fingerprint: custodianIdentityFingerprint(h.custodian.identity) }, now);
}
