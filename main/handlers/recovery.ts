/** IPC handlers for a recovery export of one share, the recovery station (ops) and the linked agent. */
import { fromHex, toHex } from '../../shared/bytes';
import { type HandlerResultOf } from '../../shared/ipc/contract';
import { openMessage, recoveryExportSchema, trustKey } from '../../shared/protocol';
import { encoderAt, STANDARD_DENSITY } from '../../shared/qr/loop';
import type { AppContext } from '../context';
import { publicProblem, toIpcError } from '../ipc-errors';
import { callAgent } from '../services/agent-client';
import { messagesFromInputs } from '../services/inputs';
import { urTypeOf } from '../../shared/qr/types';
import { explain } from '../services/messages';
import { exportForRecovery, showRecoveryRequest, type RecoverySummary } from '../services/recovery';
import { recoveryPolicyOf } from '../services/settings';
import { makeRecoverySheet } from '../services/sheet';
import { agentRefusal, reportedGroupKey } from '../services/station';
import { fileOut, qrFor } from './common';
import type { HandlersFor } from './types';

function summaryOut(s: RecoverySummary): HandlerResultOf<'recovery:show'> {
  const { problem, ...rest } = s;
  return {
    ...rest,
    approvals: s.approvals.map((a) => ({ ...a })),
    warnings: s.warnings.map((w) => ({ ...w, params: { ...w.params }, message: { ...w.message }, advice: { ...w.advice } })),
    ...(problem === undefined ? {} : { problem: publicProblem(problem) }),
  };
}

/** The recovery policy from the settings (defaults when the file is damaged: the settings screen says so). */
const policyOf = async (ctx: AppContext) => recoveryPolicyOf(await ctx.settings());

function stationView(ctx: AppContext, sessionId: string): HandlerResultOf<'station:refresh'>['session'] {
  const v = ctx.station.view(sessionId);
  return {
    ...v,
    arrived: v.arrived.map(({ problem, ...a }) => ({ ...a, ...(problem === undefined ? {} : { problem: publicProblem(problem) }) })),
    agent: v.agent === null ? null : { ...v.agent, received: [...v.agent.received], missing: [...v.agent.missing], server: [...v.agent.server], approvals: [...v.agent.approvals] } };
}

const stationList = (ctx: AppContext): HandlerResultOf<'station:list'>['sessions'] => ctx.station.list().map((s) => stationView(ctx, s.sessionId));

/** The pinned agent key, when a vault with a pinned agent is unlocked here. */
async function pinnedKeyIfAny(ctx: AppContext): Promise<Uint8Array | undefined> {
  const v = await ctx.vaultIfExists();
  if (v === null || !v.unlocked) return undefined;
  const a = v.state.agent;
  return a === null ? undefined : fromHex(a.signKey);
}

export const recoveryHandlers = {
  // -- recovery export ----------------------------------------------------------------------------
  'recovery:show': async (req, ctx) => {
    const policy = await policyOf(ctx);
    return summaryOut(showRecoveryRequest(await ctx.unlocked(), req.request.bytes, policy));
  },
  'recovery:export': async (req, ctx) => {
    const v = await ctx.unlocked();
    // The font first: a missing font must refuse before the share is exported, not after.
    const font = req.sheet ? await ctx.sheetFont() : undefined;
    const opId = req.opId;
    if (opId !== undefined) ctx.progress({ opId, channel: 'recovery:export', phase: 'exporting', done: 0, total: 0 }, true);
    const policy = await policyOf(ctx);
    const result = await exportForRecovery(v, req.request.bytes, req.confirmation.toLowerCase(), { policy, ...(req.override === undefined ? {} : { override: req.override }) });
    const file = fileOut(result.baseName, '.custos', result.bytes);
    const qr = await qrFor('recovery-export', result.bytes);
    // The extra fountain frames continue the pure frames' own sequence (same density, same fragments).
    const encoder = encoderAt(result.bytes, urTypeOf('recovery-export'), STANDARD_DENSITY.version);
    const loop = req.extraFrames > 0 && !encoder.isSinglePart ? encoder.range(encoder.seqLen + 1, req.extraFrames) : [];
    let sheet: { name: string; bytes: Uint8Array } | null = null;
    let sheetProblem: ReturnType<typeof publicProblem> | undefined;
    if (font !== undefined) {
      try {
        const body = openMessage(result.bytes, 'recovery-export', recoveryExportSchema, trustKey(fromHex(v.info.signKey))).body;
        const s = result.summary;
        const made = await makeRecoverySheet(
          {
            exportBytes: result.bytes,
            exportHash: result.hash,
            incidentId: s.incidentId,
            ...(s.incidentTitle === undefined ? {} : { incidentTitle: s.incidentTitle }),
            keyId: s.keyId,
            nodeId: s.nodeId,
            setId: s.setId,
            epoch: s.epoch,
            shareIndex: body.share_index,
            threshold: s.threshold,
            total: s.total,
            mode: s.mode,
            sessionId: s.sessionId,
            custodianName: v.info.name,
            custodianCode: v.info.code,
            // Issue 12 (H14): each approval's standing as the review screen shows it, and the override
            // the signed export carries (read back from the export itself, not from the request).
            approvals: s.approvals.map((a) => ({ name: a.name, code: a.code, verdict: a.verdict, ...(a.pinned === undefined ? {} : { pinned: { ...a.pinned } }) })),
            verifiedApprovals: s.verifiedApprovals,
            requiredApprovals: s.requiredApprovals,
            ...(body.override === undefined ? {} : { override: { reason: body.override.reason } }),
            createdAt: body.created_at,
            notAfter: s.notAfter,
          },
          font,
        );
        sheet = fileOut(`${result.baseName}-sheet`, '.pdf', made.pdf);
      } catch (error) {
        // The export is made and audited: hand it over anyway, and say the sheet failed.
        ctx.host.log('sheet-failed', { code: explain(error).code });
        sheetProblem = toIpcError(error);
      }
    }
    if (opId !== undefined) ctx.progress({ opId, channel: 'recovery:export', phase: 'exporting', done: 1, total: 1 }, true);
    return { summary: summaryOut(result.summary), hash: result.hash, file, qr: { ...qr, loop }, sheet, ...(sheetProblem === undefined ? {} : { sheetProblem }) };
  },

  // -- recovery station ---------------------------------------------------------------------------
  'station:add': async (req, ctx) => {
    const { messages, unread } = messagesFromInputs(req.files, req.frames);
    const agentKey = await pinnedKeyIfAny(ctx);
    const added = ctx.station.add(messages, { ...(agentKey === undefined ? {} : { agentKey }), now: ctx.nowSeconds() });
    return {
      added: added.map(({ problem, ...a }) => ({ ...a, ...(problem === undefined ? {} : { problem: publicProblem(problem) }) })),
      unread: unread.map((u) => ({ names: [...u.names], problem: publicProblem(u.problem) })),
      sessions: stationList(ctx),
    };
  },
  'station:list': (_req, ctx) => Promise.resolve({ sessions: stationList(ctx) }),
  'station:remove': (req, ctx) => {
    ctx.station.remove(req.sessionId, req.hash);
    return Promise.resolve({ sessions: stationList(ctx) });
  },
  'station:refresh': async (req, ctx) => {
    const { keyId, nodeId } = ctx.station.pending(req.sessionId);
    const agent = await ctx.agent();
    const r = await callAgent(() => agent.backup.recoverMPCShare({ keyId, nodeId, sessionId: req.sessionId, shareData: [], complete: false }));
    ctx.station.recordAgentView(req.sessionId, r.session, ctx.nowSeconds());
    return { session: stationView(ctx, req.sessionId) };
  },
  'station:submit': async (req, ctx) => {
    const { keyId, nodeId, items } = ctx.station.pending(req.sessionId);
    const agent = await ctx.agent();
    if (req.opId !== undefined) ctx.progress({ opId: req.opId, channel: 'station:submit', phase: 'submitting', done: 0, total: items.length }, true);
    const r = await callAgent(() =>
      agent.backup.recoverMPCShare({ keyId, nodeId, sessionId: req.sessionId, shareData: items.map((i) => i.bytes), complete: req.complete, drill: req.drill }),
    );
    ctx.station.recordAnswer(req.sessionId, items, r, ctx.nowSeconds());
    if (req.opId !== undefined) ctx.progress({ opId: req.opId, channel: 'station:submit', phase: 'submitting', done: items.length, total: items.length }, true);
    const completion = req.complete
      ? {
          success: r.success,
          written: r.written,
          ...(r.failure === undefined ? {} : { failure: publicProblem(agentRefusal(r.failure.code, r.failure.message)) }),
          selfCheck: r.selfCheck.map((c) => ({ name: c.name, ok: c.ok, detail: c.detail })),
          keydataSha256: toHex(r.keydataSha256),
          durationMs: r.durationMs,
          ...((gk) => (gk === undefined ? {} : { groupKey: { ...gk } }))(reportedGroupKey(r.groupPublicKey)), // issue 12 (H8)
        }
      : null;
    return {
      session: stationView(ctx, req.sessionId),
      accepted: [...r.acceptedShareIndexes].sort((a, b) => a - b),
      refused: r.refused.map((x) => ({ shareIndex: x.shareIndex, problem: publicProblem(agentRefusal(x.code, x.message)) })),
      missing: [...r.missingShareIndexes].sort((a, b) => a - b),
      completion,
    };
  },
  // The linked agent's channels (agent:*) are in ./station-link.ts.
} satisfies HandlersFor<'recovery' | 'station'>;
