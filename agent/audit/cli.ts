/** `audit verify | export | show`: the agent's hash-chained audit log (agent CLI). */
import { utf8 as encodeUtf8 } from '../../shared/bytes';
import type { Group } from '../../node/cli/runner';
import { table } from '../../node/cli/format';
import { command, integer, need, withAgent, writeNew, type AgentCliIo } from '../core/cli-common';

const verify = command(
  {},
  {
    name: 'audit verify',
    summary: 'checks the whole hash chain (exit 3 if it does not verify)',
    run: (ctx) =>
      withAgent(ctx, (a) => {
        const r = a.verifyAudit();
        return {
          data: { verification: r },
          lines: [r.ok ? `The audit log verifies: ${String(r.entries)} entries, head ${r.headHash}.` : `The audit log does NOT verify: ${r.firstBad?.message ?? 'unknown problem'} (entry ${String(r.firstBad?.seq ?? '?')}, ${r.firstBad?.problem ?? '?'}).`],
          exit: r.ok ? 0 : 3,
        };
      }),
  },
);

const exportCmd = command(
  { out: { type: 'string' } },
  {
    name: 'audit export',
    usage: '--out FILE',
    summary: 'the log as JSON lines, hash-chained',
    run: (ctx) => {
      const out = need(ctx.values, 'out');
      return withAgent(ctx, (a) => {
        const text = a.exportAudit();
        const file = writeNew(out, encodeUtf8(text), 0o600);
        const count = text === '' ? 0 : text.split('\n').length - 1;
        return { data: { file, entries: count }, lines: [`${String(count)} audit entries written to ${file} (JSON lines, hash-chained).`] };
      });
    },
  },
);

const show = command(
  { from: { type: 'string' }, limit: { type: 'string' } },
  {
    name: 'audit show',
    usage: '[--from SEQ] [--limit N]',
    summary: 'entries as a table (50 from the first by default)',
    run: (ctx) => {
      const from = integer(ctx.values, 'from', 1, Number.MAX_SAFE_INTEGER) ?? 1;
      const limit = integer(ctx.values, 'limit', 1, 100_000) ?? 50;
      return withAgent(ctx, (a) => {
        const entries = a.auditEntries({ fromSeq: from, limit }).map((r) => r.entry);
        return {
          data: { entries },
          lines: table(
            entries.map((e) => [
              String(e.seq),
              e.time.replace(/\.\d+Z$/, 'Z'),
              `${e.event}/${e.action}`,
              e.result,
              [e.key_id, e.node_id].filter((x) => x !== undefined).join('/'),
              e.share_index === undefined ? '' : `share ${String(e.share_index)}`,
              e.operator ?? '',
              e.reason ?? e.target ?? '',
            ]),
          ),
        };
      });
    },
  },
);

export const auditGroup: Group<AgentCliIo> = { name: 'audit', summary: 'the hash-chained audit log', commands: [verify, exportCmd, show] };
