/** `inventory challenge | submit | status`: custodians proving they still hold their shares (agent CLI). */
import { usage } from '../../node/cli/errors';
import { iso, pairs, table } from '../../node/cli/format';
import { expandInputs, readInput } from '../../node/cli/inputs';
import type { Group } from '../../node/cli/runner';
import type { InventoryStatus } from '../api';
import { checkNewFile, command, custodianFp, integer, keyNode, need, op, publicOf, short, withAgent, writeNew, type AgentCliIo } from '../core/cli-common';
import type { Agent } from '../service';

function inventoryLines(s: InventoryStatus): string[] {
  return [
    `${s.keyId} / ${s.nodeId} (epoch ${String(s.epoch)}): ${s.recoverable ? 'recoverable from proven shares' : 'NOT recoverable from proven shares'}`,
    ...pairs([
      ['server shares', `${String(s.serverSharesHeld)} held`],
      ['external', `${String(s.externalDelivered)} delivered, ${String(s.externalConfirmed)} confirmed, ${String(s.externalAttested)} proven within ${String(Math.round(s.maxAgeSeconds / 86400))} days`],
      ['overdue', s.overdueCustodians.length === 0 ? 'none' : s.overdueCustodians.map((o) => `${o.label} (${o.reason}, since ${iso(o.since)})`).join('; ')],
    ]),
    ...table([
      ['SHARE', 'CUSTODIAN', 'DELIVERY', 'LAST PROVEN', 'LAST RESULT', 'STATE'],
      ...s.shares.map((x) => [
        String(x.shareIndex),
        x.label,
        x.delivery,
        x.lastProvenAt === undefined ? 'never' : iso(x.lastProvenAt),
        x.lastResult ?? '-',
        x.attested ? 'attested' : (x.overdue ?? (x.lastResult === 'missing' || x.lastResult === 'bad-proof' ? 'FAILED' : 'not proven')),
      ]),
    ]).map((l) => `  ${l}`),
  ];
}

const challenge = command(
  { custodian: { type: 'string' }, out: { type: 'string' }, ttl: { type: 'string' } },
  {
    name: 'inventory challenge',
    usage: '--custodian FP --out FILE [--ttl S]',
    summary: 'a signed challenge for one custodian',
    run: (ctx) => {
      const { values: v } = ctx;
      const out = need(v, 'out');
      const ttl = integer(v, 'ttl', 1, 365 * 24 * 3600);
      checkNewFile(out, 'challenge');
      return withAgent(ctx, async (a) => {
        const fp = custodianFp(a, need(v, 'custodian'));
        const c = await a.issueInventoryChallenge(fp, { ...op(v), ...(ttl === undefined ? {} : { ttlSeconds: ttl }) });
        const file = writeNew(out, c.challenge, 0o644);
        const { challenge: _bytes, ...rest } = c;
        const label = a.listCustodians().find((x) => x.fingerprint === fp)?.label ?? short(fp);
        return {
          data: { challenge: { ...rest, file } },
          lines: [
            `Inventory challenge ${c.challengeId} for ${label}: ${String(c.items.length)} share(s), answer by ${iso(c.notAfter)}.`,
            `Written to ${file}. The custodian answers it (custodian app or CLI); then: inventory submit ATTESTATION_FILE`,
          ],
        };
      });
    },
  },
);

const submit = command(
  {},
  {
    name: 'inventory submit',
    args: 'FILE|DIR...',
    summary: "the custodians' attestations (exit 3 if a share is not proven)",
    run: (ctx) => {
      if (ctx.args.length === 0) throw usage('inventory submit FILE|DIR...');
      const files = expandInputs(ctx.args);
      return withAgent(ctx, async (a) => {
        const results: Awaited<ReturnType<Agent['submitInventoryAttestation']>>[] = [];
        const refused: { file: string; code: string; message: string }[] = [];
        for (const f of files) {
          try {
            results.push(await a.submitInventoryAttestation(readInput(f, 'inventory attestation', 1024 * 1024), op(ctx.values)));
          } catch (error) {
            if (files.length === 1) throw error;
            refused.push({ file: f, ...publicOf(error) });
          }
        }
        const labels = new Map(a.listCustodians().map((c) => [c.fingerprint, c.label]));
        const failed = results.reduce((n, r) => n + r.missing + r.badProof + r.notAnswered, 0);
        return {
          data: { attestations: results, refused },
          lines: [
            ...results.map(
              (r) =>
                `${labels.get(r.custodian) ?? short(r.custodian)}: ${String(r.proven)} proven, ${String(r.missing)} missing, ${String(r.badProof)} bad proof, ${String(r.notAnswered)} not answered (challenge ${short(r.challengeId)})`,
            ),
            ...results.flatMap((r) => r.items.filter((i) => i.result !== 'proven').map((i) => `  ${i.result.padEnd(12)} ${i.keyId} / ${i.nodeId} share ${String(i.shareIndex)} (epoch ${String(i.epoch)})`)),
            ...refused.map((r) => `refused ${r.file}: ${r.message} (${r.code})`),
          ],
          exit: refused.length > 0 || failed > 0 ? 3 : 0,
        };
      });
    },
  },
);

const status = command(
  { 'key-id': { type: 'string' }, 'node-id': { type: 'string' } },
  {
    name: 'inventory status',
    usage: '[--key-id K --node-id N]',
    summary: 'per custodian, or per share of one node (exit 3 if overdue or failed)',
    run: async (ctx) => {
      const { values: v } = ctx;
      if (v['key-id'] !== undefined || v['node-id'] !== undefined) {
        const { keyId, nodeId } = keyNode(v);
        const s = await withAgent(ctx, (a) => a.inventoryStatus(keyId, nodeId));
        return { data: { inventory: s }, lines: inventoryLines(s), exit: s.overdueCustodians.length > 0 || s.externalFailed > 0 ? 3 : 0 };
      }
      return withAgent(ctx, (a) => {
        const custodians = a.inventoryCustodians();
        const nodes = a
          .listNodes()
          .filter((n) => n.activeSet !== undefined)
          .map((n) => a.inventoryStatus(n.keyId, n.nodeId));
        const overdue = custodians.filter((c) => c.overdue !== undefined).length;
        return {
          data: { custodians, nodes },
          lines: [
            ...table([
              ['CUSTODIAN', 'LABEL', 'SHARES', 'ATTESTED', 'LAST CHALLENGE', 'ANSWERED', 'LAST PROVEN', 'OVERDUE'],
              ...custodians.map((c) => [
                short(c.custodian),
                c.label,
                String(c.sharesExpected),
                String(c.sharesAttested),
                c.lastChallenge === undefined ? 'never' : iso(c.lastChallenge.createdAt),
                c.lastChallenge === undefined ? '-' : c.lastChallenge.answeredAt === undefined ? `no (by ${iso(c.lastChallenge.notAfter)})` : iso(c.lastChallenge.answeredAt),
                c.lastProvenAt === undefined ? 'never' : iso(c.lastProvenAt),
                c.overdue ?? '-',
              ]),
            ]),
            `${String(nodes.filter((n) => n.recoverable).length)} of ${String(nodes.length)} backed-up node(s) recoverable from proven shares; ${String(overdue)} custodian(s) overdue.`,
          ],
          exit: overdue > 0 ? 3 : 0,
        };
      });
    },
  },
);

export const inventoryGroup: Group<AgentCliIo> = { name: 'inventory', summary: 'custodians proving they still hold their shares', commands: [challenge, submit, status] };
