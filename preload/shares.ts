/**
 * The shares part of the preload API: the vault's shares: list with filters, details, verify all.
 * Each function calls one channel of the contract (shared/ipc/contract.ts) through `invoke`,
 * ipcRenderer.invoke in Electron or the test host's fetch in the end-to-end bridge.
 */
import type { Invoke, RequestOf } from '../shared/ipc/contract';

export const sharesApi = (invoke: Invoke) =>
  ({
    /** Shares filtered by key, node, set, index and status; facets for the filter menus. */
    list: (request: RequestOf<'shares:list'>) => invoke('shares:list', request),
    /** One page of shares, searched, filtered and sorted in main, with counts and filter menus. */
    page: (request: RequestOf<'shares:page'>) => invoke('shares:page', request),
    /** One share with receipts, exports and history. */
    details: (request: RequestOf<'shares:details'>) => invoke('shares:details', request),
    /** Decrypts and checks every share (progress phase verifying). */
    verifyAll: (request: RequestOf<'shares:verifyAll'>) => invoke('shares:verifyAll', request),
  }) as const;
