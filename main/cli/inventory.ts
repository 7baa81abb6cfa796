/** `inventory answer`: proof of possession for an agent's inventory challenge (custodian CLI). */
import { resolve } from 'node:path';
import { readInput } from '../../node/cli/inputs';
import type { Group } from '../../node/cli/runner';
import { answerChallenge, writeAttestation } from '../services/inventory';
import { command, need, openUnlocked } from './common';

const answer = command(
  { challenge: { type: 'string' }, out: { type: 'string' } },
  {
    name: 'inventory answer',
    usage: '--vault DIR --challenge FILE --out FILE',
    summary: 'a signed attestation: which challenged shares are held, with a proof for each',
    run: async (ctx) => {
      const challenge = readInput(need(ctx.values.challenge, 'challenge'), 'inventory challenge');
      const out = resolve(need(ctx.values.out, 'out'));
      const v = await openUnlocked(ctx);
      const a = await answerChallenge(v, challenge);
      await writeAttestation(a, out);
      return {
        data: {
          attestation: out,
          hash: a.hash,
          held: a.held,
          missing: a.missing,
          items: a.items.map((i) => ({ keyId: i.key_id, nodeId: i.node_id, setId: i.setIdHex, epoch: i.epoch, shareIndex: i.share_index, answer: i.answer, local: i.local })),
        },
        lines: [
          ...a.items.map((i) => `${i.answer.padEnd(7)} ${i.key_id}/${i.node_id} share ${String(i.share_index)}${i.local === 'damaged' ? ' (damaged here!)' : ''}`),
          `Attestation written to ${out}: ${String(a.held)} held, ${String(a.missing)} missing.`,
        ],
      };
    },
  },
);

export const inventoryGroup: Group = { name: 'inventory', summary: "answers to the agent's inventory challenges", commands: [answer] };
