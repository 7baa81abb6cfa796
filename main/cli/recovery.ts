/** `recovery show | export`: a signed recovery request reviewed, then this custodian's share exported for it (custodian CLI). */
import { resolve } from 'node:path';
import { readInput } from '../../node/cli/inputs';
import type { Group } from '../../node/cli/runner';
import { ServiceError } from '../services/errors';
import { exportForRecovery, showRecoveryRequest, writeRecoveryExport, type RecoverySummary } from '../services/recovery';
import { command, isoOf, need, openUnlocked } from './common';

function summaryLines(s: RecoverySummary): string[] {
  return [
    `Recovery request for incident ${s.incidentId}`,
    `  key ${s.keyId}, node ${s.nodeId}, backup set ${s.setId} (epoch ${String(s.epoch)}), ${String(s.threshold)} of ${String(s.total)}`,
    `  mode: ${s.mode === 'mixed' ? 'mixed (server and custodian shares)' : 'external only (custodian shares only)'}`,
    `  agent: ${s.agent.name} (code ${s.agent.code})`,
    ...s.approvals.map((a) => `  approved by ${a.name} (code ${a.code}) at ${isoOf(a.approvedAt)}`),
    `  valid until ${isoOf(s.notAfter)}`,
    s.share === null ? '  your share: none held' : `  your share: index ${String(s.share.shareIndex)}, status ${s.share.status}, envelope ${s.share.id}`,
    ...s.warnings.map((w) => `  note: ${w}`),
    ...(s.problem === undefined ? [] : [`  cannot export: ${s.problem.message.en} (${s.problem.code})`]),
  ];
}

const show = command(
  { request: { type: 'string' } },
  {
    name: 'recovery show',
    usage: '--vault DIR --request FILE',
    summary: 'what a recovery request asks for, checked against the pinned agent and this vault',
    run: async (ctx) => {
      const request = readInput(need(ctx.values.request, 'request'), 'recovery request');
      const v = await openUnlocked(ctx);
      const s = showRecoveryRequest(v, request);
      return { data: { summary: s }, lines: [...summaryLines(s), ...(s.exportable ? ['To export, run again as `recovery export ... --confirm --out DIR`.'] : [])] };
    },
  },
);

const exportCmd = command(
  { request: { type: 'string' }, confirm: { type: 'boolean' }, out: { type: 'string' }, qr: { type: 'boolean' } },
  {
    name: 'recovery export',
    usage: '--vault DIR --request FILE --confirm --out DIR [--qr]',
    summary: "exports this custodian's share for the request, encrypted to the session (after review: --confirm)",
    run: async (ctx) => {
      const { values } = ctx;
      const request = readInput(need(values.request, 'request'), 'recovery request');
      const out = resolve(need(values.out, 'out'));
      const v = await openUnlocked(ctx);
      const s = showRecoveryRequest(v, request);
      if (values.confirm !== true) {
        throw new ServiceError('CONFIRMATION_REQUIRED', `${summaryLines(s).join('\n')}\nReview these details; to export your share for this request, run again with --confirm.`, {
          details: { requestHash: s.requestHash },
        });
      }
      const result = await exportForRecovery(v, request, s.confirmation);
      const files = await writeRecoveryExport(result, out, values.qr === true ? { png: true, svg: true } : undefined);
      return {
        data: { summary: result.summary, file: files.file, hash: result.hash, qr: { png: files.png, svg: files.svg, frames: files.frames.length } },
        lines: [...summaryLines(result.summary), `Exported share ${String(result.summary.share?.shareIndex ?? '')}: ${files.file}`, ...(files.png.length > 0 ? [`${String(files.png.length)} QR frame(s): ${files.png.join(', ')}`] : [])],
      };
    },
  },
);

export const recoveryGroup: Group = { name: 'recovery', summary: "a recovery request reviewed and this custodian's share exported", commands: [show, exportCmd] };
