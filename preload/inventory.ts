/**
 * The inventory part of the preload API: answering the agent's signed inventory challenge.
 * Each function calls one channel of the contract (shared/ipc/contract.ts) through `invoke`,
 * ipcRenderer.invoke in Electron or the test host's fetch in the end-to-end bridge.
 */
import type { Invoke, RequestOf } from '../shared/ipc/contract';

export const inventoryApi = (invoke: Invoke) =>
  ({
    /** What the challenge asks, for whom and until when (signs nothing). */
    review: (request: RequestOf<'inventory:review'>) => invoke('inventory:review', request),
    /** Signs the attestation; returns it as a file and as QR. */
    answer: (request: RequestOf<'inventory:answer'>) => invoke('inventory:answer', request),
  }) as const;
