/**
 * Supersede notice, version 1 (docs/protocol.md §4.8). Signed by the agent when a key and node get
 * a new backup set (rotation): the old set is replaced by the new one, and the custodian should
 * destroy the old share after `destroy_after`.
 *
 * `reason` (optional, added with issue 11 §2): `"reshared"` when the replacement is more than a
 * rotation: a tss-lib resharing gave the node a new keydata, so the old set is **stale** (its shares
 * rebuild a keydata the node no longer holds; they are of no use for a recovery). Absent means a
 * plain rotation. Backwards compatible: notices without it read as before, and the agent writes the
 * field only on a resharing, so a rotation's notice is byte for byte what earlier builds wrote.
 */
import { z } from 'zod';
import { constantTimeEqual } from '../bytes';
import { CustosError } from '../errors';
import { openMessage, sealMessage, trustKey, type Opened, type SigningKey } from './frame';
import { epoch, fingerprint, identifier, setId, sha256Digest, timestamp } from './schema';

export const supersedeSchema = z
  .strictObject({
    key_id: identifier,
    node_id: identifier,
    old_set_id: setId,
    old_epoch: epoch,
    new_set_id: setId,
    new_epoch: epoch,
    new_manifest_hash: sha256Digest,
    recipient: fingerprint,
    destroy_after: timestamp,
    created_at: timestamp,
    reason: z.literal('reshared').optional(),
  })
  .superRefine((n, ctx) => {
    if (n.new_epoch <= n.old_epoch) ctx.addIssue({ code: 'custom', path: ['new_epoch'], message: 'must be later than old_epoch' });
    if (n.destroy_after < n.created_at) ctx.addIssue({ code: 'custom', path: ['destroy_after'], message: 'is before created_at' });
  });
export type Supersede = z.infer<typeof supersedeSchema>;

export const makeSupersede = (body: Supersede, agent: SigningKey): Uint8Array => sealMessage('supersede', supersedeSchema, body, agent);

export function openSupersede(bytes: unknown, agentKey: Uint8Array, me: Uint8Array): Opened<Supersede> {
  const opened = openMessage(bytes, 'supersede', supersedeSchema, trustKey(agentKey));
  if (!constantTimeEqual(opened.body.recipient, me)) {
    throw new CustosError('WRONG_RECIPIENT', 'This supersede notice is addressed to another custodian.');
  }
  if (constantTimeEqual(opened.body.old_set_id, opened.body.new_set_id)) {
    throw new CustosError('MALFORMED', 'This supersede notice replaces a backup set with itself.');
  }
  return opened;
}
