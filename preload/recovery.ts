/**
 * The recovery part of the preload API: the agent's recovery request, shown in plain words, and the deliberate export.
 * Each function calls one channel of the contract (shared/ipc/contract.ts) through `invoke`,
 * ipcRenderer.invoke in Electron or the test host's fetch in the end-to-end bridge.
 */
import type { Invoke, RequestOf } from '../shared/ipc/contract';

export const recoveryApi = (invoke: Invoke) =>
  ({
    /** Verifies and describes a recovery request. Changes nothing. */
    show: (request: RequestOf<'recovery:show'>) => invoke('recovery:show', request),
    /** Exports after the confirmation: file, QR frames, PDF sheet. */
    export: (request: RequestOf<'recovery:export'>) => invoke('recovery:export', request),
  }) as const;
