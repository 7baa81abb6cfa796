/** `pin-agent` and `rotate-agent`: which agent key this vault trusts (custodian CLI). */
import { readInput } from '../../node/cli/inputs';
import type { Group } from '../../node/cli/runner';
import { ServiceError } from '../services/errors';
import { applyAgentKeyRotation, pinAgent, previewAgentCard } from '../services/trust';
import { command, need, openUnlocked } from './common';

const pin = command(
  { card: { type: 'string' }, 'confirm-code': { type: 'string' } },
  {
    name: 'pin-agent',
    usage: '--vault DIR --card FILE [--confirm-code "1234 5678 …"]',
    summary: "trusts the agent's card once its comparison code was checked with ops over a separate channel",
    run: async (ctx) => {
      const bytes = readInput(need(ctx.values.card, 'card'), 'agent card');
      const preview = previewAgentCard(bytes);
      const code = ctx.values['confirm-code'];
      if (code === undefined) {
        // Never the card's own code: the person must type what ops read out from the agent
        // (`agent info`), or the comparison turns into copy-paste of a possibly swapped card.
        throw new ServiceError(
          'CONFIRMATION_REQUIRED',
          `Agent card of "${preview.name}". Ask ops to read out the agent's fingerprint code (\`agent info\` on the agent's host) over a separate channel (phone, in person), then run again with --confirm-code "…" typed from what they read.`,
          { details: { name: preview.name } },
        );
      }
      const v = await openUnlocked(ctx);
      const r = await pinAgent(v, bytes, code);
      return { data: { ...r }, lines: [r.alreadyPinned ? `Agent "${r.name}" was already trusted.` : `Agent "${r.name}" is now trusted (code ${r.code}).`] };
    },
  },
);

const rotate = command(
  { notice: { type: 'string' } },
  {
    name: 'rotate-agent',
    usage: '--vault DIR --notice FILE',
    summary: "applies the agent's signed key replacement notice",
    run: async (ctx) => {
      const bytes = readInput(need(ctx.values.notice, 'notice'), 'key replacement notice');
      const v = await openUnlocked(ctx);
      const r = await applyAgentKeyRotation(v, bytes);
      return { data: { previous: r.previous, next: r.next }, lines: [`The agent key was replaced: ${r.previous.code} → ${r.next.code} ("${r.next.name}").`] };
    },
  },
);

export const pinAgentGroup: Group = { name: 'pin-agent', summary: "trust the agent's card after comparing its code", commands: [pin] };
export const rotateAgentGroup: Group = { name: 'rotate-agent', summary: "the agent's signed key replacement", commands: [rotate] };
