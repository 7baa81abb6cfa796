/**
 * `approver add | list | disable | roster`: the approvers whose signatures open recovery sessions
 * and hard deletions, and the agent-signed roster of them (agent CLI). After the first two,
 * `add` and `disable` need two other approvers' signed roster changes (./roster.ts). Their own tools (keygen, sign) are a separate program, approver/cli.ts,
 * run on the approver's machine; `agent approver keygen|sign` says so.
 */
import { usage } from '../../node/cli/errors';
import { pairs, table } from '../../node/cli/format';
import { requireConfirmCode } from '../../node/cli/confirm-code';
import { readInput } from '../../node/cli/inputs';
import type { Group } from '../../node/cli/runner';
import { openApproverCard } from '../../shared/protocol';
import { command, need, op, resolveId, short, withAgent, writeNew, type AgentCliIo } from '../core/cli-common';
import type { Agent } from '../service';

const approverFp = (agent: Agent, given: string): string =>
  resolveId(
    given,
    agent.listApprovers().map((a) => a.fingerprint),
    'approver fingerprint',
    64,
  );

/** The signed roster changes given with --approval (and as arguments, for `disable`). */
const approvalFiles = (files: readonly string[]): Uint8Array[] => files.map((f) => readInput(f, 'roster change approval', 4096));

const add = command(
  { card: { type: 'string' }, 'confirm-code': { type: 'string' }, approval: { type: 'string', multiple: true } },
  {
    name: 'approver add',
    usage: '--card FILE [--confirm-code "1234 5678 …"] [--approval FILE --approval FILE]',
    summary:
      'registers an approver from the card made by their own `approver keygen`, once the code they read out was typed (asked for when omitted on a terminal); after the first two, only with two other approvers\' signed roster changes (`approver sign-roster-change`)',
    run: async (ctx) => {
      const card = readInput(need(ctx.values, 'card'), 'approver card', 4096);
      const approvals = approvalFiles(ctx.values.approval ?? []);
      await requireConfirmCode(openApproverCard(card).code, ctx.values['confirm-code'], 'the approver', 'by their approver program (`approver keygen` printed it; `approver sign` shows it)');
      const { r, roster } = await withAgent(ctx, async (a) => {
        const added = await a.addApprover(card, op(ctx.values), approvals);
        return { r: added, roster: a.approverRosterVersion() };
      });
      return {
        data: { approver: r, rosterVersion: roster },
        lines: [
          `Registered approver "${r.name}".`,
          ...pairs([
            ['fingerprint', r.fingerprint],
            ['code', `${r.code}  (matched the code the approver read out)`],
            ['roster', `version ${String(roster)}${approvals.length > 0 ? `, approved by ${String(approvals.length)} approvers` : ' (setup: codes compared)'}; approver roster --out FILE exports it for custodians`],
          ]),
        ],
      };
    },
  },
);

const roster = command(
  { out: { type: 'string' } },
  {
    name: 'approver roster',
    usage: '[--out FILE]',
    summary: 'the agent-signed approver roster (version, approvers, last change) for custodians to pin and approvers to sign changes against',
    run: async (ctx) => {
      const out = ctx.values.out;
      const r = await withAgent(ctx, (a) => ({ ...a.approverRoster(), approvers: a.listApprovers() }));
      const file = out === undefined ? undefined : writeNew(out, r.bytes, 0o644);
      return {
        data: { version: r.version, nextRule: r.nextRule, approvers: r.approvers, ...(file === undefined ? {} : { file }) },
        lines: [
          `Approver roster version ${String(r.version)}: ${String(r.approvers.filter((x) => x.enabled).length)} enabled of ${String(r.approvers.length)}.`,
          r.nextRule === 'quorum'
            ? `The next change (add or disable) needs two enabled approvers' signed roster changes for version ${String(r.version)}.`
            : 'The next approver is registered with the code comparison alone (fewer than two are enabled).',
          ...(file === undefined ? ['Give --out FILE to write the signed roster.'] : [`Signed roster written to ${file}.`]),
        ],
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
  { approval: { type: 'string', multiple: true } },
  {
    name: 'approver disable',
    args: 'FINGERPRINT',
    usage: '--approval FILE --approval FILE',
    summary: "their approvals no longer count; needs two other approvers' signed roster changes (`approver sign-roster-change --disable`)",
    run: async (ctx) => {
      const given = ctx.args[0];
      if (given === undefined) throw usage('approver disable FINGERPRINT --approval FILE --approval FILE');
      const approvals = approvalFiles(ctx.values.approval ?? []);
      const r = await withAgent(ctx, (a) => a.disableApprover(approverFp(a, given), op(ctx.values), approvals));
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

export const approverGroup: Group<AgentCliIo> = { name: 'approver', summary: 'the approvers who sign sessions and deletions', commands: [add, list, disable, roster, moved('keygen'), moved('sign')] };
