/** `delivery request | confirm | status`: envelopes handed to custodians and their signed receipts (agent CLI). */
import { usage } from '../../node/cli/errors';
import { iso, pairs, table } from '../../node/cli/format';
import { expandInputs, readInput } from '../../node/cli/inputs';
import type { Group } from '../../node/cli/runner';
import type { ShareStatus } from '../api';
import { command, integer, keyNode, op, publicOf, short, withAgent, writeNew, type AgentCliIo } from '../core/cli-common';

const KEY_NODE = { 'key-id': { type: 'string' }, 'node-id': { type: 'string' } } as const;

function statusTable(list: readonly ShareStatus[], labels: ReadonlyMap<string, string>): string[] {
  return table([
    ['SHARE', 'STATUS', 'CUSTODIAN', 'UPDATED', 'REASON'],
    ...list.map((s) => [String(s.shareIndex), s.status, labels.get(s.custodian) ?? short(s.custodian), iso(s.updatedAt), s.reason ?? '']),
  ]);
}

const request = command(
  { ...KEY_NODE, 'share-index': { type: 'string' }, 'set-id': { type: 'string' }, out: { type: 'string' } },
  {
    name: 'delivery request',
    usage: '--key-id K --node-id N --share-index I [--set-id S] [--out FILE]',
    summary: 'marks an envelope as handed to its custodian (and writes it again with --out)',
    run: async (ctx) => {
      const { values } = ctx;
      const { keyId, nodeId } = keyNode(values);
      const shareIndex = integer(values, 'share-index', 1, 255);
      if (shareIndex === undefined) throw usage('--share-index is required here.');
      const r = await withAgent(ctx, (a) => a.requestShareDelivery({ keyId, nodeId, shareIndex, ...(values['set-id'] === undefined ? {} : { setId: values['set-id'] }) }, op(values)));
      const file = values.out === undefined ? undefined : writeNew(values.out, r.envelope, 0o600);
      return {
        data: { status: r.status, ...(file === undefined ? {} : { file }) },
        lines: [`Share ${String(shareIndex)} of ${keyId} / ${nodeId} is ${r.status.status}${file === undefined ? '' : `; envelope written to ${file}`}.`, ...pairs([['envelope sha256', r.status.envelopeSha256]])],
      };
    },
  },
);

const confirm = command(
  { receipt: { type: 'string', multiple: true } },
  {
    name: 'delivery confirm',
    usage: '--receipt FILE [--receipt FILE...]',
    args: '[FILE|DIR...]',
    summary: "records custodians' signed receipts (exit 3 if some are refused)",
    run: (ctx) => {
      const { values } = ctx;
      const files = [...(values.receipt ?? []), ...ctx.args];
      if (files.length === 0) throw usage('delivery confirm --receipt FILE [--receipt FILE...]');
      return withAgent(ctx, async (a) => {
        const confirmed: ShareStatus[] = [];
        const refused: { file: string; code: string; message: string }[] = [];
        for (const [i, f] of expandInputs(files).entries()) {
          if (files.length > 1) ctx.progress(`receipt ${String(i + 1)}: ${f}`);
          try {
            confirmed.push(await a.confirmShareDelivery(readInput(f, 'receipt', 8192), op(values)));
          } catch (error) {
            if (files.length === 1) throw error;
            refused.push({ file: f, ...publicOf(error) });
          }
        }
        const labels = new Map(a.listCustodians().map((c) => [c.fingerprint, c.label]));
        return {
          data: { confirmed, refused },
          lines: [
            ...confirmed.map((s) => `${s.status.padEnd(9)} ${s.keyId} / ${s.nodeId} share ${String(s.shareIndex)} (${labels.get(s.custodian) ?? short(s.custodian)})${s.reason === undefined ? '' : `: ${s.reason}`}`),
            ...refused.map((r) => `refused   ${r.file}: ${r.message} (${r.code})`),
            `${String(confirmed.length)} receipt(s) recorded, ${String(refused.length)} refused.`,
          ],
          exit: refused.length > 0 ? 3 : 0,
        };
      });
    },
  },
);

const status = command(
  { ...KEY_NODE, 'set-id': { type: 'string' }, 'share-index': { type: 'string' } },
  {
    name: 'delivery status',
    usage: '--key-id K --node-id N [--set-id S] [--share-index I]',
    summary: 'where each external share of a backup set is: created, delivered, confirmed or rejected',
    run: (ctx) => {
      const { values } = ctx;
      const { keyId, nodeId } = keyNode(values);
      const shareIndex = integer(values, 'share-index', 1, 255);
      return withAgent(ctx, (a) => {
        const list = a.queryShareStatus({ keyId, nodeId, ...(values['set-id'] === undefined ? {} : { setId: values['set-id'] }), ...(shareIndex === undefined ? {} : { shareIndex }) });
        const labels = new Map(a.listCustodians().map((c) => [c.fingerprint, c.label]));
        return { data: { shares: list }, lines: list.length === 0 ? ['This backup set has no external shares.'] : statusTable(list, labels) };
      });
    },
  },
);

export const deliveryGroup: Group<AgentCliIo> = { name: 'delivery', summary: 'envelopes handed to custodians, and their receipts', commands: [request, confirm, status] };
