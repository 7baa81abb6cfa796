/**
 * `audit verify [--from-checkpoint] | export | show | checkpoint | settings`: the agent's hash-chained
 * audit log and its signed checkpoints (agent CLI; agent/audit/checkpoint.ts).
 */
import { utf8 as encodeUtf8 } from '../../shared/bytes';
import type { Group } from '../../node/cli/runner';
import { table } from '../../node/cli/format';
import { usage } from '../../node/cli/errors';
import { command, duration, integer, need, withAgent, writeNew, type AgentCliIo } from '../core/cli-common';

const when = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

const verify = command(
  { 'from-checkpoint': { type: 'boolean' } },
  {
    name: 'audit verify',
    usage: '[--from-checkpoint]',
    summary: 'checks the hash chain against the signed checkpoints (database and sink); --from-checkpoint reads only what follows the last one (exit 3 if it does not verify)',
    run: (ctx) =>
      withAgent(ctx, (a) => {
        const r = a.verifyAudit({ fromCheckpoint: ctx.values['from-checkpoint'] === true });
        const last = r.checkpoints?.lastMatched;
        const lines = r.ok
          ? [
              r.mode === 'from-checkpoint'
                ? `The audit log verifies from its last checkpoint (${String(r.checkpoints?.from ?? 0)} entries): ${String(r.entries)} entries after it, ${String(r.size ?? r.entries)} in all, head ${r.headHash}.`
                : `The audit log verifies: ${String(r.entries)} entries, head ${r.headHash}.`,
              last === undefined ? 'No signed checkpoint yet.' : `Last signed checkpoint: ${String(last.size)} entries (${last.reason}, ${when(last.at)}).`,
            ]
          : [`The audit log does NOT verify: ${r.firstBad?.message ?? 'unknown problem'} (entry ${String(r.firstBad?.seq ?? '?')}, ${r.firstBad?.problem ?? '?'}).`];
        return { data: { verification: r }, lines, exit: r.ok ? 0 : 3 };
      }),
  },
);

const exportCmd = command(
  { out: { type: 'string' } },
  {
    name: 'audit export',
    usage: '--out FILE',
    summary: 'the log as JSON lines with its signed checkpoints (verify offline: scripts/verify-audit.ts)',
    run: (ctx) => {
      const out = need(ctx.values, 'out');
      return withAgent(ctx, (a) => {
        const text = a.exportAudit();
        const file = writeNew(out, encodeUtf8(text), 0o600);
        const lines = text === '' ? [] : text.trimEnd().split('\n');
        const checkpoints = lines.filter((l) => l.startsWith('{"checkpoint":')).length;
        const count = lines.length - checkpoints;
        return {
          data: { file, entries: count, checkpoints },
          lines: [`${String(count)} audit entries and ${String(checkpoints)} signed checkpoints written to ${file} (JSON lines).`],
        };
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
      const from = integer(ctx.values, 'from', 0, Number.MAX_SAFE_INTEGER) ?? 0;
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

const checkpointCmd = command(
  {},
  {
    name: 'audit checkpoint',
    summary: 'signs a checkpoint of the audit chain now (also made by interval and on sensitive events)',
    run: (ctx) =>
      withAgent(ctx, (a) => {
        const cp = a.auditCheckpoint('manual');
        const status = a.auditStatus();
        const lines = cp === undefined ? [status.refused ?? 'The last checkpoint already covers every entry; nothing to sign.'] : [`Signed checkpoint of ${String(cp.size)} entries, head ${cp.head}.`];
        if (status.sinkError !== undefined) lines.push(status.sinkError);
        return { data: { checkpoint: cp ?? null, status }, lines, exit: status.refused === undefined ? 0 : 3 };
      }),
  },
);

const settings = command(
  { every: { type: 'string' }, interval: { type: 'string' }, sink: { type: 'string' }, 'no-sink': { type: 'boolean' } },
  {
    name: 'audit settings',
    usage: '[--every N] [--interval 1h] [--sink file:PATH|syslog:udp://HOST:PORT|syslog:tcp://HOST:PORT|syslog:unix:/PATH | --no-sink]',
    summary: 'how often checkpoints are signed (entries, time) and the sink outside the data directory they also go to (a file, or syslog as RFC 5424)',
    run: (ctx) => {
      const v = ctx.values;
      if (v.sink !== undefined && v['no-sink'] === true) throw usage('Give --sink FILE or --no-sink, not both.');
      const every = integer(v, 'every', 0, 100_000_000);
      const seconds = duration(v, 'interval');
      const sink = v['no-sink'] === true ? null : v.sink;
      return withAgent(ctx, async (a) => {
        const changing = every !== undefined || seconds !== undefined || sink !== undefined;
        if (changing) a.configureAudit({ ...(every === undefined ? {} : { every }), ...(seconds === undefined ? {} : { intervalMs: seconds * 1000 }), ...(sink === undefined ? {} : { sink }) });
        await a.auditSinkSettled(); // a syslog sink's delivery is known before this reports
        const status = a.auditStatus();
        const lines = [
          `Checkpoints: every ${status.every === 0 ? '(never by count)' : `${String(status.every)} entries`}, ${status.intervalMs === 0 ? 'never by time' : `at the first entry ${String(status.intervalMs / 1000)} s after the last one`}, and on sensitive events.`,
          `Sink: ${status.sink ?? 'none (checkpoints stay in the database only; set one outside the data directory)'}${status.sinkSize === undefined ? '' : `, holding checkpoints up to ${String(status.sinkSize)} entries`}.`,
          status.lastCheckpoint === undefined ? 'No checkpoint yet.' : `Last checkpoint: ${String(status.lastCheckpoint.size)} of ${String(status.size)} entries, ${when(status.lastCheckpoint.at)}.`,
        ];
        if (status.sinkError !== undefined) lines.push(status.sinkError);
        if (status.refused !== undefined) lines.push(status.refused);
        return { data: { status }, lines };
      });
    },
  },
);

export const auditGroup: Group<AgentCliIo> = {
  name: 'audit',
  summary: 'the hash-chained audit log and its signed checkpoints',
  commands: [verify, exportCmd, show, checkpointCmd, settings],
};
