/**
 * IPC handlers for the linked agent (issue 13, H12): its URL (from settings), its API token (main-
 * process memory only, never written nor shown back) and the link check (main/services/agent-link.ts)
 * that Settings, the recovery station and the navigation show through one indicator.
 */
import type { HandlerResultOf } from '../../shared/ipc/contract';
import type { AppContext } from '../context';
import { publicProblem } from '../ipc-errors';
import { checkLink, type LinkCheck } from '../services/agent-link';
import { ServiceError } from '../services/errors';
import type { HandlersFor } from './types';

/** What can be an agent API token: printable ASCII without spaces (agent/rpc/auth.ts checks the same), 16 to 4096 characters. */
const TOKEN_SHAPE = /^[\x21-\x7e]{16,4096}$/;

function checkOut(c: LinkCheck | null): HandlerResultOf<'agent:check'> | null {
  if (c === null) return null;
  const { problem, ...rest } = c;
  return { ...rest, ...(problem === undefined ? {} : { problem: publicProblem(problem) }) };
}

export const agentLinkHandlers = {
  'agent:status': async (_req, ctx) => ({ url: (await ctx.settings()).agentUrl, tokenSet: ctx.agentTokenSet, check: checkOut(ctx.agentCheck) }),
  'agent:setToken': (req, ctx) => {
    // Never echoed: the refusal says what a token looks like, not what was given.
    if (req.token !== null && !TOKEN_SHAPE.test(req.token)) {
      throw new ServiceError('AGENT_TOKEN_INVALID', 'The API token must be 16 to 4096 printable ASCII characters without spaces.', { details: { field: 'token' } });
    }
    ctx.setAgentToken(req.token);
    return Promise.resolve({ tokenSet: ctx.agentTokenSet });
  },
  'agent:check': async (_req, ctx: AppContext) => {
    const url = (await ctx.settings()).agentUrl;
    const result = await checkLink(() => ctx.agent(), { url, tokenSet: ctx.agentTokenSet, now: () => ctx.nowSeconds() });
    // Kept only if the link is still the one checked (the URL or the token may have changed meanwhile).
    if ((await ctx.settings()).agentUrl === url && ctx.agentTokenSet === result.tokenSet) ctx.agentCheck = result;
    const out = checkOut(result);
    if (out === null) throw new Error('unreachable: a check result is never null');
    return out;
  },
} satisfies HandlersFor<'agent'>;
