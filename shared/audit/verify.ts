/**
 * The audit verifier: one chain rule (chain.ts `stepChain`) plus the agent's signed checkpoints
 * (checkpoint.ts), used by the agent over its database, by `agent audit verify`, and by anyone
 * holding the agent card over an exported log (scripts/verify-audit.ts). Pure: no Node, no I/O.
 *
 * Full verification reads every entry from the first. At each size a valid checkpoint covers, the
 * running head must equal the signed head: a chain rewritten consistently (every hash recomputed)
 * passes the chain rule but not the checkpoint, and the first entry after the last checkpoint that
 * still matches is named. A checkpoint beyond the end of the log means entries were cut off.
 *
 * Incremental verification starts at the last valid checkpoint and reads only what follows, so its
 * cost does not grow with the history; what lies before that checkpoint is vouched for by the
 * signature (and by earlier full verifications).
 */
import { EMPTY_HEAD, stepChain, type ChainHead } from './chain';
import { openCheckpoint, type CheckpointBody } from './checkpoint';
import type { Verifier } from '../protocol/frame';

export type AuditProblem = 'missing' | 'edited' | 'reordered' | 'chain-broken' | 'unreadable' | 'truncated' | 'rewritten' | 'checkpoint-invalid' | 'checkpoint-conflict';

export interface AuditVerification {
  readonly ok: boolean;
  /** Entries read (all of them in a full verification; those after the checkpoint in an incremental one). */
  readonly entries: number;
  /** The head hash reached (GENESIS for an empty log). */
  readonly headHash: string;
  /** Entries in the chain as far as it verified. */
  readonly size?: number;
  readonly mode?: 'full' | 'from-checkpoint';
  readonly checkpoints?: {
    /** Valid checkpoints seen (all sources, duplicates counted once). */
    readonly valid: number;
    /** Checkpoint lines whose signature or form is wrong. */
    readonly invalid: number;
    /** The last checkpoint the chain matched. */
    readonly lastMatched?: { readonly size: number; readonly at: number; readonly reason: string };
    /** The largest size any valid checkpoint vouches for (a log shorter than this was cut). */
    readonly maxSize?: number;
    /** Incremental: verification started after this many entries. */
    readonly from?: number;
  };
  /** The first entry that does not verify, and why. */
  readonly firstBad?: { readonly seq: number; readonly problem: AuditProblem; readonly message: string };
}

/** Valid checkpoints by size, from any number of sources (database, sink file, export). */
export class CheckpointIndex {
  readonly bySize = new Map<number, CheckpointBody>();
  invalid = 0;
  conflict: { size: number } | undefined;
  readonly #keys: readonly Uint8Array[];
  readonly #verify: Verifier | undefined;

  constructor(agentKeys: readonly Uint8Array[], verify?: Verifier) {
    this.#keys = agentKeys;
    this.#verify = verify;
  }

  /** Adds one checkpoint line (parsed JSON); returns its body when it verifies. */
  add(raw: unknown): CheckpointBody | undefined {
    const opened = openCheckpoint(raw, this.#keys, this.#verify);
    if (!opened.ok) {
      this.invalid++;
      return undefined;
    }
    const b = opened.body;
    const known = this.bySize.get(b.size);
    if (known === undefined) this.bySize.set(b.size, b);
    else if (known.head !== b.head) this.conflict ??= { size: b.size };
    return b;
  }

  get maxSize(): number | undefined {
    let max: number | undefined;
    for (const size of this.bySize.keys()) if (max === undefined || size > max) max = size;
    return max;
  }

  /** The largest checkpoint, or undefined. */
  get last(): CheckpointBody | undefined {
    const m = this.maxSize;
    return m === undefined ? undefined : this.bySize.get(m);
  }
}

const s = String;
const when = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * Reads a chain entry by entry. `push(raw, position)`: `position` is where the store holds the entry
 * (a database row's seq, a line's index), so gaps and moved entries are told apart from edits.
 */
export class ChainReader {
  #head: ChainHead;
  #read = 0;
  #lastMatched: CheckpointBody | undefined;
  #bad: AuditVerification['firstBad'];
  readonly #cps: CheckpointIndex;
  readonly #mode: 'full' | 'from-checkpoint';
  readonly #from: number | undefined;

  constructor(checkpoints: CheckpointIndex, start?: CheckpointBody) {
    this.#cps = checkpoints;
    this.#head = start === undefined ? EMPTY_HEAD : { size: start.size, hash: start.head };
    this.#lastMatched = start;
    this.#mode = start === undefined ? 'full' : 'from-checkpoint';
    this.#from = start?.size;
  }

  get head(): ChainHead {
    return this.#head;
  }

  get failed(): boolean {
    return this.#bad !== undefined;
  }

  #fail(seq: number, problem: AuditProblem, message: string): false {
    this.#bad = { seq, problem, message };
    return false;
  }

  /** Feeds the next entry; false once something does not verify (stop reading). */
  push(raw: unknown, position: number): boolean {
    if (this.#bad !== undefined) return false;
    const want = this.#head.size;
    if (position !== want) return this.#fail(want, 'missing', `Audit entry ${s(want)} is missing: the log jumps from ${s(want - 1)} to ${s(position)}.`);
    const ownSeq = typeof raw === 'object' && raw !== null ? (raw as { seq?: unknown }).seq : undefined;
    if (typeof raw !== 'object' || raw === null) return this.#fail(want, 'unreadable', `Audit entry ${s(want)} is not an audit entry.`);
    if (ownSeq !== position) return this.#fail(want, 'reordered', `Audit entry ${s(want)} holds the content of entry ${s(ownSeq)}: entries were reordered or moved.`);
    const step = stepChain(this.#head, raw);
    if (!step.ok) {
      switch (step.problem) {
        case 'malformed':
          return this.#fail(want, 'unreadable', `Audit entry ${s(want)} does not have the form of an audit entry.`);
        case 'seq':
          return this.#fail(want, 'reordered', `Audit entry ${s(want)} holds the content of entry ${s(step.seq)}: entries were reordered or moved.`);
        case 'prev':
          return this.#fail(want, 'chain-broken', `Audit entry ${s(want)} does not follow entry ${s(want - 1)}: an entry before it was removed, replaced or reordered.`);
        case 'hash':
          return this.#fail(want, 'edited', `Audit entry ${s(want)} was changed after it was written: its hash does not cover its content.`);
      }
    }
    this.#head = step.head;
    this.#read++;
    const cp = this.#cps.bySize.get(this.#head.size);
    if (cp !== undefined) {
      if (cp.head !== this.#head.hash) {
        const from = this.#lastMatched?.size ?? 0;
        return this.#fail(
          from,
          'rewritten',
          `Audit entries ${s(from)} to ${s(this.#head.size - 1)} do not match the agent's signed checkpoint of ${s(cp.size)} entries (${cp.reason}, ${when(cp.at)}): ` +
            `the log was rewritten from entry ${s(from)} on${from > 0 ? `, after the last checkpoint that still matches (${s(from)} entries)` : ''}.`,
        );
      }
      this.#lastMatched = cp;
    }
    return true;
  }

  /** The verdict. `recorded` is the head the store keeps apart from the entries, if any. */
  finish(recorded?: ChainHead): AuditVerification {
    const maxSize = this.#cps.maxSize;
    const last = this.#lastMatched;
    const checkpoints = {
      valid: this.#cps.bySize.size,
      invalid: this.#cps.invalid,
      ...(last === undefined ? {} : { lastMatched: { size: last.size, at: last.at, reason: last.reason } }),
      ...(maxSize === undefined ? {} : { maxSize }),
      ...(this.#from === undefined ? {} : { from: this.#from }),
    };
    const base = { entries: this.#read, headHash: this.#head.hash, size: this.#head.size, mode: this.#mode, checkpoints };
    if (this.#bad !== undefined) return { ok: false, ...base, firstBad: this.#bad };
    const size = this.#head.size;
    const cp = maxSize === undefined ? undefined : this.#cps.bySize.get(maxSize);
    if (maxSize !== undefined && cp !== undefined && maxSize > size) {
      return {
        ok: false,
        ...base,
        firstBad: {
          seq: size,
          problem: 'truncated',
          message: `The agent signed a checkpoint of ${s(maxSize)} entries (${cp.reason}, ${when(cp.at)}) but the log ends after ${s(size)}: entries ${s(size)} to ${s(maxSize - 1)} were cut off the end.`,
        },
      };
    }
    if (recorded !== undefined && (recorded.size !== size || recorded.hash !== this.#head.hash)) {
      return {
        ok: false,
        ...base,
        firstBad: {
          seq: Math.min(size, recorded.size),
          problem: 'truncated',
          message: `The audit log ends after ${s(size)} entries but its recorded head is after ${s(recorded.size)}: entries were cut off the end or the head was altered.`,
        },
      };
    }
    if (this.#cps.conflict !== undefined) {
      const c = this.#cps.conflict.size;
      return { ok: false, ...base, firstBad: { seq: c - 1, problem: 'checkpoint-conflict', message: `Two checkpoints signed by the agent key disagree about the first ${s(c)} entries: whoever holds the agent key signed two histories.` } };
    }
    if (this.#cps.invalid > 0) {
      return {
        ok: false,
        ...base,
        firstBad: { seq: size, problem: 'checkpoint-invalid', message: `${s(this.#cps.invalid)} checkpoint(s) are not signed by this agent's key or are damaged: someone added or changed checkpoints.` },
      };
    }
    return { ok: true, ...base };
  }
}

/** Splits JSON lines into entries (with their line index among entries) and checkpoint lines. */
export function parseAuditLines(text: string): { entries: unknown[]; checkpoints: unknown[]; unreadable: number[] } {
  const entries: unknown[] = [];
  const checkpoints: unknown[] = [];
  const unreadable: number[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      unreadable.push(i + 1);
      continue;
    }
    if (typeof value === 'object' && value !== null && 'checkpoint' in value) checkpoints.push(value);
    else entries.push(value);
  }
  return { entries, checkpoints, unreadable };
}

/**
 * Verifies an exported agent log (`agent audit export`: entries and checkpoints as JSON lines),
 * optionally with the checkpoints of an external sink, against the agent's key(s) from its card.
 */
export function verifyExportedLog(exported: string, options: { agentKeys: readonly Uint8Array[]; sink?: string; verify?: Verifier }): AuditVerification & { unreadableLines: number[] } {
  const parsed = parseAuditLines(exported);
  const cps = new CheckpointIndex(options.agentKeys, options.verify);
  for (const c of parsed.checkpoints) cps.add(c);
  const sinkUnreadable: number[] = [];
  if (options.sink !== undefined) {
    const sink = parseAuditLines(options.sink);
    for (const c of sink.checkpoints) cps.add(c);
    cps.invalid += sink.entries.length;
    sinkUnreadable.push(...sink.unreadable);
  }
  const reader = new ChainReader(cps);
  for (const [position, e] of parsed.entries.entries()) if (!reader.push(e, position)) break;
  const verdict = reader.finish();
  const unreadableLines = [...parsed.unreadable, ...sinkUnreadable];
  if (verdict.ok && unreadableLines.length > 0) {
    return { ...verdict, ok: false, firstBad: { seq: verdict.size ?? 0, problem: 'unreadable', message: `Line(s) ${unreadableLines.join(', ')} are not JSON.` }, unreadableLines };
  }
  return { ...verdict, unreadableLines };
}
