/**
 * The receipts part of the preload API: signing accepted/rejected receipts, as files, QR, or sent to the linked agent.
 * Each function calls one channel of the contract (shared/ipc/contract.ts) through `invoke`,
 * ipcRenderer.invoke in Electron or the test host's fetch in the end-to-end bridge.
 */
import type { Invoke, RequestOf } from '../shared/ipc/contract';

export const receiptsApi = (invoke: Invoke) =>
  ({
    /** Signs receipts per envelope or in batch; returns the files. */
    sign: (request: RequestOf<'receipts:sign'>) => invoke('receipts:sign', request),
    /** Receipt files as QR frames. */
    export: (request: RequestOf<'receipts:export'>) => invoke('receipts:export', request),
    /** Receipt files laid out as one QR sequence (checked, with frame counts per density; no pictures). */
    sequence: (request: RequestOf<'receipts:sequence'>) => invoke('receipts:sequence', request),
    /** Sends receipt files to the linked agent. */
    send: (request: RequestOf<'receipts:send'>) => invoke('receipts:send', request),
  }) as const;
