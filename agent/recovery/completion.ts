/**
 * What completing a recovery session does, decided once per call (after Vault's
 * `generate_root.go`, where a strategy decides what a finished threshold ceremony produces):
 * a recovery writes the node's files back and marks it restored; a drill runs every check and
 * writes nothing but a drill record. ./recovery.ts runs the shared steps (combine, commitment,
 * regeneration, self-check, comparison with the imported keydata) and asks the strategy at the
 * three points where the two differ.
 */
import type { CompleteOptions } from '../api';
import type { AuditBase } from '../core/context';
import type { Mode } from '../core/util';
import { codeOf } from '../errors';
import type { Keyshares } from '../keyshare/keyshare';
import type { Drills } from './drills';

/** The session a completion works on, as the strategy sees it. */
export interface CompletingSession {
  readonly sessionId: string;
  readonly keyId: string;
  readonly nodeId: string;
  readonly setId: string;
  readonly mode: Mode;
}

export interface Completion {
  /** The audit entry's event and action. */
  readonly audit: Pick<AuditBase, 'event' | 'action'>;
  /** The audit entry's target: what the completion changed. */
  readonly target: string;
  /** The session's outcome once completed. */
  readonly outcome: 'recovered' | 'drill-ok';
  /** Whether the node's files are written back (RecoveryOutcome.written). */
  readonly writes: boolean;
  /** After every check passed, before the session is closed: the files, or nothing. */
  apply(s: CompletingSession, secret: Uint8Array, keydata: Uint8Array): Promise<void>;
  /** Inside the transaction that closes the session. */
  record(s: CompletingSession, nowMs: number, durationMs: number): void;
  /** A completion that threw: inside its own transaction. */
  failed(s: CompletingSession, error: unknown, durationMs: number): void;
}

export interface CompletionPeers {
  readonly keyshare: Pick<Keyshares, 'writeRecovered' | 'markRestored'>;
  readonly drills: Pick<Drills, 'insert'>;
}

/** A completion refused only because the session is not ready yet: a drill does not record it. */
const NOT_READY = ['BELOW_THRESHOLD', 'APPROVAL_REQUIRED', 'FAILED_PRECONDITION', 'RATE_LIMITED'];

export function completionFor(options: CompleteOptions, peers: CompletionPeers): Completion {
  return options.drill === true ? drill(peers) : recovery(peers);
}

function recovery(peers: CompletionPeers): Completion {
  return {
    audit: { event: 'recover', action: 'session-complete' },
    target: 'server: <node_id>.enc and <node_id>.keydata.enc',
    outcome: 'recovered',
    writes: true,
    apply: (s, secret, keydata) => peers.keyshare.writeRecovered(s.keyId, s.nodeId, secret, keydata),
    record: (s, nowMs) => {
      peers.keyshare.markRestored(s.keyId, s.nodeId, nowMs);
    },
    failed: () => undefined,
  };
}

function drill(peers: CompletionPeers): Completion {
  const insert = (s: CompletingSession, ok: boolean, durationMs: number): void => {
    peers.drills.insert({ keyId: s.keyId, nodeId: s.nodeId, mode: s.mode, ok, durationMs, setId: s.setId, sessionId: s.sessionId, note: undefined });
  };
  return {
    audit: { event: 'drill', action: 'session-drill' },
    target: 'drill (nothing written)',
    outcome: 'drill-ok',
    writes: false,
    apply: () => Promise.resolve(),
    record: (s, _nowMs, durationMs) => {
      insert(s, true, durationMs);
    },
    failed: (s, error, durationMs) => {
      if (!NOT_READY.includes(codeOf(error))) insert(s, false, durationMs);
    },
  };
}
