/**
 * The agent's approver roster (issue 9 §1b; docs/protocol.md §4.12): its versions, the rule each
 * change of approvers was made under, and the agent-signed roster message custodians pin.
 *
 * Rule: while fewer than two approvers are enabled (a fresh agent), an approver is registered with
 * the code comparison alone (`setup`). After that, adding or disabling an approver needs the
 * signed roster changes of two distinct enabled approvers other than the one added or disabled,
 * each naming this agent, the current roster version, the action and the target (`quorum`), as
 * Vault's rekey needs a quorum of the existing key holders. So one operator with CLI access alone
 * cannot put two keys of their own on the roster. Owns the `approver_roster` table (db.ts
 * migration 5); every change is one row, written in the caller's transaction.
 *
 * The current roster is also written, public like the agent card, to <data>/approver-roster.cbor
 * after every change (`agent approver roster --out FILE` exports it anywhere).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '../../shared/bytes';
import { CustosError } from '../../shared/errors';
import {
  agentFingerprint,
  checkRosterQuorum,
  decodeCanonical,
  encodeCanonical,
  openAgentCard,
  ROSTER_QUORUM,
  signRoster,
  type ApproverRoster,
  type RosterAction,
} from '../../shared/protocol';
import { writeFileAtomicSync } from '../../node/fs-atomic';
import type { AgentCore } from '../core/context';
import { CARD_FILE } from '../core/lifecycle';
import { blob, sec } from '../core/util';
import type { ApproverRow } from '../db';
import { AgentError } from '../errors';

export const ROSTER_FILE = 'approver-roster.cbor';

/** How a change was authorised: before rosters existed, by the code comparison at setup, or by a quorum. */
export type RosterRule = 'legacy' | 'setup' | 'quorum';

interface RosterRow {
  version: number;
  action: RosterAction;
  target: string;
  rule: RosterRule;
  approvals: Uint8Array | null;
  operator: string;
  changed_at: number;
}

/** A change's approvals, verified: who signed (for the audit entry) and the frames (for the roster). */
export interface AuthorisedChange {
  readonly rule: 'setup' | 'quorum';
  readonly approvals: readonly Uint8Array[];
  /** "name (fingerprint); …" of the approvers who signed, or "" under the setup rule. */
  readonly approvedBy: string;
}

/** The change an operator asks for: who is added or disabled (their key and fingerprint). */
export interface RequestedChange {
  readonly action: RosterAction;
  readonly fingerprint: string;
  readonly signKey: Uint8Array;
}

export class Roster {
  readonly #c: AgentCore;

  constructor(core: AgentCore) {
    this.#c = core;
  }

  /** The current roster version; 0 before the first approver. */
  version(): number {
    const row = this.#c.stmt('SELECT MAX(version) AS v FROM approver_roster').get() as { v: number | null };
    return row.v ?? 0;
  }

  /** The rule the next change falls under. */
  nextRule(): 'setup' | 'quorum' {
    return this.#enabled().length < ROSTER_QUORUM ? 'setup' : 'quorum';
  }

  /**
   * Checks the approvals of one change against the roster as it is now (inside the caller's
   * transaction, so no other change can slip in between): none under the setup rule, else a quorum.
   */
  authorise(change: RequestedChange, approvals: readonly Uint8Array[]): AuthorisedChange {
    const enabled = this.#enabled();
    if (enabled.length < ROSTER_QUORUM) {
      if (change.action === 'disable') {
        // Unreachable under the quorum rule (a disable leaves two enabled); a database from before it.
        throw new CustosError('APPROVAL_REQUIRED', 'Disabling an approver needs the signed roster changes of two other enabled approvers, and fewer than two are enabled.');
      }
      if (approvals.length > 0) {
        throw new CustosError('INVALID_PARAMETERS', `No roster approvals are needed yet: the first ${String(ROSTER_QUORUM)} approvers are registered with their codes compared. Run again without --approval.`);
      }
      return { rule: 'setup', approvals: [], approvedBy: '' };
    }
    if (approvals.length === 0) {
      throw new CustosError(
        'APPROVAL_REQUIRED',
        `${String(enabled.length)} approvers are enabled, so ${change.action === 'add' ? 'adding' : 'disabling'} an approver needs the signed roster changes of two of them (approver sign-roster-change on their own machines, for roster version ${String(this.version())}), given with --approval FILE --approval FILE.`,
        { details: { have: 0, need: ROSTER_QUORUM, roster_version: this.version() } },
      );
    }
    const opened = checkRosterQuorum(
      approvals,
      { agentKey: this.#c.signing.publicKey, version: this.version(), action: change.action, target: Buffer.from(change.fingerprint, 'hex'), now: sec(this.#c.now()) },
      enabled.map((a) => blob(a.sign_key)),
    );
    const names = new Map(enabled.map((a) => [a.fingerprint, a.name]));
    return {
      rule: 'quorum',
      approvals: opened.map((o) => o.bytes),
      approvedBy: opened.map((o) => `${names.get(toHex(o.fingerprint)) ?? o.body.approver_name} (${toHex(o.fingerprint)})`).join('; '),
    };
  }

  /** Records one change as the next version (inside the caller's transaction); returns the version. */
  record(change: RequestedChange, authorised: AuthorisedChange, operator: string, now: number): number {
    const version = this.version() + 1;
    this.#c
      .stmt('INSERT INTO approver_roster (version, action, target, rule, approvals, operator, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(version, change.action, change.fingerprint, authorised.rule, authorised.rule === 'quorum' ? encodeCanonical([...authorised.approvals]) : null, operator, now);
    return version;
  }

  /** The current roster, signed by the agent now; FAILED_PRECONDITION before the first approver. */
  signed(): { bytes: Uint8Array; body: ApproverRoster } {
    const last = this.#c.stmt('SELECT * FROM approver_roster ORDER BY version DESC LIMIT 1').get() as RosterRow | undefined;
    if (last === undefined) {
      throw new AgentError('FAILED_PRECONDITION', 'No approver is registered yet, so there is no roster to export: approver add --card FILE first.');
    }
    const card = openAgentCard(new Uint8Array(readFileSync(join(this.#c.dataDir, CARD_FILE))));
    const approvers = (
      this.#c
        .stmt(
          "SELECT a.* FROM approvers a LEFT JOIN (SELECT target, MIN(version) AS v FROM approver_roster WHERE action = 'add' GROUP BY target) r ON r.target = a.fingerprint ORDER BY r.v, a.added_at, a.fingerprint",
        )
        .all() as ApproverRow[]
    ).map((a) => ({
      name: a.name,
      sign_key: blob(a.sign_key),
      fingerprint: Buffer.from(a.fingerprint, 'hex'),
      status: a.enabled === 1 ? ('enabled' as const) : ('disabled' as const),
      added_at: sec(a.added_at),
    }));
    const change =
      last.rule === 'legacy'
        ? undefined
        : { action: last.action, target: Buffer.from(last.target, 'hex'), approvals: last.approvals === null ? [] : (decodeCanonical(blob(last.approvals)) as Uint8Array[]).map(blob) };
    const body: ApproverRoster = {
      agent_name: card.body.name,
      agent_key: this.#c.signing.publicKey,
      agent_fingerprint: agentFingerprint(this.#c.signing.publicKey),
      version: last.version,
      issued_at: sec(this.#c.now()),
      approvers: approvers.map((a) => ({ ...a, fingerprint: new Uint8Array(a.fingerprint) })),
      ...(change === undefined ? {} : { change: { ...change, target: new Uint8Array(change.target) } }),
    };
    return { bytes: signRoster(body, this.#c.signing), body };
  }

  /**
   * Writes the current roster to <data>/approver-roster.cbor (after a change committed). The
   * database is the record; the file is a convenience for ops to hand out, so a failure to write it
   * does not undo the change (`approver roster --out` writes it again).
   */
  refreshFile(): string | undefined {
    try {
      const file = join(this.#c.dataDir, ROSTER_FILE);
      writeFileAtomicSync(file, this.signed().bytes, { mode: 0o644 });
      return file;
    } catch {
      return undefined;
    }
  }

  #enabled(): ApproverRow[] {
    return this.#c.stmt('SELECT * FROM approvers WHERE enabled = 1 ORDER BY added_at, fingerprint').all() as ApproverRow[];
  }
}
