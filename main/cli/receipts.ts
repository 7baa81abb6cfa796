/** `receipt`: signed receipts for envelopes received, accepted or rejected (custodian CLI). */
import { resolve } from 'node:path';
import type { Group } from '../../node/cli/runner';
import { REJECTION_REASONS, type RejectionReason } from '../../shared/protocol/receipt';
import { signReceipts, writeReceipts } from '../services/receipts';
import { command, language, need, openUnlocked, usage } from './common';
import { t } from './i18n';

const receipt = command(
  {
    'envelope-hash': { type: 'string', multiple: true },
    all: { type: 'boolean' },
    status: { type: 'string' },
    reason: { type: 'string' },
    note: { type: 'string' },
    out: { type: 'string' },
    qr: { type: 'boolean' },
  },
  {
    name: 'receipt',
    usage: '--vault DIR (--envelope-hash HEX ... | --all) --status accepted|rejected [--reason CODE] [--note TEXT] --out DIR [--qr]',
    summary: 'signed receipts for the agent, one file per envelope',
    run: async (ctx) => {
      const { values } = ctx;
      const out = resolve(need(values.out, 'out'));
      const status = need(values.status, 'status');
      if (status !== 'accepted' && status !== 'rejected') throw usage('--status is accepted or rejected.');
      const ids = values['envelope-hash'];
      if ((ids === undefined || ids.length === 0) === (values.all !== true)) throw usage('Give either --envelope-hash HEX (one or more) or --all.');
      const reason = values.reason;
      if (reason !== undefined && !(REJECTION_REASONS as readonly string[]).includes(reason)) throw usage(`--reason is one of ${REJECTION_REASONS.join(', ')}; got "${reason}".`);
      const lang = await language(ctx);
      const v = await openUnlocked(ctx);
      const signed = await signReceipts(v, {
        ids: values.all === true ? 'all' : (ids ?? []),
        status,
        ...(reason === undefined ? {} : { reason: reason as RejectionReason }),
        ...(values.note === undefined ? {} : { note: values.note }),
      });
      const written = await writeReceipts(signed, out, values.qr === true ? { png: true, svg: true } : undefined);
      return {
        data: { receipts: signed.map((r, i) => ({ id: r.id, status: r.body.status, reason: r.body.reason, hash: r.hash, file: written[i]?.file, qr: written[i]?.png })) },
        lines: [...written.map((w, i) => t(lang, 'receipt.written', { status: signed[i]?.body.status ?? '', id: signed[i]?.id ?? '', file: w.file })), t(lang, 'receipt.total', { n: signed.length, out })],
      };
    },
  },
);

export const receiptGroup: Group = { name: 'receipt', summary: 'signed receipts for the agent', commands: [receipt] };
