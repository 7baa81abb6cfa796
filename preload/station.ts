/**
 * The recovery station part of the preload API: collecting custodians' exports per session and submitting them to the linked agent.
 * Each function calls one channel of the contract (shared/ipc/contract.ts) through `invoke`,
 * ipcRenderer.invoke in Electron or the test host's fetch in the end-to-end bridge.
 */
import type { Invoke, RequestOf } from '../shared/ipc/contract';

export const stationApi = (invoke: Invoke) =>
  ({
    /** Adds exports and recovery requests (files, QR images, frames). */
    add: (request: RequestOf<'station:add'>) => invoke('station:add', request),
    /** Every session at the station: arrived and missing shares. */
    list: () => invoke('station:list', {}),
    /** Removes one export, or a whole session. */
    remove: (request: RequestOf<'station:remove'>) => invoke('station:remove', request),
    /** Asks the agent for its view of the session. */
    refresh: (request: RequestOf<'station:refresh'>) => invoke('station:refresh', request),
    /** Submits pending exports (and, with complete, completes the recovery). */
    submit: (request: RequestOf<'station:submit'>) => invoke('station:submit', request),
  }) as const;
