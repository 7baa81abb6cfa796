/** `drill record`: a recovery drill run elsewhere (e.g. `npm run drill`), recorded for GetBackupStatus (agent CLI). */
import { usage } from '../../node/cli/errors';
import { iso } from '../../node/cli/format';
import type { Group } from '../../node/cli/runner';
import { command, integer, keyNode, mode, need, op, withAgent, type AgentCliIo } from '../core/cli-common';

const record = command(
  {
    'key-id': { type: 'string' },
    'node-id': { type: 'string' },
    mode: { type: 'string' },
    result: { type: 'string' },
    'duration-ms': { type: 'string' },
    note: { type: 'string' },
    'set-id': { type: 'string' },
    'session-id': { type: 'string' },
  },
  {
    name: 'drill record',
    usage: '--key-id K --node-id N --mode M --result ok|failed --duration-ms MS [--set-id S] [--session-id S] [--note TEXT]',
    summary: 'records the result of a recovery drill (status shows the last one)',
    run: async (ctx) => {
      const { values: v } = ctx;
      const { keyId, nodeId } = keyNode(v);
      const result = need(v, 'result');
      if (result !== 'ok' && result !== 'failed') throw usage('--result is ok or failed.');
      const durationMs = integer(v, 'duration-ms', 0, Number.MAX_SAFE_INTEGER);
      if (durationMs === undefined) throw usage('--duration-ms is required here.');
      const r = await withAgent(ctx, (a) =>
        a.recordDrill(
          {
            keyId,
            nodeId,
            mode: mode(v),
            ok: result === 'ok',
            durationMs,
            ...(v['set-id'] === undefined ? {} : { setId: v['set-id'] }),
            ...(v['session-id'] === undefined ? {} : { sessionId: v['session-id'] }),
            ...(v.note === undefined ? {} : { note: v.note }),
          },
          op(v),
        ),
      );
      return { data: { drill: r }, lines: [`Drill of ${keyId} / ${nodeId} recorded: ${r.ok ? 'passed' : 'failed'}, ${r.mode}, ${String(r.durationMs)} ms, at ${iso(r.at)}.`] };
    },
  },
);

export const drillGroup: Group<AgentCliIo> = { name: 'drill', summary: 'recovery drills run elsewhere, recorded', commands: [record] };
