/** IPC handlers for envelopes in (the inbox), the shares held, and receipts out. */
import { fromHex, toHex } from '../../shared/bytes';
import { CustosError } from '../../shared/errors';
import { IPC_ERROR_CODES, type HandlerResultOf, type IpcErrorCode } from '../../shared/ipc/contract';
import { openReceipt } from '../../shared/protocol';
import { DeliveryStatus } from '../../proto/gen/infra/v1/backup_pb';
import { publicProblem, toIpcError } from '../ipc-errors';
import { callAgent } from '../services/agent-client';
import { importEnvelopes, type ItemResult } from '../services/inbox';
import { messagesFromInputs } from '../services/inputs';
import { explain, sentences, type Explained } from '../services/messages';
import { classifyImportResult, classifyRefusal } from '../services/refusal-class';
import { receiptSequence, signReceipts } from '../services/receipts';
import { findShare, listShares, pageShares, summarize, verifyAll } from '../services/shares';
import { shareGroupKey } from '../services/share-group-key';
import { fileOut, qrFor } from './common';
import type { HandlersFor } from './types';

const ipcCode = (code: string): IpcErrorCode => ((IPC_ERROR_CODES as readonly string[]).includes(code) ? (code as IpcErrorCode) : 'INTERNAL');

/** An inbox item's refusal as an IPC problem. */
function itemProblem(r: ItemResult): ReturnType<typeof publicProblem> | undefined {
  if (r.code === undefined || r.message === undefined) return undefined;
  return publicProblem({ code: r.code, message: r.message, ...(r.detail === undefined ? {} : { detail: r.detail }), details: {} });
}

const problemOf = (e: Explained | undefined): ReturnType<typeof publicProblem> | undefined => (e === undefined ? undefined : publicProblem(e));

const DELIVERY: Record<DeliveryStatus, 'unspecified' | 'pending' | 'delivered' | 'confirmed' | 'rejected'> = {
  [DeliveryStatus.UNSPECIFIED]: 'unspecified',
  [DeliveryStatus.PENDING]: 'pending',
  [DeliveryStatus.DELIVERED]: 'delivered',
  [DeliveryStatus.CONFIRMED]: 'confirmed',
  [DeliveryStatus.REJECTED]: 'rejected',
};

export const sharesHandlers = {
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
          const refusal = classifyImportResult(r, messages[r.index]?.bytes); // issue 12: its class
          return {
            index: r.index,
            ...(r.name === undefined ? {} : { name: r.name }),
            kind: r.kind,
            outcome: r.outcome,
            ...(r.id === undefined ? {} : { id: r.id }),
            ...(r.share === undefined ? {} : { share: { ...r.share } }),
            ...(problem === undefined ? {} : { problem }),
            ...(refusal === undefined ? {} : { refusal: { class: refusal.class, offerSignedRejection: refusal.offerSignedRejection, advice: { ...refusal.advice } } }),
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
        // Remembered without its bytes: it read as a frame if its coordinates could be read, and
        // only then can a rejected receipt name it (receipts.ts refuses the others).
        const c = classifyRefusal(r.code, r.fields !== undefined);
        return {
          id: r.id,
          ...(r.name === undefined ? {} : { name: r.name }),
          at: r.at,
          code,
          message: sentences(code),
          ...(r.fields === undefined ? {} : { fields: { ...r.fields } }),
          receipts: r.receipts.length,
          refusal: { class: c.class, offerSignedRejection: c.offerSignedRejection && r.fields !== undefined, advice: { ...c.advice } },
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
  'shares:page': async (req, ctx) => {
    const v = await ctx.unlocked();
    const page = pageShares(v, {
      offset: req.offset,
      limit: req.limit,
      query: req.query,
      sort: req.sort,
      ...(req.keyId === undefined ? {} : { keyId: req.keyId }),
      ...(req.nodeId === undefined ? {} : { nodeId: req.nodeId }),
      ...(req.setId === undefined ? {} : { setId: req.setId }),
      ...(req.shareIndex === undefined ? {} : { shareIndex: req.shareIndex }),
      ...(req.status === undefined ? {} : { status: req.status }),
      ...(req.event === undefined ? {} : { event: req.event }),
    });
    return { ...page, facets: { ...page.facets, more: { ...page.facets.more } } };
  },
  'shares:details': async (req, ctx) => {
    const v = await ctx.unlocked();
    const r = findShare(v.state.shares, req.id);
    const groupKey = await shareGroupKey(v, r); // issue 12 (H14): from the signed manifest, to compare before a recovery
    return {
      ...summarize(r),
      ...(groupKey === undefined ? {} : { groupKey: { ...groupKey } }),
      manifestHash: r.manifestHash,
      agentKey: r.agentKey,
      envelopeCreatedAt: r.envelopeCreatedAt,
      envelopeSize: r.envelopeSize,
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
  'receipts:sequence': async (req, ctx) => {
    const v = await ctx.vault();
    const opId = req.opId;
    const messages = await receiptSequence(v, req.receipts, fromHex(v.info.signKey), (done, total) => {
      if (opId !== undefined) ctx.progress({ opId, channel: 'receipts:sequence', phase: 'exporting', done, total }, done === total);
    });
    return { messages };
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
} satisfies HandlersFor<'inbox' | 'shares' | 'receipts'>;
