/**
 * Trust in the agent (docs/protocol.md §4.1, §4.10): the custodian pins the agent's card after
 * comparing its 24-digit code with ops out of band; from then on every envelope, recovery request,
 * supersede notice and inventory challenge must be signed by the pinned key. A replacement agent
 * key is accepted ONLY through a key replacement notice signed by the pinned key; importing another
 * card over a pinned one is refused (AGENT_ALREADY_PINNED).
 */
import { toHex } from '../../shared/bytes';
import { openAgentKeyRotation } from '../../shared/protocol/agent-key-rotation';
import { fileHash } from '../../shared/crypto/hash';
import { openAgentCard, type AgentCard, type OpenedCard } from '../../shared/protocol/identity';
import { ServiceError } from './errors';
import type { PinnedAgent } from './state';
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

/**
 * Pins the agent's card. `confirmCode` is the code the person read out with ops; it must match the
 * card's (CODE_MISMATCH otherwise). Pinning the same key again is a no-op.
 */
export async function pinAgent(vault: Vault, cardBytes: Uint8Array, confirmCode: string): Promise<AgentCardPreview & { alreadyPinned: boolean }> {
  const card = openAgentCard(cardBytes);
  const p = preview(card);
  if (!/^[0-9]{24}$/.test(normalizeCode(confirmCode)) || normalizeCode(confirmCode) !== normalizeCode(card.code)) {
    throw new ServiceError('CODE_MISMATCH', 'The comparison code entered does not match this agent card. Do not trust it; compare again with ops.');
  }
  return vault.update((tx) => {
    const pinned = tx.state.agent;
    if (pinned !== null) {
      if (pinned.signKey === p.signKey) return { ...p, alreadyPinned: true };
      throw new ServiceError(
        'AGENT_ALREADY_PINNED',
        `Agent "${pinned.name}" (code ${pinned.code}) is already trusted. A new agent key is accepted only through a replacement notice signed by the trusted key.`,
        { details: { pinnedCode: pinned.code } },
      );
    }
    tx.state.agent = { card: Uint8Array.from(cardBytes), signKey: p.signKey, name: p.name, fingerprint: p.fingerprint, code: p.code, pinnedAt: tx.now, via: 'pin' };
    tx.audit({ event: 'register', result: 'ok', target: `agent ${p.name}`, signature: p.fingerprint, detail: `agent card pinned after code comparison (${p.code})` });
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
    const old = tx.state.agent;
    if (old === null || old.signKey !== toHex(pinnedKey)) throw new ServiceError('INVALID_STATE', 'The trusted agent changed while the notice was being checked; try again.');
    old.replacedAt = tx.now;
    tx.state.previousAgents.push(old);
    tx.state.agent = {
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
