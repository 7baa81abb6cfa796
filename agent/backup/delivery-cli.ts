/** `delivery request | confirm | status`: envelopes handed to custodians and their signed receipts (agent CLI). */
import { usage } from '../../node/cli/errors';
import { iso, pairs, table } from '../../node/cli/format';
import { expandInputs, readInput } from '../../node/cli/inputs';
import type { Group } from '../../node/cli/runner';
import { sortInputs, UR_TYPES } from '../../node/qr-files';
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
    summary: "records custodians' signed receipts: receipt files, PNG images of their QR frames or -qr-frames.txt texts (exit 3 if some are refused)",
    run: (ctx) => {
      const { values } = ctx;
      const files = [...(values.receipt ?? []), ...ctx.args];
      if (files.length === 0) throw usage('delivery confirm --receipt FILE [--receipt FILE...]');
      const paths = expandInputs(files);
      // A receipt file is small; a photo or a frames text of a whole batch is not.
      const inputs = paths.map((file) => ({ file, bytes: readInput(file, 'receipt', 16 * 1024 * 1024) }));
      const sorted = sortInputs(inputs, { type: UR_TYPES.receipt, what: 'receipt', onImage: (i, f) => { if (inputs.length > 1) ctx.progress(`reading ${String(i + 1)}/${String(inputs.length)}: ${f}`); } });
      return withAgent(ctx, async (a) => {
        const confirmed: ShareStatus[] = [];
        const refused: { file: string; code: string; message: string }[] = sorted.skipped.filter((x) => x.problem).map((x) => ({ file: x.file, code: x.code, message: x.reason }));
        const skipped = sorted.skipped.filter((x) => !x.problem);
        const single = paths.length === 1 && sorted.messages.length === 1 && refused.length === 0;
        for (const [i, m] of sorted.messages.entries()) {
          const name = m.names.join(', ');
          if (sorted.messages.length > 1) ctx.progress(`receipt ${String(i + 1)}: ${name}`);
          try {
            if (m.bytes.length > 8192) throw usage(`${name} is ${String(m.bytes.length)} bytes: too large for a receipt (at most 8192).`);
            confirmed.push(await a.confirmShareDelivery(m.bytes, op(values)));
          } catch (error) {
            if (single) throw error;
            refused.push({ file: name, ...publicOf(error) });
          }
        }
        const labels = new Map(a.listCustodians().map((c) => [c.fingerprint, c.label]));
        return {
          data: { confirmed, refused, skipped, inputs: { files: paths.length, qrFrames: sorted.frames, receipts: sorted.messages.length } },
          lines: [
            ...confirmed.map((s) => `${s.status.padEnd(9)} ${s.keyId} / ${s.nodeId} share ${String(s.shareIndex)} (${labels.get(s.custodian) ?? short(s.custodian)})${s.reason === undefined ? '' : `: ${s.reason}`}`),
            ...refused.map((r) => `refused   ${r.file}: ${r.message} (${r.code})`),
            ...skipped.map((r) => `skipped   ${r.file}: ${r.reason}`),
            `${String(confirmed.length)} receipt(s) recorded, ${String(refused.length)} refused.`,
          ],
          exit: refused.length > 0 || sorted.messages.length === 0 ? 3 : 0,
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
