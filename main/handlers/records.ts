/** IPC handlers for inventory answers, supersede notices, deletion, the audit log, QR codes and file dialogs. */
import { CustosError } from '../../shared/errors';
import { type HandlerResultOf } from '../../shared/ipc/contract';
import { publicProblem, toIpcError } from '../ipc-errors';
import { exportAuditJsonl, listVerdict, pageAudit, verifyAudit } from '../services/audit';
import { purgeDue, rollbackDelete, softDelete } from '../services/deletion';
import { isPng } from '../../shared/qr/png';
import { qrTextInPng } from '../../node/qr-files';
import { answerChallenge, reviewChallenge } from '../services/inventory';
import { assembleFrames } from '../services/qr-import';
import { applySupersede } from '../services/supersede';
import { fileOut, qrFor } from './common';
import type { HandlersFor } from './types';

export const recordsHandlers = {
  // -- inventory, supersede, deletion --------------------------------------------------------------
  'inventory:review': async (req, ctx) => {
    const r = reviewChallenge(await ctx.unlocked(), req.challenge.bytes);
    return { ...r, agent: { ...r.agent }, items: r.items.map((i) => ({ ...i })) };
  },
  'inventory:answer': async (req, ctx) => {
    const a = await answerChallenge(await ctx.unlocked(), req.challenge.bytes, req.reviewedHash);
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
    const page = pageAudit(v.state, { offset: req.offset, limit: req.limit, newestFirst: req.newestFirst, query: req.query, ...(req.event === undefined ? {} : { event: req.event }) });
    const entries = page.entries.map((x) => ('entry' in x ? { entry: x.entry } : { damaged: true as const, position: x.position }));
    const head = v.state.audit.head;
    return { entries, total: page.total, matched: page.matched, head: head === null ? null : { ...head }, verdict: listVerdict(v.state) };
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
} satisfies HandlersFor<'inventory' | 'supersede' | 'deletion' | 'audit' | 'qr' | 'files'>;
