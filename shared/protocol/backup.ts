/**
 * Creating one backup set (docs/protocol.md §5): split a node's secret record, assign the first
 * `retain` indexes to the server and the rest to distinct custodians, sign the manifest, and seal
 * one envelope per custodian. Pure: the caller stores the retained shares and delivers envelopes.
 */
import { toHex, wipe } from '../bytes';
import { CustosError } from '../errors';
import { possessionPublicKey } from '../crypto/possession';
import { checkShamirParams, splitSecret, type IndexedShare } from '../crypto/shamir';
import { makeEnvelope } from './envelope';
import type { SigningKey } from './frame';
import { makeManifest, manifestSchema, type Manifest } from './manifest';
import type { Curve } from './schema';

export interface BackupCustodian {
  readonly fingerprint: Uint8Array;
  readonly ageRecipient: string;
}

export interface CreateBackupInput {
  readonly keyId: string;
  readonly nodeId: string;
  readonly curve: Curve;
  readonly secret: Uint8Array;
  readonly publicContextHash: Uint8Array;
  /** The tss-lib group public key, compressed (manifest `group_key`, §4.2); optional for tests without keydata. */
  readonly groupKey?: Uint8Array;
  readonly threshold: number;
  readonly total: number;
  /** How many shares the server keeps; the others go to `custodians`, one each, in order. */
  readonly retain: number;
  readonly custodians: readonly BackupCustodian[];
  readonly setId: Uint8Array;
  readonly epoch: number;
  readonly now: number;
  readonly envelopeNotAfter?: number;
}

export interface CreatedBackup {
  readonly manifest: Manifest;
  readonly manifestBytes: Uint8Array;
  readonly retained: readonly IndexedShare[];
  readonly envelopes: readonly { readonly shareIndex: number; readonly custodian: BackupCustodian; readonly bytes: Uint8Array }[];
}

export async function createBackup(input: CreateBackupInput, agent: SigningKey): Promise<CreatedBackup> {
  checkShamirParams(input, input.retain);
  const external = input.total - input.retain;
  if (input.custodians.length !== external) {
    throw new CustosError(
      'INVALID_PARAMETERS',
      `${String(external)} shares go to custodians but ${String(input.custodians.length)} custodian(s) were given; name exactly one per external share.`,
    );
  }
  const distinct = new Set(input.custodians.map((c) => toHex(c.fingerprint)));
  if (distinct.size !== input.custodians.length) {
    throw new CustosError('INVALID_PARAMETERS', 'Each external share must go to a different custodian; the same custodian is named twice.');
  }
  const binding = { setId: input.setId, epoch: input.epoch };
  const split = await splitSecret(input.secret, input, binding);
  try {
    const manifest: Manifest = manifestSchema.parse({
      key_id: input.keyId,
      node_id: input.nodeId,
      set_id: input.setId,
      epoch: input.epoch,
      curve: input.curve,
      threshold: input.threshold,
      total: input.total,
      secret_length: input.secret.length,
      secret_commitment: split.secretCommitment,
      public_context_hash: input.publicContextHash,
      ...(input.groupKey === undefined ? {} : { group_key: input.groupKey }),
      shares: split.shares.map((s, i) => ({
        index: s.index,
        custodian: i < input.retain ? null : (input.custodians[i - input.retain]?.fingerprint ?? null),
        commitment: split.shareCommitments[i],
        possession_key: possessionPublicKey(binding, s.index, s.share),
      })),
      created_at: input.now,
    });
    const manifestBytes = makeManifest(manifest, agent);
    const envelopes = [];
    for (const [j, custodian] of input.custodians.entries()) {
      const s = split.shares[input.retain + j];
      if (s === undefined) throw new CustosError('INVALID_PARAMETERS', 'Internal: share count mismatch.');
      const bytes = await makeEnvelope(
        {
          manifestBytes,
          manifest,
          shareIndex: s.index,
          share: s.share,
          recipientFingerprint: custodian.fingerprint,
          recipientAge: custodian.ageRecipient,
          createdAt: input.now,
          ...(input.envelopeNotAfter === undefined ? {} : { notAfter: input.envelopeNotAfter }),
        },
        agent,
      );
      envelopes.push({ shareIndex: s.index, custodian, bytes });
    }
    return { manifest, manifestBytes, retained: split.shares.slice(0, input.retain).map((s) => ({ index: s.index, share: Uint8Array.from(s.share) })), envelopes };
  } finally {
    for (const s of split.shares) wipe(s.share);
  }
}
