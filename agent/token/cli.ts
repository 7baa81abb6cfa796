/**
 * `token create | list | revoke`: per-operator API tokens with scopes (issue 9 §3; ./store.ts).
 * The secret is written to a new 0600 file and printed only with --print; a running `serve` sees a
 * new or revoked token at its next call.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, usage } from '../../node/cli/errors';
import { pairs } from '../../node/cli/format';
import type { Group } from '../../node/cli/runner';
import { TOKEN_FILE } from '../core/lifecycle';
import { checkNewFile, command, dataDir, need, writeNew, type AgentCliIo } from '../core/cli-common';
import { Agent } from '../service';
import { parseScopes, readTokens, SCOPES, type TokenRecord } from './store';

/**
 * Creating and revoking go through the opened agent so each is audited (register/token-create,
 * token-revoke). The audit operator is the agent's default one: --operator here names the token's owner.
 */
async function withAuditingAgent<T>(dir: string, fn: (agent: Agent) => Promise<T>): Promise<T> {
  const agent = await Agent.open(dir);
  try {
    return await fn(agent);
  } finally {
    agent.close();
  }
}

function agentDir(ctx: Parameters<typeof dataDir>[0]): string {
  const dir = dataDir(ctx);
  if (!existsSync(join(dir, TOKEN_FILE))) throw new CliError('NOT_FOUND', `${dir} is not an agent data directory (no ${TOKEN_FILE}); run "agent init" first.`);
  return dir;
}

const view = (t: TokenRecord) => ({
  id: t.id,
  operator: t.operator,
  scopes: t.scopes,
  created: new Date(t.createdAt * 1000).toISOString(),
  revoked: t.revokedAt === null ? null : new Date(t.revokedAt * 1000).toISOString(),
});

const create = command(
  { scope: { type: 'string' }, out: { type: 'string' }, print: { type: 'boolean' } },
  {
    name: 'token create',
    usage: `--operator NAME --scope ${SCOPES.join(',')} --out FILE [--print]`,
    summary: 'a new API token for one operator (secret written to a new 0600 file)',
    run: async (ctx) => {
      const v = ctx.values;
      const operator = v.operator;
      if (operator === undefined) throw usage('token create needs --operator NAME: the operator the audit log names for calls with this token.');
      const scopes = parseScopes(need(v, 'scope'));
      const out = need(v, 'out');
      checkNewFile(out, 'API token');
      const dir = agentDir(ctx);
      const { record, token } = await withAuditingAgent(dir, (a) => a.createApiToken(operator, scopes));
      const file = writeNew(out, new TextEncoder().encode(`${token}\n`), 0o600);
      return {
        data: { token: view(record), file, ...(v.print === true ? { secret: token } : {}) },
        lines: [
          `API token ${record.id} created for operator "${record.operator}" with scope ${record.scopes.join(', ')}.`,
          `The token is in ${file} (0600); clients send it as "authorization: Bearer <token>". Only its hash is kept by the agent.`,
          ...(v.print === true ? [token] : []),
        ],
      };
    },
  },
);

const list = command(
  {},
  {
    name: 'token list',
    summary: 'every API token: id, operator, scopes, created, revoked (never the secret)',
    run: (ctx) => {
      const tokens = readTokens(agentDir(ctx)).map(view);
      return {
        data: { tokens },
        lines:
          tokens.length === 0
            ? ['No per-operator API tokens (the data directory\'s api.token acts as operator "api-token", scope admin).']
            : tokens.flatMap((t) => [`${t.id}  ${t.operator}`, ...pairs([['scopes', t.scopes.join(', ')], ['created', t.created], ['revoked', t.revoked ?? 'no']])]),
      };
    },
  },
);

const revoke = command(
  {},
  {
    name: 'token revoke',
    args: 'ID',
    summary: 'revokes a token: its calls are refused (UNAUTHENTICATED) from the next one on',
    run: async (ctx) => {
      const id = ctx.args[0];
      if (id === undefined || ctx.args.length > 1) throw usage('token revoke ID ("agent token list" shows the ids)');
      const t = await withAuditingAgent(agentDir(ctx), (a) => a.revokeApiToken(id));
      return { data: { token: view(t) }, lines: [`API token ${t.id} of operator "${t.operator}" is revoked.`] };
    },
  },
);

export const tokenGroup: Group<AgentCliIo> = { name: 'token', summary: 'per-operator API tokens with scopes', commands: [create, list, revoke] };
