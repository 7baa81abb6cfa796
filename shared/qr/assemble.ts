/**
 * Frames of SEVERAL messages, mixed, in any order, with duplicates (docs/protocol.md §7): a folder
 * of PNG frames, a pasted `*-qr-frames.txt`, a camera that saw two codes. Each frame joins the first
 * message it belongs to (the others say FRAME_MISMATCH), or starts a new one. One implementation for
 * every place that takes frames in bulk (the app's inbox and inputs, both CLIs); a single scan of one
 * message uses {@link FrameAssembler} directly.
 */
import { isCustosError } from '../errors';
import { FrameAssembler } from './ur';

export interface FrameSource {
  /** File name or label, for messages. */
  readonly name: string;
  readonly frame: string;
}

export interface SortedMessage {
  /** Where its frames came from, in arrival order (a name repeats when one file gave several frames). */
  readonly names: readonly string[];
  /** Its UR type, known from its first frame. */
  readonly type: string;
}

export interface AssembledQr {
  readonly names: readonly string[];
  readonly type: string;
  readonly payload: Uint8Array;
}

export interface UnfinishedQr {
  readonly names: readonly string[];
  /** What FrameAssembler.result threw: INCOMPLETE (fragments missing) or MALFORMED (damaged). */
  readonly error: unknown;
}

interface Group {
  readonly assembler: FrameAssembler;
  readonly names: string[];
}

/** Sorts frames into their messages; see the module header. */
export class MessageSorter {
  readonly #groups: Group[] = [];

  /**
   * Adds one frame. Returns the message it joined, and whether it started that message. Throws what
   * {@link FrameAssembler.add} throws for it (MALFORMED, TOO_LARGE…), except the FRAME_MISMATCH of
   * messages it does not belong to; a frame that throws changes nothing.
   */
  add(source: FrameSource): { readonly message: SortedMessage; readonly started: boolean } {
    for (const g of this.#groups) {
      try {
        g.assembler.add(source.frame);
      } catch (error) {
        if (isCustosError(error, 'FRAME_MISMATCH')) continue;
        throw error;
      }
      g.names.push(source.name);
      return { message: view(g), started: false };
    }
    const g: Group = { assembler: new FrameAssembler(), names: [source.name] };
    g.assembler.add(source.frame);
    this.#groups.push(g);
    return { message: view(g), started: true };
  }

  /** The complete messages, and those still missing fragments or damaged, in the order they started. */
  results(): { messages: AssembledQr[]; unfinished: UnfinishedQr[] } {
    const messages: AssembledQr[] = [];
    const unfinished: UnfinishedQr[] = [];
    for (const g of this.#groups) {
      try {
        const r = g.assembler.result();
        messages.push({ names: [...g.names], type: r.type, payload: r.payload });
      } catch (error) {
        unfinished.push({ names: [...g.names], error });
      }
    }
    return { messages, unfinished };
  }
}

function view(g: Group): SortedMessage {
  return { names: [...g.names], type: g.assembler.type ?? '' };
}

/**
 * The UR frames in a text: one per line (`ur:…`, any case, as a scanner, a QR code in
 * alphanumeric mode or a `*-qr-frames.txt` gives), in lower case, UR's canonical form, so equal
 * frames compare equal. Blank lines and lines that do not start with `ur:` are ignored; a line that
 * starts with `ur:` but is not a frame is kept, so the assembler reports it (MALFORMED) instead of
 * it vanishing silently.
 */
export function framesInText(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => /^ur:/i.test(l))
    .map((l) => l.toLowerCase());
}
