/**
 * Approvers' signed approvals of one subject (docs/protocol.md §4.7 session approvals, §4.11
 * deletion approvals; seeds SOP §5 and §6: two distinct registered approvers). One helper serves
 * both tables, `approvals` (of recovery sessions, owned by agent/recovery/) and
 * `deletion_approvals` (of deletions, owned by agent/retention/): each module makes its own
 * instance for its own table. An approval counts while its approver is registered and enabled.
 */
import { CustosError } from '../../shared/errors';
import type { AgentCore } from '../core/context';
import { sec } from '../core/util';
import type { ApprovalRow, ApproverRow } from '../db';
import type { Registry } from './registry';

/** The table and its subject column: the two kinds of approval the agent keeps. */
const TABLES = {
  session: { table: 'approvals', subject: 'session_id' },
  deletion: { table: 'deletion_approvals', subject: 'deletion_id' },
} as const;

/** An approval as stored, whatever its subject. */
export type StoredApproval = Omit<ApprovalRow, 'session_id'>;

/** What a verified approval frame says (shared/protocol openApproval, openDeletionApproval). */
export interface VerifiedApproval {
  readonly fingerprint: string;
  readonly approverName: string;
  readonly approvedAt: number;
}

export class Approvals {
  readonly #c: AgentCore;
  readonly #registry: Pick<Registry, 'approver' | 'enabledApproverFingerprints' | 'approverNames'>;
  readonly #kind: keyof typeof TABLES;

  constructor(core: AgentCore, registry: Pick<Registry, 'approver' | 'enabledApproverFingerprints' | 'approverNames'>, kind: keyof typeof TABLES) {
    this.#c = core;
    this.#registry = registry;
    this.#kind = kind;
  }

  /**
   * Records a verified approval (inside the caller's transaction); DUPLICATE_APPROVER when this
   * approver approved the subject already. Returns the approver.
   */
  add(subjectId: string, approval: Uint8Array, verified: VerifiedApproval): ApproverRow {
    const { table, subject } = TABLES[this.#kind];
    const approver = this.#registry.approver(verified.fingerprint);
    if (this.#c.db.prepare(`SELECT approver FROM ${table} WHERE ${subject} = ? AND approver = ?`).get(subjectId, verified.fingerprint) !== undefined) {
      const again = this.#kind === 'session' ? 'this session already; a second approval' : 'this deletion already; the second approval';
      throw new CustosError('DUPLICATE_APPROVER', `${approver.name} has approved ${again} must come from a different person.`, { details: { approver: verified.fingerprint } });
    }
    this.#c.db
      .prepare(`INSERT INTO ${table} (${subject}, approver, approval, approver_name, approved_at, added_at) VALUES (?, ?, ?, ?, ?, ?)`)
      .run(subjectId, verified.fingerprint, approval, verified.approverName, verified.approvedAt, this.#c.now());
    return approver;
  }

  /** The subject's approvals whose approver is still registered and enabled, in the order given. */
  valid(subjectId: string): StoredApproval[] {
    const { table, subject } = TABLES[this.#kind];
    const enabled = this.#registry.enabledApproverFingerprints();
    return (this.#c.db.prepare(`SELECT * FROM ${table} WHERE ${subject} = ? ORDER BY added_at, approver`).all(subjectId) as StoredApproval[]).filter((a) => enabled.has(a.approver));
  }

  /** Every approval of the subject, for its view: who and when (Unix seconds). */
  list(subjectId: string): { approver: string; name: string; at: number }[] {
    const { table, subject } = TABLES[this.#kind];
    const names = this.#registry.approverNames();
    return (this.#c.db.prepare(`SELECT approver, added_at FROM ${table} WHERE ${subject} = ? ORDER BY added_at, approver`).all(subjectId) as { approver: string; added_at: number }[]).flatMap((a) => {
      const name = names.get(a.approver);
      return name === undefined ? [] : [{ approver: a.approver, name, at: sec(a.added_at) }];
    });
  }
}

/** "name (fingerprint); name (fingerprint)", for the audit entry of an approved operation. */
export function approverList(approvals: readonly StoredApproval[]): string {
  return approvals.map((a) => `${a.approver_name} (${a.approver})`).join('; ');
}
