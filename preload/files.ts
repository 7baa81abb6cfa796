/**
 * The files part of the preload API: the system save and open dialogs (main touches the disk; no path ever comes back).
 * Each function calls one channel of the contract (shared/ipc/contract.ts) through `invoke`,
 * ipcRenderer.invoke in Electron or the test host's fetch in the end-to-end bridge.
 */
import type { Invoke, RequestOf } from '../shared/ipc/contract';

export const filesApi = (invoke: Invoke) =>
  ({
    /** Save dialog; writes the file. */
    save: (request: RequestOf<'files:save'>) => invoke('files:save', request),
    /** Folder dialog; writes every file. */
    saveAll: (request: RequestOf<'files:saveAll'>) => invoke('files:saveAll', request),
    /** Open dialog; the chosen files' names and bytes. */
    open: (request: RequestOf<'files:open'>) => invoke('files:open', request),
  }) as const;
