/**
 * The two registries of people the agent trusts (seeds SOP §3 roles): custodians (who hold
 * external shares; `custodians` table) and approvers (who sign recovery sessions and deletions;
 * `approvers` table). One helper serves both: registering is "verify the self-signed card, refuse
 * a duplicate, insert, audit" in one transaction; disabling is "find, mark disabled, audit".
 * Other modules read people only through the lookups at the end of this class.
 */
import { toHex } from '../../shared/bytes';
import { CustosError } from '../../shared/errors';
import { label as labelSchema, openApproverCard, openCustodianCard, type RegisteredCustodian } from '../../shared/protocol';
import { CUSTODIAN_ROLES, type ApproverRecord, type CustodianRecord, type CustodianRole, type OpContext } from '../api';
import type { AuditInput } from '../audit/log';
import type { AgentCore, AuditBase } from '../core/context';
import { blob, frameSignature, sec } from '../core/util';
import { inTransaction, type ApproverRow, type CustodianRow } from '../db';
import { AgentError } from '../errors';
import { checkBytes, checkFingerprint } from '../ids';
import { Roster, type AuthorisedChange } from './roster';

type Kind = 'custodian' | 'approver';
const TABLE: Readonly<Record<Kind, string>> = { custodian: 'custodians', approver: 'approvers' };
const MISSING: Readonly<Record<Kind, string>> = {
  custodian: 'No custodian with this fingerprint is registered.',
  approver: 'No approver with this fingerprint is registered.',
};

/** What registering one card needs, once its kind-specific checks passed. */
interface Entry {
  readonly fingerprint: string;
  /** Throws CONFLICT when the card (or its keys) is registered already. */
  readonly refuseDuplicate: () => void;
  /** Inserts (inside the transaction); may return more fields for the audit entry's details. */
  readonly insert: (now: number) => NonNullable<AuditInput['details']> | undefined;
  /** Extra fields of the `register` audit entry. */
  readonly audit: { readonly approver?: string; readonly details: NonNullable<AuditInput['details']> };
}

export class Registry {
  readonly #c: AgentCore;
  #roster: Roster | undefined;

  constructor(core: AgentCore) {
    this.#c = core;
  }

  async addCustodian(cardBytes: Uint8Array, label: string, role: CustodianRole, ctx: OpContext = {}): Promise<CustodianRecord> {
    const fp = await this.#register('custodian', cardBytes, ctx, () => {
      checkBytes(cardBytes, 'enrollment card', 4096);
      const cleanLabel = labelSchema.safeParse(label);
      if (!cleanLabel.success) throw new CustosError('INVALID_PARAMETERS', 'The custodian label must be 1 to 200 characters without control characters.');
      if (!CUSTODIAN_ROLES.includes(role)) {
        throw new CustosError('INVALID_PARAMETERS', `The role must be one of ${CUSTODIAN_ROLES.join(', ')}.`, { details: { field: 'role' } });
      }
      const card = openCustodianCard(cardBytes);
      const fingerprint = toHex(card.fingerprint);
      const db = this.#c.db;
      return {
        fingerprint,
        refuseDuplicate: () => {
          const existing = db.prepare('SELECT fingerprint FROM custodians WHERE fingerprint = ? OR sign_key = ? OR age_recipient = ?').get(fingerprint, card.body.sign_key, card.body.age_recipient);
          if (existing !== undefined) {
            throw new AgentError('CONFLICT', `This custodian (or one with the same keys) is already registered (${card.code}).`, { details: { fingerprint } });
          }
        },
        insert: (now) => {
          db.prepare(
            'INSERT INTO custodians (fingerprint, code, card, card_name, sign_key, age_recipient, label, role, enabled, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)',
          ).run(fingerprint, card.code, cardBytes, card.body.name, card.body.sign_key, card.body.age_recipient, cleanLabel.data, role, now);
          return undefined;
        },
        audit: { details: { label: cleanLabel.data, role, code: card.code, card_name: card.body.name } },
      };
    });
    return custodianRecord(this.custodian(fp));
  }

  listCustodians(): CustodianRecord[] {
    return (this.#c.db.prepare('SELECT * FROM custodians ORDER BY added_at, fingerprint').all() as CustodianRow[]).map(custodianRecord);
  }

  async disableCustodian(fingerprint: string, ctx: OpContext = {}): Promise<CustodianRecord> {
    const fp = await this.#disable('custodian', fingerprint, ctx);
    return custodianRecord(this.custodian(fp));
  }

  /**
   * Registers an approver. The first two need only their codes compared (done by the CLI); after
   * that, `approvals` must hold the signed roster changes of two other enabled approvers for adding
   * exactly this card at the current roster version (./roster.ts).
   */
  async addApprover(cardBytes: Uint8Array, ctx: OpContext = {}, approvals: readonly Uint8Array[] = []): Promise<ApproverRecord> {
    const operator = this.#c.op(ctx);
    const fp = await this.#register('approver', cardBytes, ctx, () => {
      checkBytes(cardBytes, 'approver card', 4096);
      approvals.forEach((a) => checkBytes(a, 'roster change approval', 4096));
      const card = openApproverCard(cardBytes);
      const fingerprint = toHex(card.fingerprint);
      const db = this.#c.db;
      const change = { action: 'add' as const, fingerprint, signKey: card.body.sign_key };
      return {
        fingerprint,
        refuseDuplicate: () => {
          if (db.prepare('SELECT fingerprint FROM approvers WHERE fingerprint = ?').get(fingerprint) !== undefined) {
            throw new AgentError('CONFLICT', `This approver is already registered (${card.code}).`, { details: { fingerprint } });
          }
        },
        insert: (now) => {
          const authorised = this.roster.authorise(change, approvals);
          db.prepare('INSERT INTO approvers (fingerprint, code, card, name, sign_key, enabled, added_at) VALUES (?, ?, ?, ?, ?, 1, ?)').run(
            fingerprint,
            card.code,
            cardBytes,
            card.body.name,
            card.body.sign_key,
            now,
          );
          return rosterDetails(this.roster.record(change, authorised, operator, now), authorised);
        },
        audit: { approver: card.body.name, details: { code: card.code } },
      };
    });
    this.roster.refreshFile();
    return approverRecord(this.approver(fp));
  }

  listApprovers(): ApproverRecord[] {
    return (this.#c.db.prepare('SELECT * FROM approvers ORDER BY added_at, fingerprint').all() as ApproverRow[]).map(approverRecord);
  }

  /** Disables an approver: once two are enabled, only with the signed roster changes of two others (./roster.ts). */
  async disableApprover(fingerprint: string, ctx: OpContext = {}, approvals: readonly Uint8Array[] = []): Promise<ApproverRecord> {
    const operator = this.#c.op(ctx);
    approvals.forEach((a) => checkBytes(a, 'roster change approval', 4096));
    const fp = await this.#disable('approver', fingerprint, ctx, (target, now) => {
      const row = this.approver(target);
      if (row.enabled !== 1) throw new AgentError('CONFLICT', `Approver "${row.name}" is disabled already.`, { details: { fingerprint: target } });
      const change = { action: 'disable' as const, fingerprint: target, signKey: blob(row.sign_key) };
      const authorised = this.roster.authorise(change, approvals);
      return { approver: row.name, details: rosterDetails(this.roster.record(change, authorised, operator, now), authorised) };
    });
    this.roster.refreshFile();
    return approverRecord(this.approver(fp));
  }

  /** The approver roster: its version, the rule of the next change, the agent-signed message. */
  get roster(): Roster {
    this.#roster ??= new Roster(this.#c);
    return this.#roster;
  }

  // ── lookups for the other modules ──

  /** A registered custodian (enabled or not); NOT_FOUND otherwise. */
  custodian(fp: string): CustodianRow {
    const row = this.#c.db.prepare('SELECT * FROM custodians WHERE fingerprint = ?').get(fp) as CustodianRow | undefined;
    if (row === undefined) throw new AgentError('NOT_FOUND', MISSING.custodian, { details: { fingerprint: fp } });
    return row;
  }

  /** The registered custodian with this signing key; UNTRUSTED_SIGNER otherwise. */
  custodianBySignKey(key: Uint8Array): CustodianRow {
    const row = this.#c.db.prepare('SELECT * FROM custodians WHERE sign_key = ?').get(key) as CustodianRow | undefined;
    if (row === undefined) throw new CustosError('UNTRUSTED_SIGNER', 'The signer is not a registered custodian.');
    return row;
  }

  /** The enabled custodians' keys, as the protocol checks them. */
  enabledCustodianKeys(): RegisteredCustodian[] {
    const rows = this.#c.db.prepare('SELECT sign_key, age_recipient FROM custodians WHERE enabled = 1').all() as Pick<CustodianRow, 'sign_key' | 'age_recipient'>[];
    return rows.map((r) => ({ signKey: blob(r.sign_key), ageRecipient: r.age_recipient }));
  }

  /** Fingerprint → label of every registered custodian. */
  custodianLabels(): Map<string, string> {
    return new Map((this.#c.db.prepare('SELECT fingerprint, label FROM custodians').all() as { fingerprint: string; label: string }[]).map((c) => [c.fingerprint, c.label]));
  }

  /** A registered approver (enabled or not); NOT_FOUND otherwise. */
  approver(fp: string): ApproverRow {
    const row = this.#c.db.prepare('SELECT * FROM approvers WHERE fingerprint = ?').get(fp) as ApproverRow | undefined;
    if (row === undefined) throw new AgentError('NOT_FOUND', MISSING.approver, { details: { fingerprint: fp } });
    return row;
  }

  /** The enabled approvers' signing keys, which approvals are verified against. */
  enabledApproverKeys(): Uint8Array[] {
    return (this.#c.db.prepare('SELECT sign_key FROM approvers WHERE enabled = 1').all() as Pick<ApproverRow, 'sign_key'>[]).map((a) => blob(a.sign_key));
  }

  /** Fingerprints of the approvers that are registered and enabled. */
  enabledApproverFingerprints(): Set<string> {
    return new Set((this.#c.db.prepare('SELECT fingerprint FROM approvers WHERE enabled = 1').all() as { fingerprint: string }[]).map((a) => a.fingerprint));
  }

  /** Fingerprint → name of every registered approver. */
  approverNames(): Map<string, string> {
    return new Map((this.#c.db.prepare('SELECT fingerprint, name FROM approvers').all() as { fingerprint: string; name: string }[]).map((a) => [a.fingerprint, a.name]));
  }

  // ── the one registry helper ──

  async #register(kind: Kind, cardBytes: Uint8Array, ctx: OpContext, verify: () => Entry): Promise<string> {
    const base: AuditBase = { event: 'register', action: `${kind}-add`, operator: this.#c.op(ctx) };
    return this.#c.audited(base, () => {
      const entry = verify();
      const now = this.#c.now();
      return Promise.resolve(
        inTransaction(this.#c.db, () => {
          entry.refuseDuplicate();
          const more = entry.insert(now);
          this.#c.audit({
            ...base,
            result: 'ok',
            target: `${kind}:${entry.fingerprint}`,
            ...(entry.audit.approver === undefined ? {} : { approver: entry.audit.approver }),
            signature: frameSignature(cardBytes),
            details: { ...entry.audit.details, ...more },
          });
          return entry.fingerprint;
        }),
      );
    });
  }

  /**
   * `authorise` (approvers) runs inside the transaction before the change, may refuse it, and
   * returns the audit entry's approver and details.
   */
  async #disable(
    kind: Kind,
    fingerprint: string,
    ctx: OpContext,
    authorise?: (fp: string, now: number) => { approver: string; details: NonNullable<AuditInput['details']> },
  ): Promise<string> {
    const base: AuditBase = { event: 'register', action: `${kind}-disable`, operator: this.#c.op(ctx) };
    return this.#c.audited(base, () => {
      const fp = checkFingerprint(fingerprint);
      return Promise.resolve(
        inTransaction(this.#c.db, () => {
          if (kind === 'custodian') this.custodian(fp);
          else this.approver(fp);
          const now = this.#c.now();
          const extra = authorise?.(fp, now);
          this.#c.db.prepare(`UPDATE ${TABLE[kind]} SET enabled = 0, disabled_at = COALESCE(disabled_at, ?) WHERE fingerprint = ?`).run(now, fp);
          this.#c.audit({ ...base, result: 'ok', target: `${kind}:${fp}`, ...(extra === undefined ? {} : { approver: extra.approver, details: extra.details }) });
          return fp;
        }),
      );
    });
  }
}

/** The audit details of a roster change: the new version, the rule, and who approved it. */
function rosterDetails(version: number, authorised: AuthorisedChange): NonNullable<AuditInput['details']> {
  return { roster_version: version, rule: authorised.rule, ...(authorised.rule === 'quorum' ? { approved_by: authorised.approvedBy } : {}) };
}

function custodianRecord(r: CustodianRow): CustodianRecord {
  return { fingerprint: r.fingerprint, code: r.code, label: r.label, role: r.role, enabled: r.enabled === 1, addedAt: sec(r.added_at), cardName: r.card_name, ageRecipient: r.age_recipient };
}

function approverRecord(r: ApproverRow): ApproverRecord {
  return { fingerprint: r.fingerprint, code: r.code, name: r.name, enabled: r.enabled === 1, addedAt: sec(r.added_at) };
}
