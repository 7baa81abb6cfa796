/**
 * The QR part of the preload API: reading images, reassembling frames, drawing any message as frames.
 * Each function calls one channel of the contract (shared/ipc/contract.ts) through `invoke`,
 * ipcRenderer.invoke in Electron or the test host's fetch in the end-to-end bridge.
 */
import type { Invoke, RequestOf } from '../shared/ipc/contract';

export const qrApi = (invoke: Invoke) =>
  ({
    /** The QR text in a PNG image, or null. */
    decodeImage: (request: RequestOf<'qr:decodeImage'>) => invoke('qr:decodeImage', request),
    /** Reassembles frames into messages. */
    assemble: (request: RequestOf<'qr:assemble'>) => invoke('qr:assemble', request),
    /** A message as QR frames (UR text and SVG). */
    encode: (request: RequestOf<'qr:encode'>) => invoke('qr:encode', request),
  }) as const;
