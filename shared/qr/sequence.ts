/**
 * Several messages played as one animated QR sequence (issue 13: every signed receipt of a batch in
 * one player), in rounds: round 1 is every message's pure frames 1..seqLen, one message after the
 * other; each later round gives every message as many fountain-mixed frames as it has pure ones
 * (frames r·seqLen+1 … (r+1)·seqLen of its own loop, shared/qr/loop.ts), again message by message.
 *
 * Why blocks, not round-robin: a scanner that reads one message at a time (the UR tools lock on to
 * the first message they see) gets seqLen consecutive frames of it per round and completes it within
 * its block; a scanner that sorts frames of several messages (shared/qr/assemble.ts: the agent's
 * `delivery confirm`, the app's inbox) takes either order alike; and a frame missed is made good by
 * a mixed frame of the same message one round later. With one message this is exactly its loop.
 */
import { CustosError } from '../errors';

/** Where position `p` (1-based) of a sequence falls. */
export interface SequencePlace {
  /** The message, 0-based. */
  readonly m: number;
  /** Its frame number in its own loop, 1-based (≤ its length: a pure frame; after: a mixed one). */
  readonly k: number;
  /** The place within the message's block of this round, 0-based (< its length). */
  readonly j: number;
}

/** The place of position `p` in a sequence of messages of `lens` pure frames each (every len ≥ 1). */
export function placeInSequence(lens: readonly number[], p: number): SequencePlace {
  if (!Number.isSafeInteger(p) || p < 1) throw new CustosError('INVALID_PARAMETERS', `A sequence position starts at 1; got ${String(p)}.`);
  if (lens.length === 0 || lens.some((l) => !Number.isSafeInteger(l) || l < 1)) {
    throw new CustosError('INVALID_PARAMETERS', 'A sequence needs at least one message, each of at least one frame.');
  }
  const total = lens.reduce((s, l) => s + l, 0);
  const round = Math.floor((p - 1) / total);
  let o = (p - 1) % total;
  let m = 0;
  // o < total, so this stops at a message; `?? o + 1` only satisfies the index type.
  for (let len = lens[0] ?? o + 1; o >= len; len = lens[m] ?? o + 1) {
    o -= len;
    m += 1;
  }
  return { m, k: round * (lens[m] ?? 1) + o + 1, j: o };
}
