/**
 * The agent CLI (issue 3, "Interfaces"): `npm run agent -- <command>` (tsx agent/cli.ts). Every
 * operation of the core `Agent` (agent/service.ts), the RPC server with its metrics endpoint, and
 * the approver's side (keygen, sign) that runs on another machine without a data directory.
 *
 * Secrets never travel in argv: keydata, approver keys, receipts, approvals and exports are read
 * from files named by path; the API token stays in `<data>/api.token`. Secret material is written
 * only to files (0600), never to stdout or stderr.
 *
 * Output: short aligned lines for a person, or one JSON object per command on one line with
 * `--json` (`{"ok":true,...}` or `{"ok":false,"error":{code,message,details}}`). Progress of long
 * work goes to stderr. Exit status: 0 done; 1 refused or failed (a sentence with the code says why);
 * 2 wrong usage; 3 done with refusals among the items (receipts, approvals, exports, audit verify).
 * `--debug` adds the stack of an error.
 */
import { installNodeVerifier } from '../node/ed25519';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { toHex } from '../shared/bytes';
import { fileHash } from '../shared/crypto/hash';
import { CustosError } from '../shared/errors';
import { FrameAssembler } from '../shared/qr/ur';
import type {
  AgentSettings,
  BackupResult,
  BackupStatus,
  CustodianRole,
  DeletionView,
  InventoryStatus,
  NodeRecord,
  RecoveryOutcome,
  ServerShareRecord,
  SessionView,
  ShareStatus,
} from './api';
import { CUSTODIAN_ROLES } from './api';
import {
  APPROVER_CARD_FILE,
  APPROVER_KEY_FILE,
  createApproverKey,
  describeDeletion,
  describeSession,
  readApprovalSubject,
  readApproverKey,
  signApproval,
  signDeletionApproval,
} from './approver-key';
import { AgentError, isCodedError, toPublicError } from './errors';
import { existsSync as exists, writeFileAtomicSync as writeFileAtomic } from '../node/fs-atomic';
import { AgentMetrics, isLoopback, startMetricsServer, type RunningMetricsServer } from './metrics';
import { UR_TYPES, readQrPng } from '../node/qr-files';
import { stderrLogger } from './rpc/log';
import { serveAgent, type RunningServer } from './rpc/server';
import { Agent, TOKEN_FILE } from './service';

const USAGE = `Custos recovery agent CLI: npm run agent -- <command> [options]

Agent (every command below takes --data DIR, or CUSTOS_AGENT_DATA):
  init [--name NAME]                          a new data directory (identity, KEK, API token)
  info                                        the agent's fingerprint code and counts
  serve [--listen 127.0.0.1:50051] [--metrics 127.0.0.1:9464] [--rate-limit PER_MIN/BURST]
  custodian add --card FILE --label L --role security-team|independent-custodian|cold-storage
  custodian list | custodian disable FP
  approver add --card FILE | approver list | approver disable FP
  keyshare import --key-id K --node-id N --keydata FILE
  keyshare list | keyshare inspect --key-id K --node-id N | keyshare export --key-id K --node-id N --out FILE
  backup --key-id K --node-id N [--threshold 3 --total 5 --retain 2] --custodians FP,FP,FP --out DIR [--qr] [--envelope-ttl S]
  backup --all --custodians FP,... --out DIR ...   every imported node without a backup set yet
  delivery request --key-id K --node-id N --share-index I [--out FILE]
  delivery confirm --receipt FILE [--receipt FILE...]
  delivery status --key-id K --node-id N [--set-id S] [--share-index I]
  session open --incident ID --key-id K --node-id N --mode mixed|external-only [--ttl 86400] [--set-id S] --out FILE
  session details --session-id S --out FILE   (re)write the file approvers sign
  session approve --session-id S --approval FILE [--approval FILE...]
  session request --session-id S --out FILE
  session submit --session-id S FILE|DIR...   export files, or PNG images of their QR frames
  session complete --session-id S [--peer-keydata FILE] [--drill]
  session show --session-id S | session list [--key-id K --node-id N] | session cancel --session-id S
  status [--key-id K --node-id N]             one node, or every node
  shares --key-id K --node-id N               server-held share records (never their secrets)
  delete soft|rollback --key-id K --node-id N [--set-id S] [--index 1,2]
  delete request --key-id K --node-id N [--set-id S] [--index 1,2] [--ttl S] --out FILE
                                              a hard delete of soft-deleted shares; FILE is what 2 approvers sign
  delete approve --deletion-id D --approval FILE [--approval FILE...]
  delete purge --deletion-id D                destroys the shares (after cooling-off, 2 approvals; zero retention
                                              also needs every receipt and a passed external-only drill of the set)
  delete show --deletion-id D | delete list [--key-id K --node-id N] | delete details --deletion-id D --out FILE
  delete cancel --deletion-id D
  inventory challenge --custodian FP --out FILE [--ttl S]   a signed challenge for one custodian
  inventory submit FILE...                    the custodians' attestations (exit 3 if a share is not proven)
  inventory status [--key-id K --node-id N]   per custodian, or per share of one node (exit 3 if overdue or failed)
  settings show | settings set [--deletion-cooling 7d] [--inventory-max-age 90d] [--challenge-ttl 7d]
  drill record --key-id K --node-id N --mode M --result ok|failed --duration-ms MS [--note TEXT]
  audit verify | audit export --out FILE | audit show [--from SEQ] [--limit N]

Approver, on the approver's own machine (no --data):
  approver keygen --out DIR --name NAME       writes ${APPROVER_KEY_FILE} (0600, secret) and ${APPROVER_CARD_FILE}
  approver sign --key FILE --session FILE --out FILE [--yes]    a recovery session's details
  approver sign --key FILE --deletion FILE --out FILE [--yes]   a deletion's details (delete request --out)

Everywhere: --json (one JSON object on stdout), --debug (stack traces), --quiet (no progress),
--operator NAME (audit log; default the OS user). Fingerprints and session ids may be shortened
to a unique prefix of at least 8 hex digits. Exit status: 0 done, 1 refused, 2 usage, 3 done with refusals.`;

const OPTIONS = {
  data: { type: 'string' },
  json: { type: 'boolean' },
  debug: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
  operator: { type: 'string' },
  name: { type: 'string' },
  listen: { type: 'string' },
  metrics: { type: 'string' },
  'rate-limit': { type: 'string' },
  card: { type: 'string' },
  label: { type: 'string' },
  role: { type: 'string' },
  out: { type: 'string' },
  key: { type: 'string' },
  session: { type: 'string' },
  yes: { type: 'boolean' },
  'key-id': { type: 'string' },
  'node-id': { type: 'string' },
  keydata: { type: 'string' },
  threshold: { type: 'string' },
  total: { type: 'string' },
  retain: { type: 'string' },
  custodians: { type: 'string' },
  qr: { type: 'boolean' },
  all: { type: 'boolean' },
  'envelope-ttl': { type: 'string' },
  receipt: { type: 'string', multiple: true },
  'share-index': { type: 'string' },
  'set-id': { type: 'string' },
  index: { type: 'string' },
  incident: { type: 'string' },
  mode: { type: 'string' },
  ttl: { type: 'string' },
  'session-id': { type: 'string' },
  approval: { type: 'string', multiple: true },
  'peer-keydata': { type: 'string' },
  drill: { type: 'boolean' },
  result: { type: 'string' },
  'duration-ms': { type: 'string' },
  note: { type: 'string' },
  from: { type: 'string' },
  limit: { type: 'string' },
  deletion: { type: 'string' },
  'deletion-id': { type: 'string' },
  custodian: { type: 'string' },
  'deletion-cooling': { type: 'string' },
  'inventory-max-age': { type: 'string' },
  'challenge-ttl': { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'];
type StringOption = { [K in keyof Values]-?: Values[K] extends string | undefined ? K : never }[keyof Values];

/** Where the CLI writes, and (for `serve`) how it is stopped; tests pass their own. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** `serve` stops when this aborts; without it, on SIGINT or SIGTERM. */
  readonly signal?: AbortSignal;
  /** `serve` reports its addresses here once it listens (besides printing them). */
  readonly onListening?: (info: ServeInfo) => void;
}

export interface ServeInfo {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly metricsUrl: string | null;
  readonly tokenFile: string;
}

const processIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
};

interface Outcome {
  /** What --json prints after `"ok": true`. */
  readonly data: Record<string, unknown>;
  /** What a person reads. */
  readonly lines: readonly string[];
  readonly exit?: number;
}

type CliCode = 'USAGE' | 'IO_FAILED' | 'CONFIRMATION_REQUIRED' | 'NOT_FOUND' | 'AMBIGUOUS';

/** The CLI's own refusals (wrong usage, unreadable files); the core's are CustosError / AgentError. */
class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly code: CliCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const usage = (message: string): CliError => new CliError('USAGE', message);

interface Ctx {
  readonly values: Values;
  readonly args: readonly string[];
  readonly io: CliIo;
}

// ───────────────────────────── helpers ─────────────────────────────

function need(values: Values, name: StringOption): string {
  const v = values[name];
  if (v === undefined || v === '') throw usage(`--${name} is required here.`);
  return v;
}

function integer(values: Values, name: StringOption, min: number, max: number): number | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (!/^[0-9]+$/.test(v) || Number(v) < min || Number(v) > max) throw usage(`--${name} is a whole number from ${String(min)} to ${String(max)}; got "${v}".`);
  return Number(v);
}

function dataDir(ctx: Ctx): string {
  const d = ctx.values.data ?? ctx.io.env['CUSTOS_AGENT_DATA'];
  if (d === undefined || d === '') throw usage('--data DIR is required (or set CUSTOS_AGENT_DATA).');
  return resolve(d);
}

async function withAgent<T>(ctx: Ctx, fn: (agent: Agent) => Promise<T> | T): Promise<T> {
  const agent = await Agent.open(dataDir(ctx), ctx.values.operator === undefined ? {} : { operator: ctx.values.operator });
  try {
    return await fn(agent);
  } finally {
    agent.close();
  }
}

const op = (values: Values): { operator?: string } => (values.operator === undefined ? {} : { operator: values.operator });

function readInput(path: string, what: string, max = 4 * 1024 * 1024): Uint8Array {
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new CliError('IO_FAILED', `${path} is not a file.`, { file: path });
    size = st.size;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError('IO_FAILED', `The ${what} file ${path} does not exist or cannot be read.`, { file: path }, { cause: error });
  }
  if (size > max) throw new CliError('IO_FAILED', `${path} is ${String(size)} bytes: too large for a ${what} (at most ${String(max)}).`, { file: path });
  try {
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new CliError('IO_FAILED', `The ${what} file ${path} could not be read.`, { file: path }, { cause: error });
  }
}

/** Writes a new file atomically; never overwrites (CONFLICT) and needs its folder to exist. */
function writeNew(path: string, bytes: Uint8Array, mode: number): string {
  const file = resolve(path);
  if (!exists(dirname(file))) throw new CliError('IO_FAILED', `The folder ${dirname(file)} does not exist.`, { file });
  writeFileAtomic(file, bytes, { mode, noOverwrite: true });
  return file;
}

/** Files named on the command line; a folder stands for its files (sorted, no dot files). */
function expandInputs(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (error) {
      throw new CliError('IO_FAILED', `${p} does not exist or cannot be read.`, { file: p }, { cause: error });
    }
    if (!isDir) {
      out.push(p);
      continue;
    }
    for (const f of readdirSync(p).sort()) {
      const full = join(p, f);
      if (!f.startsWith('.') && statSync(full).isFile()) out.push(full);
    }
  }
  return out;
}

/** A full id, or the one id in `known` that starts with a prefix of at least 8 hex digits. */
function resolveId(given: string, known: readonly string[], what: string, fullLength: number): string {
  const v = given.trim().toLowerCase();
  if (!/^[0-9a-f]+$/.test(v)) throw usage(`A ${what} is hexadecimal; got "${given}".`);
  if (v.length === fullLength) return v;
  if (v.length < 8 || v.length > fullLength) throw usage(`Give the ${what} in full (${String(fullLength)} hex digits) or a prefix of at least 8.`);
  const matches = known.filter((k) => k.startsWith(v));
  if (matches.length === 1 && matches[0] !== undefined) return matches[0];
  if (matches.length === 0) throw new CliError('NOT_FOUND', `No ${what} starts with ${v}.`, { prefix: v });
  throw new CliError('AMBIGUOUS', `${String(matches.length)} ${what}s start with ${v}; give more digits.`, { prefix: v });
}

const custodianFp = (agent: Agent, given: string): string =>
  resolveId(
    given,
    agent.listCustodians().map((c) => c.fingerprint),
    'custodian fingerprint',
    64,
  );

const approverFp = (agent: Agent, given: string): string =>
  resolveId(
    given,
    agent.listApprovers().map((a) => a.fingerprint),
    'approver fingerprint',
    64,
  );

function sessionId(ctx: Ctx, agent: Agent): string {
  return resolveId(
    need(ctx.values, 'session-id'),
    agent.listSessions().map((s) => s.sessionId),
    'session id',
    32,
  );
}

function keyNode(values: Values): { keyId: string; nodeId: string } {
  return { keyId: need(values, 'key-id'), nodeId: need(values, 'node-id') };
}

function mode(values: Values): 'mixed' | 'external-only' {
  const m = need(values, 'mode');
  if (m !== 'mixed' && m !== 'external-only') throw usage('--mode is mixed or external-only.');
  return m;
}

function indexList(value: string | undefined, name: string): number[] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',').map((s) => s.trim());
  if (parts.some((p) => !/^[0-9]{1,3}$/.test(p) || Number(p) < 1 || Number(p) > 255)) throw usage(`--${name} is a comma-separated list of share indexes 1..255.`);
  return parts.map(Number);
}

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');
const short = (hex: string): string => hex.slice(0, 16);
const yesNo = (b: boolean): string => (b ? 'yes' : 'no');

/** Rows as aligned columns (two spaces apart), trailing blanks trimmed. */
function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}

/** "label  value" pairs, indented, labels aligned. */
function pairs(items: readonly (readonly [string, string])[], indent = '  '): string[] {
  const w = Math.max(...items.map(([k]) => k.length));
  return items.map(([k, v]) => `${indent}${k.padEnd(w)}  ${v}`);
}

function progress(ctx: Ctx, text: string): void {
  if (ctx.values.quiet !== true) ctx.io.stderr(`${text}\n`);
}

// ───────────────────────────── commands: agent ─────────────────────────────

async function init(ctx: Ctx): Promise<Outcome> {
  const r = await Agent.init(dataDir(ctx), { ...(ctx.values.name === undefined ? {} : { name: ctx.values.name }), ...op(ctx.values) });
  return {
    data: { ...r },
    lines: [
      `Initialised the agent in ${r.dataDir}.`,
      ...pairs([
        ['fingerprint code', r.code],
        ['agent card', r.cardFile],
        ['API token', `${r.tokenFile} (0600; RPC clients send it as a bearer token)`],
        ['KEK', r.kekId],
      ]),
      'Custodians pin the agent card after comparing its fingerprint code with you over a separate channel.',
    ],
  };
}

async function info(ctx: Ctx): Promise<Outcome> {
  return withAgent(ctx, (a) => {
    const nodes = a.listNodes();
    const data = {
      dataDir: a.dataDir,
      fingerprint: a.fingerprint,
      code: a.code,
      kekId: a.kekId,
      nodes: nodes.length,
      custodians: a.listCustodians().filter((c) => c.enabled).length,
      approvers: a.listApprovers().filter((x) => x.enabled).length,
    };
    return {
      data,
      lines: [
        `Agent in ${a.dataDir}`,
        ...pairs([
          ['fingerprint code', a.code],
          ['fingerprint', a.fingerprint],
          ['KEK', a.kekId],
          ['key shares', String(data.nodes)],
          ['custodians', `${String(data.custodians)} enabled`],
          ['approvers', `${String(data.approvers)} enabled`],
        ]),
      ],
    };
  });
}

function hostPort(text: string, flag: string): { host: string; port: number } {
  const m = /^\[([0-9a-fA-F:]+)\]:([0-9]{1,5})$/.exec(text) ?? /^([^:[\]]+):([0-9]{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[2]);
  if (m?.[1] === undefined || !Number.isInteger(port) || port > 65535) throw usage(`${flag} is HOST:PORT, e.g. 127.0.0.1:50051 or [::1]:50051; got "${text}".`);
  return { host: m[1], port };
}

async function serve(ctx: Ctx): Promise<Outcome> {
  const { values, io } = ctx;
  const listen = hostPort(values.listen ?? '127.0.0.1:50051', '--listen');
  const metricsAt = values.metrics === undefined ? undefined : hostPort(values.metrics, '--metrics');
  if (metricsAt !== undefined && !isLoopback(metricsAt.host)) {
    throw usage(`--metrics listens on loopback only (127.0.0.1 or [::1]): its labels name the agent's keys. Got ${metricsAt.host}.`);
  }
  let rate: { perMinute: number; burst: number } | undefined;
  if (values['rate-limit'] !== undefined) {
    const m = /^([0-9]{1,6})\/([0-9]{1,6})$/.exec(values['rate-limit']);
    if (m === null || Number(m[1]) < 1 || Number(m[2]) < 1) throw usage('--rate-limit is PER_MINUTE/BURST, e.g. 10/5.');
    rate = { perMinute: Number(m[1]), burst: Number(m[2]) };
  }
  const dir = dataDir(ctx);
  const agent = await Agent.open(dir, op(values));
  let rpc: RunningServer | undefined;
  let metricsServer: RunningMetricsServer | undefined;
  try {
    const metrics = metricsAt === undefined ? undefined : new AgentMetrics(agent, { logger: stderrLogger });
    rpc = await serveAgent(agent, {
      host: listen.host,
      port: listen.port,
      ...(metrics === undefined ? {} : { observer: metrics.observer }),
      ...(rate === undefined ? {} : { recoveryRateLimit: rate }),
    });
    if (metrics !== undefined && metricsAt !== undefined) metricsServer = await startMetricsServer(metrics, { ...metricsAt, logger: stderrLogger });
    const served: ServeInfo = { url: rpc.url, host: rpc.host, port: rpc.port, metricsUrl: metricsServer?.url ?? null, tokenFile: join(dir, TOKEN_FILE) };
    if (values.json === true) io.stdout(`${JSON.stringify({ ok: true, listening: served })}\n`);
    else {
      io.stdout(
        [
          `Agent ${agent.code} serving gRPC, gRPC-Web and Connect on ${served.url}`,
          ...pairs([
            ['token', `${served.tokenFile} (authorization: Bearer <token>)`],
            ['metrics', served.metricsUrl ?? 'off (serve --metrics 127.0.0.1:PORT)'],
          ]),
          'Stop with Ctrl-C (SIGINT) or SIGTERM.',
          '',
        ].join('\n'),
      );
    }
    io.onListening?.(served);
    await stopRequested(io);
    progress(ctx, 'Stopping: closing connections…');
  } finally {
    await Promise.all([rpc?.close(), metricsServer?.close()]);
    agent.close();
  }
  return { data: { stopped: true }, lines: ['Stopped.'] };
}

function stopRequested(io: CliIo): Promise<void> {
  return new Promise((resolvePromise) => {
    const { signal } = io;
    if (signal !== undefined) {
      if (signal.aborted) resolvePromise();
      else
        signal.addEventListener(
          'abort',
          () => {
            resolvePromise();
          },
          { once: true },
        );
      return;
    }
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolvePromise();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

// ───────────────────────────── custodians and approvers ─────────────────────────────

async function custodian(ctx: Ctx, sub: string | undefined): Promise<Outcome> {
  const { values } = ctx;
  if (sub === 'add') {
    const card = readInput(need(values, 'card'), 'enrollment card', 4096);
    const label = need(values, 'label');
    const role = need(values, 'role');
    if (!(CUSTODIAN_ROLES as readonly string[]).includes(role)) throw usage(`--role is one of ${CUSTODIAN_ROLES.join(', ')}.`);
    const c = await withAgent(ctx, (a) => a.addCustodian(card, label, role as CustodianRole, op(values)));
    return {
      data: { custodian: c },
      lines: [
        `Registered custodian "${c.label}" (${c.role}); name on the card: "${c.cardName}".`,
        ...pairs([
          ['fingerprint', c.fingerprint],
          ['code', `${c.code}  (compare with the custodian's screen over a separate channel)`],
        ]),
      ],
    };
  }
  if (sub === 'list') {
    const list = await withAgent(ctx, (a) => a.listCustodians());
    return {
      data: { custodians: list },
      lines:
        list.length === 0
          ? ['No custodians registered yet: custodian add --card FILE --label L --role R.']
          : table([['FINGERPRINT', 'ROLE', 'STATE', 'CODE', 'LABEL'], ...list.map((c) => [short(c.fingerprint), c.role, c.enabled ? 'enabled' : 'disabled', c.code, c.label])]),
    };
  }
  if (sub === 'disable') {
    const given = ctx.args[0];
    if (given === undefined) throw usage('custodian disable FINGERPRINT');
    const c = await withAgent(ctx, (a) => a.disableCustodian(custodianFp(a, given), op(values)));
    return { data: { custodian: c }, lines: [`Custodian "${c.label}" (${short(c.fingerprint)}) is disabled: no new shares go to them and their receipts are refused.`] };
  }
  throw usage('custodian add | list | disable FP');
}

async function approver(ctx: Ctx, sub: string | undefined): Promise<Outcome> {
  const { values } = ctx;
  switch (sub) {
    case 'add': {
      const card = readInput(need(values, 'card'), 'approver card', 4096);
      const r = await withAgent(ctx, (a) => a.addApprover(card, op(values)));
      return {
        data: { approver: r },
        lines: [`Registered approver "${r.name}".`, ...pairs([['fingerprint', r.fingerprint], ['code', `${r.code}  (compare with the approver over a separate channel)`]])],
      };
    }
    case 'list': {
      const list = await withAgent(ctx, (a) => a.listApprovers());
      return {
        data: { approvers: list },
        lines:
          list.length === 0
            ? ['No approvers registered yet: approver add --card FILE.']
            : table([['FINGERPRINT', 'STATE', 'CODE', 'NAME'], ...list.map((x) => [short(x.fingerprint), x.enabled ? 'enabled' : 'disabled', x.code, x.name])]),
      };
    }
    case 'disable': {
      const given = ctx.args[0];
      if (given === undefined) throw usage('approver disable FINGERPRINT');
      const r = await withAgent(ctx, (a) => a.disableApprover(approverFp(a, given), op(values)));
      return { data: { approver: r }, lines: [`Approver "${r.name}" (${short(r.fingerprint)}) is disabled: their approvals no longer count.`] };
    }
    case 'keygen': {
      const created = createApproverKey(need(values, 'out'), need(values, 'name'), Math.floor(Date.now() / 1000));
      return {
        data: { name: created.name, fingerprint: created.fingerprint, code: created.code, keyFile: created.keyFile, cardFile: created.cardFile },
        lines: [
          `Approver key for "${created.name}" created.`,
          ...pairs([
            ['secret key', `${created.keyFile} (0600: keep it on this machine, never send it)`],
            ['card', `${created.cardFile} (give this to ops: approver add --card FILE)`],
            ['code', `${created.code}  (read it out to ops when they register the card)`],
          ]),
        ],
      };
    }
    case 'sign':
      return approverSign(ctx);
    default:
      throw usage('approver add | list | disable FP | keygen | sign');
  }
}

function approverSign(ctx: Ctx): Outcome {
  const { values } = ctx;
  if (values.session !== undefined && values.deletion !== undefined) throw usage('Give --session FILE or --deletion FILE, not both.');
  const detailsFile = values.session ?? values.deletion;
  if (detailsFile === undefined || detailsFile === '') throw usage('--session FILE (a recovery session) or --deletion FILE (a deletion) is required here.');
  const subject = readApprovalSubject(readInput(detailsFile, 'details', 4096));
  const out = need(values, 'out');
  const key = readApproverKey(need(values, 'key'));
  try {
    const now = Math.floor(Date.now() / 1000);
    const isSession = subject.kind === 'session';
    const described = isSession ? describeSession(subject.details, now) : describeDeletion(subject.details, now);
    const intro = isSession ? 'Recovery session to approve (compare every line with the incident ticket):' : 'Deletion to approve (compare every line with the change ticket):';
    const header = [intro, ...pairs([...described, ['signing as', `${key.name} (code ${key.code})`]])];
    const summary: Record<string, unknown> =
      subject.kind === 'session'
        ? {
            sessionId: toHex(subject.details.session_id),
            incidentId: subject.details.incident_id,
            keyId: subject.details.key_id,
            nodeId: subject.details.node_id,
            setId: toHex(subject.details.set_id),
            epoch: subject.details.epoch,
            mode: subject.details.mode,
            notAfter: subject.details.not_after,
          }
        : {
            deletionId: toHex(subject.details.deletion_id),
            keyId: subject.details.key_id,
            nodeId: subject.details.node_id,
            setId: toHex(subject.details.set_id),
            epoch: subject.details.epoch,
            shareIndexes: subject.details.share_indexes,
            purpose: subject.details.purpose,
            coolingEndsAt: subject.details.cooling_ends_at,
            notAfter: subject.details.not_after,
          };
    const what = isSession ? 'session' : 'deletion';
    if (values.yes !== true) {
      ctx.io[values.json === true ? 'stderr' : 'stdout'](`${header.join('\n')}\n`);
      throw new CliError('CONFIRMATION_REQUIRED', `Nothing was signed. Review the details above; to approve exactly this ${what}, run again with --yes.`, { [what]: summary });
    }
    const approval = subject.kind === 'session' ? signApproval(key, subject.details, now) : signDeletionApproval(key, subject.details, now);
    const file = writeNew(out, approval, 0o644);
    const next = isSession ? 'session approve --approval FILE' : 'delete approve --approval FILE';
    return {
      data: { approval: file, approver: { name: key.name, fingerprint: key.fingerprint, code: key.code }, [what]: summary },
      lines: [...header, `Signed. Approval written to ${file}; send it to ops (${next}).`],
    };
  } finally {
    key.close();
  }
}

// ───────────────────────────── key shares ─────────────────────────────

async function keyshare(ctx: Ctx, sub: string | undefined): Promise<Outcome> {
  const { values } = ctx;
  switch (sub) {
    case 'import': {
      const { keyId, nodeId } = keyNode(values);
      const bytes = readInput(need(values, 'keydata'), 'keydata', 1024 * 1024);
      const r = await withAgent(ctx, (a) => a.importKeyshare(keyId, nodeId, bytes, op(values)));
      bytes.fill(0);
      const failed = r.selfCheck.filter((c) => !c.ok);
      return {
        data: { imported: r },
        lines: [
          `Imported ${r.keyId} / ${r.nodeId}: ${r.curve}, party ${String(r.partyIndex)} of ${String(r.parties)}, stored encrypted.`,
          ...pairs([
            ['keydata sha256', r.keydataSha256],
            ['self-check', failed.length === 0 ? `${String(r.selfCheck.length)} checks passed` : `FAILED: ${failed.map((c) => c.name).join(', ')}`],
          ]),
          'Next: backup --key-id ... --node-id ... --custodians FP,FP,FP --out DIR',
        ],
      };
    }
    case 'list': {
      const nodes = await withAgent(ctx, (a) => a.listNodes());
      return { data: { nodes }, lines: nodes.length === 0 ? ['No key shares imported yet.'] : nodeTable(nodes) };
    }
    case 'inspect': {
      const { keyId, nodeId } = keyNode(values);
      const r = await withAgent(ctx, (a) => a.inspectNode(keyId, nodeId, op(values)));
      return {
        data: { report: r },
        lines: [
          `${r.keyId} / ${r.nodeId}: ${r.ok ? 'OK' : 'PROBLEM'}`,
          ...pairs([
            ['share file', r.shareFile],
            ['keydata file', r.keydataFile],
            ['consistent', yesNo(r.consistent)],
            ['self-check', r.selfCheck.every((c) => c.ok) ? `${String(r.selfCheck.length)} checks passed` : r.selfCheck.filter((c) => !c.ok).map((c) => c.name).join(', ')],
          ]),
        ],
        exit: r.ok ? 0 : 3,
      };
    }
    case 'export': {
      const { keyId, nodeId } = keyNode(values);
      const out = need(values, 'out');
      const bytes = await withAgent(ctx, (a) => a.exportKeydata(keyId, nodeId, op(values)));
      try {
        const file = writeNew(out, bytes, 0o600);
        return { data: { file, bytes: bytes.length }, lines: [`The keydata of ${keyId} / ${nodeId} was written to ${file} (0600). It is secret: hand it to the node and delete this copy.`] };
      } finally {
        bytes.fill(0);
      }
    }
    default:
      throw usage('keyshare import | list | inspect | export');
  }
}

function nodeTable(nodes: readonly NodeRecord[]): string[] {
  return table([
    ['KEY', 'NODE', 'CURVE', 'PARTY', 'BACKUP', 'IMPORTED'],
    ...nodes.map((n) => [n.keyId, n.nodeId, n.curve, `${String(n.partyIndex)}/${String(n.parties)}`, n.activeSet === undefined ? 'none' : `epoch ${String(n.activeSet.epoch)}`, iso(n.importedAt)]),
  ]);
}

// ───────────────────────────── backup and delivery ─────────────────────────────

function backupLines(r: BackupResult, labels: ReadonlyMap<string, string>): string[] {
  return [
    `Backup set ${r.setId} (epoch ${String(r.epoch)}) of ${r.keyId} / ${r.nodeId}: ${String(r.threshold)} of ${String(r.total)}, the server keeps shares ${r.retainedIndexes.join(', ') || 'none'}.`,
    ...table(
      r.envelopes.map((e) => [`  share ${String(e.shareIndex)}`, labels.get(e.custodian) ?? short(e.custodian), e.file, e.qrFrames.length > 0 ? `+ ${String(e.qrFrames.length)} QR frame(s)` : '']),
    ),
    `  manifest ${r.manifestFile}`,
    ...(r.superseded === undefined ? [] : [`  superseded epoch ${String(r.superseded.epoch)}: ${String(r.superseded.notices.length)} supersede notice(s) written for its custodians`]),
  ];
}

async function backup(ctx: Ctx): Promise<Outcome> {
  const { values } = ctx;
  const params = {
    ...(values.threshold === undefined ? {} : { threshold: integer(values, 'threshold', 1, 255) }),
    ...(values.total === undefined ? {} : { total: integer(values, 'total', 1, 255) }),
    ...(values.retain === undefined ? {} : { retain: integer(values, 'retain', 0, 255) }),
  };
  const ttl = integer(values, 'envelope-ttl', 0, 10 * 365 * 24 * 3600);
  const options = { qr: values.qr === true, ...op(values), ...(ttl === undefined ? {} : { envelopeTtlSeconds: ttl }) };
  const out = need(values, 'out');
  const given = need(values, 'custodians')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (values.all === true && (values['key-id'] !== undefined || values['node-id'] !== undefined)) throw usage('Give either --all or --key-id and --node-id.');
  return withAgent(ctx, async (a) => {
    const fps = given.map((g) => custodianFp(a, g));
    const labels = new Map(a.listCustodians().map((c) => [c.fingerprint, c.label]));
    const targets = values.all === true ? a.listNodes().filter((n) => n.activeSet === undefined) : [keyNode(values)];
    if (targets.length === 0) return { data: { backups: [] }, lines: ['Every imported key share has a backup set already; nothing to do.'] };
    const results: BackupResult[] = [];
    for (const [i, t] of targets.entries()) {
      if (targets.length > 1) progress(ctx, `backup ${String(i + 1)}/${String(targets.length)}: ${t.keyId} / ${t.nodeId}`);
      results.push(await a.backup(t.keyId, t.nodeId, params, fps, out, options));
    }
    const [only] = results;
    if (results.length === 1 && only !== undefined) {
      return { data: { backup: only }, lines: [...backupLines(only, labels), 'Next: hand each envelope to its custodian (delivery request), then record their receipts (delivery confirm).'] };
    }
    return {
      data: { backups: results },
      lines: [...table(results.map((r) => [r.keyId, r.nodeId, `epoch ${String(r.epoch)}`, r.setId])), `${String(results.length)} backup sets written to ${resolve(out)}.`],
    };
  });
}

function statusTable(list: readonly ShareStatus[], labels: ReadonlyMap<string, string>): string[] {
  return table([
    ['SHARE', 'STATUS', 'CUSTODIAN', 'UPDATED', 'REASON'],
    ...list.map((s) => [String(s.shareIndex), s.status, labels.get(s.custodian) ?? short(s.custodian), iso(s.updatedAt), s.reason ?? '']),
  ]);
}

async function delivery(ctx: Ctx, sub: string | undefined): Promise<Outcome> {
  const { values } = ctx;
  if (sub === 'request') {
    const { keyId, nodeId } = keyNode(values);
    const shareIndex = integer(values, 'share-index', 1, 255);
    if (shareIndex === undefined) throw usage('--share-index is required here.');
    const r = await withAgent(ctx, (a) => a.requestShareDelivery({ keyId, nodeId, shareIndex, ...(values['set-id'] === undefined ? {} : { setId: values['set-id'] }) }, op(values)));
    const file = values.out === undefined ? undefined : writeNew(values.out, r.envelope, 0o600);
    return {
      data: { status: r.status, ...(file === undefined ? {} : { file }) },
      lines: [`Share ${String(shareIndex)} of ${keyId} / ${nodeId} is ${r.status.status}${file === undefined ? '' : `; envelope written to ${file}`}.`, ...pairs([['envelope sha256', r.status.envelopeSha256]])],
    };
  }
  if (sub === 'confirm') {
    const files = [...(values.receipt ?? []), ...ctx.args];
    if (files.length === 0) throw usage('delivery confirm --receipt FILE [--receipt FILE...]');
    return withAgent(ctx, async (a) => {
      const confirmed: ShareStatus[] = [];
      const refused: { file: string; code: string; message: string }[] = [];
      for (const [i, f] of expandInputs(files).entries()) {
        if (files.length > 1) progress(ctx, `receipt ${String(i + 1)}: ${f}`);
        try {
          confirmed.push(await a.confirmShareDelivery(readInput(f, 'receipt', 8192), op(values)));
        } catch (error) {
          if (files.length === 1) throw error;
          refused.push({ file: f, ...publicOf(error) });
        }
      }
      const labels = new Map(a.listCustodians().map((c) => [c.fingerprint, c.label]));
      return {
        data: { confirmed, refused },
        lines: [
          ...confirmed.map((s) => `${s.status.padEnd(9)} ${s.keyId} / ${s.nodeId} share ${String(s.shareIndex)} (${labels.get(s.custodian) ?? short(s.custodian)})${s.reason === undefined ? '' : `: ${s.reason}`}`),
          ...refused.map((r) => `refused   ${r.file}: ${r.message} (${r.code})`),
          `${String(confirmed.length)} receipt(s) recorded, ${String(refused.length)} refused.`,
        ],
        exit: refused.length > 0 ? 3 : 0,
      };
    });
  }
  if (sub === 'status') {
    const { keyId, nodeId } = keyNode(values);
    const shareIndex = integer(values, 'share-index', 1, 255);
    return withAgent(ctx, (a) => {
      const list = a.queryShareStatus({ keyId, nodeId, ...(values['set-id'] === undefined ? {} : { setId: values['set-id'] }), ...(shareIndex === undefined ? {} : { shareIndex }) });
      const labels = new Map(a.listCustodians().map((c) => [c.fingerprint, c.label]));
      return { data: { shares: list }, lines: list.length === 0 ? ['This backup set has no external shares.'] : statusTable(list, labels) };
    });
  }
  throw usage('delivery request | confirm | status');
}

function publicOf(error: unknown): { code: string; message: string } {
  if (error instanceof CliError) return { code: error.code, message: error.message };
  const p = toPublicError(error);
  return { code: p.code, message: p.message };
}

// ───────────────────────────── recovery sessions ─────────────────────────────

function sessionLines(s: SessionView): string[] {
  return [
    `Session ${s.sessionId}: ${s.state}`,
    ...pairs([
      ['incident', s.incidentId],
      ['key / node', `${s.keyId} / ${s.nodeId}`],
      ['mode', s.mode],
      ['backup set', `${s.setId} (epoch ${String(s.epoch)}), threshold ${String(s.threshold)}`],
      ['valid until', iso(s.notAfter)],
      ['approvals', s.approvals.length === 0 ? 'none yet (2 needed)' : s.approvals.map((x) => `${x.name} (${short(x.approver)})`).join(', ')],
      ['request', s.requestIssued === true ? 'issued' : 'not yet issued'],
      ['shares in', `${s.received.length === 0 ? 'none' : s.received.join(', ')}${s.serverAvailable !== undefined && s.serverAvailable.length > 0 ? ` + server ${s.serverAvailable.join(', ')}` : ''}`],
      ['missing', s.missing.length === 0 ? 'none' : s.missing.join(', ')],
    ]),
  ];
}

async function session(ctx: Ctx, sub: string | undefined): Promise<Outcome> {
  const { values } = ctx;
  switch (sub) {
    case 'open': {
      const { keyId, nodeId } = keyNode(values);
      const incidentId = need(values, 'incident');
      const m = mode(values);
      const out = need(values, 'out');
      const ttl = integer(values, 'ttl', 1, 10 * 24 * 3600);
      // Checked before the session exists, so a bad path does not leave an orphan session.
      if (exists(resolve(out))) throw new AgentError('CONFLICT', `${resolve(out)} exists already; choose another file for the session details.`);
      if (!exists(dirname(resolve(out)))) throw new CliError('IO_FAILED', `The folder ${dirname(resolve(out))} does not exist.`);
      return withAgent(ctx, async (a) => {
        const opened = await a.openSession(
          { incidentId, keyId, nodeId, mode: m, ...(ttl === undefined ? {} : { ttlSeconds: ttl }), ...(values['set-id'] === undefined ? {} : { setId: values['set-id'] }) },
          op(values),
        );
        const file = writeNew(out, opened.detailsCbor, 0o644);
        return {
          data: { session: opened.session, detailsFile: file },
          lines: [
            ...sessionLines(opened.session),
            `Session details written to ${file}. Two approvers each run, on their own machine:`,
            `  approver sign --key approver.key --session ${file} --out approval.cbor`,
            `then: session approve --session-id ${opened.session.sessionId} --approval FILE (once per approval).`,
          ],
        };
      });
    }
    case 'details': {
      const out = need(values, 'out');
      return withAgent(ctx, (a) => {
        const sid = sessionId(ctx, a);
        const file = writeNew(out, a.sessionDetails(sid).detailsCbor, 0o644);
        return { data: { sessionId: sid, detailsFile: file }, lines: [`Session details written to ${file}.`] };
      });
    }
    case 'approve': {
      const files = [...(values.approval ?? []), ...ctx.args];
      if (files.length === 0) throw usage('session approve --session-id S --approval FILE');
      return withAgent(ctx, async (a) => {
        const sid = sessionId(ctx, a);
        const refused: { file: string; code: string; message: string }[] = [];
        let view = a.getSession(sid);
        for (const f of files) {
          try {
            view = await a.addApproval(sid, readInput(f, 'approval', 4096), op(values));
          } catch (error) {
            if (files.length === 1) throw error;
            refused.push({ file: f, ...publicOf(error) });
          }
        }
        const need2 = Math.max(0, 2 - view.approvals.length);
        return {
          data: { session: view, refused },
          lines: [
            ...refused.map((r) => `refused ${r.file}: ${r.message} (${r.code})`),
            `Session ${short(view.sessionId)}: ${String(view.approvals.length)} approval(s): ${view.approvals.map((x) => x.name).join(', ')}.`,
            need2 > 0 ? `${String(need2)} more approval(s) needed from different approvers.` : `Approved. Next: session request --session-id ${view.sessionId} --out FILE`,
          ],
          exit: refused.length > 0 ? 3 : 0,
        };
      });
    }
    case 'request': {
      const out = need(values, 'out');
      return withAgent(ctx, async (a) => {
        const sid = sessionId(ctx, a);
        const request = await a.recoveryRequest(sid, op(values));
        const file = writeNew(out, request, 0o644);
        return {
          data: { sessionId: sid, requestFile: file, sha256: toHex(fileHash(request)) },
          lines: [`Signed recovery request written to ${file}. Send it to the custodians; each exports their share for it (custos recovery export).`],
        };
      });
    }
    case 'submit':
      return submit(ctx);
    case 'complete': {
      const peer = values['peer-keydata'] === undefined ? undefined : readInput(values['peer-keydata'], 'peer keydata', 1024 * 1024);
      return withAgent(ctx, async (a) => {
        const sid = sessionId(ctx, a);
        progress(ctx, values.drill === true ? 'Drill: combining and checking (nothing is written)…' : 'Combining, regenerating and checking the keydata…');
        const r = await a.completeRecovery(sid, { ...(peer === undefined ? {} : { peerKeydata: peer }), ...(values.drill === true ? { drill: true } : {}) }, op(values));
        return { data: { outcome: r }, lines: outcomeLines(r), exit: r.success ? 0 : 1 };
      });
    }
    case 'show':
      return withAgent(ctx, (a) => {
        const s = a.getSession(sessionId(ctx, a));
        return { data: { session: s }, lines: sessionLines(s) };
      });
    case 'list': {
      const filter = { ...(values['key-id'] === undefined ? {} : { keyId: values['key-id'] }), ...(values['node-id'] === undefined ? {} : { nodeId: values['node-id'] }) };
      const list = await withAgent(ctx, (a) => a.listSessions(filter));
      return {
        data: { sessions: list },
        lines:
          list.length === 0
            ? ['No recovery sessions.']
            : table([
                ['SESSION', 'STATE', 'MODE', 'KEY', 'NODE', 'INCIDENT', 'APPROVALS', 'CREATED'],
                ...list.map((s) => [s.sessionId, s.state, s.mode, s.keyId, s.nodeId, s.incidentId, String(s.approvals.length), s.createdAt === undefined ? '' : iso(s.createdAt)]),
              ]),
      };
    }
    case 'cancel':
      return withAgent(ctx, async (a) => {
        const s = await a.cancelSession(sessionId(ctx, a), op(values));
        return { data: { session: s }, lines: [`Session ${s.sessionId} cancelled; its key was destroyed.`] };
      });
    default:
      throw usage('session open | details | approve | request | submit | complete | show | list | cancel');
  }
}

function outcomeLines(r: RecoveryOutcome): string[] {
  const failed = r.selfCheck.filter((c) => !c.ok);
  return [
    r.success ? (r.written === false ? 'Drill passed: the keydata was rebuilt and checked; nothing was written.' : 'Recovered: the share and keydata were written back and checked.') : 'The recovery did not succeed; nothing was written.',
    ...pairs([
      ['shares used', `${String(r.sharesUsed.server)} server + ${String(r.sharesUsed.external)} external${r.indexesUsed === undefined ? '' : ` (${r.indexesUsed.join(', ')})`}`],
      ['keydata sha256', r.keydataSha256],
      ['self-check', failed.length === 0 ? `${String(r.selfCheck.length)} checks passed` : `FAILED: ${failed.map((c) => c.name).join(', ')}`],
      ...(r.contextSource === undefined ? [] : ([['public context', r.contextSource]] as const)),
      ...(r.durationMs === undefined ? [] : ([['took', `${String(r.durationMs)} ms`]] as const)),
    ]),
    ...(r.skipped ?? []).map((s) => `  set aside share ${String(s.shareIndex)}: ${s.message} (${s.code})`),
  ];
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const isPng = (b: Uint8Array): boolean => PNG_MAGIC.every((x, i) => b[i] === x);
/** docs/protocol.md §7: the UR type of a recovery export, `custos-recovery-export`. */
const EXPORT_UR_TYPES = new Set<string>([UR_TYPES.export]);

/**
 * The exports among the inputs: export files as they are, and PNG images of QR frames grouped into
 * their messages (frames of several exports may be mixed, in any order, with duplicates).
 */
function collectExports(ctx: Ctx, files: readonly string[]): { exports: Uint8Array[]; frames: number } {
  const exports: Uint8Array[] = [];
  const assemblers: { asm: FrameAssembler; first: string }[] = [];
  const pngs: { file: string; bytes: Uint8Array }[] = [];
  for (const f of files) {
    const bytes = readInput(f, 'recovery export', 16 * 1024 * 1024);
    if (isPng(bytes)) pngs.push({ file: f, bytes });
    else exports.push(bytes);
  }
  for (const [i, { file, bytes }] of pngs.entries()) {
    if (pngs.length > 1 && (i % 10 === 0 || i === pngs.length - 1)) progress(ctx, `reading QR frame ${String(i + 1)}/${String(pngs.length)}: ${file}`);
    const named = (error: unknown): never => {
      const p = publicOf(error);
      throw new CustosError(error instanceof CustosError ? error.code : 'MALFORMED', `${file}: ${p.message}`, { details: { file } });
    };
    let text: string;
    try {
      text = readQrPng(bytes);
    } catch (error) {
      return named(error);
    }
    let placed = false;
    for (const slot of assemblers) {
      try {
        slot.asm.add(text);
        placed = true;
        break;
      } catch (error) {
        if (!(error instanceof CustosError && error.code === 'FRAME_MISMATCH')) named(error);
      }
    }
    if (!placed) {
      const asm = new FrameAssembler();
      try {
        asm.add(text);
      } catch (error) {
        named(error);
      }
      if (asm.type === undefined || !EXPORT_UR_TYPES.has(asm.type)) {
        throw new CustosError('WRONG_TYPE', `${file} holds a QR code of a "${asm.type ?? '?'}", not of a recovery export.`, { details: { file } });
      }
      assemblers.push({ asm, first: file });
    }
  }
  for (const { asm, first } of assemblers) {
    try {
      exports.push(asm.result().payload);
    } catch (error) {
      throw new CustosError('INCOMPLETE', `The QR frames of the export that starts with ${first} are incomplete: ${publicOf(error).message} Add its missing PNG frames.`, { details: { file: first } });
    }
  }
  return { exports, frames: pngs.length };
}

async function submit(ctx: Ctx): Promise<Outcome> {
  if (ctx.args.length === 0) throw usage('session submit --session-id S FILE|DIR... (export files or PNG frames)');
  const files = expandInputs(ctx.args);
  const { exports, frames } = collectExports(ctx, files);
  if (exports.length === 0) throw usage('No export files or QR frames were found in the inputs.');
  return withAgent(ctx, async (a) => {
    const sid = sessionId(ctx, a);
    if (exports.length > 1) progress(ctx, `verifying ${String(exports.length)} export(s)…`);
    const r = await a.submitExports(sid, exports, op(ctx.values));
    const s = r.session;
    return {
      data: { accepted: r.accepted, refused: r.refused, session: s, inputs: { files: files.length, qrFrames: frames, exports: exports.length } },
      lines: [
        ...r.accepted.map((i) => `accepted share ${String(i)}`),
        ...r.refused.map((x) => `refused  ${x.shareIndex === undefined ? 'an export' : `share ${String(x.shareIndex)}`}: ${x.message} (${x.code})`),
        `Session ${short(s.sessionId)}: shares in ${s.received.join(', ') || 'none'}${s.serverAvailable !== undefined && s.serverAvailable.length > 0 ? ` + server ${s.serverAvailable.join(', ')}` : ''}; threshold ${String(s.threshold)}.`,
      ],
      exit: r.refused.length > 0 ? 3 : 0,
    };
  });
}

// ───────────────────────────── status, shares, deletion, drills, audit ─────────────────────────────

function statusLines(s: BackupStatus): string[] {
  const external = s.total - (s.retain ?? 0);
  return [
    `${s.keyId} / ${s.nodeId} (${s.curve}): ${s.recoverable ? 'recoverable' : 'NOT RECOVERABLE from confirmed shares'}`,
    ...pairs([
      ['backup set', `${s.setId} (epoch ${String(s.epoch)}), ${String(s.threshold)} of ${String(s.total)}, server keeps ${String(s.retain ?? '?')}`],
      ['server shares', `${String(s.serverSharesHeld)} held`],
      ['external', `${String(external)}: ${String(s.externalDelivered)} delivered, ${String(s.externalConfirmed)} confirmed`],
      ['external only', s.externalOnlyRecoverable === true ? 'recoverable without the server' : 'not enough confirmed shares without the server'],
      ['last drill', s.lastDrill === undefined ? 'never' : `${iso(s.lastDrill.at)} ${s.lastDrill.ok ? 'passed' : 'FAILED'} (${s.lastDrill.mode}, ${String(s.lastDrill.durationMs)} ms)`],
      ...(s.zeroRetention === true
        ? ([['zero retention', `yes: the server holds no share of this node${s.zeroRetentionSince === undefined ? '' : ` (since ${iso(s.zeroRetentionSince)})`}`]] as const)
        : s.serverSharesSoftDeleted !== undefined && s.serverSharesSoftDeleted > 0
          ? ([['soft-deleted', `${String(s.serverSharesSoftDeleted)} server share(s) cooling off (delete rollback keeps them)`]] as const)
          : []),
      ...(s.inventory === undefined
        ? []
        : ([
            [
              'inventory',
              `${String(s.inventory.externalAttested)} external share(s) proven lately, ${s.inventory.recoverable ? 'recoverable from proven shares' : 'NOT recoverable from proven shares'}${s.inventory.externalFailed > 0 ? `, ${String(s.inventory.externalFailed)} missing or badly proven` : ''}`,
            ],
            ['overdue', s.inventory.overdueCustodians.length === 0 ? 'none' : s.inventory.overdueCustodians.map(short).join(', ')],
          ] as const)),
    ]),
  ];
}

async function status(ctx: Ctx): Promise<Outcome> {
  const { values: v } = ctx;
  if (v['key-id'] !== undefined || v['node-id'] !== undefined) {
    const { keyId, nodeId } = keyNode(v);
    const s = await withAgent(ctx, (a) => a.getBackupStatus(keyId, nodeId));
    return { data: { status: s }, lines: statusLines(s) };
  }
  return withAgent(ctx, (a) => {
    const nodes = a.listNodes();
    const all = nodes.map((n) => ({ node: n, status: n.activeSet === undefined ? undefined : a.getBackupStatus(n.keyId, n.nodeId) }));
    return {
      data: { nodes: all.map((x) => ({ keyId: x.node.keyId, nodeId: x.node.nodeId, ...(x.status === undefined ? { backup: false } : { backup: true, status: x.status }) })) },
      lines:
        nodes.length === 0
          ? ['No key shares imported yet.']
          : table([
              ['KEY', 'NODE', 'SET', 'T/N', 'SERVER', 'DELIVERED', 'CONFIRMED', 'RECOVERABLE', 'LAST DRILL', 'ATTESTED', 'OVERDUE'],
              ...all.map(({ node, status: s }) =>
                s === undefined
                  ? [node.keyId, node.nodeId, 'none', '-', '-', '-', '-', 'NO', '-', '-', '-']
                  : [
                      s.keyId,
                      s.nodeId,
                      `e${String(s.epoch)}`,
                      `${String(s.threshold)}/${String(s.total)}`,
                      String(s.serverSharesHeld),
                      String(s.externalDelivered),
                      String(s.externalConfirmed),
                      s.recoverable ? 'yes' : 'NO',
                      s.lastDrill === undefined ? 'never' : `${iso(s.lastDrill.at)} ${s.lastDrill.ok ? 'ok' : 'FAILED'}`,
                      s.inventory === undefined ? '-' : String(s.inventory.externalAttested),
                      s.inventory === undefined ? '-' : String(s.inventory.overdueCustodians.length),
                    ],
              ),
            ]),
    };
  });
}

function shareTable(list: readonly ServerShareRecord[]): string[] {
  return table([
    ['SET', 'EPOCH', 'SHARE', 'STATE', 'SET STATE', 'CREATED', 'SOFT-DELETED'],
    ...list.map((s) => [short(s.setId), String(s.epoch), String(s.shareIndex), s.state, s.setState ?? '', iso(s.createdAt), s.softDeletedAt === undefined ? '' : iso(s.softDeletedAt)]),
  ]);
}

async function shares(ctx: Ctx): Promise<Outcome> {
  const { keyId, nodeId } = keyNode(ctx.values);
  const list = await withAgent(ctx, (a) => a.listBackupShares(keyId, nodeId));
  return { data: { shares: list }, lines: list.length === 0 ? ['This node has no server-held shares.'] : shareTable(list) };
}

function deletionLines(d: DeletionView): string[] {
  return [
    `Deletion ${d.deletionId}: ${d.state}`,
    ...pairs([
      ['key / node', `${d.keyId} / ${d.nodeId}`],
      ['backup set', `${d.setId} (epoch ${String(d.epoch)})`],
      ['shares', d.shareIndexes.join(', ')],
      ['purpose', d.purpose],
      ['not before', `${iso(d.coolingEndsAt)} (end of the cooling-off period)`],
      ['valid until', iso(d.notAfter)],
      ['approvals', d.approvals.length === 0 ? 'none yet (2 needed)' : d.approvals.map((x) => `${x.name} (${short(x.approver)})`).join(', ')],
      ['requested by', `${d.operator} at ${iso(d.createdAt)}`],
    ]),
    ...d.blockers.map((b) => `  waiting: ${b.message} (${b.code})`),
  ];
}

function deletionId(ctx: Ctx, agent: Agent): string {
  return resolveId(
    need(ctx.values, 'deletion-id'),
    agent.listDeletions().map((d) => d.deletionId),
    'deletion id',
    32,
  );
}

async function deletion(ctx: Ctx, sub: string | undefined): Promise<Outcome> {
  const { values: v } = ctx;
  switch (sub) {
    case 'soft':
    case 'rollback': {
      const { keyId, nodeId } = keyNode(v);
      const indexes = indexList(v.index, 'index');
      const sel = { keyId, nodeId, ...(v['set-id'] === undefined ? {} : { setId: v['set-id'] }), ...(indexes === undefined ? {} : { indexes }) };
      const list = await withAgent(ctx, (a) => (sub === 'soft' ? a.softDeleteServerShares(sel, op(v)) : a.rollbackServerShares(sel, op(v))));
      const what = sub === 'soft' ? 'soft-deleted (they can be rolled back during the cooling-off period; next: delete request)' : 'restored';
      return { data: { shares: list }, lines: [`${String(list.length)} server share(s) of ${keyId} / ${nodeId} ${what}.`, ...shareTable(list)] };
    }
    case 'request': {
      const { keyId, nodeId } = keyNode(v);
      const indexes = indexList(v.index, 'index');
      const out = need(v, 'out');
      const ttl = integer(v, 'ttl', 1, 365 * 24 * 3600);
      if (exists(resolve(out))) throw new AgentError('CONFLICT', `${resolve(out)} exists already; choose another file for the deletion details.`);
      if (!exists(dirname(resolve(out)))) throw new CliError('IO_FAILED', `The folder ${dirname(resolve(out))} does not exist.`);
      return withAgent(ctx, async (a) => {
        const r = await a.requestDeletion(
          { keyId, nodeId, ...(v['set-id'] === undefined ? {} : { setId: v['set-id'] }), ...(indexes === undefined ? {} : { indexes }) },
          { ...op(v), ...(ttl === undefined ? {} : { ttlSeconds: ttl }) },
        );
        const file = writeNew(out, r.detailsCbor, 0o644);
        return {
          data: { deletion: r.deletion, detailsFile: file },
          lines: [
            ...deletionLines(r.deletion),
            `Deletion details written to ${file}. Two approvers each run, on their own machine:`,
            `  approver sign --key approver.key --deletion ${file} --out approval.cbor`,
            `then: delete approve --deletion-id ${r.deletion.deletionId} --approval FILE, and after the cooling-off period: delete purge --deletion-id ${r.deletion.deletionId}`,
          ],
        };
      });
    }
    case 'details': {
      const out = need(v, 'out');
      return withAgent(ctx, (a) => {
        const did = deletionId(ctx, a);
        const file = writeNew(out, a.deletionDetails(did).detailsCbor, 0o644);
        return { data: { deletionId: did, detailsFile: file }, lines: [`Deletion details written to ${file}.`] };
      });
    }
    case 'approve': {
      const files = [...(v.approval ?? []), ...ctx.args];
      if (files.length === 0) throw usage('delete approve --deletion-id D --approval FILE');
      return withAgent(ctx, async (a) => {
        const did = deletionId(ctx, a);
        const refused: { file: string; code: string; message: string }[] = [];
        let view = a.getDeletion(did);
        for (const f of files) {
          try {
            view = await a.approveDeletion(did, readInput(f, 'deletion approval', 4096), op(v));
          } catch (error) {
            if (files.length === 1) throw error;
            refused.push({ file: f, ...publicOf(error) });
          }
        }
        return {
          data: { deletion: view, refused },
          lines: [...refused.map((r) => `refused ${r.file}: ${r.message} (${r.code})`), ...deletionLines(view)],
          exit: refused.length > 0 ? 3 : 0,
        };
      });
    }
    case 'purge':
      return withAgent(ctx, async (a) => {
        const r = await a.purgeServerShares(deletionId(ctx, a), op(v));
        return {
          data: { deletion: r.deletion, shares: r.shares, zeroRetention: r.zeroRetention },
          lines: [
            `${String(r.shares.length)} server share(s) of ${r.deletion.keyId} / ${r.deletion.nodeId} destroyed (approved by ${r.deletion.approvals.map((x) => x.name).join(' and ')}).`,
            ...shareTable(r.shares),
            ...(r.zeroRetention ? ['Zero retention: the server holds no share of this node any more; only its custodians can recover it.'] : []),
          ],
        };
      });
    case 'show':
      return withAgent(ctx, (a) => {
        const d = a.getDeletion(deletionId(ctx, a));
        return { data: { deletion: d }, lines: deletionLines(d) };
      });
    case 'list': {
      const filter = { ...(v['key-id'] === undefined ? {} : { keyId: v['key-id'] }), ...(v['node-id'] === undefined ? {} : { nodeId: v['node-id'] }) };
      const list = await withAgent(ctx, (a) => a.listDeletions(filter));
      return {
        data: { deletions: list },
        lines:
          list.length === 0
            ? ['No deletions.']
            : table([
                ['DELETION', 'STATE', 'KEY', 'NODE', 'EPOCH', 'SHARES', 'PURPOSE', 'APPROVALS', 'NOT BEFORE'],
                ...list.map((d) => [d.deletionId, d.state, d.keyId, d.nodeId, String(d.epoch), d.shareIndexes.join(','), d.purpose, String(d.approvals.length), iso(d.coolingEndsAt)]),
              ]),
      };
    }
    case 'cancel':
      return withAgent(ctx, async (a) => {
        const d = await a.cancelDeletion(deletionId(ctx, a), op(v));
        return { data: { deletion: d }, lines: [`Deletion ${d.deletionId} cancelled; its shares stay soft-deleted (delete rollback restores them).`] };
      });
    default:
      throw usage('delete soft | rollback | request | approve | purge | show | list | details | cancel');
  }
}

// ───────────────────────────── inventory and settings ─────────────────────────────

function inventoryLines(s: InventoryStatus): string[] {
  return [
    `${s.keyId} / ${s.nodeId} (epoch ${String(s.epoch)}): ${s.recoverable ? 'recoverable from proven shares' : 'NOT recoverable from proven shares'}`,
    ...pairs([
      ['server shares', `${String(s.serverSharesHeld)} held`],
      ['external', `${String(s.externalDelivered)} delivered, ${String(s.externalConfirmed)} confirmed, ${String(s.externalAttested)} proven within ${String(Math.round(s.maxAgeSeconds / 86400))} days`],
      ['overdue', s.overdueCustodians.length === 0 ? 'none' : s.overdueCustodians.map((o) => `${o.label} (${o.reason}, since ${iso(o.since)})`).join('; ')],
    ]),
    ...table([
      ['SHARE', 'CUSTODIAN', 'DELIVERY', 'LAST PROVEN', 'LAST RESULT', 'STATE'],
      ...s.shares.map((x) => [
        String(x.shareIndex),
        x.label,
        x.delivery,
        x.lastProvenAt === undefined ? 'never' : iso(x.lastProvenAt),
        x.lastResult ?? '-',
        x.attested ? 'attested' : (x.overdue ?? (x.lastResult === 'missing' || x.lastResult === 'bad-proof' ? 'FAILED' : 'not proven')),
      ]),
    ]).map((l) => `  ${l}`),
  ];
}

async function inventory(ctx: Ctx, sub: string | undefined): Promise<Outcome> {
  const { values: v } = ctx;
  switch (sub) {
    case 'challenge': {
      const out = need(v, 'out');
      const ttl = integer(v, 'ttl', 1, 365 * 24 * 3600);
      if (exists(resolve(out))) throw new AgentError('CONFLICT', `${resolve(out)} exists already; choose another file for the challenge.`);
      if (!exists(dirname(resolve(out)))) throw new CliError('IO_FAILED', `The folder ${dirname(resolve(out))} does not exist.`);
      return withAgent(ctx, async (a) => {
        const fp = custodianFp(a, need(v, 'custodian'));
        const c = await a.issueInventoryChallenge(fp, { ...op(v), ...(ttl === undefined ? {} : { ttlSeconds: ttl }) });
        const file = writeNew(out, c.challenge, 0o644);
        const { challenge: _bytes, ...rest } = c;
        const label = a.listCustodians().find((x) => x.fingerprint === fp)?.label ?? short(fp);
        return {
          data: { challenge: { ...rest, file } },
          lines: [
            `Inventory challenge ${c.challengeId} for ${label}: ${String(c.items.length)} share(s), answer by ${iso(c.notAfter)}.`,
            `Written to ${file}. The custodian answers it (custodian app or CLI); then: inventory submit ATTESTATION_FILE`,
          ],
        };
      });
    }
    case 'submit': {
      if (ctx.args.length === 0) throw usage('inventory submit FILE|DIR...');
      const files = expandInputs(ctx.args);
      return withAgent(ctx, async (a) => {
        const results: Awaited<ReturnType<Agent['submitInventoryAttestation']>>[] = [];
        const refused: { file: string; code: string; message: string }[] = [];
        for (const f of files) {
          try {
            results.push(await a.submitInventoryAttestation(readInput(f, 'inventory attestation', 1024 * 1024), op(v)));
          } catch (error) {
            if (files.length === 1) throw error;
            refused.push({ file: f, ...publicOf(error) });
          }
        }
        const labels = new Map(a.listCustodians().map((c) => [c.fingerprint, c.label]));
        const failed = results.reduce((n, r) => n + r.missing + r.badProof + r.notAnswered, 0);
        return {
          data: { attestations: results, refused },
          lines: [
            ...results.map(
              (r) =>
                `${labels.get(r.custodian) ?? short(r.custodian)}: ${String(r.proven)} proven, ${String(r.missing)} missing, ${String(r.badProof)} bad proof, ${String(r.notAnswered)} not answered (challenge ${short(r.challengeId)})`,
            ),
            ...results.flatMap((r) => r.items.filter((i) => i.result !== 'proven').map((i) => `  ${i.result.padEnd(12)} ${i.keyId} / ${i.nodeId} share ${String(i.shareIndex)} (epoch ${String(i.epoch)})`)),
            ...refused.map((r) => `refused ${r.file}: ${r.message} (${r.code})`),
          ],
          exit: refused.length > 0 || failed > 0 ? 3 : 0,
        };
      });
    }
    case 'status': {
      if (v['key-id'] !== undefined || v['node-id'] !== undefined) {
        const { keyId, nodeId } = keyNode(v);
        const s = await withAgent(ctx, (a) => a.inventoryStatus(keyId, nodeId));
        return { data: { inventory: s }, lines: inventoryLines(s), exit: s.overdueCustodians.length > 0 || s.externalFailed > 0 ? 3 : 0 };
      }
      return withAgent(ctx, (a) => {
        const custodians = a.inventoryCustodians();
        const nodes = a
          .listNodes()
          .filter((n) => n.activeSet !== undefined)
          .map((n) => a.inventoryStatus(n.keyId, n.nodeId));
        const overdue = custodians.filter((c) => c.overdue !== undefined).length;
        return {
          data: { custodians, nodes },
          lines: [
            ...table([
              ['CUSTODIAN', 'LABEL', 'SHARES', 'ATTESTED', 'LAST CHALLENGE', 'ANSWERED', 'LAST PROVEN', 'OVERDUE'],
              ...custodians.map((c) => [
                short(c.custodian),
                c.label,
                String(c.sharesExpected),
                String(c.sharesAttested),
                c.lastChallenge === undefined ? 'never' : iso(c.lastChallenge.createdAt),
                c.lastChallenge === undefined ? '-' : c.lastChallenge.answeredAt === undefined ? `no (by ${iso(c.lastChallenge.notAfter)})` : iso(c.lastChallenge.answeredAt),
                c.lastProvenAt === undefined ? 'never' : iso(c.lastProvenAt),
                c.overdue ?? '-',
              ]),
            ]),
            `${String(nodes.filter((n) => n.recoverable).length)} of ${String(nodes.length)} backed-up node(s) recoverable from proven shares; ${String(overdue)} custodian(s) overdue.`,
          ],
          exit: overdue > 0 ? 3 : 0,
        };
      });
    }
    default:
      throw usage('inventory challenge --custodian FP --out FILE | submit FILE... | status [--key-id K --node-id N]');
  }
}

/** "7d", "36h", "90m", "3600s" or plain seconds, to seconds. */
function duration(values: Values, name: StringOption): number | undefined {
  const text = values[name];
  if (text === undefined) return undefined;
  const m = /^([0-9]{1,9})([smhd]?)$/.exec(text.trim());
  if (m === null) throw usage(`--${name} is a duration such as 7d, 36h, 90m or 3600s; got "${text}".`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}

function settingsLines(s: AgentSettings): string[] {
  const days = (x: number): string => (x % 86400 === 0 ? `${String(x / 86400)} day(s)` : x % 3600 === 0 ? `${String(x / 3600)} hour(s)` : `${String(x)} s`);
  return pairs([
    ['deletion cooling-off', days(s.deletionCoolingSeconds)],
    ['inventory max age', days(s.inventoryMaxAgeSeconds)],
    ['challenge lifetime', days(s.inventoryChallengeTtlSeconds)],
  ]);
}

async function settings(ctx: Ctx, sub: string | undefined): Promise<Outcome> {
  const { values: v } = ctx;
  if (sub === 'show') {
    const s = await withAgent(ctx, (a) => a.getSettings());
    return { data: { settings: s }, lines: ['Settings:', ...settingsLines(s)] };
  }
  if (sub === 'set') {
    const cooling = duration(v, 'deletion-cooling');
    const maxAge = duration(v, 'inventory-max-age');
    const ttl = duration(v, 'challenge-ttl');
    if (cooling === undefined && maxAge === undefined && ttl === undefined) throw usage('settings set [--deletion-cooling 7d] [--inventory-max-age 90d] [--challenge-ttl 7d]');
    const s = await withAgent(ctx, (a) =>
      a.updateSettings(
        {
          ...(cooling === undefined ? {} : { deletionCoolingSeconds: cooling }),
          ...(maxAge === undefined ? {} : { inventoryMaxAgeSeconds: maxAge }),
          ...(ttl === undefined ? {} : { inventoryChallengeTtlSeconds: ttl }),
        },
        op(v),
      ),
    );
    return { data: { settings: s }, lines: ['Settings changed (audited):', ...settingsLines(s)] };
  }
  throw usage('settings show | set [--deletion-cooling 7d] [--inventory-max-age 90d] [--challenge-ttl 7d]');
}

async function drill(ctx: Ctx, sub: string | undefined): Promise<Outcome> {
  const { values: v } = ctx;
  if (sub !== 'record') throw usage('drill record --key-id K --node-id N --mode M --result ok|failed --duration-ms MS [--note TEXT]');
  const { keyId, nodeId } = keyNode(v);
  const result = need(v, 'result');
  if (result !== 'ok' && result !== 'failed') throw usage('--result is ok or failed.');
  const durationMs = integer(v, 'duration-ms', 0, Number.MAX_SAFE_INTEGER);
  if (durationMs === undefined) throw usage('--duration-ms is required here.');
  const r = await withAgent(ctx, (a) =>
    a.recordDrill(
      {
        keyId,
        nodeId,
        mode: mode(v),
        ok: result === 'ok',
        durationMs,
        ...(v['set-id'] === undefined ? {} : { setId: v['set-id'] }),
        ...(v['session-id'] === undefined ? {} : { sessionId: v['session-id'] }),
        ...(v.note === undefined ? {} : { note: v.note }),
      },
      op(v),
    ),
  );
  return { data: { drill: r }, lines: [`Drill of ${keyId} / ${nodeId} recorded: ${r.ok ? 'passed' : 'failed'}, ${r.mode}, ${String(r.durationMs)} ms, at ${iso(r.at)}.`] };
}

async function audit(ctx: Ctx, sub: string | undefined): Promise<Outcome> {
  const { values: v } = ctx;
  switch (sub) {
    case 'verify':
      return withAgent(ctx, (a) => {
        const r = a.verifyAudit();
        return {
          data: { verification: r },
          lines: [r.ok ? `The audit log verifies: ${String(r.entries)} entries, head ${r.headHash}.` : `The audit log does NOT verify: ${r.firstBad?.message ?? 'unknown problem'} (entry ${String(r.firstBad?.seq ?? '?')}, ${r.firstBad?.problem ?? '?'}).`],
          exit: r.ok ? 0 : 3,
        };
      });
    case 'export': {
      const out = need(v, 'out');
      return withAgent(ctx, (a) => {
        const text = a.exportAudit();
        const file = writeNew(out, new TextEncoder().encode(text), 0o600);
        const count = text === '' ? 0 : text.split('\n').length - 1;
        return { data: { file, entries: count }, lines: [`${String(count)} audit entries written to ${file} (JSON lines, hash-chained).`] };
      });
    }
    case 'show': {
      const from = integer(v, 'from', 1, Number.MAX_SAFE_INTEGER) ?? 1;
      const limit = integer(v, 'limit', 1, 100_000) ?? 50;
      return withAgent(ctx, (a) => {
        const entries = a.auditEntries({ fromSeq: from, limit }).map((r) => r.entry);
        return {
          data: { entries },
          lines: table(
            entries.map((e) => [
              String(e.seq),
              e.time.replace(/\.\d+Z$/, 'Z'),
              `${e.event}/${e.action}`,
              e.result,
              [e.key_id, e.node_id].filter((x) => x !== undefined).join('/'),
              e.share_index === undefined ? '' : `share ${String(e.share_index)}`,
              e.operator ?? '',
              e.reason ?? e.target ?? '',
            ]),
          ),
        };
      });
    }
    default:
      throw usage('audit verify | export --out FILE | show [--from SEQ] [--limit N]');
  }
}

// ───────────────────────────── dispatch ─────────────────────────────

async function run(ctx: Ctx, command: string | undefined, sub: string | undefined): Promise<Outcome> {
  switch (command) {
    case 'init':
      return init(ctx);
    case 'info':
      return info(ctx);
    case 'serve':
      return serve(ctx);
    case 'custodian':
      return custodian(ctx, sub);
    case 'approver':
      return approver(ctx, sub);
    case 'keyshare':
      return keyshare(ctx, sub);
    case 'backup':
      return backup(ctx);
    case 'delivery':
      return delivery(ctx, sub);
    case 'session':
      return session(ctx, sub);
    case 'status':
      return status(ctx);
    case 'shares':
      return shares(ctx);
    case 'delete':
      return deletion(ctx, sub);
    case 'inventory':
      return inventory(ctx, sub);
    case 'settings':
      return settings(ctx, sub);
    case 'drill':
      return drill(ctx, sub);
    case 'audit':
      return audit(ctx, sub);
    default:
      throw usage(command === undefined ? 'Name a command.' : `Unknown command "${command}".`);
  }
}

/** Commands whose second word is a subcommand (the rest are positional arguments). */
const WITH_SUB = new Set(['custodian', 'approver', 'keyshare', 'delivery', 'session', 'delete', 'inventory', 'settings', 'drill', 'audit']);

/** JSON on one line; byte arrays (never expected in output) as hex rather than "{0:…}". */
function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? toHex(v) : v));
}

/** The error as code, sentence and details, for a person and for --json. */
function describeError(error: unknown): { code: string; message: string; details: Record<string, unknown>; known: boolean } {
  if (error instanceof CliError) return { code: error.code, message: error.message, details: error.details, known: true };
  if (isCodedError(error)) return { code: error.code, message: error.message, details: { ...error.details }, known: true };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message: `An unexpected failure: ${message}`, details: {}, known: false };
}

export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  // node:crypto's Ed25519 (OpenSSL) with exactly @noble/ed25519's accept set: 12–17 % of a recovery
  // is signature checking (bench/agent.ts). The module is plain Node, shared with the custodian app.
  installNodeVerifier();
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    io.stderr(`error: ${error instanceof Error ? error.message : String(error)} (USAGE)\nRun with --help for the commands.\n`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  if (v.help === true || positionals.length === 0 || (positionals.length === 1 && positionals[0] === 'help')) {
    io.stdout(`${USAGE}\n`);
    return positionals.length === 0 && v.help !== true ? 2 : 0;
  }
  const [command, ...rest] = positionals;
  const sub = command !== undefined && WITH_SUB.has(command) ? rest[0] : undefined;
  const args = command !== undefined && WITH_SUB.has(command) ? rest.slice(1) : rest;
  const ctx: Ctx = { values: v, args, io };
  try {
    const outcome = await run(ctx, command, sub);
    if (v.json === true) io.stdout(`${toJson({ ok: true, ...outcome.data })}\n`);
    else io.stdout(outcome.lines.map((l) => `${l}\n`).join(''));
    return outcome.exit ?? 0;
  } catch (error) {
    const e = describeError(error);
    io.stderr(`error: ${e.message} (${e.code})\n`);
    if (!e.known && v.debug !== true) io.stderr('Run again with --debug to see where it failed.\n');
    if (v.debug === true && error instanceof Error && error.stack !== undefined) io.stderr(`${error.stack}\n`);
    if (v.json === true) io.stdout(`${toJson({ ok: false, error: { code: e.code, message: e.message, details: e.details } })}\n`);
    return e.code === 'USAGE' ? 2 : 1;
  }
}

const invokedDirectly = process.argv[1] !== undefined && /agent[\\/]cli\.[cm]?[jt]s$/.test(process.argv[1]);
if (invokedDirectly) {
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
}
