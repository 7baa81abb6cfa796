/**
 * The one entry point for every IPC call, in plain Node (no Electron), so the Electron glue
 * (main/ipc.ts) and the end-to-end test host (test/e2e/host/) run the SAME code:
 *
 *   1. the channel must be one of the contract's (shared/ipc/contract.ts), else INVALID_PARAMETERS;
 *   2. the payload is `unknown` until the channel's request schema has parsed it; a bad payload is
 *      refused with INVALID_PARAMETERS naming the field (never echoing the value), BEFORE any
 *      handler runs, so nothing is read, changed or stored;
 *   3. the handler (main/handlers.ts) calls the services;
 *   4. its answer is parsed with the channel's response schema (strict objects: a field the
 *      contract does not name never leaves); a mismatch is a bug: logged, answered INTERNAL;
 *   5. anything thrown becomes `{ code, message: { en, 'zh-CN' }, detail, details }` without stack,
 *      cause or file-system path; uncoded errors are INTERNAL and their cause is logged here only.
 *
 * Every valid call also counts as activity for the auto-lock timer, except the passive ones a
 * screen may poll (PASSIVE_CHANNELS).
 */
import { CHANNELS, isChannel, PASSIVE_CHANNELS, type Channel, type IpcResult, type ResponseOf } from '../shared/ipc/contract';
import type { AppContext } from './context';
import { HANDLERS } from './handlers';
import { badRequest, toIpcError } from './ipc-errors';
import { isCodedError } from './services/errors';

export async function dispatch<C extends Channel>(channel: C, payload: unknown, ctx: AppContext): Promise<IpcResult<ResponseOf<C>>>;
export async function dispatch(channel: unknown, payload: unknown, ctx: AppContext): Promise<IpcResult<unknown>>;
export async function dispatch(channel: unknown, payload: unknown, ctx: AppContext): Promise<IpcResult<unknown>> {
  if (!isChannel(channel)) {
    ctx.host.log('ipc-unknown-channel', { channel: typeof channel === 'string' ? channel.slice(0, 64) : typeof channel });
    return { ok: false, error: badRequest(typeof channel === 'string' ? channel.slice(0, 64) : '(channel)', { path: [], message: 'is not a channel of the contract' }) };
  }
  const spec = CHANNELS[channel];
  const parsed = spec.request.safeParse(payload);
  if (!parsed.success) {
    ctx.host.log('ipc-bad-request', { channel });
    return { ok: false, error: badRequest(channel, parsed.error.issues[0]) };
  }
  if (!PASSIVE_CHANNELS.has(channel)) ctx.activity();
  try {
    // The map is typed per channel; TypeScript cannot follow `channel` through the lookup.
    const handler = HANDLERS[channel] as (req: unknown, c: AppContext) => Promise<unknown>;
    const value = await handler(parsed.data, ctx);
    const checked = spec.response.safeParse(value);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      ctx.host.log('ipc-bad-response', { channel, field: issue === undefined ? '' : issue.path.map(String).join('.'), message: issue?.message ?? '' });
      return { ok: false, error: toIpcError(new Error(`response of ${channel} does not match the contract`)) };
    }
    return { ok: true, value: checked.data };
  } catch (error) {
    if (!isCodedError(error)) {
      ctx.host.log('ipc-internal-error', { channel, message: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? (error.stack ?? '') : '' });
    }
    return { ok: false, error: toIpcError(error) };
  }
}
