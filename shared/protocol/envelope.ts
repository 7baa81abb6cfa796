/**
 * Share envelope, version 1 (docs/protocol.md §4.3). Signed by the agent; carries the signed
 * manifest, the share index, the recipient custodian's fingerprint, and the share sealed to that
 * custodian in the age format.
 *
 * openEnvelope performs every check a custodian needs, in this order: frame and signature against
 * the pinned agent key, the embedded manifest's signature by the same key, the manifest's entry for
 * this index names this custodian and the envelope's recipient is this custodian (WRONG_RECIPIENT),
 * time window (EXPIRED / NOT_YET_VALID), and only then decryption of the payload followed by the
 * share commitment check.
 */
import { z } from 'zod';
import { constantTimeEqual } from '../bytes';
import { CustosError } from '../errors';
import { fileHash } from '../crypto/hash';
import { openSealed, sealTo, type AgeOpener } from '../crypto/seal';
import { checkShare } from '../crypto/shamir';
import { openMessage, sealMessage, trustKey, type Opened, type SigningKey } from './frame';
import { combineExpectation, manifestShare, openManifest, type Manifest } from './manifest';
import { boundedBytes, fingerprint, shareIndex, timestamp } from './schema';

export const envelopeSchema = z.strictObject({
  manifest: boundedBytes(64 * 1024),
  share_index: shareIndex,
  recipient: fingerprint,
  created_at: timestamp,
  not_after: timestamp.optional(),
  payload: boundedBytes(64 * 1024),
});
export type Envelope = z.infer<typeof envelopeSchema>;

export interface MakeEnvelopeInput {
  readonly manifestBytes: Uint8Array;
  readonly manifest: Manifest;
  readonly shareIndex: number;
  readonly share: Uint8Array;
  readonly recipientFingerprint: Uint8Array;
  readonly recipientAge: string;
  readonly createdAt: number;
  readonly notAfter?: number;
}

export async function makeEnvelope(input: MakeEnvelopeInput, agent: SigningKey): Promise<Uint8Array> {
  const entry = manifestShare(input.manifest, input.shareIndex);
  if (entry.custodian === null || !constantTimeEqual(entry.custodian, input.recipientFingerprint)) {
    throw new CustosError('WRONG_RECIPIENT', `Share ${String(input.shareIndex)} is not assigned to this custodian in the manifest.`);
  }
  const payload = await sealTo(input.recipientAge, input.share);
  const body: Envelope = {
    manifest: input.manifestBytes,
    share_index: input.shareIndex,
    recipient: input.recipientFingerprint,
    created_at: input.createdAt,
    payload,
    ...(input.notAfter === undefined ? {} : { not_after: input.notAfter }),
  };
  return sealMessage('envelope', envelopeSchema, body, agent);
}

export interface OpenedEnvelope {
  readonly envelope: Opened<Envelope>;
  readonly manifest: Opened<Manifest>;
  /** SHA-256 of the envelope file: what receipts refer to. */
  readonly hash: Uint8Array;
}

/** Verifies an envelope without decrypting it (what can be checked with public information only). */
export function verifyEnvelope(bytes: unknown, agentKey: Uint8Array, me: Uint8Array, now: number): OpenedEnvelope {
  const envelope = openMessage(bytes, 'envelope', envelopeSchema, trustKey(agentKey));
  const manifest = openManifest(envelope.body.manifest, agentKey);
  const entry = manifestShare(manifest.body, envelope.body.share_index);
  if (!constantTimeEqual(envelope.body.recipient, me) || entry.custodian === null || !constantTimeEqual(entry.custodian, me)) {
    throw new CustosError('WRONG_RECIPIENT', 'This envelope is addressed to another custodian. Do not keep it; tell the agent operator.');
  }
  if (envelope.body.not_after !== undefined && now > envelope.body.not_after) {
    throw new CustosError('EXPIRED', 'This envelope expired before it was opened. Ask the agent operator for a fresh one.', {
      details: { notAfter: envelope.body.not_after },
    });
  }
  if (envelope.body.created_at > now + 300) {
    throw new CustosError('NOT_YET_VALID', 'This envelope is dated in the future. Check this computer\'s clock.');
  }
  if (envelope.body.created_at < manifest.body.created_at) {
    throw new CustosError('MALFORMED', 'This envelope is dated before its backup set was created.');
  }
  return { envelope, manifest, hash: fileHash(envelope.bytes) };
}

/** Decrypts the share with the custodian's age identity and checks it against the manifest. */
export async function unsealEnvelopeShare(opened: OpenedEnvelope, ageIdentity: string | AgeOpener): Promise<Uint8Array> {
  const share = await openSealed(ageIdentity, opened.envelope.body.payload);
  const m = opened.manifest.body;
  checkShare(combineExpectation(m), { index: opened.envelope.body.share_index, share, setId: m.set_id, epoch: m.epoch });
  return share;
}

/** Every check, including decryption and the share commitment. */
export async function openEnvelope(
  bytes: unknown,
  agentKey: Uint8Array,
  me: { fingerprint: Uint8Array; ageIdentity: string },
  now: number,
): Promise<OpenedEnvelope & { share: Uint8Array }> {
  const opened = verifyEnvelope(bytes, agentKey, me.fingerprint, now);
  return { ...opened, share: await unsealEnvelopeShare(opened, me.ageIdentity) };
}
