/**
 * The audit part of the preload API: the app's hash-chained log: view, verify, export.
 * Each function calls one channel of the contract (shared/ipc/contract.ts) through `invoke`,
 * ipcRenderer.invoke in Electron or the test host's fetch in the end-to-end bridge.
 */
import type { Invoke, RequestOf } from '../shared/ipc/contract';

export const auditApi = (invoke: Invoke) =>
  ({
    /** A page of entries with the verdict. */
    list: (request: RequestOf<'audit:list'>) => invoke('audit:list', request),
    /** Verifies the chain against its head. */
    verify: () => invoke('audit:verify', {}),
    /** The log as JSON lines and its head, as files. */
    export: () => invoke('audit:export', {}),
  }) as const;
