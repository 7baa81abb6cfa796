/**
 * Inventory (docs/protocol.md §4.9): the agent's signed challenge (pinned key, addressed to me, not
 * expired) lists the shares I should hold; the answer is a signed attestation with, per item, a
 * proof of possession (a signature by the share's possession key, derived from the share: nothing
 * about the share is revealed) or `missing`. A share whose stored bytes no longer match their
 * commitment is answered `missing` and flagged locally as damaged, rather than sent as a bad proof.
 *
 * Issue 12: nothing is signed before the person has seen what, for whom and until when.
 * `reviewChallenge` checks the challenge exactly as the answer will (pinned agent, addressed to me,
 * not expired) and lists its items with the local state, the agent and the expiry, signing and
 * recording nothing; `answerChallenge` then takes the reviewed challenge's hash and refuses
 * (SESSION_MISMATCH) bytes other than the ones reviewed.
 */
import { toHex } from '../../shared/bytes';
import { fileHash } from '../../shared/crypto/hash';
import { provePossession } from '../../shared/crypto/possession';
import { checkShare } from '../../shared/crypto/shamir';
import { makeAttestation, openChallenge, type InventoryItem } from '../../shared/protocol/inventory';
import { decodeCanonical } from '../../shared/protocol/cbor';
import { manifestSchema } from '../../shared/protocol/manifest';
import { CustosError } from '../../shared/errors';
import { writeFileAtomic } from '../../node/fs-atomic';
import type { ShareRecord } from './state';
import { pinnedAgent, pinnedAgentKey } from './trust';
import type { Vault } from './vault';

export interface InventoryAnswer {
  readonly challengeId: string;
  readonly bytes: Uint8Array;
  readonly hash: string;
  readonly items: readonly (InventoryItem & { readonly setIdHex: string; readonly answer: 'held' | 'missing'; readonly local: 'held' | 'not-held' | 'damaged' | 'deleted'; readonly id?: string })[];
  readonly held: number;
  readonly missing: number;
}

/** What the person reviews before the vault signs anything. */
export interface InventoryReview {
  readonly challengeId: string;
  /** SHA-256 of the challenge file (hex): passed back to `answerChallenge` to sign exactly this one. */
  readonly challengeHash: string;
  /** The pinned agent that signed the challenge (name and the comparison code pinned). */
  readonly agent: { readonly name: string; readonly code: string };
  readonly createdAt: number;
  /** The challenge (and the attestation's use) expires at this time. */
  readonly notAfter: number;
  readonly items: readonly { readonly keyId: string; readonly nodeId: string; readonly setId: string; readonly epoch: number; readonly shareIndex: number; readonly local: 'held' | 'not-held' | 'deleted' }[];
  /** Items the vault holds (answered `held` unless the share turns out damaged when answering). */
  readonly held: number;
}

const coordKey = (keyId: string, nodeId: string, setId: string, epoch: number, index: number): string => `${keyId}\u0000${nodeId}\u0000${setId}\u0000${String(epoch)}\u0000${String(index)}`;

/** Checks a challenge as the answer would and lists what it asks, for whom and until when; signs and records nothing. */
export function reviewChallenge(vault: Vault, challengeBytes: Uint8Array): InventoryReview {
  const agentKey = pinnedAgentKey(vault);
  const ch = openChallenge(challengeBytes, agentKey, vault.fingerprint, vault.now());
  const agent = pinnedAgent(vault);
  const byCoords = new Map(vault.state.shares.map((r) => [coordKey(r.keyId, r.nodeId, r.setId, r.epoch, r.shareIndex), r]));
  const items = ch.body.items.map((i) => {
    const setId = toHex(i.set_id);
    const r = byCoords.get(coordKey(i.key_id, i.node_id, setId, i.epoch, i.share_index));
    const local: 'held' | 'not-held' | 'deleted' = r === undefined ? 'not-held' : r.status === 'deleted' ? 'deleted' : 'held';
    return { keyId: i.key_id, nodeId: i.node_id, setId, epoch: i.epoch, shareIndex: i.share_index, local };
  });
  return {
    challengeId: toHex(ch.body.challenge_id),
    challengeHash: toHex(ch.hash),
    agent: { name: agent?.name ?? '', code: agent?.code ?? '' },
    createdAt: ch.body.created_at,
    notAfter: ch.body.not_after,
    items,
    held: items.filter((i) => i.local !== 'not-held').length,
  };
}

/** The share commitment from the record's own (verified at import) manifest. */
function commitmentOk(r: ShareRecord, envelope: Uint8Array): boolean {
  try {
    const frame = decodeCanonical(envelope) as { b: Uint8Array };
    const env = decodeCanonical(frame.b) as { manifest: Uint8Array };
    const mframe = decodeCanonical(env.manifest) as { b: Uint8Array };
    const m = manifestSchema.parse(decodeCanonical(mframe.b));
    const expected = m.shares[r.shareIndex - 1]?.commitment;
    if (expected === undefined) return false;
    const binding = { setId: m.set_id, epoch: m.epoch };
    checkShare(
      { ...binding, threshold: m.threshold, total: m.total, secretLength: m.secret_length, secretCommitment: m.secret_commitment, shareCommitments: new Map([[r.shareIndex, expected]]) },
      { index: r.shareIndex, share: r.share, ...binding },
    );
    return true;
  } catch {
    return false;
  }
}

/**
 * Answers a challenge (audited; the vault is saved once). `reviewedHash` is the `challengeHash` of
 * the review the person saw: other bytes are refused before anything is signed.
 */
export async function answerChallenge(vault: Vault, challengeBytes: Uint8Array, reviewedHash?: string): Promise<InventoryAnswer> {
  const agentKey = pinnedAgentKey(vault);
  return vault.update(async (tx) => {
    const ch = openChallenge(challengeBytes, agentKey, tx.fingerprint, tx.now);
    if (reviewedHash !== undefined && toHex(ch.hash) !== reviewedHash.toLowerCase()) {
      throw new CustosError('SESSION_MISMATCH', 'This is not the inventory challenge you reviewed; review it again before signing.');
    }
    const byCoords = new Map(tx.state.shares.map((r) => [`${r.keyId}\u0000${r.nodeId}\u0000${r.setId}\u0000${String(r.epoch)}\u0000${String(r.shareIndex)}`, r]));
    type Local = InventoryAnswer['items'][number];
    const items: Local[] = [];
    const proofs: (Uint8Array | undefined)[] = [];
    for (const item of ch.body.items) {
      const setIdHex = toHex(item.set_id);
      const r = byCoords.get(`${item.key_id}\u0000${item.node_id}\u0000${setIdHex}\u0000${String(item.epoch)}\u0000${String(item.share_index)}`);
      if (r === undefined) {
        items.push({ ...item, setIdHex, answer: 'missing', local: 'not-held' });
        proofs.push(undefined);
      } else if (!commitmentOk(r, await tx.envelope(r).catch(() => new Uint8Array(0)))) {
        items.push({ ...item, setIdHex, answer: 'missing', local: 'damaged', id: r.id });
        proofs.push(undefined);
      } else {
        items.push({ ...item, setIdHex, answer: 'held', local: r.status === 'deleted' ? 'deleted' : 'held', id: r.id });
        proofs.push(provePossession(ch.hash, { setId: item.set_id, epoch: item.epoch }, item.share_index, r.share));
      }
    }
    const bytes = makeAttestation(
      {
        challenge_id: ch.body.challenge_id,
        challenge_hash: ch.hash,
        items: items.map((i, n) => {
          const proof = proofs[n];
          return {
            key_id: i.key_id,
            node_id: i.node_id,
            set_id: i.set_id,
            epoch: i.epoch,
            share_index: i.share_index,
            status: i.answer,
            ...(proof === undefined ? {} : { proof }),
          };
        }),
        answered_at: tx.now,
      },
      tx.identity.signing,
    );
    const held = items.filter((i) => i.answer === 'held').length;
    const hash = toHex(fileHash(bytes));
    tx.audit({
      event: 'inventory',
      result: 'ok',
      signature: hash,
      target: `challenge ${toHex(ch.body.challenge_id)}`,
      detail: `attestation: ${String(held)} held, ${String(items.length - held)} missing${items.some((i) => i.local === 'damaged') ? ' (damaged shares answered missing)' : ''}`,
    });
    return {
      challengeId: toHex(ch.body.challenge_id),
      bytes,
      hash,
      items,
      held,
      missing: items.length - held,
    };
  });
}

export async function writeAttestation(answer: InventoryAnswer, file: string): Promise<void> {
  await writeFileAtomic(file, answer.bytes, { mode: 0o600 });
}
