/**
 * What a person hands the app (dropped or picked files, pasted text, camera frames) turned into
 * Custos message files, the way `custos import` reads its arguments (main/cli.ts), but from bytes
 * with display names instead of paths:
 *
 *   - a PNG image: the QR code in it is read (node/qr-files.ts) and joins the scanned frames;
 *   - UR text (`ur:custos-…`, one frame per line, as `*-qr-frames.txt` or a scanner gives): frames;
 *   - anything else: a message file as it is (the inbox, the station… verify it);
 *   - frames: reassembled (any order, several messages mixed) with shared/qr's FrameAssembler.
 *
 * Nothing here is trusted: these are only bytes for a verifier. Inputs that yield no message (no
 * QR code in an image, frames still incomplete) come back as `unread` with a coded problem.
 */
import { CustosError } from '../../shared/errors';
import { explain, type Explained } from './messages';
import { framesInText, type FrameSource } from '../../shared/qr/assemble';
import { isPng } from '../../shared/qr/png';
import { qrTextInPng } from '../../node/qr-files';
import { assembleFrames } from './qr-import';

export interface NamedBytes {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface NamedFrame {
  readonly name: string;
  readonly frame: string;
}

export interface Unread {
  readonly names: readonly string[];
  readonly problem: Explained;
}

/** True when the bytes start with `ur:` (any case): UR frame text. */
export const isUrText = (bytes: Uint8Array): boolean =>
  bytes.length >= 3 && (bytes[0] === 0x75 || bytes[0] === 0x55) && (bytes[1] === 0x72 || bytes[1] === 0x52) && bytes[2] === 0x3a;

/** Files and frames → message files (files first, in order, then the reassembled QR messages). */
export function messagesFromInputs(files: readonly NamedBytes[], frames: readonly NamedFrame[] = []): { messages: NamedBytes[]; unread: Unread[] } {
  const messages: NamedBytes[] = [];
  const unread: Unread[] = [];
  const sources: FrameSource[] = [];
  for (const f of files) {
    if (isPng(f.bytes)) {
      try {
        const frame = qrTextInPng(f.bytes);
        if (frame === null) throw new CustosError('MALFORMED', `No QR code could be read in the image "${f.name}".`);
        sources.push({ name: f.name, frame });
      } catch (error) {
        unread.push({ names: [f.name], problem: explain(error) });
      }
    } else if (isUrText(f.bytes)) {
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(f.bytes);
      } catch (error) {
        unread.push({ names: [f.name], problem: explain(new CustosError('MALFORMED', `"${f.name}" starts like QR frame text but is not valid UTF-8.`, { cause: error })) });
        continue;
      }
      for (const frame of framesInText(text)) sources.push({ name: f.name, frame });
    } else {
      messages.push({ name: f.name, bytes: f.bytes });
    }
  }
  for (const fr of frames) sources.push({ name: fr.name, frame: fr.frame });
  if (sources.length > 0) {
    const assembled = assembleFrames(sources);
    for (const m of assembled.messages) messages.push({ name: [...new Set(m.names)].join(', '), bytes: m.payload });
    for (const p of assembled.problems) unread.push({ names: [...new Set(p.names)], problem: p.problem });
  }
  return { messages, unread };
}
