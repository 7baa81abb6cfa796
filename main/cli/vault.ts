/** `vault create | info` and `card`: the custodian's vault and the enrollment card ops register (custodian CLI). */
import { basename, dirname, resolve } from 'node:path';
import { writeFileAtomic } from '../../node/fs-atomic';
import type { Group } from '../../node/cli/runner';
import { TEST_MIN_LOG_N } from '../services/kdf';
import { writeQrFiles } from '../services/qr-files';
import { Vault, type CreateOptions } from '../services/vault';
import { command, isoOf, language, need, openUnlocked, passphrase, usage, vaultDir } from './common';
import { t } from './i18n';

const create = command(
  { name: { type: 'string' } },
  {
    name: 'vault create',
    usage: '--vault DIR --name NAME',
    summary: 'a new vault (asks for a new passphrase) and its enrollment card',
    run: async (ctx) => {
      const dir = vaultDir(ctx);
      const name = need(ctx.values.name, 'name');
      const options: CreateOptions = {};
      const weak = ctx.io.env['CUSTOS_INSECURE_SCRYPT_LOGN'];
      if (weak !== undefined && weak !== '') {
        const logN = Number(weak);
        if (!Number.isInteger(logN) || logN < TEST_MIN_LOG_N) throw usage('CUSTOS_INSECURE_SCRYPT_LOGN must be a whole number.');
        ctx.io.stderr(`WARNING: CUSTOS_INSECURE_SCRYPT_LOGN=${weak}: the passphrase KDF is deliberately weak. For tests only.\n`);
        Object.assign(options, { kdfLogN: logN, allowWeakKdf: true });
      }
      const lang = await language(ctx);
      const pass = await passphrase(ctx, true);
      const v = await Vault.create(dir, { name, passphrase: pass }, options);
      const card = v.path('card');
      await v.lock();
      return {
        data: { vault: dir, card, code: v.info.code, fingerprint: v.info.fingerprint, name: v.info.name },
        lines: [
          t(lang, 'vault.created', { dir }),
          t(lang, 'vault.card', { file: card }),
          t(lang, 'vault.code', { code: v.info.code }),
          t(lang, 'vault.escape'),
          t(lang, 'vault.backupNow'),
        ],
      };
    },
  },
);

const info = command(
  {},
  {
    name: 'vault info',
    usage: '--vault DIR',
    summary: "the vault's name, fingerprint code and age recipient (no passphrase needed)",
    run: async (ctx) => {
      const lang = await language(ctx);
      const v = await Vault.open(vaultDir(ctx));
      const i = v.info;
      return { data: { ...i }, lines: t(lang, 'vault.info', { name: i.name, code: i.code, recipient: i.ageRecipient, at: isoOf(i.createdAt) }).split('\n') };
    },
  },
);

const card = command(
  { out: { type: 'string' }, qr: { type: 'boolean' } },
  {
    name: 'card',
    usage: '--vault DIR --out FILE [--qr]',
    summary: 'writes the enrollment card (and its QR images with --qr)',
    run: async (ctx) => {
      const out = resolve(need(ctx.values.out, 'out'));
      const lang = await language(ctx);
      const v = await openUnlocked(ctx);
      const bytes = v.card();
      await writeFileAtomic(out, bytes, { mode: 0o644 });
      const qr = ctx.values.qr === true ? await writeQrFiles(dirname(out), basename(out).replace(/\.custos$/, ''), 'custodian-card', bytes, { png: true, svg: true }) : undefined;
      const images = qr === undefined ? [] : [...qr.png, ...qr.svg];
      return { data: { card: out, code: v.info.code, qr: images }, lines: [t(lang, 'card.written', { file: out }), ...images.map((p) => `QR: ${p}`), t(lang, 'vault.code', { code: v.info.code })] };
    },
  },
);

export const vaultGroup: Group = { name: 'vault', summary: "the custodian's vault", commands: [create, info] };
export const cardGroup: Group = { name: 'card', summary: 'the enrollment card for ops', commands: [card] };
