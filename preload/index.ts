/**
 * The preload bridge (sandboxed: only `electron`'s renderer modules are available here). It builds
 * the API from the per-feature modules (preload/api.ts) over Electron's IPC and exposes it as
 * `window.custos` with contextBridge. Nothing else is exposed: no ipcRenderer, no generic `invoke`
 * or `on` taking a channel name, no IpcRendererEvent.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { Invoke, IpcResult, Subscribe } from '../shared/ipc/contract';
import { eventChannel, TRANSPORT_FAILURE } from '../shared/ipc/transport';
import { buildApi } from './api';

const invoke: Invoke = async (channel, payload) => {
  try {
    return (await ipcRenderer.invoke(channel, payload)) as IpcResult<never>;
  } catch {
    // No handler, or the main process went away: a coded answer, never a thrown Error.
    return { ok: false, error: TRANSPORT_FAILURE };
  }
};

const subscribe: Subscribe = (event, listener) => {
  const channel = eventChannel(event);
  const wrapped = (_event: IpcRendererEvent, payload: unknown): void => {
    listener(payload as Parameters<typeof listener>[0]);
  };
  ipcRenderer.on(channel, wrapped);
  return () => {
    ipcRenderer.removeListener(channel, wrapped);
  };
};

export const api = buildApi(invoke, subscribe);

export type { CustosApi } from './api';

contextBridge.exposeInMainWorld('custos', api);
