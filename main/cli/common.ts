/**
 * What every custodian CLI group (main/cli/*.ts) shares: the global options, the typed command
 * factory, the vault folder, the passphrase (never from argv), unlocking, and the error sentence in
 * the vault's language (main/services/messages.ts).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { HelpText } from '../../node/cli/help';
import { COMMON_OPTIONS, commandsFor, type CliIo, type Ctx, type DescribedError } from '../../node/cli/runner';
import { helpTextIn } from './i18n';
import { explain, LANGUAGES, type Language } from '../services/messages';
import { ServiceError, toPublicError } from '../services/errors';
import { readSettingsOrDefaults, SETTINGS_FILE } from '../services/settings';
import { Vault } from '../services/vault';

export const CUSTODIAN_GLOBALS = {
  ...COMMON_OPTIONS,
  vault: { type: 'string' },
  lang: { type: 'string' },
  'passphrase-fd': { type: 'string' },
} as const;

/** `command(options, { name, usage, summary, run })`: one custodian command, `ctx.values` typed. */
export const command = commandsFor(CUSTODIAN_GLOBALS);

type Globals = { readonly vault?: string | undefined; readonly lang?: string | undefined; readonly 'passphrase-fd'?: string | undefined };
export type CustodianCtx = Ctx<Globals>;

export const usage = (message: string): ServiceError => new ServiceError('USAGE', message);

/** The vault folder: --vault, else CUSTOS_VAULT. */
export function vaultDir(ctx: CustodianCtx): string {
  const v = ctx.values.vault ?? ctx.io.env['CUSTOS_VAULT'];
  if (v === undefined || v === '') throw usage('--vault is required here.');
  return resolve(v);
}

export function need(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw usage(`--${name} is required here.`);
  return value;
}

/** --lang, else the vault's language setting (--vault or CUSTOS_VAULT), else English. */
export async function languageOf(values: Readonly<Record<string, unknown>>, env: CliIo['env']): Promise<Language> {
  const lang = values['lang'];
  if (typeof lang === 'string') return (LANGUAGES as readonly string[]).includes(lang) ? (lang as Language) : 'en';
  const vault = values['vault'];
  const dir = typeof vault === 'string' ? vault : env['CUSTOS_VAULT'];
  if (dir === undefined || dir === '') return 'en';
  return (await readSettingsOrDefaults(join(resolve(dir), SETTINGS_FILE)).catch(() => ({ settings: { language: 'en' as const } }))).settings.language;
}

/** --lang, else the vault's language setting, else English. */
export function language(ctx: CustodianCtx): Promise<Language> {
  return languageOf(ctx.values, ctx.io.env);
}

/** The help in the language `language` picks (node/cli/runner.ts Program.helpText). */
export async function custodianHelpText(values: Readonly<Record<string, unknown>>, io: CliIo): Promise<HelpText> {
  return helpTextIn(await languageOf(values, io.env));
}

const FD_USAGE = '--passphrase-fd takes a file descriptor number: 0 (standard input) or 3 and up.';
const fdIsValid = (fd: string): boolean => /^[0-9]{1,4}$/.test(fd) && Number(fd) !== 1 && Number(fd) !== 2;

/** Checks the global options (--lang, --passphrase-fd) before any command runs or opens anything: wrong usage is exit 2. */
export function checkLanguage(ctx: CustodianCtx): void {
  const { lang } = ctx.values;
  if (lang !== undefined && !(LANGUAGES as readonly string[]).includes(lang)) throw usage(`--lang is one of ${LANGUAGES.join(', ')}; got "${lang}".`);
  const fd = ctx.values['passphrase-fd'];
  if (fd !== undefined && !fdIsValid(fd)) throw usage(FD_USAGE);
}

/** The error in the vault's language, with the specific English sentence too (main/services/messages.ts). */
export async function describeCustodianError(error: unknown, ctx: CustodianCtx): Promise<DescribedError> {
  const lang = await language(ctx);
  const e = explain(error);
  const sentence = e.message[lang];
  const more = lang !== 'en' && e.detail !== undefined ? [`  ${e.detail}`] : e.detail !== undefined && e.detail !== sentence ? [`  ${sentence}`] : [];
  const pub = toPublicError(error);
  return {
    code: e.code,
    message: e.detail !== undefined && lang === 'en' ? e.detail : sentence,
    details: { ...pub.details },
    more,
    json: { message: pub.message, sentence: e.message },
    known: e.code !== 'INTERNAL',
  };
}

async function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw usage('No passphrase: set CUSTOS_PASSPHRASE or pass --passphrase-fd N (never the passphrase itself on the command line).');
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolvePromise, reject) => {
    let text = '';
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          done();
          resolvePromise(text);
          return;
        }
        if (ch === '\u0003') {
          done();
          reject(usage('Cancelled.'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    const done = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}

/** The passphrase from --passphrase-fd N, CUSTOS_PASSPHRASE, or a hidden prompt at a terminal. */
export async function passphrase(ctx: CustodianCtx, confirmNew = false): Promise<string> {
  const fd = ctx.values['passphrase-fd'];
  if (fd !== undefined) {
    if (!fdIsValid(fd)) throw usage(FD_USAGE);
    let text: string;
    try {
      text = readFileSync(Number(fd), 'utf8');
    } catch (error) {
      throw new ServiceError('IO_FAILED', `The passphrase could not be read from file descriptor ${fd}.`, { cause: error });
    }
    return text.replace(/\r?\n$/, '');
  }
  const env = ctx.io.env['CUSTOS_PASSPHRASE'];
  if (env !== undefined && env !== '') return env;
  const first = await promptHidden(confirmNew ? 'New vault passphrase: ' : 'Vault passphrase: ');
  if (confirmNew && (await promptHidden('Repeat the passphrase: ')) !== first) throw usage('The two passphrases differ.');
  return first;
}

/** Opens and unlocks the vault, saying on stderr when it waited or recovered. */
export async function openUnlocked(ctx: CustodianCtx): Promise<Vault> {
  const vault = await Vault.open(vaultDir(ctx));
  const pass = await passphrase(ctx);
  const delay = await vault.unlockDelayMs();
  if (delay > 0) ctx.io.stderr(`Waiting ${String(Math.ceil(delay / 1000))} s after earlier wrong passphrases…\n`);
  const r = await vault.unlock(pass);
  if (r.recoveredFromPrevious) ctx.io.stderr('Warning: shares.age could not be read; the previous saved version was used. The next save rewrites it.\n');
  if (!r.auditOk) ctx.io.stderr('Warning: the audit log does not verify. Run `custos audit verify` and keep the vault folder for investigation.\n');
  return vault;
}

/** ISO 8601 of Unix seconds, as the custodian CLI prints them. */
export const isoOf = (seconds: number): string => new Date(seconds * 1000).toISOString();
