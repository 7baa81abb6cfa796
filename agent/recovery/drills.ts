/**
 * Recovery drills (seeds SOP §7 演练): the record of each drill of a node, done through a session
 * completed as a drill (./completion.ts) or recorded by hand. Owns the `drills` table.
 */
import { CustosError } from '../../shared/errors';
import { label as labelSchema } from '../../shared/protocol';
import type { DrillInput, DrillRecord, OpContext } from '../api';
import { Capability } from '../core/context';
import { checkMode, sec, type Mode } from '../core/util';
import { inTransaction, type DrillRow } from '../db';
import { AgentError } from '../errors';
import { checkKeyId, checkNodeId, checkSessionId, checkSetId } from '../ids';
import type { Keyshares } from '../keyshare/keyshare';

export interface DrillPeers {
  readonly keyshare: Pick<Keyshares, 'node'>;
}

export class Drills extends Capability<DrillPeers> {

  /** Records a drill done by hand (it does not count as zero-retention evidence). */
  async record(input: DrillInput, ctx: OpContext = {}): Promise<DrillRecord> {
    const base = { event: 'drill', action: 'record', operator: this.core.op(ctx) } as const;
    return this.core.audited(base, () => {
      const k = checkKeyId(input.keyId);
      const n = checkNodeId(input.nodeId);
      this.peers.keyshare.node(k, n);
      const mode = checkMode(input.mode);
      if (!Number.isSafeInteger(input.durationMs) || input.durationMs < 0) throw new CustosError('INVALID_PARAMETERS', 'A drill duration is whole milliseconds, not negative.');
      const setId = input.setId === undefined ? undefined : checkSetId(input.setId);
      const sessionId = input.sessionId === undefined ? undefined : checkSessionId(input.sessionId);
      if (input.note !== undefined && !labelSchema.safeParse(input.note).success) throw new CustosError('INVALID_PARAMETERS', 'A drill note is 1 to 200 characters without control characters.');
      return Promise.resolve(
        inTransaction(this.core.db, () => {
          this.insert({ keyId: k, nodeId: n, mode, ok: input.ok, durationMs: input.durationMs, setId, sessionId, note: input.note });
          this.core.audit({ ...base, result: input.ok ? 'ok' : 'failed', keyId: k, nodeId: n, setId, details: { mode, duration_ms: input.durationMs, ...(input.note === undefined ? {} : { note: input.note }) } });
          const last = this.last(k, n);
          if (last === undefined) throw new AgentError('INTERNAL', 'The drill was not recorded.');
          return last;
        }),
      );
    });
  }

  /** Adds a drill record (inside the caller's transaction). */
  insert(d: { keyId: string; nodeId: string; mode: Mode; ok: boolean; durationMs: number; setId: string | undefined; sessionId: string | undefined; note: string | undefined }): void {
    this.core.db
      .prepare('INSERT INTO drills (key_id, node_id, set_id, mode, ok, duration_ms, session_id, note, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(d.keyId, d.nodeId, d.setId ?? null, d.mode, d.ok ? 1 : 0, d.durationMs, d.sessionId ?? null, d.note ?? null, this.core.now());
  }

  /** The node's latest drill. */
  last(k: string, n: string): DrillRecord | undefined {
    const d = this.core.stmt('SELECT * FROM drills WHERE key_id = ? AND node_id = ? ORDER BY at DESC, id DESC LIMIT 1').get(k, n) as DrillRow | undefined;
    if (d === undefined) return undefined;
    return {
      at: sec(d.at),
      ok: d.ok === 1,
      mode: d.mode,
      durationMs: d.duration_ms,
      ...(d.set_id === null ? {} : { setId: d.set_id }),
      ...(d.session_id === null ? {} : { sessionId: d.session_id }),
      ...(d.note === null ? {} : { note: d.note }),
    };
  }
}
