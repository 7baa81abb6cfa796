/**
 * `recovery show | export`: a signed recovery request reviewed, then this custodian's share exported
 * for it (custodian CLI). The review says how each approval stands against the pinned approvers and
 * prints the warnings (what to do, whom to call back) in the vault's language (--lang).
 */
import { join, resolve } from 'node:path';
import { readInput } from '../../node/cli/inputs';
import type { Group } from '../../node/cli/runner';
import { ServiceError } from '../services/errors';
import type { Language } from '../services/messages';
import { exportForRecovery, showRecoveryRequest, writeRecoveryExport, MIN_OVERRIDE_REASON, type ApprovalView, type RecoverySummary } from '../services/recovery';
import { readSettingsOrDefaults, recoveryPolicyOf, SETTINGS_FILE } from '../services/settings';
import { command, isoOf, language, need, openUnlocked, vaultDir, type CustodianCtx } from './common';

const VERDICT: Readonly<Record<ApprovalView['verdict'], Readonly<Record<Language, string>>>> = {
  verified: { en: 'verified: a pinned approver', 'zh-CN': '已验证：已信任的审批人' },
  'changed-key': { en: 'CHANGED KEY: same name as a pinned approver, another key', 'zh-CN': '密钥已变：与已信任审批人同名，但密钥不同' },
  disabled: { en: 'DISABLED: removed from the approver roster', 'zh-CN': '已停用：已从审批人名单中移除' },
  unknown: { en: 'UNKNOWN APPROVER: not pinned in this vault', 'zh-CN': '未知审批人：未在本保险库中信任' },
};

const CALL: Readonly<Record<Language, (who: string) => string>> = {
  en: (who) => `call back: ${who}`,
  'zh-CN': (who) => `回电核实：${who}`,
};
const NO_CONTACT: Readonly<Record<Language, string>> = {
  en: 'no call-back contact recorded: reach them through a number you already know, never one given with this request',
  'zh-CN': '未记录回电联系方式：请通过您已知的号码联系，切勿使用随此请求提供的号码',
};

function summaryLines(s: RecoverySummary, lang: Language): string[] {
  const contact = (c: { name: string; reach: string } | undefined): string => (c === undefined ? NO_CONTACT[lang] : CALL[lang](`${c.name}, ${c.reach}`));
  return [
    `Recovery request for incident ${s.incidentId}`,
    `  key ${s.keyId}, node ${s.nodeId}, backup set ${s.setId} (epoch ${String(s.epoch)}), ${String(s.threshold)} of ${String(s.total)}`,
    `  mode: ${s.mode === 'mixed' ? 'mixed (server and custodian shares)' : 'external only (custodian shares only)'}`,
    `  agent: ${s.agent.name} (code ${s.agent.code}); ${contact(s.agent.contact)}`,
    ...s.approvals.map((a) => `  approved by ${a.name} (code ${a.code}) at ${isoOf(a.approvedAt)}: ${VERDICT[a.verdict][lang]}`),
    `  verified approvers: ${String(s.verifiedApprovals)} of ${String(s.requiredApprovals)} needed`,
    `  valid until ${isoOf(s.notAfter)}`,
    s.share === null ? '  your share: none held' : `  your share: index ${String(s.share.shareIndex)}, status ${s.share.status}, envelope ${s.share.id}`,
    ...s.warnings.flatMap((w) => [`  WARNING: ${w.message[lang]}`, `    ${w.advice[lang]} (${contact(w.contact)})`]),
    ...(s.problem === undefined ? [] : [`  cannot export: ${s.problem.message[lang]} (${s.problem.code})`]),
  ];
}

async function policy(ctx: CustodianCtx) {
  return recoveryPolicyOf((await readSettingsOrDefaults(join(vaultDir(ctx), SETTINGS_FILE))).settings);
}

const show = command(
  { request: { type: 'string' } },
  {
    name: 'recovery show',
    usage: '--vault DIR --request FILE',
    summary: 'what a recovery request asks for, checked against the pinned agent, the pinned approvers and this vault',
    run: async (ctx) => {
      const request = readInput(need(ctx.values.request, 'request'), 'recovery request');
      const p = await policy(ctx);
      const lang = await language(ctx);
      const v = await openUnlocked(ctx);
      const s = showRecoveryRequest(v, request, p);
      const next = !s.exportable
        ? []
        : s.needsOverride
          ? [`Fewer than ${String(s.requiredApprovals)} approvals verify. Export only after calling back, as \`recovery export ... --confirm --override-reason "who you called, what they confirmed" --out DIR\` (at least ${String(MIN_OVERRIDE_REASON)} characters).`]
          : ['To export, run again as `recovery export ... --confirm --out DIR`.'];
      return { data: { summary: s }, lines: [...summaryLines(s, lang), ...next] };
    },
  },
);

const exportCmd = command(
  { request: { type: 'string' }, confirm: { type: 'boolean' }, out: { type: 'string' }, qr: { type: 'boolean' }, 'override-reason': { type: 'string' } },
  {
    name: 'recovery export',
    usage: '--vault DIR --request FILE --confirm --out DIR [--qr] [--override-reason "…"]',
    summary: "exports this custodian's share for the request, encrypted to the session (after review: --confirm)",
    run: async (ctx) => {
      const { values } = ctx;
      const request = readInput(need(values.request, 'request'), 'recovery request');
      const out = resolve(need(values.out, 'out'));
      const p = await policy(ctx);
      const lang = await language(ctx);
      const v = await openUnlocked(ctx);
      const s = showRecoveryRequest(v, request, p);
      if (values.confirm !== true) {
        throw new ServiceError('CONFIRMATION_REQUIRED', `${summaryLines(s, lang).join('\n')}\nReview these details; to export your share for this request, run again with --confirm.`, {
          details: { requestHash: s.requestHash },
        });
      }
      const override = values['override-reason'];
      const result = await exportForRecovery(v, request, s.confirmation, { policy: p, ...(override === undefined ? {} : { override }) });
      const files = await writeRecoveryExport(result, out, values.qr === true ? { png: true, svg: true } : undefined);
      return {
        data: { summary: result.summary, file: files.file, hash: result.hash, overridden: result.summary.needsOverride, qr: { png: files.png, svg: files.svg, frames: files.frames.length } },
        lines: [
          ...summaryLines(result.summary, lang),
          ...(result.summary.needsOverride ? ['Exported WITH AN OVERRIDE of the approver check; the reason is in your audit log and in the export.'] : []),
          `Exported share ${String(result.summary.share?.shareIndex ?? '')}: ${files.file}`,
          ...(files.png.length > 0 ? [`${String(files.png.length)} QR frame(s): ${files.png.join(', ')}`] : []),
        ],
      };
    },
  },
);

export const recoveryGroup: Group = { name: 'recovery', summary: "a recovery request reviewed and this custodian's share exported", commands: [show, exportCmd] };
