/**
 * What main pushes without being asked (shared/ipc/contract.ts `EVENTS`), one function per event.
 * Each returns the function that stops listening. The listener gets the payload only: never
 * Electron's IpcRendererEvent (it would hand the page `sender`, an IPC handle to main).
 */
import type { EventPayload, Subscribe } from '../shared/ipc/contract';

export const eventsApi = (subscribe: Subscribe) =>
  ({
    /** Progress of a long call (create, unlock, import, verify all, export, station submit), by opId. */
    onProgress: (listener: (progress: EventPayload<'progress'>) => void) => subscribe('progress', listener),
    /** The vault locked: `idle` is the auto-lock; show the unlock screen. */
    onLocked: (listener: (locked: EventPayload<'vault:locked'>) => void) => subscribe('vault:locked', listener),
    /** Settings changed (language, auto-lock minutes, linked agent). */
    onSettingsChanged: (listener: (changed: EventPayload<'settings:changed'>) => void) => subscribe('settings:changed', listener),
  }) as const;
