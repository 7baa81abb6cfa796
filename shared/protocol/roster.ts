/**
 * Approver roster and roster change, version 1 (docs/protocol.md §4.12; issue 9 §1b, issue 12).
 *
 * - The **roster** (`approver-roster`) is signed by the agent: which approvers it counts now
 *   (name, key, fingerprint, enabled or disabled, when added), with a version that grows by one at
 *   every change. Custodians pin it (comparing the agent's code as when pinning the agent) and
 *   accept a newer version only when the pinned agent key signed it; an older one is a rollback.
 * - A **roster change** (`roster-change`) is signed by one existing approver, on their own machine:
 *   "add this approver" or "disable this approver", naming the roster version it changes, so an
 *   approval for version 3 cannot be replayed once the roster is at version 4. After the first two
 *   approvers (registered with their codes compared), the agent makes a change only with the
 *   signed changes of two distinct enabled approvers other than the one added or disabled (Vault's
 *   rekey needs a quorum of the existing key holders). The roster carries the approvals of its last
 *   change, so whoever pinned the previous version can check them too (`checkRosterSuccession`).
 */
import { z } from 'zod';
import { constantTimeEqual, toHex } from '../bytes';
import { CustosError } from '../errors';
import { agentFingerprint, approverFingerprint, comparisonCode } from './identity';
import { openMessage, sealMessage, TRUST_SELF, trustKey, type SigningKey } from './frame';
import { boundedBytes, fingerprint, label, publicKey, timestamp } from './schema';

/** A roster version: 1 for the roster with the first approver, one more at every change. */
export const rosterVersion = z.number().int().min(1).max(2 ** 32 - 1);

export const ROSTER_ACTIONS = ['add', 'disable'] as const;
export type RosterAction = (typeof ROSTER_ACTIONS)[number];

/** How many distinct enabled approvers must sign a change once two approvers are registered. */
export const ROSTER_QUORUM = 2;
/** The first approvers are registered with their codes compared, without a quorum (there is none yet). */
export const ROSTER_SETUP_APPROVERS = 2;
/** At most this many approvers on one roster (a roster must stay one readable file). */
export const ROSTER_MAX_APPROVERS = 64;

export const rosterEntrySchema = z.strictObject({
  name: label,
  sign_key: publicKey,
  fingerprint,
  status: z.enum(['enabled', 'disabled']),
  added_at: timestamp,
});
export type RosterEntry = z.infer<typeof rosterEntrySchema>;

/** Who is added or disabled: the approver card's name and key, and the key's fingerprint. */
export const rosterTargetSchema = z.strictObject({ name: label, sign_key: publicKey, fingerprint });
export type RosterTarget = z.infer<typeof rosterTargetSchema>;

/** What the last change was; `approvals` are the signed roster changes (empty under the setup rule). */
export const rosterChangeSummarySchema = z.strictObject({
  action: z.enum(ROSTER_ACTIONS),
  target: fingerprint,
  approvals: z.array(boundedBytes(4096)).max(16),
});

export const approverRosterSchema = z
  .strictObject({
    agent_name: label,
    agent_key: publicKey,
    agent_fingerprint: fingerprint,
    version: rosterVersion,
    issued_at: timestamp,
    approvers: z.array(rosterEntrySchema).max(ROSTER_MAX_APPROVERS),
    /** Absent when the roster was issued for approvers registered before rosters existed. */
    change: rosterChangeSummarySchema.optional(),
  })
  .superRefine((r, ctx) => {
    const seen = new Set<string>();
    r.approvers.forEach((a, i) => {
      const k = toHex(a.sign_key);
      if (seen.has(k)) ctx.addIssue({ code: 'custom', path: ['approvers', i, 'sign_key'], message: 'names an approver twice' });
      seen.add(k);
    });
  });
export type ApproverRoster = z.infer<typeof approverRosterSchema>;

export const rosterChangeSchema = z
  .strictObject({
    /** The agent whose roster this changes. */
    agent_key: publicKey,
    /** The roster version this change applies to (the version the approver saw). */
    roster_version: rosterVersion,
    action: z.enum(ROSTER_ACTIONS),
    target: rosterTargetSchema,
    approver_name: label,
    approved_at: timestamp,
    not_after: timestamp,
  })
  .superRefine((c, ctx) => {
    if (c.not_after < c.approved_at) ctx.addIssue({ code: 'custom', path: ['not_after'], message: 'is before approved_at' });
  });
export type RosterChange = z.infer<typeof rosterChangeSchema>;

export const signRoster = (body: ApproverRoster, agent: SigningKey): Uint8Array => {
  if (!constantTimeEqual(body.agent_key, agent.publicKey)) throw new CustosError('INVALID_PARAMETERS', 'The roster must name the key of the agent that signs it.');
  return sealMessage('approver-roster', approverRosterSchema, body, agent);
};

export const makeRosterChange = (body: RosterChange, approver: SigningKey): Uint8Array => sealMessage('roster-change', rosterChangeSchema, body, approver);

export interface OpenedRoster {
  readonly body: ApproverRoster;
  readonly bytes: Uint8Array;
  /** The agent's fingerprint and its 24-digit code, as the agent card shows them. */
  readonly agentFingerprint: Uint8Array;
  readonly agentCode: string;
}

/**
 * Verifies a roster against the agent key the reader pinned: the frame signature, that the body
 * names that key and its fingerprint, and that every approver's fingerprint is its key's.
 */
export function openRoster(bytes: unknown, agentKey: Uint8Array): OpenedRoster {
  const opened = openMessage(bytes, 'approver-roster', approverRosterSchema, trustKey(agentKey));
  const body = opened.body;
  const fp = agentFingerprint(agentKey);
  if (!constantTimeEqual(body.agent_key, agentKey) || !constantTimeEqual(body.agent_fingerprint, fp)) {
    throw new CustosError('MALFORMED', 'This approver roster names another agent key than the one that signed it.');
  }
  body.approvers.forEach((a, i) => {
    if (!constantTimeEqual(a.fingerprint, approverFingerprint(a.sign_key))) {
      throw new CustosError('MALFORMED', `Approver ${String(i + 1)} ("${a.name}") on this roster has a fingerprint that is not its key's.`, { details: { field: `approvers.${String(i)}.fingerprint` } });
    }
  });
  if (body.change !== undefined && !body.approvers.some((a) => constantTimeEqual(a.fingerprint, body.change?.target ?? new Uint8Array()))) {
    throw new CustosError('MALFORMED', 'This approver roster names a last change for an approver it does not list.', { details: { field: 'change.target' } });
  }
  return { body, bytes: opened.bytes, agentFingerprint: fp, agentCode: comparisonCode(fp) };
}

export interface OpenedRosterChange {
  readonly body: RosterChange;
  readonly approverKey: Uint8Array;
  readonly fingerprint: Uint8Array;
  readonly code: string;
  readonly bytes: Uint8Array;
}

/** What a change must be for: the agent, the current version, the action and the target. */
export interface ExpectedRosterChange {
  readonly agentKey: Uint8Array;
  readonly version: number;
  readonly action: RosterAction;
  readonly target: Uint8Array;
  /** Seconds since the epoch; a change past its `not_after` is EXPIRED. */
  readonly now: number;
}

/**
 * Opens one roster change: its signature (by the key it is framed with), its target's fingerprint,
 * and, with `expected`, that it is for exactly this agent, version, action and target and not
 * expired. Who may sign (an enabled approver other than the target) is `checkRosterQuorum`'s.
 */
export function openRosterChange(bytes: unknown, expected?: ExpectedRosterChange): OpenedRosterChange {
  const opened = openMessage(bytes, 'roster-change', rosterChangeSchema, TRUST_SELF);
  const c = opened.body;
  const by = `The roster change signed by "${c.approver_name}"`;
  if (!constantTimeEqual(c.target.fingerprint, approverFingerprint(c.target.sign_key))) {
    throw new CustosError('MALFORMED', `${by} names an approver whose fingerprint is not its key's.`, { details: { field: 'target.fingerprint' } });
  }
  if (expected !== undefined) {
    if (!constantTimeEqual(c.agent_key, expected.agentKey)) {
      throw new CustosError('WRONG_RECIPIENT', `${by} is for another agent's roster.`);
    }
    if (c.action !== expected.action || !constantTimeEqual(c.target.fingerprint, expected.target)) {
      throw new CustosError('SESSION_MISMATCH', `${by} approves ${c.action === 'add' ? 'adding' : 'disabling'} another approver (${comparisonCode(c.target.fingerprint)}), not this change.`, {
        details: { reason: 'other-change', action: c.action },
      });
    }
    if (c.roster_version !== expected.version) {
      throw new CustosError(
        'SESSION_MISMATCH',
        `${by} was made for roster version ${String(c.roster_version)}; the roster is at version ${String(expected.version)}. Ask the approver to sign the change again against the current roster (\`agent approver roster\`).`,
        { details: { reason: 'stale-version', approved: c.roster_version, current: expected.version } },
      );
    }
    if (expected.now > c.not_after) {
      throw new CustosError('EXPIRED', `${by} expired; ask the approver to sign it again.`, { details: { not_after: c.not_after } });
    }
  }
  const fp = approverFingerprint(opened.signer);
  return { body: c, approverKey: opened.signer, fingerprint: fp, code: comparisonCode(fp), bytes: opened.bytes };
}

/**
 * Opens the approvals of one change and checks the quorum: each by an enabled approver of
 * `enabled` (UNTRUSTED_SIGNER otherwise), none by the target itself and no approver twice
 * (DUPLICATE_APPROVER), and at least ROSTER_QUORUM of them (APPROVAL_REQUIRED).
 */
export function checkRosterQuorum(list: readonly unknown[], expected: ExpectedRosterChange, enabled: readonly Uint8Array[]): OpenedRosterChange[] {
  const opened = list.map((b) => openRosterChange(b, expected));
  const seen = new Set<string>();
  for (const a of opened) {
    if (constantTimeEqual(a.fingerprint, expected.target)) {
      throw new CustosError('DUPLICATE_APPROVER', `"${a.body.approver_name}" signed a change of their own entry; two other approvers must approve it.`, { details: { reason: 'self' } });
    }
    if (!enabled.some((k) => constantTimeEqual(k, a.approverKey))) {
      throw new CustosError('UNTRUSTED_SIGNER', `The roster change signed by "${a.body.approver_name}" (${a.code}) is not by an enabled approver on the roster.`);
    }
    const k = toHex(a.approverKey);
    if (seen.has(k)) throw new CustosError('DUPLICATE_APPROVER', `"${a.body.approver_name}" signed this change twice; two different approvers must approve it.`, { details: { reason: 'twice' } });
    seen.add(k);
  }
  if (opened.length < ROSTER_QUORUM) {
    throw new CustosError('APPROVAL_REQUIRED', `${String(opened.length)} approval(s) of the ${String(ROSTER_QUORUM)} this change needs from different enabled approvers.`, {
      details: { have: opened.length, need: ROSTER_QUORUM },
    });
  }
  return opened;
}

export type RosterSuccession =
  /** The next version's change was signed by a quorum of the pinned version's enabled approvers. */
  | { readonly kind: 'quorum'; readonly approvers: readonly OpenedRosterChange[] }
  /** Signed by the agent only: a setup registration, a version gap, or a roster without a change. */
  | { readonly kind: 'agent-only'; readonly reason: 'setup' | 'gap' | 'no-change' };

/** True when `next` lists exactly `prev`'s approvers with `change` applied (and nothing else changed). */
function appliesChange(prev: ApproverRoster, next: ApproverRoster, change: NonNullable<ApproverRoster['change']>): boolean {
  const same = (a: RosterEntry, b: RosterEntry): boolean =>
    a.name === b.name && constantTimeEqual(a.sign_key, b.sign_key) && constantTimeEqual(a.fingerprint, b.fingerprint) && a.status === b.status && a.added_at === b.added_at;
  const isTarget = (a: RosterEntry): boolean => constantTimeEqual(a.fingerprint, change.target);
  const before = prev.approvers.filter((a) => !isTarget(a));
  const after = next.approvers.filter((a) => !isTarget(a));
  if (before.length !== after.length || !before.every((a) => after.some((b) => same(a, b)))) return false;
  const was = prev.approvers.find(isTarget);
  const now = next.approvers.find(isTarget);
  if (now === undefined) return false;
  if (change.action === 'add') return was === undefined && now.status === 'enabled';
  return was !== undefined && was.status === 'enabled' && now.status === 'disabled' && same({ ...was, status: 'disabled' }, now);
}

/**
 * What a reader who pinned `pinned` can tell about `next` (both opened with the same agent key). A
 * version not above the pinned one is a rollback (INVALID_PARAMETERS, details.reason "rollback").
 * When `next` is exactly one version on, its change must be the only difference, and when the
 * pinned roster had two approvers already it must carry the approvals of two approvers enabled in
 * `pinned` (checked here: `quorum`). Otherwise only the agent vouches for it (`agent-only`).
 */
export function checkRosterSuccession(pinned: OpenedRoster, next: OpenedRoster): RosterSuccession {
  const p = pinned.body;
  const n = next.body;
  if (!constantTimeEqual(p.agent_key, n.agent_key)) throw new CustosError('UNTRUSTED_SIGNER', 'The new roster is signed by another agent key than the pinned roster.');
  if (n.version <= p.version) {
    throw new CustosError('INVALID_PARAMETERS', `This roster is version ${String(n.version)}; version ${String(p.version)} is pinned already. An older or equal roster is never accepted over a newer one.`, {
      details: { reason: 'rollback', pinned: p.version, got: n.version },
    });
  }
  if (n.change === undefined) return { kind: 'agent-only', reason: 'no-change' };
  if (n.version !== p.version + 1) return { kind: 'agent-only', reason: 'gap' };
  if (!appliesChange(p, n, n.change)) {
    throw new CustosError('MALFORMED', 'This roster differs from the pinned one by more than the one change it names.', { details: { reason: 'diff' } });
  }
  if (n.change.approvals.length === 0) {
    if (p.approvers.length >= ROSTER_SETUP_APPROVERS) {
      throw new CustosError('APPROVAL_REQUIRED', 'This roster adds or disables an approver without the approvals of two existing approvers, which the pinned roster requires.');
    }
    return { kind: 'agent-only', reason: 'setup' };
  }
  const enabled = p.approvers.filter((a) => a.status === 'enabled').map((a) => a.sign_key);
  // The change was applied while it was valid; its expiry says nothing about the roster later (now 0).
  const approvers = checkRosterQuorum(n.change.approvals, { agentKey: p.agent_key, version: p.version, action: n.change.action, target: n.change.target, now: 0 }, enabled);
  return { kind: 'quorum', approvers };
}
