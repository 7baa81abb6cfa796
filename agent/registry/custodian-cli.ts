/** `custodian add | list | disable`: the custodians who receive shares (agent CLI, agent/cli.ts). */
import { usage } from '../../node/cli/errors';
import { pairs, table } from '../../node/cli/format';
import { requireConfirmCode } from '../../node/cli/confirm-code';
import { readInput } from '../../node/cli/inputs';
import type { Group } from '../../node/cli/runner';
import { openCustodianCard } from '../../shared/protocol';
import { CUSTODIAN_ROLES, type CustodianRole } from '../api';
import { command, custodianFp, need, op, short, withAgent, type AgentCliIo } from '../core/cli-common';

const add = command(
  { card: { type: 'string' }, label: { type: 'string' }, role: { type: 'string' }, 'confirm-code': { type: 'string' } },
  {
    name: 'custodian add',
    usage: `--card FILE --label L --role ${CUSTODIAN_ROLES.join('|')} [--confirm-code "1234 5678 …"]`,
    summary: 'registers a custodian from their enrollment card once the code they read out from their screen was typed (asked for when omitted on a terminal)',
    run: async (ctx) => {
      const { values } = ctx;
      const role = need(values, 'role');
      if (!(CUSTODIAN_ROLES as readonly string[]).includes(role)) throw usage(`--role is one of ${CUSTODIAN_ROLES.join(', ')}; got "${role}".`);
      const label = need(values, 'label');
      const card = readInput(need(values, 'card'), 'enrollment card', 4096);
      // The card is checked (signature, form) before anyone is asked for its code; the agent checks it again.
      await requireConfirmCode(openCustodianCard(card).code, values['confirm-code'], 'the custodian', 'in their Custos app (or by `custos vault info`)');
      const c = await withAgent(ctx, (a) => a.addCustodian(card, label, role as CustodianRole, op(values)));
      return {
        data: { custodian: c },
        lines: [
          `Registered custodian "${c.label}" (${c.role}); name on the card: "${c.cardName}".`,
          ...pairs([
            ['fingerprint', c.fingerprint],
            ['code', `${c.code}  (matched the code the custodian read out)`],
          ]),
        ],
      };
    },
  },
);

const list = command(
  {},
  {
    name: 'custodian list',
    summary: 'every registered custodian',
    run: async (ctx) => {
      const custodians = await withAgent(ctx, (a) => a.listCustodians());
      return {
        data: { custodians },
        lines:
          custodians.length === 0
            ? ['No custodians registered yet: custodian add --card FILE --label L --role R.']
            : table([['FINGERPRINT', 'ROLE', 'STATE', 'CODE', 'LABEL'], ...custodians.map((c) => [short(c.fingerprint), c.role, c.enabled ? 'enabled' : 'disabled', c.code, c.label])]),
      };
    },
  },
);

const disable = command(
  {},
  {
    name: 'custodian disable',
    args: 'FINGERPRINT',
    summary: 'no new shares go to this custodian and their receipts are refused',
    run: async (ctx) => {
      const given = ctx.args[0];
      if (given === undefined) throw usage('custodian disable FINGERPRINT');
      const c = await withAgent(ctx, (a) => a.disableCustodian(custodianFp(a, given), op(ctx.values)));
      return { data: { custodian: c }, lines: [`Custodian "${c.label}" (${short(c.fingerprint)}) is disabled: no new shares go to them and their receipts are refused.`] };
    },
  },
);

export const custodianGroup: Group<AgentCliIo> = { name: 'custodian', summary: 'the custodians who hold shares', commands: [add, list, disable] };
