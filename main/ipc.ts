/**
 * The Electron glue of the IPC contract: one `ipcMain.handle` per channel of the contract, each
 * handing the payload (still `unknown`) to the same `dispatch` the test host runs
 * (main/dispatch.ts parses it before anything else). Calls from a frame that is not the app's own
 * page are refused and logged (Electron security checklist: validate the sender of every IPC
 * message). Events go to the window with `webContents.send` on `event:<name>`.
 */
import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { CHANNEL_NAMES, eventChannel, type EventName } from '../shared/ipc/contract';
import type { AppContext, Logger } from './context';
import { dispatch } from './dispatch';
import { badRequest } from './ipc-errors';
import { isAppUrl } from './harden';

export function registerIpc(ctx: AppContext, options: { appRoot: string; log: Logger }): void {
  const trusted = (event: IpcMainInvokeEvent): boolean => {
    const url = event.senderFrame?.url;
    return url !== undefined && isAppUrl(url, options.appRoot);
  };
  for (const channel of CHANNEL_NAMES) {
    ipcMain.handle(channel, (event, payload: unknown) => {
      if (!trusted(event)) {
        options.log('ipc-sender-refused', { channel });
        return { ok: false, error: badRequest(channel, { path: [], message: 'came from a page that is not Custos' }) };
      }
      return dispatch(channel, payload, ctx);
    });
  }
}

/** How main/context.ts sends an event to the renderer. */
export function sendEvent(contents: WebContents | null, event: EventName, payload: unknown): void {
  if (contents === null || contents.isDestroyed()) return;
  contents.send(eventChannel(event), payload);
}

export function unregisterIpc(): void {
  for (const channel of CHANNEL_NAMES) ipcMain.removeHandler(channel);
}
