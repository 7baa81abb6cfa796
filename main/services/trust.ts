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
import { toHex } from '../../shared/bytes';
import { openAgentKeyRotation } from '../../shared/protocol/agent-key-rotation';
import { fileHash } from '../../shared/crypto/hash';
import { z } from 'zod';
import { openAgentCard, openApproverCard, type AgentCard, type ApproverCard, type OpenedCard } from '../../shared/protocol/identity';
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
