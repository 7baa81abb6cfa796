/**
 * `backup | backup status | backup restore` and `passphrase generate | check` (custodian CLI): the
 * guided vault backup (main/services/vault-backup.ts) and the passphrase policy
 * (main/services/passphrase.ts), the same services the app calls.
 */
import { resolve } from 'node:path';
import { wholeNumber } from '../../node/cli/inputs';
import type { Group } from '../../node/cli/runner';
import { generatePassphrase, MIN_GUESS_YEARS, passphraseStrength, vaultKdfLogN } from '../services/passphrase';
import { MIN_LOG_N } from '../services/kdf';
import { Vault } from '../services/vault';
import { backupStatus, backupVault, restoreBackup } from '../services/vault-backup';
import { command, isoOf, language, need, passphrase, vaultDir } from './common';
import { t } from './i18n';
import { guessTimeOf, MIN_PASSPHRASE_CHARS, reasonsOf } from '../../shared/passphrase-meter';

const backup = command(
  { to: { type: 'string' } },
  {
    name: 'backup',
    usage: '--vault DIR --to FOLDER',
    summary: 'copies the sealed vault into a new folder on removable media and verifies the copy with the passphrase',
    run: async (ctx) => {
      const to = resolve(need(ctx.values.to, 'to'));
      const lang = await language(ctx);
      const v = await Vault.open(vaultDir(ctx));
      const pass = await passphrase(ctx);
      ctx.progress(`Copying the vault to ${to} and opening the copy with the passphrase…`);
      const r = await backupVault(v, to, pass);
      return {
        data: { backup: r.path, verifiedAt: r.verifiedAt, generation: r.generation, files: r.files, bytes: r.bytes, shares: r.shares },
        lines: [
          t(lang, 'backup.done', { path: r.path }),
          t(lang, 'backup.counts', { files: r.files, bytes: r.bytes, shares: r.shares, generation: r.generation }),
          t(lang, 'backup.restoreHint'),
        ],
      };
    },
  },
);

const status = command(
  {},
  {
    name: 'backup status',
    usage: '--vault DIR',
    summary: 'when the vault was last backed up and verified, and whether it changed since (no passphrase needed)',
    run: async (ctx) => {
      const dir = vaultDir(ctx);
      await Vault.open(dir);
      const s = await backupStatus(dir);
      const lang = await language(ctx);
      const sentence =
        s.last === null
          ? t(lang, 'backupStatus.never')
          : s.due
            ? t(lang, 'backupStatus.older', { when: isoOf(s.last.verifiedAt), was: s.last.generation, now: s.generation })
            : t(lang, 'backupStatus.current', { when: isoOf(s.last.verifiedAt), now: s.generation });
      return {
        data: { due: s.due, generation: s.generation, last: s.last, sentence: s.sentence },
        lines: [sentence, ...(s.last === null ? [] : [t(lang, 'backupStatus.last', { folder: s.last.folder, when: isoOf(s.last.verifiedAt) })])],
        exit: s.due ? 3 : 0,
      };
    },
  },
);

const restore = command(
  { from: { type: 'string' } },
  {
    name: 'backup restore',
    usage: '--from BACKUP_FOLDER --vault NEW_DIR',
    summary: 'verifies a backup with its passphrase and copies it, whole, into a folder that holds no vault',
    run: async (ctx) => {
      const from = resolve(need(ctx.values.from, 'from'));
      const dir = vaultDir(ctx);
      const lang = await language(ctx);
      const pass = await passphrase(ctx);
      const r = await restoreBackup(from, dir, pass);
      return {
        data: { vault: dir, generation: r.generation, shares: r.shares },
        lines: [t(lang, 'backup.restored', { dir, generation: r.generation, shares: r.shares })],
      };
    },
  },
);

const generate = command(
  { words: { type: 'string' } },
  {
    name: 'passphrase generate',
    usage: '[--words N]',
    summary: 'a random diceware passphrase from the EFF long word list (6 words, 77 bits, unless --words 4..12)',
    run: async (ctx) => {
      const g = generatePassphrase(wholeNumber(ctx.values.words, 'words', 4, 12));
      const lang = await language(ctx);
      return Promise.resolve({
        data: { passphrase: g.passphrase, words: g.words, entropyBits: g.entropyBits },
        lines: [g.passphrase, t(lang, 'passphrase.generated', { words: g.words, bits: g.entropyBits })],
      });
    },
  },
);

const check = command(
  {},
  {
    name: 'passphrase check',
    usage: '[--vault DIR]',
    summary: "how long a passphrase would resist guessing at the vault's KDF cost (from CUSTOS_PASSPHRASE, --passphrase-fd or a prompt)",
    run: async (ctx) => {
      const dir = ctx.values.vault ?? ctx.io.env['CUSTOS_VAULT'];
      const logN = dir === undefined || dir === '' ? MIN_LOG_N : ((await vaultKdfLogN(resolve(dir))) ?? MIN_LOG_N);
      const typed = await passphrase(ctx);
      const s = await passphraseStrength(typed, logN);
      const lang = await language(ctx);
      // zxcvbn's warnings and suggestions are English only: other languages say the policy's reason
      // codes (shared/passphrase-meter.ts, the same the window's meter shows) and Intl's guessing time.
      const english = lang === 'en';
      const time = english ? s.guessTime : (guessTimeOf(lang, s.guessSeconds) ?? t(lang, 'passphrase.underSecond'));
      const reasons = english ? s.reasons.join('; ') : reasonsOf(typed, s).map((r) => t(lang, `passphrase.reason.${r}`, { chars: MIN_PASSPHRASE_CHARS, years: MIN_GUESS_YEARS, time, logN: s.logN })).join('；');
      return {
        data: { ok: s.ok, score: s.score, logN: s.logN, guessTime: s.guessTime, guessSeconds: s.guessSeconds, reasons: s.reasons, suggestions: s.suggestions },
        lines: [
          s.ok ? t(lang, 'passphrase.accepted', { time, logN: s.logN }) : t(lang, 'passphrase.refused', { reasons }),
          ...(english ? s.suggestions.map((x) => `  ${x}`) : []),
          ...(s.ok ? [] : [t(lang, 'passphrase.required', { years: MIN_GUESS_YEARS })]),
        ],
        exit: s.ok ? 0 : 1,
      };
    },
  },
);

export const backupGroup: Group = { name: 'backup', summary: 'the vault copied to removable media and verified; its status; restoring it', commands: [backup, status, restore] };
export const passphraseGroup: Group = { name: 'passphrase', summary: 'generate a diceware passphrase, or check one', commands: [generate, check] };
