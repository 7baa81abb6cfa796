/** `settings show | set`: the agent's operating settings, every change audited (agent CLI). */
import { usage } from '../../node/cli/errors';
import { pairs } from '../../node/cli/format';
import type { Group } from '../../node/cli/runner';
import type { AgentSettings } from '../api';
import { command, duration, op, withAgent, type AgentCliIo } from '../core/cli-common';

function settingsLines(s: AgentSettings): string[] {
  const days = (x: number): string => (x % 86400 === 0 ? `${String(x / 86400)} day(s)` : x % 3600 === 0 ? `${String(x / 3600)} hour(s)` : `${String(x)} s`);
  return pairs([
    ['deletion cooling-off', days(s.deletionCoolingSeconds)],
    ['inventory max age', days(s.inventoryMaxAgeSeconds)],
    ['challenge lifetime', days(s.inventoryChallengeTtlSeconds)],
  ]);
}

const show = command(
  {},
  {
    name: 'settings show',
    summary: 'the current settings',
    run: async (ctx) => {
      const s = await withAgent(ctx, (a) => a.getSettings());
      return { data: { settings: s }, lines: ['Settings:', ...settingsLines(s)] };
    },
  },
);

const set = command(
  { 'deletion-cooling': { type: 'string' }, 'inventory-max-age': { type: 'string' }, 'challenge-ttl': { type: 'string' } },
  {
    name: 'settings set',
    usage: '[--deletion-cooling 7d] [--inventory-max-age 90d] [--challenge-ttl 7d]',
    summary: 'changes settings (audited)',
    run: async (ctx) => {
      const { values: v } = ctx;
      const cooling = duration(v, 'deletion-cooling');
      const maxAge = duration(v, 'inventory-max-age');
      const ttl = duration(v, 'challenge-ttl');
      if (cooling === undefined && maxAge === undefined && ttl === undefined) throw usage('settings set [--deletion-cooling 7d] [--inventory-max-age 90d] [--challenge-ttl 7d]');
      const s = await withAgent(ctx, (a) =>
        a.updateSettings(
          {
            ...(cooling === undefined ? {} : { deletionCoolingSeconds: cooling }),
            ...(maxAge === undefined ? {} : { inventoryMaxAgeSeconds: maxAge }),
            ...(ttl === undefined ? {} : { inventoryChallengeTtlSeconds: ttl }),
          },
          op(v),
        ),
      );
      return { data: { settings: s }, lines: ['Settings changed (audited):', ...settingsLines(s)] };
    },
  },
);

export const settingsGroup: Group<AgentCliIo> = { name: 'settings', summary: 'cooling-off, inventory age, challenge lifetime', commands: [show, set] };
