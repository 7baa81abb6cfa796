/**
 * Which key-encryption key a data directory uses, recorded in `<data>/kek.json` (mode 0600) so
 * `open` finds the same one `init` chose (issue 9 §1, §1b "a copy of the data directory"):
 *
 *   { "version": 1,
 *     "current": { "provider": "file", "path": "/etc/custos/agent.kek", "id": "local-file:…" }
 *              | { "provider": "pkcs11", "module": "/usr/lib/softhsm/libsofthsm2.so",
 *                  "tokenLabel": "custos", "keyLabel": "custos-kek-1", "pinFile"?: "/…", "id": "pkcs11:…" },
 *     "retired": [ { "id": "…", "provider": "file", "retiredAt": 1767000000000 } ] }
 *
 * Nothing in it is secret (no key, no PIN), but it names native code the agent loads, so it is held
 * to the same owner-only rule as the key files. Its `id` must match what the provider reports when
 * opened: a key file or HSM key swapped behind the agent's back is refused before any file is read.
 * Files sealed under a retired id are refused with KEK_RETIRED (a copy restored from before a
 * rotation): the rotation's point is that the old key no longer counts.
 *
 * The file KEK lives OUTSIDE the data directory (default `<data-dir>.kek.key`, beside it; a path
 * inside the directory is refused), so a copy of the directory alone opens nothing. A directory made
 * before kek.json existed has `kek.key` inside and no kek.json: it keeps working, and `info` warns.
 */
import { closeSync, constants, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { realpathSync } from 'node:fs';
import { z } from 'zod';
import { utf8 } from '../../shared/bytes';
import { AgentError, isCodedError } from '../errors';
import { existsSync, writeFileAtomicSync } from '../../node/fs-atomic';
import { assertPrivateFile } from '../../node/private-file';
import { KEK_FILE, LocalFileKek } from './file';
import { Pkcs11Kek, pkcs11ParamsSchema, type Pkcs11Params } from './pkcs11';
import type { EraseScope, KekProvider } from './provider';

export const KEK_CONFIG_FILE = 'kek.json';
/** Present while a rotation runs or after one was interrupted (agent/kek/rotate.ts). */
export const ROTATION_JOURNAL = 'kek-rotation.json';

const kekIdSchema = z.string().regex(/^[\x21-\x7e]{1,200}$/, '1..200 printable ASCII characters');
const absPath = z.string().min(1).max(4096).refine(isAbsolute, 'an absolute path');

export const fileKekConfigSchema = z.strictObject({ provider: z.literal('file'), path: absPath, id: kekIdSchema });
export const pkcs11KekConfigSchema = pkcs11ParamsSchema.extend({ provider: z.literal('pkcs11'), id: kekIdSchema }).strict();
export const kekConfigSchema = z.discriminatedUnion('provider', [fileKekConfigSchema, pkcs11KekConfigSchema]);
export type KekConfig = z.infer<typeof kekConfigSchema>;

const retiredSchema = z.strictObject({ id: kekIdSchema, provider: z.enum(['file', 'pkcs11']), retiredAt: z.number().int().nonnegative() });
export const kekStateSchema = z.strictObject({
  version: z.literal(1),
  current: kekConfigSchema,
  retired: z.array(retiredSchema).max(10_000),
});
export type KekState = z.infer<typeof kekStateSchema>;

/** What `init` or `rotate` is asked to use. The PIN is never stored; when absent it comes from the PIN file or CUSTOS_PKCS11_PIN. */
export type KekChoice = { readonly provider: 'file'; readonly path?: string } | ({ readonly provider: 'pkcs11'; readonly pin?: string } & Pkcs11Params);

/** A provider that also says where its key is (for `info` and the audit log), nothing secret. */
export interface DescribedKek extends KekProvider {
  describe(): Record<string, string>;
}

/** The default place of a new file KEK: beside the data directory, not inside it. */
export function defaultKekFile(dataDir: string): string {
  return `${resolve(dataDir)}.kek.key`;
}

/** Refuses a KEK file path inside the data directory (also through symlinks of existing parents). */
export function assertOutsideDataDir(dataDir: string, path: string): string {
  if (!isAbsolute(path)) {
    throw new AgentError('FAILED_PRECONDITION', `The KEK file path must be absolute; got "${path.slice(0, 200)}".`, { details: { reason: 'kek-file-relative' } });
  }
  const inside = (dir: string, p: string): boolean => {
    const rel = relative(dir, p);
    return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
  };
  const real = (p: string): string => {
    // The longest existing prefix, resolved, plus the rest: catches a symlinked parent.
    let head = p;
    const rest: string[] = [];
    for (;;) {
      try {
        return join(realpathSync(head), ...rest.reverse());
      } catch {
        const up = dirname(head);
        if (up === head) return p;
        rest.push(head.slice(up.length + (up.endsWith(sep) ? 0 : 1)));
        head = up;
      }
    }
  };
  const dir = resolve(dataDir);
  const target = resolve(path);
  if (inside(dir, target) || inside(real(dir), real(target))) {
    throw new AgentError(
      'FAILED_PRECONDITION',
      `The KEK file ${target} would lie inside the data directory ${dir}: a copy of the directory (a backup job, cp -a) would then carry the key that opens it. Put it elsewhere (e.g. ${defaultKekFile(dir)}, /etc/custos/), or use the HSM provider (--kek pkcs11).`,
      { details: { reason: 'kek-file-inside-data-dir' } },
    );
  }
  return target;
}

/** Reads kek.json; undefined for a directory made before it existed (kek.key inside). */
export function readKekState(dataDir: string): KekState | undefined {
  const path = join(resolve(dataDir), KEK_CONFIG_FILE);
  if (!existsSync(path)) return undefined;
  assertPrivateFile(path, KEK_CONFIG_FILE);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new AgentError('CORRUPT_FILE', `${KEK_CONFIG_FILE} is not valid JSON: it is damaged. Restore it from backup (it holds no secret).`, { cause: error });
  }
  const r = kekStateSchema.safeParse(parsed);
  if (!r.success) {
    throw new AgentError('CORRUPT_FILE', `${KEK_CONFIG_FILE} does not describe a key-encryption key this build knows (${r.error.issues[0]?.path.join('.') ?? ''}: ${r.error.issues[0]?.message ?? ''}). Restore it from backup.`);
  }
  return r.data;
}

export function writeKekState(dataDir: string, state: KekState, options: { noOverwrite?: boolean } = {}): void {
  const checked = kekStateSchema.parse(state);
  writeFileAtomicSync(join(resolve(dataDir), KEK_CONFIG_FILE), utf8(`${JSON.stringify(checked, null, 2)}\n`), { mode: 0o600, noOverwrite: options.noOverwrite === true });
}

/** Wraps a provider so files sealed under a retired KEK id are refused with KEK_RETIRED. */
class RetiredGuard implements DescribedKek {
  readonly id: string;
  readonly #inner: DescribedKek;
  readonly #retired: ReadonlyMap<string, number>;

  constructor(inner: DescribedKek, retired: ReadonlyMap<string, number>) {
    this.#inner = inner;
    this.id = inner.id;
    this.#retired = retired;
  }

  wrapKey(dataKey: Uint8Array, context: Uint8Array, scope?: EraseScope): Promise<Uint8Array> {
    return this.#inner.wrapKey(dataKey, context, scope);
  }

  destroyEraseKey(scope: EraseScope): boolean {
    return this.#inner.destroyEraseKey(scope);
  }

  unwrapKey(wrapped: Uint8Array, context: Uint8Array, kekId: string, scope?: EraseScope): Promise<Uint8Array> {
    const at = this.#retired.get(kekId);
    if (at !== undefined) {
      return Promise.reject(
        new AgentError('KEK_RETIRED', `This file is sealed under the key-encryption key ${kekId}, retired by a rotation on ${new Date(at).toISOString()}: it is a copy from before the rotation. The agent no longer accepts that key; use the current file, or run a recovery.`, {
          details: { kekId },
        }),
      );
    }
    return this.#inner.unwrapKey(wrapped, context, kekId, scope);
  }

  close(): void {
    this.#inner.close();
  }

  describe(): Record<string, string> {
    return this.#inner.describe();
  }
}

/** Opens (or creates, for init and rotation) the provider a config or choice names. */
export function openProvider(choice: KekChoice | KekConfig, options: { create?: boolean; dataDir?: string } = {}): DescribedKek {
  if (choice.provider === 'file') {
    const path = choice.path ?? (options.dataDir === undefined ? undefined : defaultKekFile(options.dataDir));
    if (path === undefined) throw new AgentError('INTERNAL', 'A file KEK needs a path.');
    const target = options.dataDir === undefined ? resolve(path) : assertOutsideDataDir(options.dataDir, path);
    return options.create === true ? LocalFileKek.createAt(target) : LocalFileKek.openAt(target);
  }
  const params = pkcs11ParamsSchema.parse({
    module: choice.module,
    tokenLabel: choice.tokenLabel,
    keyLabel: choice.keyLabel,
    ...(choice.pinFile === undefined ? {} : { pinFile: choice.pinFile }),
  });
  const pin = 'pin' in choice ? choice.pin : undefined;
  return Pkcs11Kek.open(params, { createIfMissing: options.create === true, ...(pin === undefined ? {} : { pin }) });
}

/** The kek.json `current` entry for an opened provider. */
export function configOf(choice: KekChoice | KekConfig, kek: DescribedKek): KekConfig {
  if (choice.provider === 'file') return { provider: 'file', path: kek.describe().path ?? '', id: kek.id };
  return {
    provider: 'pkcs11',
    module: choice.module,
    tokenLabel: choice.tokenLabel,
    keyLabel: choice.keyLabel,
    ...(choice.pinFile === undefined ? {} : { pinFile: choice.pinFile }),
    id: kek.id,
  };
}

/**
 * For `init`: creates the chosen KEK (a new key file outside the data directory, or an HSM key
 * found or generated on the token) and records it in kek.json. The caller closes the provider.
 */
export function initKek(dataDir: string, choice: KekChoice = { provider: 'file' }): DescribedKek {
  const kek = openProvider(choice, { create: true, dataDir });
  try {
    writeKekState(dataDir, { version: 1, current: configOf(choice, kek), retired: [] }, { noOverwrite: true });
    return kek;
  } catch (error) {
    kek.close();
    throw error;
  }
}

function checkId(config: KekConfig, kek: DescribedKek): void {
  if (kek.id === config.id) return;
  kek.close();
  const where = config.provider === 'file' ? `the key file ${config.path}` : `the key "${config.keyLabel}" on token "${config.tokenLabel}"`;
  throw new AgentError('KEK_UNAVAILABLE', `${where} is not the key-encryption key this agent was set up with (it is ${kek.id}, ${KEK_CONFIG_FILE} names ${config.id}): it was replaced. Put the original back; files sealed under it cannot be opened with another key.`, {
    details: { reason: 'key-replaced', expected: config.id, found: kek.id },
  });
}

/** For `open`: the provider kek.json names (or the legacy kek.key inside), refusing retired ids. */
export function openKek(dataDir: string): DescribedKek {
  const dir = resolve(dataDir);
  if (existsSync(join(dir, ROTATION_JOURNAL))) {
    throw new AgentError('FAILED_PRECONDITION', `A key-encryption key rotation of ${dir} was interrupted; finish it first with: agent kek rotate --resume`, {
      details: { reason: 'rotation-interrupted' },
    });
  }
  const state = readKekState(dir);
  if (state === undefined) return LocalFileKek.open(dir);
  const kek = openProvider(state.current);
  checkId(state.current, kek);
  return new RetiredGuard(kek, new Map(state.retired.map((r) => [r.id, r.retiredAt])));
}

/** Opens the provider of a config (rotation's "from" side), checking its id. */
export function openConfigured(config: KekConfig): DescribedKek {
  const kek = openProvider(config);
  checkId(config, kek);
  return kek;
}

export interface KekStatus {
  readonly provider: 'file' | 'pkcs11';
  readonly id: string | undefined;
  /** Non-secret parameters: path, or module, token and key labels. */
  readonly where: Readonly<Record<string, string>>;
  readonly retired: readonly string[];
  readonly rotationInterrupted: boolean;
  /** Sentences for `info`: what is weaker than it should be. */
  readonly warnings: readonly string[];
}

/** Retained share files (backup/<key>/<node>/<set>/<i>.enc) whose version byte is 1 (read 5 bytes each). */
function countVersion1RetainedShares(dir: string): number {
  const list = (d: string): string[] => {
    try {
      return readdirSync(d);
    } catch {
      return [];
    }
  };
  let n = 0;
  const head = new Uint8Array(5);
  const backup = join(dir, 'backup');
  for (const k of list(backup)) {
    for (const node of list(join(backup, k))) {
      for (const set of list(join(backup, k, node))) {
        for (const name of list(join(backup, k, node, set))) {
          if (!/^[0-9]{1,3}\.enc$/.test(name)) continue;
          let fd: number | undefined;
          try {
            fd = openSync(join(backup, k, node, set, name), constants.O_RDONLY | constants.O_NOFOLLOW);
            if (readSync(fd, head, 0, 5, 0) === 5 && head[4] === 1) n++;
          } catch {
            // unreadable: the agent reports it when it reads the file
          } finally {
            if (fd !== undefined) closeSync(fd);
          }
        }
      }
    }
  }
  return n;
}

/** What `info` shows about the KEK, from the files alone (no PIN, no key loaded). */
export function kekStatus(dataDir: string): KekStatus {
  const dir = resolve(dataDir);
  const rotationInterrupted = existsSync(join(dir, ROTATION_JOURNAL));
  const warnings: string[] = [];
  if (rotationInterrupted) warnings.push('A KEK rotation was interrupted: run `agent kek rotate --resume` before anything else.');
  let state: KekState | undefined;
  try {
    state = readKekState(dir);
  } catch (error) {
    if (!isCodedError(error)) throw error;
    warnings.push(error.message);
  }
  if (state === undefined) {
    warnings.push(
      `The key-encryption key is ${join(dir, KEK_FILE)}, INSIDE the data directory: anyone with a copy of the directory (a backup job, cp -a) can open every share in it. Move it out with \`agent kek rotate --to file --kek-file PATH\` (outside the directory) or, better, into an HSM with \`agent kek rotate --to pkcs11 …\`.`,
    );
    return { provider: 'file', id: undefined, where: { path: join(dir, KEK_FILE) }, retired: [], rotationInterrupted, warnings };
  }
  const v1 = countVersion1RetainedShares(dir);
  if (v1 > 0) {
    warnings.push(
      `${String(v1)} retained share file(s) are in sealed format 1, written before erase keys: a hard delete of them only removes the file, it does not crypto-erase copies taken before. Run \`agent kek rotate\` once to upgrade every file to format 2.`,
    );
  }
  const c = state.current;
  if (c.provider === 'file') {
    warnings.push('The key-encryption key is a file: it keeps a copy of the data directory alone from opening the shares, not someone who can read both the directory and the key file (root, the agent user, a backup of both). An HSM (--kek pkcs11) keeps the key off the disk.');
  }
  const where: Record<string, string> =
    c.provider === 'file' ? { path: c.path } : { module: c.module, tokenLabel: c.tokenLabel, keyLabel: c.keyLabel, ...(c.pinFile === undefined ? {} : { pinFile: c.pinFile }) };
  return { provider: c.provider, id: c.id, where, retired: state.retired.map((r) => r.id), rotationInterrupted, warnings };
}
