/**
 * The settings part of the preload API: language, auto-lock, linked agent URL, deletion cooling period.
 * Each function calls one channel of the contract (shared/ipc/contract.ts) through `invoke`,
 * ipcRenderer.invoke in Electron or the test host's fetch in the end-to-end bridge.
 */
import type { Invoke, RequestOf } from '../shared/ipc/contract';

export const settingsApi = (invoke: Invoke) =>
  ({
    /** Settings (available before unlocking). */
    get: () => invoke('settings:get', {}),
    /** Changes some settings; emits settings:changed. */
    set: (request: RequestOf<'settings:set'>) => invoke('settings:set', request),
  }) as const;
