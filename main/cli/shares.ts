/** `import`, `list`, `details` and `verify-all`: the shares in the vault (custodian CLI). */
import { statSync } from 'node:fs';
import { CliError } from '../../node/cli/errors';
import { expandInputs, readInput, wholeNumber } from '../../node/cli/inputs';
import type { Group } from '../../node/cli/runner';
import { importEnvelopes } from '../services/inbox';
import { messagesFromInputs } from '../services/inputs';
import { STATUS_LABELS } from '../services/messages';
import { CLASS_LABELS, classifyImportResult, type RefusalClass } from '../services/refusal-class';
import { findShare, listShares, summarize, verifyAll } from '../services/shares';
import { shareGroupKey } from '../services/share-group-key';
import { SHARE_STATUSES, type ShareStatus } from '../services/state';
import { command, language, openUnlocked, usage } from './common';
import { t } from './i18n';

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
        if (r.outcome === 'accepted') return t(lang, 'import.accepted', { name: r.name ?? '', key: r.share?.keyId ?? '', node: r.share?.nodeId ?? '', index: r.share?.shareIndex ?? 0, id: r.id ?? '' });
        if (r.outcome === 'applied') return t(lang, 'import.applied', { name: r.name ?? '', n: r.supersede?.affected.length ?? 0 });
        const c = 'refusal' in r ? r.refusal : undefined;
        if (c !== undefined) advice.set(c.class, c.advice[lang]);
        return t(lang, 'import.refused', { name: r.name ?? '', class: c === undefined ? '' : CLASS_LABELS[c.class][lang], code: r.code ?? '', message: r.message?.[lang] ?? '' });
      });
      lines.push(...unread.map((p) => t(lang, 'import.unread', { names: p.names.join(', '), code: p.problem.code, message: p.problem.message[lang] })));
      const refused = summary.refused + unread.length;
      for (const cls of ['possible-attack', 'not-for-you-or-outdated', 'harmless'] as const) {
        const a = advice.get(cls);
        if (a !== undefined) lines.push(a);
      }
      lines.push(t(lang, 'import.total', { accepted: summary.accepted, refused, applied: summary.applied }));
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
          ...shares.map((s) => t(lang, 'list.row', { id: s.id, key: s.keyId, node: s.nodeId, set: s.setId.slice(0, 8), epoch: s.epoch, index: s.shareIndex, total: s.total, status: STATUS_LABELS[s.status][lang] })),
          t(lang, 'list.total', { n: shares.length }),
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
        lines: [...r.results.filter((x) => !x.ok).map((x) => t(lang, 'verify.failed', { id: x.id, message: x.problem?.message[lang] ?? '', code: x.problem?.code ?? '' })), t(lang, 'verify.total', { ok: r.ok, failed: r.failed })],
        exit: r.failed > 0 ? 3 : 0,
      };
    },
  },
);

/** Issue 12 (H14): the labels of `details`, in both languages. */
const DETAIL_TEXT = {
  en: {
    title: 'Group public key from the manifest the agent signed',
    compressed: 'public key (compressed)',
    address: 'Ethereum-style address',
    base58: 'public key (base58)',
    compare: 'Compare it now with the key or address your company has on record; after a recovery the station shows the same value. If it differs, do not take part in a recovery: report it to security.',
    absent: "Group public key: not in this backup's manifest (made before manifests carried it). Compare it after recovery, on the station's result.",
  },
  'zh-CN': {
    title: '群公钥（来自代理签名的备份清单）',
    compressed: '公钥（压缩格式）',
    address: '以太坊格式地址',
    base58: '公钥（base58）',
    compare: '请现在就与公司记录的公钥或地址核对；恢复后恢复站会显示同一个值。若不一致，不要参与恢复，并报告安全团队。',
    absent: '群公钥：本次备份的清单中没有该值（清单生成于加入此字段之前）。请在恢复后，在恢复站的结果中核对。',
  },
} as const;

const details = command(
  { id: { type: 'string' } },
  {
    name: 'details',
    usage: '--vault DIR --id ENVELOPE-ID',
    summary: "one share's details, with the group public key its signed manifest names (compare it before a recovery)",
    run: async (ctx) => {
      const lang = await language(ctx);
      if (ctx.values.id === undefined) throw usage('--id is required: the envelope id (or its first 8+ hex digits) from `list`.');
      const v = await openUnlocked(ctx);
      const r = findShare(v.state.shares, ctx.values.id);
      const groupKey = await shareGroupKey(v, r);
      const T = DETAIL_TEXT[lang];
      const s = summarize(r);
      return {
        data: { share: { ...s, manifestHash: r.manifestHash, agentKey: r.agentKey }, ...(groupKey === undefined ? {} : { groupKey }) },
        lines: [
          `${s.id}  ${s.keyId}/${s.nodeId}  set ${s.setId} epoch ${String(s.epoch)}  share ${String(s.shareIndex)}/${String(s.total)} (${String(s.threshold)} needed)  ${s.curve}  ${STATUS_LABELS[s.status][lang]}`,
          `manifest ${r.manifestHash}  agent ${r.agentKey}`,
          ...(groupKey === undefined
            ? [T.absent]
            : [
                `${T.title}:`,
                `  ${T.compressed}: ${groupKey.compressed}`,
                ...(groupKey.address === undefined ? [] : [`  ${T.address}: ${groupKey.address}`]),
                ...(groupKey.base58 === undefined ? [] : [`  ${T.base58}: ${groupKey.base58}`]),
                T.compare,
              ]),
        ],
      };
    },
  },
);

export const importGroup: Group = { name: 'import', summary: 'envelopes and notices from files, QR images or UR text', commands: [importCmd] };
export const listGroup: Group = { name: 'list', summary: 'the shares held', commands: [list] };
export const detailsGroup: Group = { name: 'details', summary: "one share's details and its group public key", commands: [details] };
export const verifyAllGroup: Group = { name: 'verify-all', summary: 'every share checked', commands: [verify] };
