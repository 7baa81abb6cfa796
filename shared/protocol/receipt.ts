/**
 * Delivery receipt, version 1 (docs/protocol.md §4.4). Signed by the custodian: "I received the
 * envelope with this hash, for this key, node, set and share index, and I accept it / reject it for
 * this reason". The agent accepts a receipt only from the registered custodian the share was
 * addressed to, over the exact envelope it sent.
 */
import { z } from 'zod';
import { openMessage, sealMessage, trustKey, type Opened, type SigningKey } from './frame';
import { epoch, identifier, setId, sha256Digest, shareIndex, timestamp } from './schema';

export const REJECTION_REASONS = [
  'MALFORMED',
  'SIGNATURE_INVALID',
  'UNTRUSTED_SIGNER',
  'WRONG_RECIPIENT',
  'EXPIRED',
  'SHARE_COMMITMENT_MISMATCH',
  'DECRYPT_FAILED',
  'DUPLICATE_SHARE',
  'SET_MISMATCH',
  'OTHER',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export const receiptSchema = z
  .strictObject({
    envelope_hash: sha256Digest,
    key_id: identifier,
    node_id: identifier,
    set_id: setId,
    epoch,
    share_index: shareIndex,
    status: z.enum(['accepted', 'rejected']),
    reason: z.enum(REJECTION_REASONS).optional(),
    note: z.string().max(500).optional(),
    received_at: timestamp,
  })
  .superRefine((r, ctx) => {
    if (r.status === 'rejected' && r.reason === undefined) ctx.addIssue({ code: 'custom', path: ['reason'], message: 'is required when rejecting' });
    if (r.status === 'accepted' && r.reason !== undefined) ctx.addIssue({ code: 'custom', path: ['reason'], message: 'is only for rejections' });
  });
export type Receipt = z.infer<typeof receiptSchema>;

export const makeReceipt = (body: Receipt, custodian: SigningKey): Uint8Array => sealMessage('receipt', receiptSchema, body, custodian);

export const openReceipt = (bytes: unknown, custodianKey: Uint8Array): Opened<Receipt> =>
  openMessage(bytes, 'receipt', receiptSchema, trustKey(custodianKey));
