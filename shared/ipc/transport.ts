/**
 * The zod-free part of the IPC contract that transports need at run time: the Electron channel an
 * event travels on, and the error a call answers when the transport itself failed (no handler, the
 * test host unreachable). The preload imports only this (and types), so zod stays out of it.
 */
import type { EventName, IpcError } from './contract';

/** The Electron IPC channel an event travels on (main `webContents.send`, preload `ipcRenderer.on`). */
export const eventChannel = (name: EventName): `event:${EventName}` => `event:${name}`;

/** What a call answers when it never reached the main process or its answer was lost. */
export const TRANSPORT_FAILURE: IpcError = {
  code: 'INTERNAL',
  message: {
    en: 'Custos failed with an internal error; the details are in its log.',
    'zh-CN': 'Custos 发生内部错误；详情见日志。',
  },
  detail: 'The call did not reach the main process, or its answer was lost.',
  details: {},
};
