/**
 * What every agent command group (agent/<capability>/cli*.ts) shares: the agent's global options,
 * the typed command factory, opening the data directory for one command, and the small parsers of
 * option values (ids by unique prefix, key/node pairs, durations, share index lists).
 */
import { dirname, resolve } from 'node:path';
import { CliError, usage } from '../../node/cli/errors';
import { aOrAn } from '../../node/cli/format';
import { COMMON_OPTIONS, commandsFor, type CliIo, type Ctx } from '../../node/cli/runner';
import { AgentError, toPublicError } from '../errors';
import { existsSync as exists, writeFileAtomicSync } from '../../node/fs-atomic';
import { Agent } from '../service';

/** Options of every agent command (the agent's data directory and the operator named in the audit log). */
export const AGENT_GLOBALS = {
  ...COMMON_OPTIONS,
  data: { type: 'string' },
  operator: { type: 'string' },
} as const;

export interface ServeInfo {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly metricsUrl: string | null;
  readonly tokenFile: string;
}

/** Where the agent CLI writes, and (for `serve`) how it is stopped; tests pass their own. */
export interface AgentCliIo extends CliIo {
  /** `serve` reports its addresses here once it listens (besides printing them). */
  readonly onListening?: (info: ServeInfo) => void;
}

/** `command(options, { name, usage, summary, run })`: one agent command, `ctx.values` typed. */
export const command = commandsFor<typeof AGENT_GLOBALS, AgentCliIo>(AGENT_GLOBALS);

type Vals = Readonly<Record<string, unknown>>;
type StringOption<V> = { [K in keyof V]-?: V[K] extends string | undefined ? K : never }[keyof V] & string;
type AgentCtx = Ctx<{ readonly data?: string | undefined; readonly operator?: string | undefined }, AgentCliIo>;

export function need<V extends Vals>(values: V, name: StringOption<V>): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw usage(`--${name} is required here.`);
  return v;
}

export function integer<V extends Vals>(values: V, name: StringOption<V>, min: number, max: number): number | undefined {
  const v = values[name];
  if (typeof v !== 'string') return undefined;
  if (!/^[0-9]+$/.test(v) || Number(v) < min || Number(v) > max) throw usage(`--${name} is a whole number from ${String(min)} to ${String(max)}; got "${v}".`);
  return Number(v);
}

/** "7d", "36h", "90m", "3600s" or plain seconds, to seconds. */
export function duration<V extends Vals>(values: V, name: StringOption<V>): number | undefined {
  const text = values[name];
  if (typeof text !== 'string') return undefined;
  const m = /^([0-9]{1,9})([smhd]?)$/.exec(text.trim());
  if (m === null) throw usage(`--${name} is a duration such as 7d, 36h, 90m or 3600s; got "${text}".`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}

export function dataDir(ctx: AgentCtx): string {
  const d = ctx.values.data ?? ctx.io.env['CUSTOS_AGENT_DATA'];
  if (d === undefined || d === '') throw usage('--data DIR is required (or set CUSTOS_AGENT_DATA).');
  return resolve(d);
}

/** The audit log's operator: --operator, else the agent's default (the OS user). */
export const op = (values: { readonly operator?: string | undefined }): { operator?: string } => (values.operator === undefined ? {} : { operator: values.operator });

/** Opens the data directory for one command and closes it after. */
export async function withAgent<T>(ctx: AgentCtx, fn: (agent: Agent) => Promise<T> | T): Promise<T> {
  const agent = await Agent.open(dataDir(ctx), op(ctx.values));
  try {
    return await fn(agent);
  } finally {
    agent.close();
  }
}

/** Writes a new file atomically; never overwrites (CONFLICT) and needs its folder to exist. */
export function writeNew(path: string, bytes: Uint8Array, mode: number): string {
  const file = resolve(path);
  if (!exists(dirname(file))) throw new CliError('IO_FAILED', `The folder ${dirname(file)} does not exist.`, { details: { file } });
  writeFileAtomicSync(file, bytes, { mode, noOverwrite: true });
  return file;
}

/** Refuses early, before anything is created, an output file that exists already or whose folder does not. */
export function checkNewFile(path: string, what: string): void {
  const file = resolve(path);
  if (exists(file)) throw new AgentError('CONFLICT', `${file} exists already; choose another file for the ${what}.`);
  if (!exists(dirname(file))) throw new CliError('IO_FAILED', `The folder ${dirname(file)} does not exist.`);
}

/** A full id, or the one id in `known` that starts with a prefix of at least 8 hex digits. */
export function resolveId(given: string, known: readonly string[], what: string, fullLength: number): string {
  const v = given.trim().toLowerCase();
  const named = aOrAn(what);
  if (!/^[0-9a-f]+$/.test(v)) throw usage(`${named.charAt(0).toUpperCase()}${named.slice(1)} is hexadecimal; got "${given}".`);
  if (v.length === fullLength) return v;
  if (v.length < 8 || v.length > fullLength) throw usage(`Give the ${what} in full (${String(fullLength)} hex digits) or a prefix of at least 8.`);
  const matches = known.filter((k) => k.startsWith(v));
  if (matches.length === 1 && matches[0] !== undefined) return matches[0];
  if (matches.length === 0) throw new CliError('NOT_FOUND', `No ${what} starts with ${v}.`, { details: { prefix: v } });
  throw new CliError('AMBIGUOUS', `${String(matches.length)} ${what}s start with ${v}; give more digits.`, { details: { prefix: v } });
}

export const custodianFp = (agent: Agent, given: string): string =>
  resolveId(
    given,
    agent.listCustodians().map((c) => c.fingerprint),
    'custodian fingerprint',
    64,
  );

export function keyNode(values: { readonly 'key-id'?: string | undefined; readonly 'node-id'?: string | undefined }): { keyId: string; nodeId: string } {
  return { keyId: need(values, 'key-id'), nodeId: need(values, 'node-id') };
}

export function mode(values: { readonly mode?: string | undefined }): 'mixed' | 'external-only' {
  const m = need(values, 'mode');
  if (m !== 'mixed' && m !== 'external-only') throw usage('--mode is mixed or external-only.');
  return m;
}

export function indexList(value: string | undefined, name: string): number[] | undefined {
  if (value === undefined) return undefined;
  const parts = value.split(',').map((s) => s.trim());
  if (parts.some((p) => !/^[0-9]{1,3}$/.test(p) || Number(p) < 1 || Number(p) > 255)) throw usage(`--${name} is a comma-separated list of share indexes 1..255.`);
  return parts.map(Number);
}

/** A refused item of a batch (receipts, approvals, attestations), for the lines and the JSON. */
export function publicOf(error: unknown): { code: string; message: string } {
  if (error instanceof CliError) return { code: error.code, message: error.message };
  const p = toPublicError(error);
  return { code: p.code, message: p.message };
}

export const short = (hex: string): string => hex.slice(0, 16);
export const yesNo = (b: boolean): string => (b ? 'yes' : 'no');
