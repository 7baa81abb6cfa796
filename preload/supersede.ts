/**
 * The supersede part of the preload API: applying the agent's supersede notices.
 * Each function calls one channel of the contract (shared/ipc/contract.ts) through `invoke`,
 * ipcRenderer.invoke in Electron or the test host's fetch in the end-to-end bridge.
 */
import type { Invoke, RequestOf } from '../shared/ipc/contract';

export const supersedeApi = (invoke: Invoke) =>
  ({
    /** Applies notices; one result each. */
    apply: (request: RequestOf<'supersede:apply'>) => invoke('supersede:apply', request),
  }) as const;
