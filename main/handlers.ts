/**
 * One handler per IPC channel (shared/ipc/contract.ts), each a thin call into the services in
 * main/services/. A handler gets a request already parsed by the contract and returns what the
 * contract's response schema parses; main/dispatch.ts does both parses and turns failures into
 * coded IPC errors. The map is typed by the contract, so a channel without a handler, or a
 * handler answering the wrong shape, does not compile.
 */
import { promises as fsp } from 'node:fs';
import { fromHex, toHex } from '../shared/bytes';
import { CustosError } from '../shared/errors';
import { IPC_ERROR_CODES, LANGUAGES, type Channel, type HandlerResultOf, type IpcErrorCode, type ParsedRequestOf, type ShareStatus } from '../shared/ipc/contract';
import { openMessage, openReceipt, PROTOCOL_VERSION, recoveryExportSchema, trustKey, type MessageType } from '../shared/protocol';
import { moreFrames } from '../shared/qr/ur';
import { renderSvg } from '../shared/qr/render';
import { DeliveryStatus } from '../proto/gen/infra/v1/backup_pb';
import type { AppContext } from './context';
import { publicProblem, toIpcError } from './ipc-errors';
import { callAgent } from './services/agent-client';
import { exportAuditJsonl, listAudit, verifyAudit } from './services/audit';
import { purgeDue, rollbackDelete, softDelete } from './services/deletion';
import { ServiceError } from './services/errors';
import { importEnvelopes, type ItemResult } from './services/inbox';
import { messagesFromInputs } from './services/inputs';
import { isPng } from '../shared/qr/png';
import { urTypeOf } from '../shared/qr/types';
import { qrTextInPng } from '../node/qr-files';
import { answerChallenge } from './services/inventory';
import { explain, sentences, type Explained } from './services/messages';
import { assembleFrames } from './services/qr-import';
import { framesFor, safeName } from './services/qr-files';
import { signReceipts } from './services/receipts';
import { exportForRecovery, showRecoveryRequest, type RecoverySummary } from './services/recovery';
import { readSettingsOrDefaults, updateSettings } from './services/settings';
import { findShare, listShares, summarize, verifyAll } from './services/shares';
import { makeRecoverySheet } from './services/sheet';
import { agentRefusal } from './services/station';
import type { PinnedAgent } from './services/state';
import { applySupersede } from './services/supersede';
import { applyAgentKeyRotation, pinAgent, previewAgentCard } from './services/trust';
import { Vault } from './services/vault';

type Handler<C extends Channel> = (req: ParsedRequestOf<C>, ctx: AppContext) => Promise<HandlerResultOf<C>>;
export type Handlers = { readonly [C in Channel]: Handler<C> };

// ---- helpers ------------------------------------------------------------------------------------

const fileOut = (baseName: string, extension: string, bytes: Uint8Array): { name: string; bytes: Uint8Array } => ({
  name: `${safeName(baseName).replace(/^[._]+/, '') || 'custos'}${extension}`,
  bytes,
});

async function qrFor(type: MessageType, bytes: Uint8Array): Promise<{ frames: string[]; svgs: string[] }> {
  const frames = framesFor(type, bytes);
  const svgs: string[] = [];
  for (const f of frames) svgs.push(await renderSvg(f));
  return { frames, svgs };
}

const ipcCode = (code: string): IpcErrorCode => ((IPC_ERROR_CODES as readonly string[]).includes(code) ? (code as IpcErrorCode) : 'INTERNAL');

/** An inbox item's refusal as an IPC problem. */
function itemProblem(r: ItemResult): ReturnType<typeof publicProblem> | undefined {
  if (r.code === undefined || r.message === undefined) return undefined;
  return publicProblem({ code: r.code, message: r.message, ...(r.detail === undefined ? {} : { detail: r.detail }), details: {} });
}

const problemOf = (e: Explained | undefined): ReturnType<typeof publicProblem> | undefined => (e === undefined ? undefined : publicProblem(e));

function agentView(a: PinnedAgent): HandlerResultOf<'trust:status'>['previous'][number] {
  return { name: a.name, signKey: a.signKey, fingerprint: a.fingerprint, code: a.code, pinnedAt: a.pinnedAt, via: a.via, ...(a.replacedAt === undefined ? {} : { replacedAt: a.replacedAt }) };
}

function vaultInfoOf(v: Vault): HandlerResultOf<'vault:create'>['info'] {
  const i = v.info;
  return { name: i.name, createdAt: i.createdAt, signKey: i.signKey, ageRecipient: i.ageRecipient, fingerprint: i.fingerprint, code: i.code };
}

function summaryOut(s: RecoverySummary): HandlerResultOf<'recovery:show'> {
  const { problem, ...rest } = s;
  return { ...rest, approvals: s.approvals.map((a) => ({ ...a })), warnings: [...s.warnings], ...(problem === undefined ? {} : { problem: publicProblem(problem) }) };
}

const DELIVERY: Record<DeliveryStatus, 'unspecified' | 'pending' | 'delivered' | 'confirmed' | 'rejected'> = {
  [DeliveryStatus.UNSPECIFIED]: 'unspecified',
  [DeliveryStatus.PENDING]: 'pending',
  [DeliveryStatus.DELIVERED]: 'delivered',
  [DeliveryStatus.CONFIRMED]: 'confirmed',
  [DeliveryStatus.REJECTED]: 'rejected',
};

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

// ---- the handlers -------------------------------------------------------------------------------

export const HANDLERS: Handlers = {
  // -- app ------------------------------------------------------------------------------------------
  'app:info': (_req, ctx) => Promise.resolve({ name: 'Custos' as const, version: ctx.host.app.version, protocolVersion: PROTOCOL_VERSION, platform: ctx.host.app.platform, languages: [...LANGUAGES] }),
  // dispatch() already restarted the auto-lock timer: this channel exists for that alone.
  'app:activity': () => Promise.resolve({}),

  // -- vault --------------------------------------------------------------------------------------
  'vault:status': async (_req, ctx) => {
    const v = await ctx.vaultIfExists();
    const settings = await ctx.settings();
    if (v === null) return { exists: false, unlocked: false, info: null, unlockDelayMs: 0, agent: null, counts: null, autoLockMinutes: settings.autoLockMinutes };
    const unlocked = v.unlocked;
    let counts: HandlerResultOf<'vault:status'>['counts'] = null;
    if (unlocked) {
      const c: Record<ShareStatus, number> = { received: 0, confirmed: 0, exported: 0, superseded: 0, deleted: 0 };
      for (const s of v.state.shares) c[s.status]++;
      counts = { ...c, refused: v.state.refusals.length };
    }
    return {
      exists: true,
      unlocked,
      info: vaultInfoOf(v),
      unlockDelayMs: unlocked ? 0 : Math.ceil(await v.unlockDelayMs()),
      agent: unlocked && v.state.agent !== null ? agentView(v.state.agent) : null,
      counts,
      autoLockMinutes: settings.autoLockMinutes,
    };
  },
  'vault:create': async (req, ctx) => {
    if ((await ctx.vaultIfExists()) !== null) throw new ServiceError('VAULT_EXISTS', 'A vault already exists for this profile.');
    if (req.opId !== undefined) ctx.progress({ opId: req.opId, channel: 'vault:create', phase: 'deriving', done: 0, total: 0 }, true);
    const v = await Vault.create(ctx.host.vaultDir, { name: req.name, passphrase: req.passphrase }, { ...ctx.host.vaultOptions, ...ctx.host.createOptions });
    ctx.adoptVault(v);
    await ctx.startAutoLock();
    const card = new Uint8Array(await fsp.readFile(v.path('card')));
    if (req.opId !== undefined) ctx.progress({ opId: req.opId, channel: 'vault:create', phase: 'deriving', done: 1, total: 1 }, true);
    return { info: vaultInfoOf(v), card: fileOut(`enrollment-card-${v.info.name}`, '.custos', card), qr: await qrFor('custodian-card', card) };
  },
  'vault:unlock': async (req, ctx) => {
    const v = await ctx.vault();
    const wait = Math.ceil(await v.unlockDelayMs());
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (req.opId !== undefined) {
      const opId = req.opId;
      const deriving = (): void => {
        ctx.progress({ opId, channel: 'vault:unlock', phase: 'deriving', done: 0, total: 0 }, true);
      };
      if (wait > 0) {
        ctx.progress({ opId, channel: 'vault:unlock', phase: 'waiting', done: 0, total: 0, waitMs: wait }, true);
        timer = setTimeout(deriving, wait);
      } else deriving();
    }
    try {
      const r = await v.unlock(req.passphrase);
      await ctx.startAutoLock();
      return { generation: r.generation, recoveredFromPrevious: r.recoveredFromPrevious, auditOk: r.auditOk };
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  },
  'vault:lock': async (_req, ctx) => {
    await ctx.lock('request');
    return { locked: true as const };
  },
  'vault:changePassphrase': async (req, ctx) => {
    await (await ctx.unlocked()).changePassphrase(req.current, req.next);
    return {};
  },
  'vault:card': async (_req, ctx) => {
    const v = await ctx.vault();
    const card = v.unlocked ? v.card() : new Uint8Array(await fsp.readFile(v.path('card')));
    return { card: fileOut(`enrollment-card-${v.info.name}`, '.custos', card), qr: await qrFor('custodian-card', card), code: v.info.code, fingerprint: v.info.fingerprint };
  },

  // -- trust --------------------------------------------------------------------------------------
  'trust:previewAgent': (req) => Promise.resolve(previewAgentCard(req.card.bytes)),
  'trust:pin': async (req, ctx) => pinAgent(await ctx.unlocked(), req.card.bytes, req.confirmCode),
  'trust:rotate': async (req, ctx) => applyAgentKeyRotation(await ctx.unlocked(), req.notice.bytes),
  'trust:status': async (_req, ctx) => {
    const v = await ctx.unlocked();
    return { agent: v.state.agent === null ? null : agentView(v.state.agent), previous: v.state.previousAgents.map(agentView) };
  },

  // -- inbox --------------------------------------------------------------------------------------
  'inbox:import': async (req, ctx) => {
    const v = await ctx.unlocked();
    if (ctx.operations.has(req.opId)) throw new CustosError('INVALID_PARAMETERS', `Operation ${req.opId} is already running; use a new opId.`);
    const { messages, unread } = messagesFromInputs(req.files, req.frames);
    const abort = new AbortController();
    ctx.operations.set(req.opId, abort);
    try {
      const summary = await importEnvelopes(v, messages, {
        signal: abort.signal,
        onProgress: (p) => {
          ctx.progress({ opId: req.opId, channel: 'inbox:import', phase: 'importing', done: p.done, total: p.total, accepted: p.accepted, refused: p.refused });
        },
      });
      ctx.progress({ opId: req.opId, channel: 'inbox:import', phase: 'importing', done: summary.results.length, total: messages.length, accepted: summary.accepted, refused: summary.refused }, true);
      return {
        results: summary.results.map((r) => {
          const problem = itemProblem(r);
          return {
            index: r.index,
            ...(r.name === undefined ? {} : { name: r.name }),
            kind: r.kind,
            outcome: r.outcome,
            ...(r.id === undefined ? {} : { id: r.id }),
            ...(r.share === undefined ? {} : { share: { ...r.share } }),
            ...(problem === undefined ? {} : { problem }),
            ...(r.supersede === undefined ? {} : { supersede: { ...r.supersede, affected: [...r.supersede.affected] } }),
          };
        }),
        unread: unread.map((u) => ({ names: [...u.names], problem: publicProblem(u.problem) })),
        accepted: summary.accepted,
        refused: summary.refused,
        applied: summary.applied,
        aborted: summary.aborted,
      };
    } finally {
      ctx.operations.delete(req.opId);
    }
  },
  'inbox:cancel': (req, ctx) => {
    const op = ctx.operations.get(req.opId);
    op?.abort();
    return Promise.resolve({ cancelled: op !== undefined });
  },
  'inbox:refusals': async (_req, ctx) => {
    const v = await ctx.unlocked();
    return {
      refusals: v.state.refusals.map((r) => {
        const code = ipcCode(r.code);
        return {
          id: r.id,
          ...(r.name === undefined ? {} : { name: r.name }),
          at: r.at,
          code,
          message: sentences(code),
          ...(r.fields === undefined ? {} : { fields: { ...r.fields } }),
          receipts: r.receipts.length,
        };
      }),
    };
  },

  // -- shares -------------------------------------------------------------------------------------
  'shares:list': async (req, ctx) => {
    const v = await ctx.unlocked();
    const f = req.filter;
    const shares = listShares(v, {
      ...(f.keyId === undefined ? {} : { keyId: f.keyId }),
      ...(f.nodeId === undefined ? {} : { nodeId: f.nodeId }),
      ...(f.setId === undefined ? {} : { setId: f.setId }),
      ...(f.shareIndex === undefined ? {} : { shareIndex: f.shareIndex }),
      ...(f.status === undefined ? {} : { status: f.status }),
    });
    const all = v.state.shares;
    const uniq = (xs: string[]): string[] => [...new Set(xs)].sort();
    return { shares, total: all.length, facets: { keyIds: uniq(all.map((s) => s.keyId)), nodeIds: uniq(all.map((s) => s.nodeId)), setIds: uniq(all.map((s) => s.setId)) } };
  },
  'shares:details': async (req, ctx) => {
    const v = await ctx.unlocked();
    const r = findShare(v.state.shares, req.id);
    return {
      ...summarize(r),
      manifestHash: r.manifestHash,
      agentKey: r.agentKey,
      envelopeCreatedAt: r.envelopeCreatedAt,
      envelopeSize: r.envelope.length,
      ...(r.deletion === undefined ? {} : { deletion: { ...r.deletion } }),
      ...(r.superseded === undefined ? {} : { superseded: { ...r.superseded } }),
      receipts: r.receipts.map((x) => ({ ...x })),
      exportsMade: r.exports.map((x) => ({ ...x })),
      history: r.history.map((x) => ({ ...x })),
    };
  },
  'shares:verifyAll': async (req, ctx) => {
    const v = await ctx.unlocked();
    const opId = req.opId;
    const r = await verifyAll(v, {
      onProgress: (done, total) => {
        if (opId !== undefined) ctx.progress({ opId, channel: 'shares:verifyAll', phase: 'verifying', done, total });
      },
    });
    if (opId !== undefined) ctx.progress({ opId, channel: 'shares:verifyAll', phase: 'verifying', done: r.results.length, total: r.results.length }, true);
    return {
      results: r.results.map((x) => {
        const problem = problemOf(x.problem);
        return { id: x.id, share: { ...x.share }, ok: x.ok, ...(problem === undefined ? {} : { problem }) };
      }),
      ok: r.ok,
      failed: r.failed,
    };
  },

  // -- receipts -----------------------------------------------------------------------------------
  'receipts:sign': async (req, ctx) => {
    const v = await ctx.unlocked();
    const signed = await signReceipts(v, {
      ids: req.ids === 'all' ? 'all' : req.ids,
      status: req.status,
      ...(req.reason === undefined ? {} : { reason: req.reason }),
      ...(req.note === undefined ? {} : { note: req.note }),
    });
    return {
      receipts: signed.map((s) => ({
        id: s.id,
        status: s.body.status,
        ...(s.body.reason === undefined ? {} : { reason: s.body.reason }),
        hash: s.hash,
        file: fileOut(s.baseName, '.custos', s.bytes),
      })),
    };
  },
  'receipts:export': async (req, ctx) => {
    const v = await ctx.vault();
    const mine = fromHex(v.info.signKey);
    const out: HandlerResultOf<'receipts:export'>['receipts'] = [];
    for (const f of req.receipts) {
      let opened;
      try {
        opened = openReceipt(f.bytes, mine);
      } catch (error) {
        // Name the file in the sentence; keep the protocol's code (UNTRUSTED_SIGNER, WRONG_TYPE, …).
        if (error instanceof CustosError) throw new CustosError(error.code, `"${f.name}": ${error.message}`, { cause: error, details: error.details });
        throw error;
      }
      out.push({ name: f.name, id: toHex(opened.body.envelope_hash), status: opened.body.status, qr: await qrFor('receipt', f.bytes) });
    }
    return { receipts: out };
  },
  'receipts:send': async (req, ctx) => {
    const agent = await ctx.agent();
    const results: HandlerResultOf<'receipts:send'>['results'] = [];
    for (const f of req.receipts) {
      try {
        const r = await callAgent(() => agent.delivery.confirmShareDelivery({ receipt: f.bytes }));
        results.push({ name: f.name, ok: true, ...(r.status === undefined ? {} : { agentStatus: DELIVERY[r.status.status] }) });
      } catch (error) {
        ctx.host.log('agent-call-failed', { channel: 'receipts:send', code: explain(error).code });
        results.push({ name: f.name, ok: false, problem: toIpcError(error) });
      }
    }
    return { results };
  },

  // -- recovery export ----------------------------------------------------------------------------
  'recovery:show': async (req, ctx) => summaryOut(showRecoveryRequest(await ctx.unlocked(), req.request.bytes)),
  'recovery:export': async (req, ctx) => {
    const v = await ctx.unlocked();
    // The font first: a missing font must refuse before the share is exported, not after.
    const font = req.sheet ? await ctx.sheetFont() : undefined;
    const opId = req.opId;
    if (opId !== undefined) ctx.progress({ opId, channel: 'recovery:export', phase: 'exporting', done: 0, total: 0 }, true);
    const result = await exportForRecovery(v, req.request.bytes, req.confirmation.toLowerCase());
    const file = fileOut(result.baseName, '.custos', result.bytes);
    const qr = await qrFor('recovery-export', result.bytes);
    const loop = req.extraFrames > 0 ? moreFrames(result.bytes, { type: urTypeOf('recovery-export') }, req.extraFrames) : [];
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
            approvals: s.approvals.map((a) => ({ name: a.name, code: a.code })),
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

  // -- linked agent -------------------------------------------------------------------------------
  'agent:status': async (_req, ctx) => ({ url: (await ctx.settings()).agentUrl, tokenSet: ctx.agentTokenSet }),
  'agent:setToken': (req, ctx) => {
    ctx.setAgentToken(req.token);
    return Promise.resolve({ tokenSet: ctx.agentTokenSet });
  },

  // -- inventory, supersede, deletion --------------------------------------------------------------
  'inventory:answer': async (req, ctx) => {
    const a = await answerChallenge(await ctx.unlocked(), req.challenge.bytes);
    return {
      challengeId: a.challengeId,
      hash: a.hash,
      held: a.held,
      missing: a.missing,
      items: a.items.map((i) => ({ keyId: i.key_id, nodeId: i.node_id, setId: i.setIdHex, epoch: i.epoch, shareIndex: i.share_index, answer: i.answer, local: i.local, ...(i.id === undefined ? {} : { id: i.id }) })),
      file: fileOut(`inventory-attestation-${a.challengeId}`, '.custos', a.bytes),
      qr: await qrFor('inventory-attestation', a.bytes),
    };
  },
  'supersede:apply': async (req, ctx) => {
    const v = await ctx.unlocked();
    const results: HandlerResultOf<'supersede:apply'>['results'] = [];
    for (const n of req.notices) {
      try {
        const r = await applySupersede(v, n.bytes);
        results.push({ name: n.name, ok: true, result: { ...r, affected: [...r.affected] } });
      } catch (error) {
        results.push({ name: n.name, ok: false, problem: toIpcError(error) });
      }
    }
    return { results };
  },
  'deletion:soft': async (req, ctx) => {
    const v = await ctx.unlocked();
    const coolingDays = (await ctx.settings()).deletionCoolingDays;
    return { share: await softDelete(v, req.id, { coolingDays, ...(req.reason === undefined ? {} : { reason: req.reason }) }) };
  },
  'deletion:rollback': async (req, ctx) => ({ share: await rollbackDelete(await ctx.unlocked(), req.id) }),
  'deletion:purge': async (_req, ctx) => {
    const v = await ctx.unlocked();
    const r = await purgeDue(v, { coolingDays: (await ctx.settings()).deletionCoolingDays });
    return { purged: [...r.purged], scheduled: [...r.scheduled], cooling: r.cooling.map((c) => ({ ...c })) };
  },

  // -- audit --------------------------------------------------------------------------------------
  'audit:list': async (req, ctx) => {
    const v = await ctx.unlocked();
    const all = listAudit(v.state).map((x, position) => ('entry' in x ? { entry: x.entry } : { damaged: true as const, position }));
    const ordered = req.newestFirst ? [...all].reverse() : all;
    const head = v.state.audit.head;
    return { entries: ordered.slice(req.offset, req.offset + req.limit), total: all.length, head: head === null ? null : { ...head }, verdict: verifyAudit(v.state) };
  },
  'audit:verify': async (_req, ctx) => {
    const v = await ctx.unlocked();
    const head = v.state.audit.head;
    return { verdict: verifyAudit(v.state), head: head === null ? null : { ...head } };
  },
  'audit:export': async (_req, ctx) => {
    const v = await ctx.unlocked();
    const e = exportAuditJsonl(v.state);
    const stamp = new Date(ctx.nowMs()).toISOString().slice(0, 19).replace(/[:T]/g, '-');
    const headJson = JSON.stringify({ custodian: v.info.name, fingerprint: v.info.fingerprint, head: e.head, entries: e.verdict.entries, exportedAt: ctx.nowSeconds() }, null, 2) + '\n';
    return {
      file: fileOut(`custos-audit-${stamp}`, '.jsonl', new TextEncoder().encode(e.jsonl)),
      headFile: fileOut(`custos-audit-${stamp}-head`, '.json', new TextEncoder().encode(headJson)),
      head: e.head === null ? null : { ...e.head },
      verdict: e.verdict,
    };
  },

  // -- settings -----------------------------------------------------------------------------------
  'settings:get': async (_req, ctx) => {
    const r = await readSettingsOrDefaults(ctx.settingsPath);
    return { settings: r.settings, ...(r.problem === undefined ? {} : { problem: toIpcError(r.problem) }) };
  },
  'settings:set': async (req, ctx) => {
    await fsp.mkdir(ctx.host.vaultDir, { recursive: true, mode: 0o700 });
    const next = await updateSettings(ctx.settingsPath, req.change);
    ctx.settingsChanged(next);
    return { settings: next };
  },

  // -- QR -----------------------------------------------------------------------------------------
  'qr:decodeImage': (req) => {
    if (!isPng(req.image.bytes)) {
      throw new CustosError('MALFORMED', `"${req.image.name}" is not a PNG image. Decode other pictures in the window (canvas) and send the frames.`);
    }
    return Promise.resolve({ frame: qrTextInPng(req.image.bytes) });
  },
  'qr:assemble': (req) => {
    const r = assembleFrames(req.frames);
    return Promise.resolve({
      messages: r.messages.map((m) => ({ names: [...new Set(m.names)], urType: m.type, bytes: m.payload })),
      problems: r.problems.map((p) => ({ names: [...new Set(p.names)], problem: publicProblem(p.problem) })),
    });
  },
  'qr:encode': (req) => qrFor(req.type, req.bytes),

  // -- files --------------------------------------------------------------------------------------
  'files:save': async (req, ctx) => {
    const name = await ctx.host.dialogs.save(req.file);
    return name === null ? { saved: false } : { saved: true, name };
  },
  'files:saveAll': async (req, ctx) => {
    const r = await ctx.host.dialogs.saveAll(req.files);
    return r === null ? { saved: false, names: [] } : { saved: true, folder: r.folder, names: r.names };
  },
  'files:open': async (req, ctx) => ({ files: await ctx.host.dialogs.open({ purpose: req.purpose, multiple: req.multiple }) }),
};
