/**
 * The app part of the preload API: what build this is; activity for the auto-lock timer.
 * Each function calls one channel of the contract (shared/ipc/contract.ts) through `invoke`,
 * ipcRenderer.invoke in Electron or the test host's fetch in the end-to-end bridge.
 */
import type { Invoke } from '../shared/ipc/contract';

export const appApi = (invoke: Invoke) =>
  ({
    /** Version, protocol version, platform, languages. */
    info: () => invoke('app:info', {}),
    /** The person did something: restarts the auto-lock timer. */
    activity: () => invoke('app:activity', {}),
  }) as const;
