/**
 * `approver add | list | disable`: the approvers whose signatures open recovery sessions and hard
 * deletions (agent CLI). Their own tools (keygen, sign) are a separate program, approver/cli.ts,
 * run on the approver's machine; `agent approver keygen|sign` says so.
 */
import { usage } from '../../node/cli/errors';
import { pairs, table } from '../../node/cli/format';
import { requireConfirmCode } from '../../node/cli/confirm-code';
import { readInput } from '../../node/cli/inputs';
import type { Group } from '../../node/cli/runner';
import { openApproverCard } from '../../shared/protocol';
import { command, need, op, resolveId, short, withAgent, type AgentCliIo } from '../core/cli-common';
import type { Agent } from '../service';

const approverFp = (agent: Agent, given: string): string =>
  resolveId(
    given,
    agent.listApprovers().map((a) => a.fingerprint),
    'approver fingerprint',
    64,
  );

const add = command(
  { card: { type: 'string' }, 'confirm-code': { type: 'string' } },
  {
    name: 'approver add',
    usage: '--card FILE [--confirm-code "1234 5678 …"]',
    summary: 'registers an approver from the card made by their own `approver keygen`, once the code they read out was typed (asked for when omitted on a terminal)',
    run: async (ctx) => {
      const card = readInput(need(ctx.values, 'card'), 'approver card', 4096);
      await requireConfirmCode(openApproverCard(card).code, ctx.values['confirm-code'], 'the approver', 'by their approver program (`approver keygen` printed it; `approver sign` shows it)');
      const r = await withAgent(ctx, (a) => a.addApprover(card, op(ctx.values)));
      return {
        data: { approver: r },
        lines: [`Registered approver "${r.name}".`, ...pairs([['fingerprint', r.fingerprint], ['code', `${r.code}  (matched the code the approver read out)`]])],
      };
    },
  },
);

const list = command(
  {},
  {
    name: 'approver list',
    summary: 'every registered approver',
    run: async (ctx) => {
      const approvers = await withAgent(ctx, (a) => a.listApprovers());
      return {
        data: { approvers },
        lines:
          approvers.length === 0
            ? ['No approvers registered yet: approver add --card FILE.']
            : table([['FINGERPRINT', 'STATE', 'CODE', 'NAME'], ...approvers.map((x) => [short(x.fingerprint), x.enabled ? 'enabled' : 'disabled', x.code, x.name])]),
      };
    },
  },
);

const disable = command(
  {},
  {
    name: 'approver disable',
    args: 'FINGERPRINT',
    summary: 'their approvals no longer count',
    run: async (ctx) => {
      const given = ctx.args[0];
      if (given === undefined) throw usage('approver disable FINGERPRINT');
      const r = await withAgent(ctx, (a) => a.disableApprover(approverFp(a, given), op(ctx.values)));
      return { data: { approver: r }, lines: [`Approver "${r.name}" (${short(r.fingerprint)}) is disabled: their approvals no longer count.`] };
    },
  },
);

/** `agent approver keygen|sign` moved to the approver's own program; any options are accepted so the answer is always this sentence. */
const moved = (name: 'keygen' | 'sign'): ReturnType<typeof command> =>
  command(
    {},
    {
      name: `approver ${name}`,
      args: '...',
      summary: 'moved to the approver program',
      hidden: true,
      lenient: true,
      run: () => {
        throw usage(`approver ${name} runs on the approver's own machine, in its own program: npm run approver -- ${name} ... (tsx approver/cli.ts ${name}).`);
      },
    },
  );

export const approverGroup: Group<AgentCliIo> = { name: 'approver', summary: 'the approvers who sign sessions and deletions', commands: [add, list, disable, moved('keygen'), moved('sign')] };
