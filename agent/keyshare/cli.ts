/** `keyshare import | list | inspect | export`: the nodes' tss-lib keydata held by the agent (agent CLI). */
import { iso, pairs, table } from '../../node/cli/format';
import { readInput } from '../../node/cli/inputs';
import type { Group } from '../../node/cli/runner';
import type { NodeRecord } from '../api';
import { autoBackupCmd } from './auto-backup-cli';
import { command, keyNode, need, op, withAgent, writeNew, yesNo, type AgentCliIo } from '../core/cli-common';

const KEY_NODE = { 'key-id': { type: 'string' }, 'node-id': { type: 'string' } } as const;

export function nodeTable(nodes: readonly NodeRecord[]): string[] {
  return table([
    ['KEY', 'NODE', 'CURVE', 'PARTY', 'BACKUP', 'IMPORTED'],
    ...nodes.map((n) => [n.keyId, n.nodeId, n.curve, `${String(n.partyIndex)}/${String(n.parties)}`, n.activeSet === undefined ? 'none' : `epoch ${String(n.activeSet.epoch)}`, iso(n.importedAt)]),
  ]);
}

const importCmd = command(
  { ...KEY_NODE, keydata: { type: 'string' } },
  {
    name: 'keyshare import',
    usage: '--key-id K --node-id N --keydata FILE',
    summary: "a node's tss-lib keydata, checked and stored encrypted under the KEK",
    run: async (ctx) => {
      const { values } = ctx;
      const { keyId, nodeId } = keyNode(values);
      const bytes = readInput(need(values, 'keydata'), 'keydata', 1024 * 1024);
      const r = await withAgent(ctx, (a) => a.importKeyshare(keyId, nodeId, bytes, op(values)));
      bytes.fill(0);
      const failed = r.selfCheck.filter((c) => !c.ok);
      return {
        data: { imported: r },
        lines: [
          `Imported ${r.keyId} / ${r.nodeId}: ${r.curve}, party ${String(r.partyIndex)} of ${String(r.parties)}, stored encrypted.`,
          ...pairs([
            ['keydata sha256', r.keydataSha256],
            ['self-check', failed.length === 0 ? `${String(r.selfCheck.length)} checks passed` : `FAILED: ${failed.map((c) => c.name).join(', ')}`],
          ]),
          'Next: backup --key-id ... --node-id ... --custodians FP,FP,FP --out DIR',
        ],
      };
    },
  },
);

const list = command(
  {},
  {
    name: 'keyshare list',
    summary: 'every imported node',
    run: async (ctx) => {
      const nodes = await withAgent(ctx, (a) => a.listNodes());
      return { data: { nodes }, lines: nodes.length === 0 ? ['No key shares imported yet.'] : nodeTable(nodes) };
    },
  },
);

const inspect = command(KEY_NODE, {
  name: 'keyshare inspect',
  usage: '--key-id K --node-id N',
  summary: "decrypts and self-checks a node's stored share and keydata (exit 3 on a problem)",
  run: async (ctx) => {
    const { keyId, nodeId } = keyNode(ctx.values);
    const r = await withAgent(ctx, (a) => a.inspectNode(keyId, nodeId, op(ctx.values)));
    return {
      data: { report: r },
      lines: [
        `${r.keyId} / ${r.nodeId}: ${r.ok ? 'OK' : 'PROBLEM'}`,
        ...pairs([
          ['share file', r.shareFile],
          ['keydata file', r.keydataFile],
          ['consistent', yesNo(r.consistent)],
          ['self-check', r.selfCheck.every((c) => c.ok) ? `${String(r.selfCheck.length)} checks passed` : r.selfCheck.filter((c) => !c.ok).map((c) => c.name).join(', ')],
        ]),
      ],
      exit: r.ok ? 0 : 3,
    };
  },
});

const exportCmd = command(
  { ...KEY_NODE, out: { type: 'string' } },
  {
    name: 'keyshare export',
    usage: '--key-id K --node-id N --out FILE',
    summary: "writes a node's keydata to a new file (0600; it is secret)",
    run: async (ctx) => {
      const { keyId, nodeId } = keyNode(ctx.values);
      const out = need(ctx.values, 'out');
      const bytes = await withAgent(ctx, (a) => a.exportKeydata(keyId, nodeId, op(ctx.values)));
      try {
        const file = writeNew(out, bytes, 0o600);
        return { data: { file, bytes: bytes.length }, lines: [`The keydata of ${keyId} / ${nodeId} was written to ${file} (0600). It is secret: hand it to the node and delete this copy.`] };
      } finally {
        bytes.fill(0);
      }
    },
  },
);

export const keyshareGroup: Group<AgentCliIo> = { name: 'keyshare', summary: "the nodes' keydata held by the agent", commands: [importCmd, list, inspect, exportCmd, autoBackupCmd] };
