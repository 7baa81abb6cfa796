/**
 * Agent key replacement notice, version 1 (docs/protocol.md §4.10). Signed by the agent's current
 * (pinned) key, it introduces the agent's new card. A custodian app accepts a new agent key only
 * through such a notice, never by importing a new card over a pinned one.
 */
import { z } from 'zod';
import { constantTimeEqual } from '../bytes';
import { CustosError } from '../errors';
import { openAgentCard, type AgentCard, type OpenedCard } from './identity';
import { openMessage, sealMessage, trustKey, type SigningKey } from './frame';
import { boundedBytes, publicKey, timestamp } from './schema';

export const agentKeyRotationSchema = z.strictObject({
  old_key: publicKey,
  new_card: boundedBytes(4096),
  created_at: timestamp,
});
export type AgentKeyRotation = z.infer<typeof agentKeyRotationSchema>;

export function makeAgentKeyRotation(newCard: Uint8Array, oldKey: SigningKey, now: number): Uint8Array {
  const card = openAgentCard(newCard);
  if (constantTimeEqual(card.body.sign_key, oldKey.publicKey)) {
    throw new CustosError('INVALID_PARAMETERS', 'The new agent key is the same as the old one.');
  }
  return sealMessage('agent-key-rotation', agentKeyRotationSchema, { old_key: oldKey.publicKey, new_card: newCard, created_at: now }, oldKey);
}

/** Verifies the notice against the pinned key and returns the new card to pin. */
export function openAgentKeyRotation(bytes: unknown, pinnedKey: Uint8Array): OpenedCard<AgentCard> {
  const opened = openMessage(bytes, 'agent-key-rotation', agentKeyRotationSchema, trustKey(pinnedKey));
  if (!constantTimeEqual(opened.body.old_key, pinnedKey)) {
    throw new CustosError('UNTRUSTED_SIGNER', 'This key replacement notice does not replace the agent key you pinned.');
  }
  const card = openAgentCard(opened.body.new_card);
  if (constantTimeEqual(card.body.sign_key, pinnedKey)) {
    throw new CustosError('MALFORMED', 'This key replacement notice names the same key.');
  }
  return card;
}
