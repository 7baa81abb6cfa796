/** `import`, `list` and `verify-all`: the shares in the vault (custodian CLI). */
import { statSync } from 'node:fs';
import { CliError } from '../../node/cli/errors';
import { expandInputs, readInput, wholeNumber } from '../../node/cli/inputs';
import type { Group } from '../../node/cli/runner';
import { importEnvelopes } from '../services/inbox';
import { messagesFromInputs } from '../services/inputs';
import { STATUS_LABELS } from '../services/messages';
import { CLASS_LABELS, classifyImportResult, type RefusalClass } from '../services/refusal-class';
import { listShares, verifyAll } from '../services/shares';
import { SHARE_STATUSES, type ShareStatus } from '../services/state';
import { command, language, openUnlocked, usage } from './common';

/** Envelopes are a few KB; anything this large is not one (the inbox refuses > 1 MiB anyway). */
const MAX_INPUT = 16 * 1024 * 1024;

const importCmd = command(
  {},
  {
    name: 'import',
    usage: '--vault DIR',
    args: 'FILE|FOLDER...',
    summary: 'envelopes and supersede notices: message files, QR images (.png), UR frame text (exit 3 if some are refused)',
    run: async (ctx) => {
      if (ctx.args.length === 0) throw usage('Name the envelope files or folders to import (message files, QR images, or UR frame text).');
      const files = expandInputs(ctx.args).map((p) => {
        if (statSync(p).size > MAX_INPUT) throw new CliError('IO_FAILED', `${p} is far too large to be a share envelope; leave it out.`, { details: { file: p } });
        return { name: p, bytes: readInput(p, 'share envelope', MAX_INPUT) };
      });
      const { messages, unread } = messagesFromInputs(files);
      const lang = await language(ctx);
      const v = await openUnlocked(ctx);
      const showProgress = process.stderr.isTTY && ctx.values.json !== true && messages.length > 50;
      const summary = await importEnvelopes(v, messages, {
        onProgress: (p) => {
          if (showProgress && (p.done % 100 === 0 || p.done === p.total)) ctx.io.stderr(`\r${String(p.done)}/${String(p.total)}`);
        },
      });
      if (showProgress) ctx.io.stderr('\n');
      // Issue 12: each refusal with its class; the advice once per class present, at the end.
      const advice = new Map<RefusalClass, string>();
      const results = summary.results.map((r) => {
        const c = classifyImportResult(r, messages[r.index]?.bytes);
        return c === undefined ? r : { ...r, refusal: { class: c.class, offerSignedRejection: c.offerSignedRejection, advice: c.advice } };
      });
      const lines = results.map((r) => {
        if (r.outcome === 'accepted') return `accepted  ${r.name ?? ''}  ${r.share?.keyId ?? ''}/${r.share?.nodeId ?? ''} share ${String(r.share?.shareIndex ?? '')}  id ${r.id ?? ''}`;
        if (r.outcome === 'applied') return `applied   ${r.name ?? ''}  supersede notice: ${String(r.supersede?.affected.length ?? 0)} share(s) superseded`;
        const c = 'refusal' in r ? r.refusal : undefined;
        if (c !== undefined) advice.set(c.class, c.advice[lang]);
        return `refused   ${r.name ?? ''}  [${c === undefined ? '' : CLASS_LABELS[c.class][lang]}] ${r.code ?? ''}: ${r.message?.[lang] ?? ''}`;
      });
      lines.push(...unread.map((p) => `unread    ${p.names.join(', ')}  ${p.problem.code}: ${p.problem.message[lang]}`));
      const refused = summary.refused + unread.length;
      for (const cls of ['possible-attack', 'not-for-you-or-outdated', 'harmless'] as const) {
        const a = advice.get(cls);
        if (a !== undefined) lines.push(a);
      }
      lines.push(`${String(summary.accepted)} accepted, ${String(refused)} refused${summary.applied > 0 ? `, ${String(summary.applied)} notice(s) applied` : ''}.`);
      return { data: { ...summary, results, unread }, lines, exit: refused > 0 ? 3 : 0 };
    },
  },
);

function statusFilter(s: string | undefined): ShareStatus | undefined {
  if (s === undefined) return undefined;
  if (!(SHARE_STATUSES as readonly string[]).includes(s)) throw usage(`--status is one of ${SHARE_STATUSES.join(', ')}; got "${s}".`);
  return s as ShareStatus;
}

const list = command(
  { key: { type: 'string' }, node: { type: 'string' }, set: { type: 'string' }, index: { type: 'string' }, status: { type: 'string' } },
  {
    name: 'list',
    usage: '--vault DIR [--key K] [--node N] [--set HEX] [--index I] [--status S]',
    summary: 'the shares held, filtered',
    run: async (ctx) => {
      const { values } = ctx;
      const lang = await language(ctx);
      const index = wholeNumber(values.index, 'index', 1, 255);
      const status = statusFilter(values.status);
      const v = await openUnlocked(ctx);
      const shares = listShares(v, {
        ...(values.key === undefined ? {} : { keyId: values.key }),
        ...(values.node === undefined ? {} : { nodeId: values.node }),
        ...(values.set === undefined ? {} : { setId: values.set }),
        ...(index === undefined ? {} : { shareIndex: index }),
        ...(status === undefined ? {} : { status }),
      });
      return {
        data: { shares, refusals: v.state.refusals.map((r) => ({ id: r.id, name: r.name, code: r.code, at: r.at, fields: r.fields, receipts: r.receipts.length })) },
        lines: [
          ...shares.map((s) => `${s.id}  ${s.keyId}/${s.nodeId}  set ${s.setId.slice(0, 8)} epoch ${String(s.epoch)}  share ${String(s.shareIndex)}/${String(s.total)}  ${STATUS_LABELS[s.status][lang]}`),
          `${String(shares.length)} share(s).`,
        ],
      };
    },
  },
);

const verify = command(
  {},
  {
    name: 'verify-all',
    usage: '--vault DIR',
    summary: 'checks every share against its commitment (exit 3 if one fails)',
    run: async (ctx) => {
      const lang = await language(ctx);
      const v = await openUnlocked(ctx);
      const r = await verifyAll(v);
      return {
        data: { ...r },
        lines: [...r.results.filter((x) => !x.ok).map((x) => `FAILED ${x.id}: ${x.problem?.message[lang] ?? ''} (${x.problem?.code ?? ''})`), `${String(r.ok)} share(s) verified, ${String(r.failed)} failed.`],
        exit: r.failed > 0 ? 3 : 0,
      };
    },
  },
);

export const importGroup: Group = { name: 'import', summary: 'envelopes and notices from files, QR images or UR text', commands: [importCmd] };
export const listGroup: Group = { name: 'list', summary: 'the shares held', commands: [list] };
export const verifyAllGroup: Group = { name: 'verify-all', summary: 'every share checked', commands: [verify] };
