/**
 * `backup`, `status` and `shares` (agent CLI): Shamir backup sets of the imported nodes, their
 * recoverability, and the share records the server keeps (never their secrets).
 */
import { resolve } from 'node:path';
import { usage } from '../../node/cli/errors';
import { iso, pairs, table } from '../../node/cli/format';
import type { Group } from '../../node/cli/runner';
import type { BackupResult, BackupStatus, NodeRecord, ServerShareRecord } from '../api';
import { command, custodianFp, integer, keyNode, need, op, short, withAgent, type AgentCliIo } from '../core/cli-common';

const KEY_NODE = { 'key-id': { type: 'string' }, 'node-id': { type: 'string' } } as const;

function backupLines(r: BackupResult, labels: ReadonlyMap<string, string>): string[] {
  return [
    `Backup set ${r.setId} (epoch ${String(r.epoch)}) of ${r.keyId} / ${r.nodeId}: ${String(r.threshold)} of ${String(r.total)}, the server keeps shares ${r.retainedIndexes.join(', ') || 'none'}.`,
    ...table(
      r.envelopes.map((e) => [`  share ${String(e.shareIndex)}`, labels.get(e.custodian) ?? short(e.custodian), e.file, e.qrFrames.length > 0 ? `+ ${String(e.qrFrames.length)} QR frame(s)` : '']),
    ),
    `  manifest ${r.manifestFile}`,
    ...(r.superseded === undefined ? [] : [`  superseded epoch ${String(r.superseded.epoch)}: ${String(r.superseded.notices.length)} supersede notice(s) written for its custodians`]),
  ];
}

const backup = command(
  {
    ...KEY_NODE,
    threshold: { type: 'string' },
    total: { type: 'string' },
    retain: { type: 'string' },
    custodians: { type: 'string' },
    out: { type: 'string' },
    qr: { type: 'boolean' },
    all: { type: 'boolean' },
    'envelope-ttl': { type: 'string' },
  },
  {
    name: 'backup',
    usage: '(--key-id K --node-id N | --all) [--threshold 3 --total 5 --retain 2] --custodians FP,FP,FP --out DIR [--qr] [--envelope-ttl S]',
    summary: 'a Shamir backup set of one node, or of every imported node without one (--all): envelopes for the custodians',
    run: (ctx) => {
      const { values } = ctx;
      const params = {
        ...(values.threshold === undefined ? {} : { threshold: integer(values, 'threshold', 1, 255) }),
        ...(values.total === undefined ? {} : { total: integer(values, 'total', 1, 255) }),
        ...(values.retain === undefined ? {} : { retain: integer(values, 'retain', 0, 255) }),
      };
      const ttl = integer(values, 'envelope-ttl', 0, 10 * 365 * 24 * 3600);
      const options = { qr: values.qr === true, ...op(values), ...(ttl === undefined ? {} : { envelopeTtlSeconds: ttl }) };
      const out = need(values, 'out');
      const given = need(values, 'custodians')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      if (values.all === true && (values['key-id'] !== undefined || values['node-id'] !== undefined)) throw usage('Give either --all or --key-id and --node-id.');
      return withAgent(ctx, async (a) => {
        const fps = given.map((g) => custodianFp(a, g));
        const labels = new Map(a.listCustodians().map((c) => [c.fingerprint, c.label]));
        const targets = values.all === true ? a.listNodes().filter((n) => n.activeSet === undefined) : [keyNode(values)];
        if (targets.length === 0) return { data: { backups: [] }, lines: ['Every imported key share has a backup set already; nothing to do.'] };
        const results: BackupResult[] = [];
        for (const [i, t] of targets.entries()) {
          if (targets.length > 1) ctx.progress(`backup ${String(i + 1)}/${String(targets.length)}: ${t.keyId} / ${t.nodeId}`);
          results.push(await a.backup(t.keyId, t.nodeId, params, fps, out, options));
        }
        const [only] = results;
        if (results.length === 1 && only !== undefined) {
          return { data: { backup: only }, lines: [...backupLines(only, labels), 'Next: hand each envelope to its custodian (delivery request), then record their receipts (delivery confirm).'] };
        }
        return {
          data: { backups: results },
          lines: [...table(results.map((r) => [r.keyId, r.nodeId, `epoch ${String(r.epoch)}`, r.setId])), `${String(results.length)} backup sets written to ${resolve(out)}.`],
        };
      });
    },
  },
);

/** The key-level facts of a status (issue 11 §3): tss-lib t, parties, group key fingerprint. */
function keyLine(s: Pick<BackupStatus, 'tssThreshold' | 'parties' | 'groupKeyFingerprint'>): string {
  const t = s.tssThreshold === undefined ? 'tss-lib threshold unknown' : `tss-lib t = ${String(s.tssThreshold)} (${String(s.tssThreshold + 1)} of ${String(s.parties ?? '?')} parties sign)`;
  return `${t}, group key ${s.groupKeyFingerprint === undefined ? 'unknown' : short(s.groupKeyFingerprint)}`;
}

/** One line per key under the table: how many of its nodes here are recoverable against t+1, and stale sets. */
function keySummary(all: readonly { node: NodeRecord; status: BackupStatus | undefined }[]): string[] {
  const keys = new Map<string, { node: NodeRecord; status: BackupStatus | undefined }[]>();
  for (const x of all) keys.set(x.node.keyId, [...(keys.get(x.node.keyId) ?? []), x]);
  const out: string[] = [];
  for (const [keyId, xs] of keys) {
    const first = xs[0]?.node;
    const recoverable = xs.filter((x) => x.status?.recoverable === true).length;
    const t = first?.tssThreshold;
    const need = t === undefined ? '' : `; ${String(t + 1)} of ${String(first?.parties ?? '?')} nodes needed to sign${recoverable < t + 1 ? ' (fewer recoverable here: the other nodes must be backed up by their own agents)' : ''}`;
    out.push(`key ${keyId}: ${String(recoverable)} of ${String(xs.length)} node(s) on this agent recoverable${need}.`);
    const stale = xs.flatMap((x) => (x.status?.staleSetIds ?? []).map((id) => `${x.node.nodeId} ${short(id)}`));
    if (stale.length > 0) out.push(`  stale sets (replaced after a resharing): ${stale.join(', ')}.`);
  }
  return out;
}

function statusLines(s: BackupStatus): string[] {
  const external = s.total - (s.retain ?? 0);
  return [
    `${s.keyId} / ${s.nodeId} (${s.curve}): ${s.recoverable ? 'recoverable' : 'NOT RECOVERABLE from confirmed shares'}`,
    ...pairs([
      ['backup set', `${s.setId} (epoch ${String(s.epoch)}), ${String(s.threshold)} of ${String(s.total)}, server keeps ${String(s.retain ?? '?')}`],
      ['server shares', `${String(s.serverSharesHeld)} held`],
      ['external', `${String(external)}: ${String(s.externalDelivered)} delivered, ${String(s.externalConfirmed)} confirmed`],
      ['external only', s.externalOnlyRecoverable === true ? 'recoverable without the server' : 'not enough confirmed shares without the server'],
      ['last drill', s.lastDrill === undefined ? 'never' : `${iso(s.lastDrill.at)} ${s.lastDrill.ok ? 'passed' : 'FAILED'} (${s.lastDrill.mode}, ${String(s.lastDrill.durationMs)} ms)`],
      ['key', keyLine(s)],
      ...(s.staleSetIds !== undefined && s.staleSetIds.length > 0
        ? ([['stale sets', `${s.staleSetIds.map(short).join(', ')} (a resharing replaced the keydata: their shares cannot rebuild it)`]] as const)
        : []),
      ...(s.zeroRetention === true
        ? ([['zero retention', `yes: the server holds no share of this node${s.zeroRetentionSince === undefined ? '' : ` (since ${iso(s.zeroRetentionSince)})`}`]] as const)
        : s.serverSharesSoftDeleted !== undefined && s.serverSharesSoftDeleted > 0
          ? ([['soft-deleted', `${String(s.serverSharesSoftDeleted)} server share(s) cooling off (delete rollback keeps them)`]] as const)
          : []),
      ...(s.inventory === undefined
        ? []
        : ([
            [
              'inventory',
              `${String(s.inventory.externalAttested)} external share(s) proven lately, ${s.inventory.recoverable ? 'recoverable from proven shares' : 'NOT recoverable from proven shares'}${s.inventory.externalFailed > 0 ? `, ${String(s.inventory.externalFailed)} missing or badly proven` : ''}`,
            ],
            ['overdue', s.inventory.overdueCustodians.length === 0 ? 'none' : s.inventory.overdueCustodians.map(short).join(', ')],
          ] as const)),
    ]),
  ];
}

const status = command(KEY_NODE, {
  name: 'status',
  usage: '[--key-id K --node-id N]',
  summary: 'backup status of one node, or a table of every node',
  run: async (ctx) => {
    const { values: v } = ctx;
    if (v['key-id'] !== undefined || v['node-id'] !== undefined) {
      const { keyId, nodeId } = keyNode(v);
      const s = await withAgent(ctx, (a) => a.getBackupStatus(keyId, nodeId));
      return { data: { status: s }, lines: statusLines(s) };
    }
    return withAgent(ctx, (a) => {
      const nodes = a.listNodes();
      const all = nodes.map((n) => ({ node: n, status: n.activeSet === undefined ? undefined : a.getBackupStatus(n.keyId, n.nodeId) }));
      return {
        data: { nodes: all.map((x) => ({ keyId: x.node.keyId, nodeId: x.node.nodeId, ...(x.status === undefined ? { backup: false } : { backup: true, status: x.status }) })) },
        lines:
          nodes.length === 0
            ? ['No key shares imported yet.']
            : table([
                ['KEY', 'NODE', 'SET', 'T/N', 'SERVER', 'DELIVERED', 'CONFIRMED', 'RECOVERABLE', 'LAST DRILL', 'ATTESTED', 'OVERDUE'],
                ...all.map(({ node, status: s }) =>
                  s === undefined
                    ? [node.keyId, node.nodeId, 'none', '-', '-', '-', '-', 'NO', '-', '-', '-']
                    : [
                        s.keyId,
                        s.nodeId,
                        `e${String(s.epoch)}`,
                        `${String(s.threshold)}/${String(s.total)}`,
                        String(s.serverSharesHeld),
                        String(s.externalDelivered),
                        String(s.externalConfirmed),
                        s.recoverable ? 'yes' : 'NO',
                        s.lastDrill === undefined ? 'never' : `${iso(s.lastDrill.at)} ${s.lastDrill.ok ? 'ok' : 'FAILED'}`,
                        s.inventory === undefined ? '-' : String(s.inventory.externalAttested),
                        s.inventory === undefined ? '-' : String(s.inventory.overdueCustodians.length),
                      ],
                ),
              ]).concat(keySummary(all)),
      };
    });
  },
});

export function shareTable(list: readonly ServerShareRecord[]): string[] {
  return table([
    ['SET', 'EPOCH', 'SHARE', 'STATE', 'SET STATE', 'CREATED', 'SOFT-DELETED'],
    ...list.map((s) => [short(s.setId), String(s.epoch), String(s.shareIndex), s.state, s.setState ?? '', iso(s.createdAt), s.softDeletedAt === undefined ? '' : iso(s.softDeletedAt)]),
  ]);
}

const shares = command(KEY_NODE, {
  name: 'shares',
  usage: '--key-id K --node-id N',
  summary: 'server-held share records of a node (never their secrets)',
  run: async (ctx) => {
    const { keyId, nodeId } = keyNode(ctx.values);
    const list = await withAgent(ctx, (a) => a.listBackupShares(keyId, nodeId));
    return { data: { shares: list }, lines: list.length === 0 ? ['This node has no server-held shares.'] : shareTable(list) };
  },
});

export const backupGroup: Group<AgentCliIo> = { name: 'backup', summary: 'a Shamir backup set: envelopes for the custodians', commands: [backup] };
export const statusGroup: Group<AgentCliIo> = { name: 'status', summary: 'backup status of one node or every node', commands: [status] };
export const sharesGroup: Group<AgentCliIo> = { name: 'shares', summary: 'server-held share records (never their secrets)', commands: [shares] };
