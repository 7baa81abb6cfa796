/**
 * `recovery show | export`: a signed recovery request reviewed, then this custodian's share exported
 * for it (custodian CLI). The review says how each approval stands against the pinned approvers and
 * prints the warnings (what to do, whom to call back) in the vault's language (--lang).
 */
import { join, resolve } from 'node:path';
import { readInput } from '../../node/cli/inputs';
import type { Group } from '../../node/cli/runner';
import { ServiceError } from '../services/errors';
import { STATUS_LABELS, type Language } from '../services/messages';
import { t } from './i18n';
import { exportForRecovery, showRecoveryRequest, writeRecoveryExport, MIN_OVERRIDE_REASON, type ApprovalView, type RecoverySummary } from '../services/recovery';
import { readSettingsOrDefaults, recoveryPolicyOf, SETTINGS_FILE } from '../services/settings';
import { command, isoOf, language, need, openUnlocked, vaultDir, type CustodianCtx } from './common';

const VERDICT_KEY: Readonly<Record<ApprovalView['verdict'], string>> = {
  verified: 'recovery.verdict.verified',
  'changed-key': 'recovery.verdict.changedKey',
  disabled: 'recovery.verdict.disabled',
  unknown: 'recovery.verdict.unknown',
};

/** A share status in words (the status word itself if it has no label). */
const statusLabel = (status: string, lang: Language): string => (status in STATUS_LABELS ? STATUS_LABELS[status as keyof typeof STATUS_LABELS][lang] : status);

/** The review of a request, line by line, in `lang` (main/cli/locales/). */
function summaryLines(s: RecoverySummary, lang: Language): string[] {
  const contact = (c: { name: string; reach: string } | undefined): string => (c === undefined ? t(lang, 'recovery.noContact') : t(lang, 'recovery.callBack', { who: `${c.name}, ${c.reach}` }));
  return [
    t(lang, 'recovery.title', { incident: s.incidentId }),
    ...(s.incidentTitle === undefined ? [] : [t(lang, 'recovery.incidentTitle', { title: s.incidentTitle })]),
    t(lang, 'recovery.set', { key: s.keyId, node: s.nodeId, set: s.setId, epoch: s.epoch, threshold: s.threshold, total: s.total }),
    t(lang, 'recovery.mode', { mode: s.mode }),
    t(lang, 'recovery.agent', { name: s.agent.name, code: s.agent.code, contact: contact(s.agent.contact) }),
    ...s.approvals.map((a) => t(lang, 'recovery.approval', { name: a.name, code: a.code, at: isoOf(a.approvedAt), verdict: t(lang, VERDICT_KEY[a.verdict]) })),
    t(lang, 'recovery.verifiedCount', { n: s.verifiedApprovals, required: s.requiredApprovals }),
    t(lang, 'recovery.validUntil', { at: isoOf(s.notAfter) }),
    s.share === null ? t(lang, 'recovery.noShare') : t(lang, 'recovery.share', { index: s.share.shareIndex, status: statusLabel(s.share.status, lang), id: s.share.id }),
    ...s.warnings.flatMap((w) => [t(lang, 'recovery.warning', { message: w.message[lang] }), t(lang, 'recovery.advice', { advice: w.advice[lang], contact: contact(w.contact) })]),
    ...(s.problem === undefined ? [] : [t(lang, 'recovery.cannotExport', { message: s.problem.message[lang], code: s.problem.code })]),
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
          ? [t(lang, 'recovery.nextOverride', { required: s.requiredApprovals, min: MIN_OVERRIDE_REASON })]
          : [t(lang, 'recovery.next')];
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
        throw new ServiceError('CONFIRMATION_REQUIRED', `${summaryLines(s, lang).join('\n')}\n${t(lang, 'recovery.confirm')}`, {
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
          ...(result.summary.needsOverride ? [t(lang, 'recovery.overridden')] : []),
          t(lang, 'recovery.exported', { index: result.summary.share?.shareIndex ?? 0, file: files.file }),
          ...(files.png.length > 0 ? [t(lang, 'recovery.frames', { n: files.png.length, files: files.png.join(', ') })] : []),
        ],
      };
    },
  },
);

export const recoveryGroup: Group = { name: 'recovery', summary: "a recovery request reviewed and this custodian's share exported", commands: [show, exportCmd] };
