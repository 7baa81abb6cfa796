/**
 * `kek status | rotate` (agent CLI) and the KEK options of `init` (agent/core/cli.ts uses
 * {@link KEK_INIT_OPTIONS}, {@link kekChoiceFrom} and {@link kekInitLines}).
 *
 *   init [--kek file] [--kek-file PATH]                   a key file OUTSIDE the data directory
 *                                                          (default <data-dir>.kek.key)
 *   init --kek pkcs11 --pkcs11-module PATH --token-label L --key-label K [--pin-file F]
 *   kek rotate --to file [--kek-file PATH] | --to pkcs11 … | --resume
 *   kek status
 *
 * The token PIN comes from --pin-file (recorded in kek.json, the file itself owner-only) or the
 * environment variable CUSTOS_PKCS11_PIN, never from the command line (agent/cli.ts refuses --pin).
 */
import { isAbsolute, resolve } from 'node:path';
import { usage } from '../../node/cli/errors';
import { pairs } from '../../node/cli/format';
import type { Group } from '../../node/cli/runner';
import { command, dataDir, op, type AgentCliIo } from '../core/cli-common';
import { defaultOperator } from '../core/util';
import { kekStatus, type KekChoice } from './config';
import { PIN_ENV } from './pkcs11';
import { rotateKek } from './rotate';

/** The options naming a KEK, shared by `init` and `kek rotate`. */
export const KEK_INIT_OPTIONS = {
  kek: { type: 'string' },
  'kek-file': { type: 'string' },
  'pkcs11-module': { type: 'string' },
  'token-label': { type: 'string' },
  'key-label': { type: 'string' },
  'pin-file': { type: 'string' },
} as const;

interface KekValues {
  readonly kek?: string | undefined;
  readonly to?: string | undefined;
  readonly 'kek-file'?: string | undefined;
  readonly 'pkcs11-module'?: string | undefined;
  readonly 'token-label'?: string | undefined;
  readonly 'key-label'?: string | undefined;
  readonly 'pin-file'?: string | undefined;
}

const abs = (p: string): string => (isAbsolute(p) ? p : resolve(p));

/** The KEK a command's options name (`provider` from --kek or --to); the PIN from CUSTOS_PKCS11_PIN when no --pin-file. */
export function kekChoiceFrom(values: KekValues, provider: string | undefined, env: NodeJS.ProcessEnv): KekChoice {
  const hsmOnly = (['pkcs11-module', 'token-label', 'key-label', 'pin-file'] as const).filter((k) => values[k] !== undefined);
  if (provider === undefined || provider === 'file') {
    if (hsmOnly.length > 0) throw usage(`--${hsmOnly[0] ?? ''} is for the HSM provider: add --kek pkcs11 (init) or --to pkcs11 (kek rotate).`);
    return { provider: 'file', ...(values['kek-file'] === undefined ? {} : { path: abs(values['kek-file']) }) };
  }
  if (provider !== 'pkcs11') throw usage(`The KEK provider is "file" or "pkcs11"; got "${provider}".`);
  if (values['kek-file'] !== undefined) throw usage('--kek-file is for the file provider, not pkcs11.');
  const missing = (['pkcs11-module', 'token-label', 'key-label'] as const).filter((k) => values[k] === undefined || values[k] === '');
  if (missing.length > 0) throw usage(`The HSM provider needs ${missing.map((m) => `--${m}`).join(', ')} (e.g. --pkcs11-module /usr/lib/softhsm/libsofthsm2.so --token-label custos --key-label custos-kek-1).`);
  const pin = values['pin-file'] === undefined ? env[PIN_ENV] : undefined;
  if (values['pin-file'] === undefined && (pin === undefined || pin === '')) {
    throw usage(`The token PIN: give --pin-file FILE (mode 0600) or set ${PIN_ENV}; it is never taken from the command line.`);
  }
  return {
    provider: 'pkcs11',
    module: abs(values['pkcs11-module'] ?? ''),
    tokenLabel: values['token-label'] ?? '',
    keyLabel: values['key-label'] ?? '',
    ...(values['pin-file'] === undefined ? {} : { pinFile: abs(values['pin-file']) }),
    ...(pin === undefined ? {} : { pin }),
  };
}

/** What `init` says about the KEK it made: plainly what it protects against and what not. */
export function kekInitLines(dir: string): string[] {
  const s = kekStatus(dir);
  if (s.provider === 'pkcs11') {
    return [
      `The key-encryption key is inside the HSM token "${s.where.tokenLabel ?? ''}" (key "${s.where.keyLabel ?? ''}"), non-extractable: a copy of the data directory, or of the whole disk, opens nothing without the token and its PIN.`,
      `Keep the PIN ${s.where.pinFile === undefined ? `in ${PIN_ENV} for every command` : `file ${s.where.pinFile} owner-only`}, and back the key up with the HSM's own tools: without it no file of this agent opens.`,
    ];
  }
  return [
    `The key-encryption key is the file ${s.where.path ?? ''} (0600), outside the data directory.`,
    'It protects against a copy of the data directory alone (a backup job, a stolen copy of that folder).',
    'It does NOT protect against anyone who can read both the directory and that file (root, this user, a backup of the whole machine). Back the key file up separately from the directory; without it nothing opens.',
    'Recommended: keep the key in an HSM (init --kek pkcs11 …, or later: kek rotate --to pkcs11 …).',
  ];
}

/** The lines `info` adds: the KEK's provider and place, and its warnings. */
export function kekInfoLines(dir: string): { data: Record<string, unknown>; lines: string[] } {
  const s = kekStatus(dir);
  return {
    data: { kek: { provider: s.provider, where: s.where, retired: s.retired.length, warnings: s.warnings } },
    lines: [...pairs([['KEK provider', s.provider === 'file' ? `file ${s.where.path ?? ''}` : `pkcs11 token "${s.where.tokenLabel ?? ''}" key "${s.where.keyLabel ?? ''}"`]]), ...s.warnings.map((w) => `Warning: ${w}`)],
  };
}

const status = command(
  {},
  {
    name: 'kek status',
    summary: 'which KEK the data directory uses, where it is, retired ids, warnings (no PIN needed)',
    run: (ctx) => {
      const s = kekStatus(dataDir(ctx));
      return {
        data: { kek: s },
        lines: [
          ...pairs([
            ['provider', s.provider],
            ['KEK id', s.id ?? '(recorded in each file; this directory predates kek.json)'],
            ...Object.entries(s.where),
            ['retired ids', s.retired.length === 0 ? 'none' : s.retired.join(', ')],
          ]),
          ...s.warnings.map((w) => `Warning: ${w}`),
        ],
      };
    },
  },
);

const rotate = command(
  { to: { type: 'string' }, resume: { type: 'boolean' }, ...KEK_INIT_OPTIONS },
  {
    name: 'kek rotate',
    usage: '--to file [--kek-file PATH] | --to pkcs11 --pkcs11-module PATH --token-label L --key-label K [--pin-file F] | --resume',
    summary: 'rewraps every file\'s data key under a new KEK (crash-safe, audited); the old KEK id is refused afterwards',
    help: [
      'Stop `agent serve` first. Each sealed file and session key is opened under the current KEK and sealed under the new one,',
      'each replaced atomically; a journal (kek-rotation.json) lets `--resume` finish after a crash. The new HSM key is generated',
      `on the token when no key has its label. PINs: --pin-file, or ${PIN_ENV} (the current HSM key uses its recorded PIN file or ${PIN_ENV}).`,
    ].join(' '),
    run: async (ctx) => {
      const { values: v } = ctx;
      if (v.kek !== undefined) throw usage('kek rotate takes --to file|pkcs11, not --kek.');
      if (v.resume === true && v.to !== undefined) throw usage('--resume finishes the interrupted rotation; it takes no --to.');
      if (v.resume !== true && v.to === undefined) throw usage('kek rotate --to file|pkcs11 … (or --resume).');
      const to = v.resume === true ? ('resume' as const) : kekChoiceFrom(v, v.to, ctx.io.env);
      const dir = dataDir(ctx);
      const r = await rotateKek(dir, to, {
        operator: op(v).operator ?? defaultOperator(),
        onProgress: (p) => {
          if (p.phase === 'prepared') ctx.progress(`Rotating ${String(p.total)} sealed objects from ${p.fromId} to ${p.toId}…`);
          else if (p.phase === 'object' && (p.done % 100 === 0 || p.done === p.total)) ctx.progress(`${String(p.done)}/${String(p.total)}`);
        },
      });
      return {
        data: { rotation: r },
        lines: [
          `${r.resumed ? 'Finished the interrupted rotation' : 'Rotated the KEK'}: ${r.fromId} → ${r.toId} (audited).`,
          ...pairs([
            ['moved', `${String(r.rewrapped)} object(s): ${String(r.rewrapped - r.upgraded)} rewrapped in place, ${String(r.upgraded)} upgraded from format 1 by a re-seal${r.alreadyDone > 0 ? ` (${String(r.alreadyDone)} were already done)` : ''}`],
            ['now', r.to.provider === 'file' ? `file ${r.to.path}` : `pkcs11 token "${r.to.tokenLabel}" key "${r.to.keyLabel}"`],
          ]),
          `Files still naming ${r.fromId} (copies from before) are refused from now on.`,
          r.oldKeyAdvice,
        ],
      };
    },
  },
);

export const kekGroup: Group<AgentCliIo> = { name: 'kek', summary: 'the key-encryption key: status, rotation (file or HSM)', commands: [status, rotate] };
