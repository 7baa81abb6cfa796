/**
 * The linked agent part of the preload API: its URL (from settings) and its API token (memory only).
 * Each function calls one channel of the contract (shared/ipc/contract.ts) through `invoke`,
 * ipcRenderer.invoke in Electron or the test host's fetch in the end-to-end bridge.
 */
import type { Invoke, RequestOf } from '../shared/ipc/contract';

export const agentApi = (invoke: Invoke) =>
  ({
    /** The linked agent URL and whether a token is set. */
    status: () => invoke('agent:status', {}),
    /** Gives (or, with null, forgets) the agent's API token for this run. */
    setToken: (request: RequestOf<'agent:setToken'>) => invoke('agent:setToken', request),
    /** Checks the link now: not configured, unreachable, token rejected or authenticated (issue 13). */
    check: () => invoke('agent:check', {}),
  }) as const;
