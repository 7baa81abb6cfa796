/**
 * The group public key a held share's signed manifest names (issue 12; docs/protocol.md §4.2
 * `group_key`), for the share details (window and `custos details`): a custodian compares it with
 * what the company knows BEFORE a recovery, and after one with what the station or drill shows.
 *
 * Read from the envelope the vault keeps, verified again against the agent key pinned for it and
 * checked to be the manifest the share was imported with. A manifest made before the field existed
 * has none: `undefined`, and the details say to compare after recovery.
 */
import { constantTimeEqual, fromHex } from '../../shared/bytes';
import { fileHash } from '../../shared/crypto/hash';
import type { GroupKey } from '../../shared/keydata/group-key';
import { envelopeSchema } from '../../shared/protocol/envelope';
import { openMessage, trustKey } from '../../shared/protocol/frame';
import { manifestGroupKey, openManifest } from '../../shared/protocol/manifest';
import { ServiceError } from './errors';
import type { ShareRecord } from './state';

/** The group key in the manifest of `share`'s envelope (`envelope`: its bytes, from the vault). */
export function groupKeyOfEnvelope(share: Pick<ShareRecord, 'agentKey' | 'manifestHash'>, envelope: Uint8Array): GroupKey | undefined {
  const agentKey = fromHex(share.agentKey);
  const env = openMessage(envelope, 'envelope', envelopeSchema, trustKey(agentKey));
  if (!constantTimeEqual(fileHash(env.body.manifest), fromHex(share.manifestHash))) {
    throw new ServiceError('VAULT_CORRUPT', 'The stored envelope does not carry the manifest this share was imported with; restore the vault from a backup.');
  }
  return manifestGroupKey(openManifest(env.body.manifest, agentKey).body);
}

/** The same, reading the envelope from an unlocked vault. */
export async function shareGroupKey(vault: { envelope(id: string): Promise<Uint8Array> }, share: ShareRecord): Promise<GroupKey | undefined> {
  return groupKeyOfEnvelope(share, await vault.envelope(share.id));
}
