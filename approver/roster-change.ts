/**
 * An approver's side of a roster change (issue 9 §1b; docs/protocol.md §4.12): reading the
 * agent-signed roster ops sent, saying in plain words what would change, and signing a
 * `roster-change` for exactly that: this agent, this roster version, add or disable, this approver.
 * The agent makes the change only with two such signatures by enabled approvers other than the
 * one added or disabled. Imports only shared/ and node/, like the rest of the approver program.
 */
import { toHex } from '../shared/bytes';
import { CustosError } from '../shared/errors';
import {
  comparisonCode,
  makeRosterChange,
  openAgentCard,
  openApproverCard,
  openRoster,
  peekMessage,
  type OpenedRoster,
  type RosterAction,
  type RosterTarget,
} from '../shared/protocol';
import type { ApproverKey } from './key';

/** The default and the longest time a signed roster change counts, in days. */
export const ROSTER_CHANGE_DAYS = { default: 7, max: 30 } as const;

/**
 * Opens a roster: against `agentCard`'s key when given (the agent the approver knows), otherwise
 * against the key the roster itself names, whose code is then shown to compare.
 */
export function readRoster(bytes: Uint8Array, agentCard?: Uint8Array): OpenedRoster {
  const key = agentCard === undefined ? peekMessage(bytes).signer : openAgentCard(agentCard).body.sign_key;
  return openRoster(bytes, key);
}

export interface PreparedChange {
  readonly roster: OpenedRoster;
  readonly action: RosterAction;
  readonly target: RosterTarget;
  /** The target's 24-digit code: for an addition, the new approver reads it out to the signer. */
  readonly targetCode: string;
}

/**
 * What `key`'s owner would sign: adding the approver of `card`, or disabling the approver whose
 * fingerprint starts with `fingerprint` (at least 8 hex digits). Refuses what the agent would refuse
 * anyway: a signer not enabled on the roster, a change of one's own entry, adding someone already
 * listed, disabling someone not enabled.
 */
export function prepareRosterChange(roster: OpenedRoster, key: ApproverKey, change: { add: Uint8Array } | { disable: string }): PreparedChange {
  const me = roster.body.approvers.find((a) => toHex(a.fingerprint) === key.fingerprint);
  if (me?.status !== 'enabled') {
    throw new CustosError('UNTRUSTED_SIGNER', `${key.name} (${key.code}) is not an enabled approver on this roster (version ${String(roster.body.version)}); the agent would not count this signature.`);
  }
  let action: RosterAction;
  let target: RosterTarget;
  if ('add' in change) {
    const card = openApproverCard(change.add);
    action = 'add';
    target = { name: card.body.name, sign_key: card.body.sign_key, fingerprint: card.fingerprint };
    if (roster.body.approvers.some((a) => toHex(a.fingerprint) === toHex(card.fingerprint))) {
      throw new CustosError('INVALID_PARAMETERS', `"${card.body.name}" is on the roster already; there is nothing to add.`);
    }
  } else {
    const prefix = change.disable.trim().toLowerCase();
    if (!/^[0-9a-f]{8,64}$/.test(prefix)) throw new CustosError('INVALID_PARAMETERS', 'Give the fingerprint of the approver to disable (at least its first 8 hex digits, as `agent approver list` shows it).');
    const found = roster.body.approvers.filter((a) => toHex(a.fingerprint).startsWith(prefix));
    const one = found[0];
    if (found.length !== 1 || one === undefined) {
      throw new CustosError('INVALID_PARAMETERS', found.length === 0 ? 'No approver on this roster has this fingerprint.' : 'Several approvers on this roster start with these digits; give more of the fingerprint.');
    }
    if (one.status !== 'enabled') throw new CustosError('INVALID_PARAMETERS', `"${one.name}" is disabled on this roster already.`);
    action = 'disable';
    target = { name: one.name, sign_key: one.sign_key, fingerprint: one.fingerprint };
  }
  if (toHex(target.fingerprint) === key.fingerprint) {
    throw new CustosError('DUPLICATE_APPROVER', 'An approver cannot approve a change of their own entry; two other approvers must sign it.', { details: { reason: 'self' } });
  }
  return { roster, action, target, targetCode: comparisonCode(target.fingerprint) };
}

/** The change in plain words (label, value), to compare with the change ticket before signing. */
export function describeRosterChange(p: PreparedChange): [string, string][] {
  const r = p.roster.body;
  const enabled = r.approvers.filter((a) => a.status === 'enabled');
  return [
    ['action', p.action === 'add' ? 'ADD an approver: their signature will count for recoveries and deletions' : 'DISABLE an approver: their signature will no longer count'],
    ['approver', `${p.target.name} (fingerprint ${toHex(p.target.fingerprint).slice(0, 16)}…)`],
    ...(p.action === 'add' ? ([['their code', 'not shown here: they read it out to you from their own approver program']] as [string, string][]) : []),
    ['agent', `${r.agent_name} (code ${p.roster.agentCode}: compare with the agent card you know)`],
    ['roster', `version ${String(r.version)}, ${String(enabled.length)} enabled: ${enabled.map((a) => a.name).join(', ')}`],
  ];
}

/** Signs the change, counting for `days` days (1..30). */
export function signRosterChange(key: ApproverKey, p: PreparedChange, nowSeconds: number, days: number = ROSTER_CHANGE_DAYS.default): Uint8Array {
  if (!Number.isInteger(days) || days < 1 || days > ROSTER_CHANGE_DAYS.max) {
    throw new CustosError('INVALID_PARAMETERS', `A roster change counts for 1 to ${String(ROSTER_CHANGE_DAYS.max)} days; got ${String(days)}.`);
  }
  return makeRosterChange(
    {
      agent_key: p.roster.body.agent_key,
      roster_version: p.roster.body.version,
      action: p.action,
      target: p.target,
      approver_name: key.name,
      approved_at: nowSeconds,
      not_after: nowSeconds + days * 86400,
    },
    key.signing,
  );
}
