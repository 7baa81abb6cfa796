/**
 * The deletion part of the preload API: soft delete, rollback during the cooling period, purge.
 * Each function calls one channel of the contract (shared/ipc/contract.ts) through `invoke`,
 * ipcRenderer.invoke in Electron or the test host's fetch in the end-to-end bridge.
 */
import type { Invoke, RequestOf } from '../shared/ipc/contract';

export const deletionApi = (invoke: Invoke) =>
  ({
    /** Soft-deletes a share (cooling period from settings). */
    soft: (request: RequestOf<'deletion:soft'>) => invoke('deletion:soft', request),
    /** Rolls a deletion back during its cooling period. */
    rollback: (request: RequestOf<'deletion:rollback'>) => invoke('deletion:rollback', request),
    /** Hard-deletes what finished cooling. */
    purge: () => invoke('deletion:purge', {}),
  }) as const;
