/**
 * `delete soft | rollback | request | approve | purge | show | list | details | cancel`: server-held
 * shares soft-deleted, then destroyed after a cooling-off period and two approvals; zero retention
 * also needs every receipt and a passed external-only drill of the set (agent CLI).
 */
import { usage } from '../../node/cli/errors';
import { iso, pairs, table } from '../../node/cli/format';
import { readInput } from '../../node/cli/inputs';
import type { Group } from '../../node/cli/runner';
import type { DeletionView } from '../api';
import { shareTable } from '../backup/cli';
import { checkNewFile, command, indexList, integer, keyNode, need, op, publicOf, resolveId, short, withAgent, writeNew, type AgentCliIo } from '../core/cli-common';
import type { Agent } from '../service';

const SELECT = { 'key-id': { type: 'string' }, 'node-id': { type: 'string' }, 'set-id': { type: 'string' }, index: { type: 'string' } } as const;
const DELETION_ID = { 'deletion-id': { type: 'string' } } as const;

function deletionLines(d: DeletionView): string[] {
  return [
    `Deletion ${d.deletionId}: ${d.state}`,
    ...pairs([
      ['key / node', `${d.keyId} / ${d.nodeId}`],
      ['backup set', `${d.setId} (epoch ${String(d.epoch)})`],
      ['shares', d.shareIndexes.join(', ')],
      ['purpose', d.purpose],
      ['not before', `${iso(d.coolingEndsAt)} (end of the cooling-off period)`],
      ['valid until', iso(d.notAfter)],
      ['approvals', d.approvals.length === 0 ? 'none yet (2 needed)' : d.approvals.map((x) => `${x.name} (${short(x.approver)})`).join(', ')],
      ['requested by', `${d.operator} at ${iso(d.createdAt)}`],
    ]),
    ...d.blockers.map((b) => `  waiting: ${b.message} (${b.code})`),
  ];
}

function deletionId(values: { readonly 'deletion-id'?: string | undefined }, agent: Agent): string {
  return resolveId(
    need(values, 'deletion-id'),
    agent.listDeletions().map((d) => d.deletionId),
    'deletion id',
    32,
  );
}

const softOrRollback = (sub: 'soft' | 'rollback'): ReturnType<typeof command> =>
  command(SELECT, {
    name: `delete ${sub}`,
    usage: '--key-id K --node-id N [--set-id S] [--index 1,2]',
    summary: sub === 'soft' ? 'soft-deletes server-held shares (they can be rolled back during the cooling-off period)' : 'restores soft-deleted server shares',
    run: async (ctx) => {
      const { values: v } = ctx;
      const { keyId, nodeId } = keyNode(v);
      const indexes = indexList(v.index, 'index');
      const sel = { keyId, nodeId, ...(v['set-id'] === undefined ? {} : { setId: v['set-id'] }), ...(indexes === undefined ? {} : { indexes }) };
      const list = await withAgent(ctx, (a) => (sub === 'soft' ? a.softDeleteServerShares(sel, op(v)) : a.rollbackServerShares(sel, op(v))));
      const what = sub === 'soft' ? 'soft-deleted (they can be rolled back during the cooling-off period; next: delete request)' : 'restored';
      return { data: { shares: list }, lines: [`${String(list.length)} server share(s) of ${keyId} / ${nodeId} ${what}.`, ...shareTable(list)] };
    },
  });

const request = command(
  { ...SELECT, ttl: { type: 'string' }, out: { type: 'string' } },
  {
    name: 'delete request',
    usage: '--key-id K --node-id N [--set-id S] [--index 1,2] [--ttl S] --out FILE',
    summary: 'a hard delete of soft-deleted shares; FILE is what 2 approvers sign',
    run: (ctx) => {
      const { values: v } = ctx;
      const { keyId, nodeId } = keyNode(v);
      const indexes = indexList(v.index, 'index');
      const out = need(v, 'out');
      const ttl = integer(v, 'ttl', 1, 365 * 24 * 3600);
      checkNewFile(out, 'deletion details');
      return withAgent(ctx, async (a) => {
        const r = await a.requestDeletion(
          { keyId, nodeId, ...(v['set-id'] === undefined ? {} : { setId: v['set-id'] }), ...(indexes === undefined ? {} : { indexes }) },
          { ...op(v), ...(ttl === undefined ? {} : { ttlSeconds: ttl }) },
        );
        const file = writeNew(out, r.detailsCbor, 0o644);
        return {
          data: { deletion: r.deletion, detailsFile: file },
          lines: [
            ...deletionLines(r.deletion),
            `Deletion details written to ${file}. Two approvers each run, on their own machine:`,
            `  npm run approver -- sign --key approver.key --deletion ${file} --out approval.cbor`,
            `then: delete approve --deletion-id ${r.deletion.deletionId} --approval FILE, and after the cooling-off period: delete purge --deletion-id ${r.deletion.deletionId}`,
          ],
        };
      });
    },
  },
);

const details = command(
  { ...DELETION_ID, out: { type: 'string' } },
  {
    name: 'delete details',
    usage: '--deletion-id D --out FILE',
    summary: '(re)writes the file approvers sign',
    run: (ctx) => {
      const out = need(ctx.values, 'out');
      return withAgent(ctx, (a) => {
        const did = deletionId(ctx.values, a);
        const file = writeNew(out, a.deletionDetails(did).detailsCbor, 0o644);
        return { data: { deletionId: did, detailsFile: file }, lines: [`Deletion details written to ${file}.`] };
      });
    },
  },
);

const approve = command(
  { ...DELETION_ID, approval: { type: 'string', multiple: true } },
  {
    name: 'delete approve',
    usage: '--deletion-id D --approval FILE [--approval FILE...]',
    args: '[FILE...]',
    summary: "records approvers' signed deletion approvals (exit 3 if some are refused)",
    run: (ctx) => {
      const { values: v } = ctx;
      const files = [...(v.approval ?? []), ...ctx.args];
      if (files.length === 0) throw usage('delete approve --deletion-id D --approval FILE');
      return withAgent(ctx, async (a) => {
        const did = deletionId(v, a);
        const refused: { file: string; code: string; message: string }[] = [];
        let view = a.getDeletion(did);
        for (const f of files) {
          try {
            view = await a.approveDeletion(did, readInput(f, 'deletion approval', 4096), op(v));
          } catch (error) {
            if (files.length === 1) throw error;
            refused.push({ file: f, ...publicOf(error) });
          }
        }
        return {
          data: { deletion: view, refused },
          lines: [...refused.map((r) => `refused ${r.file}: ${r.message} (${r.code})`), ...deletionLines(view)],
          exit: refused.length > 0 ? 3 : 0,
        };
      });
    },
  },
);

const purge = command(DELETION_ID, {
  name: 'delete purge',
  usage: '--deletion-id D',
  summary: 'destroys the shares (after cooling-off and 2 approvals; zero retention also needs every receipt and a passed external-only drill of the set)',
  run: (ctx) =>
    withAgent(ctx, async (a) => {
      const r = await a.purgeServerShares(deletionId(ctx.values, a), op(ctx.values));
      return {
        data: { deletion: r.deletion, shares: r.shares, zeroRetention: r.zeroRetention },
        lines: [
          `${String(r.shares.length)} server share(s) of ${r.deletion.keyId} / ${r.deletion.nodeId} destroyed (approved by ${r.deletion.approvals.map((x) => x.name).join(' and ')}).`,
          ...shareTable(r.shares),
          ...(r.zeroRetention ? ['Zero retention: the server holds no share of this node any more; only its custodians can recover it.'] : []),
        ],
      };
    }),
});

const show = command(DELETION_ID, {
  name: 'delete show',
  usage: '--deletion-id D',
  summary: 'one deletion: approvals and what it waits for',
  run: (ctx) =>
    withAgent(ctx, (a) => {
      const d = a.getDeletion(deletionId(ctx.values, a));
      return { data: { deletion: d }, lines: deletionLines(d) };
    }),
});

const list = command(
  { 'key-id': { type: 'string' }, 'node-id': { type: 'string' } },
  {
    name: 'delete list',
    usage: '[--key-id K --node-id N]',
    summary: 'every deletion, or those of one node',
    run: async (ctx) => {
      const { values: v } = ctx;
      const filter = { ...(v['key-id'] === undefined ? {} : { keyId: v['key-id'] }), ...(v['node-id'] === undefined ? {} : { nodeId: v['node-id'] }) };
      const deletions = await withAgent(ctx, (a) => a.listDeletions(filter));
      return {
        data: { deletions },
        lines:
          deletions.length === 0
            ? ['No deletions.']
            : table([
                ['DELETION', 'STATE', 'KEY', 'NODE', 'EPOCH', 'SHARES', 'PURPOSE', 'APPROVALS', 'NOT BEFORE'],
                ...deletions.map((d) => [d.deletionId, d.state, d.keyId, d.nodeId, String(d.epoch), d.shareIndexes.join(','), d.purpose, String(d.approvals.length), iso(d.coolingEndsAt)]),
              ]),
      };
    },
  },
);

const cancel = command(DELETION_ID, {
  name: 'delete cancel',
  usage: '--deletion-id D',
  summary: 'cancels a deletion; its shares stay soft-deleted',
  run: (ctx) =>
    withAgent(ctx, async (a) => {
      const d = await a.cancelDeletion(deletionId(ctx.values, a), op(ctx.values));
      return { data: { deletion: d }, lines: [`Deletion ${d.deletionId} cancelled; its shares stay soft-deleted (delete rollback restores them).`] };
    }),
});

export const deleteGroup: Group<AgentCliIo> = {
  name: 'delete',
  summary: 'server shares: soft delete, rollback, approved hard delete, zero retention',
  commands: [softOrRollback('soft'), softOrRollback('rollback'), request, approve, purge, show, list, details, cancel],
};
