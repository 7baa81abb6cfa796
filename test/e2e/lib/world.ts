/**
 * The other side of the custodian app for the screen tests: an agent (made with the protocol core,
 * as the real agent does) that issues a card, envelopes addressed to the vault the test created
 * through the app, key replacement notices, recovery requests and inventory challenges.
 * Dates are real time: the test host's clock is the machine's (plus /test/clock offsets).
 */
import { fromHex, randomBytes } from '../../../shared/bytes';
import { possessionPublicKey } from '../../../shared/crypto/possession';
import { fileHash } from '../../../shared/crypto/hash';
import { generateAgeKeyPair } from '../../../shared/crypto/seal';
import { splitSecret } from '../../../shared/crypto/shamir';
import { decodeCanonical, encodeCanonical } from '../../../shared/protocol/cbor';
import {
  agentFingerprint,
  approverFingerprint,
  signRoster,
  createAgentIdentity,
  createApproverIdentity,
  createCustodianIdentity,
  custodianIdentityFingerprint,
  makeAgentCard,
  makeAgentKeyRotation,
  makeApproval,
  makeApproverCard,
  makeChallenge,
  makeEnvelope,
  makeManifest,
  makeRecoveryRequest,
  makeSupersede,
  manifestSchema,
  openAgentCard,
  openApproverCard,
  type AgentIdentity,
  type ApproverIdentity,
  type Manifest,
  type SessionDetails,
} from '../../../shared/protocol';
import { installNodeVerifier } from '../../../node/ed25519';
import type { HostControl } from '../host/control';

installNodeVerifier();

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Who the envelopes are for: the vault's public identity. */
export interface Me {
  readonly fingerprint: Uint8Array;
  readonly ageRecipient: string;
}

/** The identity of the vault the app holds, from the host. */
export async function meOf(host: HostControl): Promise<Me> {
  const s = await host.ok('vault:status', {});
  if (s.info === null) throw new Error('no vault yet');
  return { fingerprint: fromHex(s.info.fingerprint), ageRecipient: s.info.ageRecipient };
}

/** Another custodian (for envelopes that are not for this vault). */
export async function someoneElse(name = 'Dave (elsewhere)'): Promise<Me> {
  const id = await createCustodianIdentity(name);
  return { fingerprint: custodianIdentityFingerprint(id), ageRecipient: id.age.recipient };
}

export interface IssuedSet {
  readonly manifest: Manifest;
  readonly manifestBytes: Uint8Array;
  readonly envelope: Uint8Array;
  readonly setId: Uint8Array;
  readonly shareIndex: number;
}

export interface SetOptions {
  readonly keyId?: string;
  readonly nodeId?: string;
  /** Bytes of the secret split (the share is as long): large ones make multi-frame QR codes. */
  readonly secretBytes?: number;
  readonly notAfter?: number;
  readonly createdAt?: number;
  /** The set's epoch (1 unless given): a replacement set of the same key and node has a higher one. */
  readonly epoch?: number;
  /** The manifest's group_key (secp256k1 compressed, 33 bytes); none by default, like a manifest made before it existed. */
  readonly groupKey?: Uint8Array;
}

export class TestAgent {
  readonly id: AgentIdentity;
  readonly card: Uint8Array;
  readonly code: string;

  constructor(name = 'Agent prod-eu-1') {
    this.id = createAgentIdentity(name);
    this.card = makeAgentCard(this.id, nowSeconds() - 3600);
    this.code = openAgentCard(this.card).code;
  }

  /** One 3-of-5 backup set in which `me` holds share 3; its envelope for `me`. */
  async issue(me: Me, o: SetOptions = {}): Promise<IssuedSet> {
    const setId = randomBytes(16);
    const epoch = o.epoch ?? 1;
    const now = o.createdAt ?? nowSeconds() - 60;
    const secret = randomBytes(o.secretBytes ?? 48);
    const binding = { setId, epoch };
    const split = await splitSecret(secret, { threshold: 3, total: 5 }, binding);
    const custodians = [null, null, me.fingerprint, randomBytes(32), randomBytes(32)];
    const manifest = manifestSchema.parse({
      key_id: o.keyId ?? 'key-1',
      node_id: o.nodeId ?? 'node-1',
      set_id: setId,
      epoch,
      curve: 'secp256k1',
      threshold: 3,
      total: 5,
      secret_length: secret.length,
      secret_commitment: split.secretCommitment,
      public_context_hash: randomBytes(32),
      ...(o.groupKey === undefined ? {} : { group_key: o.groupKey }),
      shares: split.shares.map((s, i) => ({ index: s.index, custodian: custodians[i], commitment: split.shareCommitments[i], possession_key: possessionPublicKey(binding, s.index, s.share) })),
      created_at: now,
    });
    const manifestBytes = makeManifest(manifest, this.id.signing);
    const envelope = await makeEnvelope(
      {
        manifestBytes,
        manifest,
        shareIndex: 3,
        share: split.shares[2]!.share,
        recipientFingerprint: me.fingerprint,
        recipientAge: me.ageRecipient,
        createdAt: now,
        ...(o.notAfter === undefined ? {} : { notAfter: o.notAfter }),
      },
      this.id.signing,
    );
    return { manifest, manifestBytes, envelope, setId, shareIndex: 3 };
  }

  /** The signed supersede notice telling `me` that `next` replaces `old` (old shares destroyed after `destroyAfter`). */
  supersede(me: Me, old: IssuedSet, next: IssuedSet, destroyAfter: number): Uint8Array {
    return makeSupersede(
      {
        key_id: old.manifest.key_id,
        node_id: old.manifest.node_id,
        old_set_id: old.setId,
        old_epoch: old.manifest.epoch,
        new_set_id: next.setId,
        new_epoch: next.manifest.epoch,
        new_manifest_hash: fileHash(next.manifestBytes),
        recipient: me.fingerprint,
        destroy_after: destroyAfter,
        created_at: nowSeconds() - 30,
      },
      this.id.signing,
    );
  }

  /** The agent's key replaced by `next`'s, signed by this (pinned) key. */
  rotationTo(next: TestAgent): Uint8Array {
    return makeAgentKeyRotation(next.card, this.id.signing, nowSeconds() - 30);
  }

  readonly #approvers = new Map<string, ApproverIdentity>();

  /** The approver of this name (one key per name for this agent's requests). */
  approver(name: string): ApproverIdentity {
    let a = this.#approvers.get(name);
    if (a === undefined) {
      a = createApproverIdentity(name);
      this.#approvers.set(name, a);
    }
    return a;
  }

  /** The approver's self-signed card and the code they read out when it is pinned. */
  approverCard(name: string): { card: Uint8Array; code: string } {
    const card = makeApproverCard(this.approver(name), nowSeconds() - 3600);
    return { card, code: openApproverCard(card).code };
  }

  /** The agent-signed approver roster of this version listing these approvers (all enabled). */
  roster(version: number, names: readonly string[]): Uint8Array {
    const key = this.id.signing.publicKey;
    return signRoster(
      {
        agent_name: this.id.name,
        agent_key: key,
        agent_fingerprint: agentFingerprint(key),
        version,
        issued_at: nowSeconds() - 100 + version,
        approvers: names.map((n) => {
          const a = this.approver(n);
          return { name: a.name, sign_key: a.signing.publicKey, fingerprint: approverFingerprint(a.signing.publicKey), status: 'enabled' as const, added_at: nowSeconds() - 200 };
        }),
      },
      this.id.signing,
    );
  }

  /** `forge`: names whose approvals are signed with a fresh key (a changed key under a pinned name). */
  async recoveryRequest(set: IssuedSet, o: { incident?: string; title?: string; notAfter?: number; mode?: 'mixed' | 'external-only'; approvers?: readonly string[]; forge?: readonly string[] } = {}): Promise<Uint8Array> {
    const now = nowSeconds() - 30;
    const session: SessionDetails = {
      session_id: randomBytes(16),
      incident_id: o.incident ?? 'INC-2026-0042',
      ...(o.title === undefined ? {} : { incident_title: o.title }),
      key_id: set.manifest.key_id,
      node_id: set.manifest.node_id,
      set_id: set.setId,
      epoch: set.manifest.epoch,
      mode: o.mode ?? 'external-only',
      not_after: o.notAfter ?? nowSeconds() + 4 * 3600,
    };
    // The same person signs with the same key every time (approverCard gives their card to pin), unless named in `forge`.
    const approvers = (o.approvers ?? ['Alice Zhang (security)', 'Bob Li (business owner)']).map((n) => (o.forge?.includes(n) === true ? createApproverIdentity(n) : this.approver(n)));
    const approvals = approvers.map((a) => makeApproval({ session, approver_name: a.name, approved_at: now }, a.signing));
    // The recovery session's one-time age key: its identity stays with the agent (not needed here).
    const { recipient } = await generateAgeKeyPair();
    return makeRecoveryRequest({ session, approvals, recipient, manifest: set.manifestBytes, created_at: now }, this.id.signing);
  }

  challenge(me: Me, sets: readonly IssuedSet[], extra: readonly { key_id: string; node_id: string; set_id: Uint8Array; epoch: number; share_index: number }[] = []): Uint8Array {
    const now = nowSeconds() - 30;
    const items = [...sets.map((s) => ({ key_id: s.manifest.key_id, node_id: s.manifest.node_id, set_id: s.setId, epoch: s.manifest.epoch, share_index: s.shareIndex })), ...extra];
    return makeChallenge({ challenge_id: randomBytes(16), nonce: randomBytes(32), custodian: me.fingerprint, items, created_at: now, not_after: now + 86_400 }, this.id.signing);
  }
}

/** The same file with one bit of its signature flipped: SIGNATURE_INVALID. */
export function tamperSignature(file: Uint8Array): Uint8Array {
  const frame = decodeCanonical(file) as { s: Uint8Array };
  const s = Uint8Array.from(frame.s);
  s[0]! ^= 0x01;
  return encodeCanonical({ ...frame, s });
}
