/** Helpers more than one group of handlers uses (main/handlers/*.ts). */
import { type MessageType } from '../../shared/protocol';
import { renderSvg } from '../../shared/qr/render';
import { safeFileName } from '../../shared/file-name';
import { framesFor } from '../services/qr-files';

export const fileOut = (baseName: string, extension: string, bytes: Uint8Array): { name: string; bytes: Uint8Array } => ({
  name: safeFileName(baseName, extension),
  bytes,
});

export async function qrFor(type: MessageType, bytes: Uint8Array): Promise<{ frames: string[]; svgs: string[] }> {
  const frames = framesFor(type, bytes);
  const svgs: string[] = [];
  for (const f of frames) svgs.push(await renderSvg(f));
  return { frames, svgs };
}
