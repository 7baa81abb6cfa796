/**
 * The trust part of the preload API: the agent card, compared out of band and pinned; key replacement notices.
 * Each function calls one channel of the contract (shared/ipc/contract.ts) through `invoke`,
 * ipcRenderer.invoke in Electron or the test host's fetch in the end-to-end bridge.
 */
import type { Invoke, RequestOf } from '../shared/ipc/contract';

export const trustApi = (invoke: Invoke) =>
  ({
    /** Opens an agent card and shows its code. Changes nothing. */
    previewAgent: (request: RequestOf<'trust:previewAgent'>) => invoke('trust:previewAgent', request),
    /** Pins the card after the person confirmed its code with ops. */
    pin: (request: RequestOf<'trust:pin'>) => invoke('trust:pin', request),
    /** Applies a key replacement notice signed by the pinned key. */
    rotate: (request: RequestOf<'trust:rotate'>) => invoke('trust:rotate', request),
    /** The pinned agent and the ones it replaced. */
    status: () => invoke('trust:status', {}),
  }) as const;
