/**
 * Trust in the agent (docs/protocol.md §4.1, §4.10): the custodian pins the agent's card after
 * comparing its 24-digit code with ops out of band; from then on every envelope, recovery request,
 * supersede notice and inventory challenge must be signed by the pinned key. A replacement agent
 * key is accepted ONLY through a key replacement notice signed by the pinned key; importing another
 * card over a pinned one is refused (AGENT_ALREADY_PINNED).
 *
 * Approvers (issue 12): the custodian pins each approver's self-signed card after the same read-aloud
 * comparison of its 24-digit code, and records a call-back contact (for the agent too). A card under
 * a name already pinned with another key is refused (APPROVER_KEY_CHANGED): a changed key is never
 * taken silently. The recovery review (recovery.ts) counts only approvals by these keys.
 */
import { constantTimeEqual, toHex } from '../../shared/bytes';
import { CustosError } from '../../shared/errors';
import { openMessage, TRUST_SELF } from '../../shared/protocol/frame';
import { approverRosterSchema, checkRosterSuccession, openRoster, type OpenedRoster } from '../../shared/protocol/roster';
import { openAgentKeyRotation } from '../../shared/protocol/agent-key-rotation';
import { fileHash } from '../../shared/crypto/hash';
import { z } from 'zod';
import { comparisonCode, openAgentCard, openApproverCard, type AgentCard, type ApproverCard, type OpenedCard } from '../../shared/protocol/identity';
import { ServiceError } from './errors';
import type { CallBackContact, PinnedAgent, PinnedApprover } from './state';
import type { Vault } from './vault';

export interface AgentCardPreview {
  readonly name: string;
  readonly signKey: string;
  readonly fingerprint: string;
  /** The 24-digit comparison code, in six groups of four. */
  readonly code: string;
  readonly createdAt: number;
}

function preview(card: OpenedCard<AgentCard>): AgentCardPreview {
  return { name: card.body.name, signKey: toHex(card.body.sign_key), fingerprint: toHex(card.fingerprint), code: card.code, createdAt: card.body.created_at };
}

/** Opens an agent card (self-signed) and shows what to compare. Needs no vault. */
export function previewAgentCard(bytes: Uint8Array): AgentCardPreview {
  return preview(openAgentCard(bytes));
}

/** Digits only: "1234 5678 …", "1234-5678…" and "12345678…" compare equal. */
export const normalizeCode = (code: string): string => code.replace(/[\s-]/g, '');

function codeMatches(typed: string, code: string): boolean {
  const t = normalizeCode(typed);
  return /^[0-9]{24}$/.test(t) && t === normalizeCode(code);
}

const contactText = (what: string) =>
  z
    .string()
    .transform((s) => s.trim())
    .pipe(
      z
        .string()
        .min(1, `the ${what} is empty`)
        .max(100, `the ${what} is longer than 100 characters`)
        .refine((s) => !/\p{Cc}/u.test(s), `the ${what} contains control characters`),
    );

/** A call-back contact as typed (free text, bounded): `unknown` until parsed here. */
export const contactSchema = z.strictObject({ name: contactText('contact name'), reach: contactText('phone number or other way to reach them') });

/** Parses a contact from a UI or the CLI; SETTINGS_INVALID would be wrong here, so USAGE names the field. */
export function parseContact(raw: unknown): CallBackContact {
  const r = contactSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ServiceError('USAGE', `The call-back contact is not valid: ${issue?.message ?? 'it is malformed'}.`, { details: { field: issue?.path.map(String).join('.') ?? 'contact' } });
  }
  return r.data;
}

const contactLine = (c: CallBackContact | undefined): string => (c === undefined ? '' : `, call-back contact ${c.name} (${c.reach})`);

/**
 * Pins the agent's card. `confirmCode` is the code the person read out with ops; it must match the
 * card's (CODE_MISMATCH otherwise). Pinning the same key again is a no-op (a contact given then is
 * recorded). `contact`: whom to call back about this agent (ops), recorded with it.
 */
export async function pinAgent(vault: Vault, cardBytes: Uint8Array, confirmCode: string, contact?: unknown): Promise<AgentCardPreview & { alreadyPinned: boolean }> {
  const card = openAgentCard(cardBytes);
  const p = preview(card);
  if (!codeMatches(confirmCode, card.code)) {
    throw new ServiceError('CODE_MISMATCH', 'The comparison code entered does not match this agent card. Do not trust it; compare again with ops.');
  }
  const who = contact === undefined ? undefined : parseContact(contact);
  return vault.update((tx) => {
    const pinned = tx.state.agent;
    if (pinned !== null) {
      if (pinned.signKey === p.signKey) {
        if (who !== undefined) {
          tx.state.agent = { ...pinned, contact: who };
          tx.audit({ event: 'register', result: 'ok', target: `agent ${p.name}`, signature: p.fingerprint, detail: `call-back contact recorded${contactLine(who)}` });
        }
        return { ...p, alreadyPinned: true };
      }
      throw new ServiceError(
        'AGENT_ALREADY_PINNED',
        `Agent "${pinned.name}" (code ${pinned.code}) is already trusted. A new agent key is accepted only through a replacement notice signed by the trusted key.`,
        { details: { pinnedCode: pinned.code } },
      );
    }
    tx.state.agent = { card: Uint8Array.from(cardBytes), signKey: p.signKey, name: p.name, fingerprint: p.fingerprint, code: p.code, pinnedAt: tx.now, via: 'pin', ...(who === undefined ? {} : { contact: who }) };
    tx.audit({ event: 'register', result: 'ok', target: `agent ${p.name}`, signature: p.fingerprint, detail: `agent card pinned after code comparison (${p.code})${contactLine(who)}` });
    return { ...p, alreadyPinned: false };
  });
}

/** The pinned agent key (32 bytes); NOT_PINNED if none. */
export function pinnedAgentKey(vault: Vault): Uint8Array {
  const agent = vault.state.agent;
  if (agent === null) throw new ServiceError('NOT_PINNED', 'No agent is trusted yet: pin the agent\'s card first.');
  return Buffer.from(agent.signKey, 'hex');
}

/** Agent keys pinned before the current one (each replaced through a signed notice), oldest first. */
export function earlierAgentKeys(vault: Vault): Uint8Array[] {
  return vault.state.previousAgents.map((a) => new Uint8Array(Buffer.from(a.signKey, 'hex')));
}

export function pinnedAgent(vault: Vault): PinnedAgent | null {
  return vault.state.agent;
}

/**
 * Applies an agent key replacement notice: verified against the pinned key; the new card becomes
 * the pinned one, the old one moves to `previousAgents`.
 */
export async function applyAgentKeyRotation(vault: Vault, noticeBytes: Uint8Array): Promise<{ previous: AgentCardPreview; next: AgentCardPreview }> {
  const pinnedKey = pinnedAgentKey(vault);
  const card = openAgentKeyRotation(noticeBytes, pinnedKey);
  const next = preview(card);
  return vault.update((tx) => {
    const current = tx.state.agent;
    if (current === null || current.signKey !== toHex(pinnedKey)) throw new ServiceError('INVALID_STATE', 'The trusted agent changed while the notice was being checked; try again.');
    // The pinned approvers, the roster and the call-back contact stay with the agent under its new key.
    const { approvers, roster, contact, ...old } = current;
    old.replacedAt = tx.now;
    tx.state.previousAgents.push(old);
    tx.state.agent = {
      ...(approvers === undefined ? {} : { approvers }),
      ...(roster === undefined ? {} : { roster }),
      ...(contact === undefined ? {} : { contact }),
      card: Uint8Array.from(card.bytes),
      signKey: next.signKey,
      name: next.name,
      fingerprint: next.fingerprint,
      code: next.code,
      pinnedAt: tx.now,
      via: 'rotation',
      notice: Uint8Array.from(noticeBytes),
    };
    tx.audit({
      event: 'rotate',
      result: 'ok',
      target: `agent ${next.name}`,
      signature: toHex(fileHash(noticeBytes)),
      detail: `agent key replaced: ${old.code} -> ${next.code}`,
    });
    return { previous: preview(openAgentCard(old.card)), next };
  });
}

// ---- approvers -----------------------------------------------------------------------------------

export interface ApproverCardPreview {
  readonly name: string;
  readonly signKey: string;
  readonly fingerprint: string;
  readonly code: string;
  readonly createdAt: number;
}

function approverPreview(card: OpenedCard<ApproverCard>): ApproverCardPreview {
  return { name: card.body.name, signKey: toHex(card.body.sign_key), fingerprint: toHex(card.fingerprint), code: card.code, createdAt: card.body.created_at };
}

/** Opens an approver card (self-signed) and shows what to compare. Needs no vault. */
export function previewApproverCard(bytes: Uint8Array): ApproverCardPreview {
  return approverPreview(openApproverCard(bytes));
}

/** Names compare without case and surrounding or repeated spaces ("Alice Zhang" = "alice  zhang "). */
export const sameName = (a: string, b: string): boolean => a.trim().replace(/\s+/g, ' ').toLowerCase() === b.trim().replace(/\s+/g, ' ').toLowerCase();

/** The approvers this vault trusts (under the pinned agent), in pinning order. */
export function pinnedApprovers(vault: Vault): readonly PinnedApprover[] {
  return vault.state.agent?.approvers ?? [];
}

function needAgent(agent: PinnedAgent | null): PinnedAgent {
  if (agent === null) throw new ServiceError('NOT_PINNED', "No agent is trusted yet: pin the agent's card first, then its approvers.");
  return agent;
}

/**
 * Pins an approver's card after the read-aloud comparison: `confirmCode` is what the approver (or
 * the security team) read out from `approver keygen`'s output, over a separate channel
 * (CODE_MISMATCH otherwise). `contact`: whom to call back about this approver. The same key again
 * updates the contact; the same name with another key is refused (APPROVER_KEY_CHANGED).
 */
export async function pinApprover(vault: Vault, cardBytes: Uint8Array, confirmCode: string, contact?: unknown): Promise<ApproverCardPreview & { alreadyPinned: boolean }> {
  const card = openApproverCard(cardBytes);
  const p = approverPreview(card);
  if (!codeMatches(confirmCode, card.code)) {
    throw new ServiceError('CODE_MISMATCH', 'The comparison code entered does not match this approver card. Do not trust it; compare again with the approver.');
  }
  const who = contact === undefined ? undefined : parseContact(contact);
  return vault.update((tx) => {
    const agent = needAgent(tx.state.agent);
    const list = [...(agent.approvers ?? [])];
    const same = list.findIndex((a) => a.signKey === p.signKey);
    if (same >= 0) {
      const had = list[same];
      if (had === undefined || who === undefined) return { ...p, alreadyPinned: true };
      list[same] = { ...had, contact: who };
      tx.state.agent = { ...agent, approvers: list };
      tx.audit({ event: 'register', result: 'ok', target: `approver ${had.name}`, signature: p.fingerprint, detail: `call-back contact recorded${contactLine(who)}` });
      return { ...p, alreadyPinned: true };
    }
    const namesake = list.find((a) => sameName(a.name, p.name));
    if (namesake !== undefined) {
      throw new ServiceError(
        'APPROVER_KEY_CHANGED',
        `"${namesake.name}" is already trusted with another key (code ${namesake.code}). Call them${namesake.contact === undefined ? '' : ` at ${namesake.contact.name} (${namesake.contact.reach})`} before trusting a new key, then remove the old one first.`,
        { details: { pinnedCode: namesake.code } },
      );
    }
    list.push({ name: p.name, signKey: p.signKey, fingerprint: p.fingerprint, code: p.code, pinnedAt: tx.now, via: 'card', card: Uint8Array.from(cardBytes), status: 'enabled', ...(who === undefined ? {} : { contact: who }) });
    tx.state.agent = { ...agent, approvers: list };
    tx.audit({ event: 'register', result: 'ok', target: `approver ${p.name}`, signature: p.fingerprint, detail: `approver card pinned after code comparison (${p.code})${contactLine(who)}` });
    return { ...p, alreadyPinned: false };
  });
}

/** Stops trusting an approver (by fingerprint, or a unique prefix of at least 8 hex digits). */
export async function removeApprover(vault: Vault, fingerprint: string): Promise<PinnedApprover> {
  const fp = fingerprint.trim().toLowerCase();
  if (!/^[0-9a-f]{8,64}$/.test(fp)) throw new ServiceError('USAGE', 'Name the approver by their fingerprint (at least its first 8 hex digits).');
  return vault.update((tx) => {
    const agent = needAgent(tx.state.agent);
    const list = agent.approvers ?? [];
    const hits = list.filter((a) => a.fingerprint.startsWith(fp));
    if (hits.length > 1) throw new ServiceError('AMBIGUOUS_ID', `${String(hits.length)} pinned approvers have a fingerprint starting ${fp}; give more digits.`);
    const hit = hits[0];
    if (hit === undefined) throw new ServiceError('NOT_FOUND', `No pinned approver has a fingerprint starting ${fp}.`);
    tx.state.agent = { ...agent, approvers: list.filter((a) => a !== hit) };
    tx.audit({ event: 'delete', result: 'ok', target: `approver ${hit.name}`, signature: hit.fingerprint, detail: `approver no longer trusted (${hit.code})` });
    return hit;
  });
}

/** Records (or replaces) the call-back contact for the pinned agent. */
export async function setAgentContact(vault: Vault, contact: unknown): Promise<CallBackContact> {
  const who = parseContact(contact);
  return vault.update((tx) => {
    const agent = needAgent(tx.state.agent);
    tx.state.agent = { ...agent, contact: who };
    tx.audit({ event: 'register', result: 'ok', target: `agent ${agent.name}`, signature: agent.fingerprint, detail: `call-back contact recorded${contactLine(who)}` });
    return who;
  });
}

// ---- the agent-signed approver roster (shared/protocol/roster.ts) -------------------------------

export interface RosterPinResult {
  readonly version: number;
  readonly issuedAt: number;
  readonly approvers: readonly { readonly name: string; readonly code: string; readonly status: 'enabled' | 'disabled' }[];
  /** How the new version follows the pinned one: `first` (the first roster pinned, code compared), `quorum` (its change carries two pinned approvers' signatures) or `agent-only` (only the agent vouches for it: a gap of versions, a key replacement, no recorded change). */
  readonly succession: 'first' | 'quorum' | 'agent-only';
  readonly alreadyPinned: boolean;
}

/** The roster as the pinned agent key signed it, with facts to show before pinning. Changes nothing. */
export function previewRoster(vault: Vault, bytes: Uint8Array): { version: number; issuedAt: number; agentCode: string; approvers: { name: string; code: string; status: 'enabled' | 'disabled' }[]; pinnedVersion: number | null } {
  const r = openRoster(bytes, pinnedAgentKey(vault));
  return {
    version: r.body.version,
    issuedAt: r.body.issued_at,
    agentCode: r.agentCode,
    approvers: r.body.approvers.map((a) => ({ name: a.name, code: comparisonCode(a.fingerprint), status: a.status })),
    pinnedVersion: vault.state.agent?.roster?.version ?? null,
  };
}

/**
 * Pins the agent-signed approver roster. It must verify against the pinned agent key. The first
 * roster needs `confirmCode`, the agent's code compared with ops again (as when pinning the agent).
 * A later one replaces the pinned one only with a higher version (ROSTER_ROLLBACK otherwise), and
 * when it is one version on from the same key, its change must carry the signatures of two
 * approvers enabled in the pinned roster (roster.ts checkRosterSuccession). The roster's approvers
 * replace those pinned from the previous roster; approvers pinned from their cards stay, with the
 * roster's status (a disabled approver's approvals no longer count). Contacts are kept.
 */
export async function pinRoster(vault: Vault, bytes: Uint8Array, confirmCode?: string): Promise<RosterPinResult> {
  const key = pinnedAgentKey(vault);
  const next = openRoster(bytes, key);
  return vault.update((tx) => {
    const agent = needAgent(tx.state.agent);
    const pinned = agent.roster;
    let succession: RosterPinResult['succession'] = 'first';
    if (pinned === undefined) {
      if (confirmCode === undefined || !codeMatches(confirmCode, next.agentCode)) {
        throw new ServiceError('CODE_MISMATCH', "Pinning the first approver roster needs the agent's code, compared again with ops; the code entered does not match.");
      }
    } else {
      if (next.body.version <= pinned.version) {
        if (next.body.version === pinned.version && constantTimeEqual(fileHash(next.bytes), fileHash(pinned.bytes))) {
          return { version: pinned.version, issuedAt: pinned.issuedAt, approvers: summaryOf(next), succession: 'quorum', alreadyPinned: true };
        }
        throw new ServiceError('ROSTER_ROLLBACK', `This roster is version ${String(next.body.version)}; version ${String(pinned.version)} is trusted already. An older roster is never accepted over a newer one.`, {
          details: { have: pinned.version, got: next.body.version },
        });
      }
      const before = openMessage(pinned.bytes, 'approver-roster', approverRosterSchema, TRUST_SELF).body;
      if (constantTimeEqual(before.agent_key, key)) {
        try {
          succession = checkRosterSuccession(openRoster(pinned.bytes, key), next).kind;
        } catch (error) {
          if (error instanceof CustosError && error.details['reason'] === 'rollback') {
            throw new ServiceError('ROSTER_ROLLBACK', error.message, { details: { have: pinned.version, got: next.body.version } });
          }
          throw error;
        }
      } else {
        // Pinned under the agent's previous key (replaced through a signed notice): only the new key vouches.
        succession = 'agent-only';
      }
    }
    const old = agent.approvers ?? [];
    const fromCards = old.filter((a) => a.via === 'card');
    const listed = new Map(next.body.approvers.map((e) => [toHex(e.sign_key), e]));
    const merged: PinnedApprover[] = fromCards.map((a) => {
      const e = listed.get(a.signKey);
      return e === undefined ? a : { ...a, status: e.status };
    });
    for (const e of next.body.approvers) {
      const k = toHex(e.sign_key);
      if (fromCards.some((a) => a.signKey === k)) continue;
      const had = old.find((a) => a.signKey === k);
      merged.push({
        name: e.name,
        signKey: k,
        fingerprint: toHex(e.fingerprint),
        code: comparisonCode(e.fingerprint),
        pinnedAt: had?.pinnedAt ?? tx.now,
        via: 'roster',
        status: e.status,
        ...(had?.contact === undefined ? {} : { contact: had.contact }),
      });
    }
    tx.state.agent = { ...agent, approvers: merged, roster: { bytes: Uint8Array.from(next.bytes), version: next.body.version, issuedAt: next.body.issued_at, pinnedAt: tx.now } };
    tx.audit({
      event: 'register',
      result: 'ok',
      target: `approver roster v${String(next.body.version)}`,
      signature: toHex(fileHash(next.bytes)),
      version: next.body.version,
      detail: `approver roster version ${String(next.body.version)} pinned (${succession}${pinned === undefined ? ', agent code compared' : `, after version ${String(pinned.version)}`}): ${next.body.approvers.map((a) => `${a.name} ${a.status}`).join(', ')}`.slice(0, 2000),
    });
    return { version: next.body.version, issuedAt: next.body.issued_at, approvers: summaryOf(next), succession, alreadyPinned: false };
  });
}

const summaryOf = (r: OpenedRoster): RosterPinResult['approvers'] => r.body.approvers.map((a) => ({ name: a.name, code: comparisonCode(a.fingerprint), status: a.status }));

/** Records (or replaces) the call-back contact of a pinned approver (by fingerprint or a unique prefix). */
export async function setApproverContact(vault: Vault, fingerprint: string, contact: unknown): Promise<PinnedApprover> {
  const fp = fingerprint.trim().toLowerCase();
  if (!/^[0-9a-f]{8,64}$/.test(fp)) throw new ServiceError('USAGE', 'Name the approver by their fingerprint (at least its first 8 hex digits).');
  const who = parseContact(contact);
  return vault.update((tx) => {
    const agent = needAgent(tx.state.agent);
    const list = agent.approvers ?? [];
    const hits = list.filter((a) => a.fingerprint.startsWith(fp));
    if (hits.length > 1) throw new ServiceError('AMBIGUOUS_ID', `${String(hits.length)} pinned approvers have a fingerprint starting ${fp}; give more digits.`);
    const hit = hits[0];
    if (hit === undefined) throw new ServiceError('NOT_FOUND', `No pinned approver has a fingerprint starting ${fp}.`);
    const updated = { ...hit, contact: who };
    tx.state.agent = { ...agent, approvers: list.map((a) => (a === hit ? updated : a)) };
    tx.audit({ event: 'register', result: 'ok', target: `approver ${hit.name}`, signature: hit.fingerprint, detail: `call-back contact recorded${contactLine(who)}` });
    return updated;
  });
}
