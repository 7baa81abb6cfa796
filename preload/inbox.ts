/**
 * The inbox part of the preload API: importing envelopes (files, QR images, frames) in batches, with progress.
 * Each function calls one channel of the contract (shared/ipc/contract.ts) through `invoke`,
 * ipcRenderer.invoke in Electron or the test host's fetch in the end-to-end bridge.
 */
import type { Invoke, RequestOf } from '../shared/ipc/contract';

export const inboxApi = (invoke: Invoke) =>
  ({
    /** Batch import; progress events (phase importing) with the same opId. */
    import: (request: RequestOf<'inbox:import'>) => invoke('inbox:import', request),
    /** Stops a running import after the current envelope. */
    cancel: (request: RequestOf<'inbox:cancel'>) => invoke('inbox:cancel', request),
    /** Refused envelopes remembered for rejected receipts. */
    refusals: () => invoke('inbox:refusals', {}),
  }) as const;
