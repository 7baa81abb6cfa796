/**
 * Messages that arrive as QR codes, for the app: frames from PNG images (node/qr-files.ts) or UR
 * text (shared/qr/assemble.ts `framesInText`), sorted into their messages by shared/qr's
 * MessageSorter. Unlike a command line, nothing here refuses the whole batch: an unreadable frame or
 * an incomplete message becomes a problem, explained in the person's language, next to the messages
 * that did assemble. The payload bytes are then just a file for the inbox: nothing is trusted until
 * the inbox has verified it.
 */
import { MessageSorter, type AssembledQr, type FrameSource } from '../../shared/qr/assemble';
import { explain, type Explained } from './messages';

export interface QrProblem {
  readonly names: readonly string[];
  readonly problem: Explained;
}

/** Reassembles every complete message found in `frames`; incomplete or unreadable ones become problems. */
export function assembleFrames(frames: readonly FrameSource[]): { messages: AssembledQr[]; problems: QrProblem[] } {
  const sorter = new MessageSorter();
  const problems: QrProblem[] = [];
  for (const f of frames) {
    try {
      sorter.add(f);
    } catch (error) {
      problems.push({ names: [f.name], problem: explain(error) });
    }
  }
  const { messages, unfinished } = sorter.results();
  for (const u of unfinished) problems.push({ names: u.names, problem: explain(u.error) });
  return { messages, problems };
}
