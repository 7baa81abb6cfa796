/**
 * (Over 500 lines: one builder per message type of protocol v1, in the order of docs/protocol.md,
 * so a vector and the section it tests are found together.)
 *
 * Builds the protocol version 1 test vectors (test/vectors/README.md) from fixed inputs.
 *
 * Everything here goes through the public API (make* functions, or sealMessage with the message's
 * own schema where the real maker encrypts with fresh randomness). Ed25519 signatures are
 * deterministic (RFC 8032), so the same inputs always give the same bytes. The only randomized
 * parts of the protocol, age encryption and Shamir splitting, are inputs: the recorded age
 * identities, shares and sealed payloads.
 *
 * Used by generate.ts (to write the files) and by vectors.test.ts (to rebuild and compare).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { fromHex, toHex, utf8 } from '../../shared/bytes';
import { fileHash } from '../../shared/crypto/hash';
import { provePossession } from '../../shared/crypto/possession';
import { generateAgeKeyPair, recipientOf, sealTo } from '../../shared/crypto/seal';
import { secretCommitment, shareCommitment, splitSecret } from '../../shared/crypto/shamir';
import { possessionPublicKey } from '../../shared/crypto/possession';
import {
  agentFingerprint,
  approverFingerprint,
  comparisonCode,
  decodeCanonical,
  custodianFingerprint,
  envelopeSchema,
  makeAgentCard,
  makeAgentKeyRotation,
  makeApproval,
  makeApproverCard,
  makeAttestation,
  makeChallenge,
  makeCustodianCard,
  makeDeletionApproval,
  makeManifest,
  makeReceipt,
  makeRecoveryRequest,
  makeRosterChange,
  makeSupersede,
  MESSAGE_TYPES,
  recoveryExportSchema,
  sealMessage,
  signingKeyFromSeed,
  signRoster,
  type DeletionDetails,
  type InventoryItem,
  type Manifest,
  type MessageType,
  type SessionDetails,
  type SigningKey,
} from '../../shared/protocol';

/** The format of vectors.json. Byte strings are lower-case hex. */
export interface VectorInputs {
  /** Seconds since the epoch; every timestamp in the vectors is `now + offset`. */
  readonly now: number;
  readonly names: {
    readonly agent: string;
    readonly agentNext: string;
    readonly custodians: readonly string[];
    readonly approvers: readonly string[];
  };
  /** 32-byte Ed25519 seeds (RFC 8032 private keys). */
  readonly seeds: {
    readonly agent: string;
    readonly agentNext: string;
    readonly custodians: readonly string[];
    readonly approvers: readonly string[];
  };
  /** age X25519 identities (AGE-SECRET-KEY-1...): generated once, then fixed. */
  readonly ageIdentities: { readonly custodians: readonly string[]; readonly session: string };
  readonly keyId: string;
  readonly nodeId: string;
  readonly incidentId: string;
  /**
   * The optional `incident_title` of the session details (issue 13), in the titled vectors only
   * (`*-titled.cbor`): the untitled ones stay the bytes they were before the field existed.
   */
  readonly incidentTitle: string;
  readonly curve: 'ed25519' | 'secp256k1';
  readonly secret: string;
  readonly publicContextHash: string;
  /**
   * The manifest's `group_key` (issue 12): an edwards25519 point, RFC 8032 encoding. The vectors
   * have no real keydata, so it is the Ed25519 public key of the seed fixed('group key seed').
   */
  readonly groupKey: string;
  readonly setId: string;
  readonly epoch: number;
  readonly threshold: number;
  readonly total: number;
  readonly retain: number;
  /** Shamir shares 1..total (the library's format: y-values then the x-coordinate). Random once, then fixed. */
  readonly shares: readonly string[];
  /** The share that custodian 1 holds (index retain + 1), sealed to custodian 1's recipient: the envelope payload. */
  readonly envelopePayload: string;
  readonly sessionId: string;
  /** The same share sealed to the session recipient: the recovery export payload. */
  readonly exportPayload: string;
  readonly newSetId: string;
  readonly newManifestHash: string;
  readonly challengeId: string;
  readonly nonce: string;
  /** The id of a hard deletion of the two retained shares (deletion-approval). */
  readonly deletionId: string;
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface MessageRecord {
  readonly file: string;
  readonly length: number;
  readonly sha256: string;
  readonly signer: string;
  /** The body as JSON; a byte string is written as {"$bytes": "<hex>"}. */
  readonly body: JsonValue;
}

export interface VectorExpected {
  readonly publicKeys: { agent: string; agentNext: string; custodians: string[]; approvers: string[] };
  readonly ageRecipients: { custodians: string[]; session: string };
  readonly fingerprints: { agent: string; agentNext: string; custodians: string[]; approvers: string[] };
  readonly comparisonCodes: { agent: string; agentNext: string; custodians: string[]; approvers: string[] };
  readonly shareCommitments: string[];
  readonly possessionKeys: string[];
  readonly secretCommitment: string;
  readonly hashes: { manifest: string; envelope: string; recoveryRequest: string; inventoryChallenge: string };
  readonly messages: Record<MessageType, MessageRecord>;
  /** The vectors whose session details carry an `incident_title` (files `<type>-titled.cbor`). */
  readonly titled: Record<TitledType, MessageRecord>;
}

/** Message types that have a second vector over session details with an `incident_title` (issue 13). */
export const TITLED_TYPES = ['approval', 'recovery-request'] as const;
export type TitledType = (typeof TITLED_TYPES)[number];

/** The title of the titled vectors: Chinese, with a `/` that a file name must make safe. */
export const VECTOR_INCIDENT_TITLE = '交易所热钱包事故 2026/12';

export interface VectorFile {
  readonly comment: string;
  readonly protocolVersion: 1;
  readonly inputs: VectorInputs;
  readonly expected: VectorExpected;
}

/** Timestamps of the vectors, as offsets from `now`. */
export const AT = {
  cards: 0,
  manifest: 0,
  envelope: 10,
  envelopeNotAfter: 30 * 86400,
  receipt: 60,
  approval: 1000,
  request: 1100,
  sessionNotAfter: 7200,
  export: 1200,
  rotation: 2000,
  supersede: 5000,
  destroyAfter: 5000 + 30 * 86400,
  challenge: 6000,
  challengeNotAfter: 6000 + 86400,
  attestation: 6100,
  softDelete: 7000,
  coolingEnds: 7000 + 7 * 86400,
  deletionApproval: 7100,
  deletionNotAfter: 7000 + 14 * 86400,
  roster: 8000,
  rosterChange: 8100,
  rosterChangeNotAfter: 8100 + 7 * 86400,
} as const;

export function at<T>(list: readonly T[], i: number, what = 'item'): T {
  const v = list[i];
  if (v === undefined) throw new Error(`test vectors: ${what} ${String(i)} is missing`);
  return v;
}

export function toJson(value: unknown): JsonValue {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return value;
  if (value instanceof Uint8Array) return { $bytes: toHex(value) };
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJson(v);
    return out;
  }
  throw new Error(`test vectors: cannot render a ${typeof value} as JSON`);
}

/** Keys, identities and derived public values of the vector world. */
export interface VectorWorld {
  readonly inputs: VectorInputs;
  readonly agent: SigningKey;
  readonly agentNext: SigningKey;
  readonly custodians: readonly SigningKey[];
  readonly approvers: readonly SigningKey[];
  readonly custodianRecipients: readonly string[];
  readonly custodianFingerprints: readonly Uint8Array[];
  readonly sessionRecipient: string;
  /** The custodian (index 0) that holds share `heldIndex` and appears in every custodian-side vector. */
  readonly heldIndex: number;
  readonly heldShare: Uint8Array;
  readonly session: SessionDetails;
  /** The same session details with `incident_title` (the titled vectors). */
  readonly titledSession: SessionDetails;
  readonly items: readonly InventoryItem[];
  /** Zero retention: both server-retained shares of the set. */
  readonly deletion: DeletionDetails;
}

export async function vectorWorld(inputs: VectorInputs): Promise<VectorWorld> {
  const custodians = inputs.seeds.custodians.map((s) => signingKeyFromSeed(fromHex(s)));
  const custodianRecipients = await Promise.all(inputs.ageIdentities.custodians.map((id) => recipientOf(id)));
  const heldIndex = inputs.retain + 1;
  const setId = fromHex(inputs.setId);
  const session: SessionDetails = {
    session_id: fromHex(inputs.sessionId),
    incident_id: inputs.incidentId,
    key_id: inputs.keyId,
    node_id: inputs.nodeId,
    set_id: setId,
    epoch: inputs.epoch,
    mode: 'external-only',
    not_after: inputs.now + AT.sessionNotAfter,
  };
  return {
    inputs,
    agent: signingKeyFromSeed(fromHex(inputs.seeds.agent)),
    agentNext: signingKeyFromSeed(fromHex(inputs.seeds.agentNext)),
    custodians,
    approvers: inputs.seeds.approvers.map((s) => signingKeyFromSeed(fromHex(s))),
    custodianRecipients,
    custodianFingerprints: custodians.map((c, i) => custodianFingerprint(c.publicKey, at(custodianRecipients, i, 'recipient'))),
    sessionRecipient: await recipientOf(inputs.ageIdentities.session),
    heldIndex,
    heldShare: fromHex(at(inputs.shares, heldIndex - 1, 'share')),
    session,
    titledSession: { ...session, incident_title: inputs.incidentTitle },
    items: [
      { key_id: inputs.keyId, node_id: inputs.nodeId, set_id: setId, epoch: inputs.epoch, share_index: heldIndex },
      { key_id: inputs.keyId, node_id: 'node-2', set_id: setId, epoch: inputs.epoch, share_index: heldIndex + 1 },
    ],
    deletion: {
      deletion_id: fromHex(inputs.deletionId),
      key_id: inputs.keyId,
      node_id: inputs.nodeId,
      set_id: setId,
      epoch: inputs.epoch,
      share_indexes: Array.from({ length: inputs.retain }, (_, k) => k + 1),
      purpose: 'zero-retention',
      cooling_ends_at: inputs.now + AT.coolingEnds,
      not_after: inputs.now + AT.deletionNotAfter,
    },
  };
}

export function manifestBody(w: VectorWorld): Manifest {
  const i = w.inputs;
  const binding = { setId: fromHex(i.setId), epoch: i.epoch };
  const shares = i.shares.map((hex) => fromHex(hex));
  return {
    key_id: i.keyId,
    node_id: i.nodeId,
    set_id: binding.setId,
    epoch: i.epoch,
    curve: i.curve,
    threshold: i.threshold,
    total: i.total,
    secret_length: fromHex(i.secret).length,
    secret_commitment: secretCommitment(binding, fromHex(i.secret)),
    public_context_hash: fromHex(i.publicContextHash),
    group_key: fromHex(i.groupKey),
    shares: shares.map((share, k) => ({
      index: k + 1,
      custodian: k < i.retain ? null : at(w.custodianFingerprints, k - i.retain, 'custodian fingerprint'),
      commitment: shareCommitment(binding, k + 1, share),
      possession_key: possessionPublicKey(binding, k + 1, share),
    })),
    created_at: i.now + AT.manifest,
  };
}

/** Every message of the vector set, built from the inputs. */
export function buildMessages(w: VectorWorld): Record<MessageType, Uint8Array> {
  const i = w.inputs;
  const custodian = at(w.custodians, 0, 'custodian');
  const me = at(w.custodianFingerprints, 0, 'custodian fingerprint');
  const agentCard = makeAgentCard({ name: i.names.agent, signing: w.agent }, i.now + AT.cards);
  const custodianCard = makeCustodianCard(
    {
      name: at(i.names.custodians, 0, 'custodian name'),
      signing: custodian,
      age: { identity: at(i.ageIdentities.custodians, 0, 'age identity'), recipient: at(w.custodianRecipients, 0, 'recipient') },
    },
    i.now + AT.cards,
  );
  const approverCard = makeApproverCard({ name: at(i.names.approvers, 0, 'approver name'), signing: at(w.approvers, 0, 'approver') }, i.now + AT.cards);
  const nextCard = makeAgentCard({ name: i.names.agentNext, signing: w.agentNext }, i.now + AT.rotation);
  const rotation = makeAgentKeyRotation(nextCard, w.agent, i.now + AT.rotation);
  const manifest = makeManifest(manifestBody(w), w.agent);
  const envelope = sealMessage(
    'envelope',
    envelopeSchema,
    {
      manifest,
      share_index: w.heldIndex,
      recipient: me,
      created_at: i.now + AT.envelope,
      not_after: i.now + AT.envelopeNotAfter,
      payload: fromHex(i.envelopePayload),
    },
    w.agent,
  );
  const receipt = makeReceipt(
    {
      envelope_hash: fileHash(envelope),
      key_id: i.keyId,
      node_id: i.nodeId,
      set_id: fromHex(i.setId),
      epoch: i.epoch,
      share_index: w.heldIndex,
      status: 'accepted',
      note: 'stored in the office safe',
      received_at: i.now + AT.receipt,
    },
    custodian,
  );
  const approvals = w.approvers.map((a, k) =>
    makeApproval({ session: w.session, approver_name: at(i.names.approvers, k, 'approver name'), approved_at: i.now + AT.approval + k }, a),
  );
  const request = makeRecoveryRequest(
    { session: w.session, approvals, recipient: w.sessionRecipient, manifest, created_at: i.now + AT.request },
    w.agent,
  );
  const recoveryExport = sealMessage(
    'recovery-export',
    recoveryExportSchema,
    {
      session_id: w.session.session_id,
      request_hash: fileHash(request),
      key_id: i.keyId,
      node_id: i.nodeId,
      set_id: fromHex(i.setId),
      epoch: i.epoch,
      share_index: w.heldIndex,
      payload: fromHex(i.exportPayload),
      created_at: i.now + AT.export,
    },
    custodian,
  );
  const supersede = makeSupersede(
    {
      key_id: i.keyId,
      node_id: i.nodeId,
      old_set_id: fromHex(i.setId),
      old_epoch: i.epoch,
      new_set_id: fromHex(i.newSetId),
      new_epoch: i.epoch + 1,
      new_manifest_hash: fromHex(i.newManifestHash),
      recipient: me,
      destroy_after: i.now + AT.destroyAfter,
      created_at: i.now + AT.supersede,
    },
    w.agent,
  );
  const challenge = makeChallenge(
    {
      challenge_id: fromHex(i.challengeId),
      nonce: fromHex(i.nonce),
      custodian: me,
      items: [...w.items],
      created_at: i.now + AT.challenge,
      not_after: i.now + AT.challengeNotAfter,
    },
    w.agent,
  );
  const challengeHash = fileHash(challenge);
  const held = at(w.items, 0, 'item');
  const attestation = makeAttestation(
    {
      challenge_id: fromHex(i.challengeId),
      challenge_hash: challengeHash,
      items: [
        { ...held, status: 'held', proof: provePossession(challengeHash, { setId: held.set_id, epoch: held.epoch }, held.share_index, w.heldShare) },
        { ...at(w.items, 1, 'item'), status: 'missing' },
      ],
      answered_at: i.now + AT.attestation,
    },
    custodian,
  );
  const deletionApproval = makeDeletionApproval(
    { deletion: w.deletion, approver_name: at(i.names.approvers, 0, 'approver name'), approved_at: i.now + AT.deletionApproval },
    at(w.approvers, 0, 'approver'),
  );
  // Roster version 2: both approvers registered at setup (codes compared), the second one last.
  const rosterEntries = w.approvers.map((a, k) => ({
    name: at(i.names.approvers, k, 'approver name'),
    sign_key: a.publicKey,
    fingerprint: approverFingerprint(a.publicKey),
    status: 'enabled' as const,
    added_at: i.now + AT.cards + k,
  }));
  const second = at(rosterEntries, 1, 'roster entry');
  const roster = signRoster(
    {
      agent_name: i.names.agent,
      agent_key: w.agent.publicKey,
      agent_fingerprint: agentFingerprint(w.agent.publicKey),
      version: 2,
      issued_at: i.now + AT.roster,
      approvers: rosterEntries,
      change: { action: 'add', target: second.fingerprint, approvals: [] },
    },
    w.agent,
  );
  // Approver 1 approves disabling approver 2 on roster version 2.
  const rosterChange = makeRosterChange(
    {
      agent_key: w.agent.publicKey,
      roster_version: 2,
      action: 'disable',
      target: { name: second.name, sign_key: second.sign_key, fingerprint: second.fingerprint },
      approver_name: at(i.names.approvers, 0, 'approver name'),
      approved_at: i.now + AT.rosterChange,
      not_after: i.now + AT.rosterChangeNotAfter,
    },
    at(w.approvers, 0, 'approver'),
  );
  return {
    'agent-card': agentCard,
    'custodian-card': custodianCard,
    'approver-card': approverCard,
    'agent-key-rotation': rotation,
    manifest,
    envelope,
    receipt,
    approval: at(approvals, 0, 'approval'),
    'recovery-request': request,
    'recovery-export': recoveryExport,
    supersede,
    'inventory-challenge': challenge,
    'inventory-attestation': attestation,
    'deletion-approval': deletionApproval,
    'approver-roster': roster,
    'roster-change': rosterChange,
  };
}

/**
 * The titled vectors (issue 13): both approvers' approvals and the agent's recovery request over
 * the same session details plus `incident_title`, everything else as in the untitled ones.
 */
export function buildTitledMessages(w: VectorWorld): Record<TitledType, Uint8Array> {
  const i = w.inputs;
  const approvals = w.approvers.map((a, k) =>
    makeApproval({ session: w.titledSession, approver_name: at(i.names.approvers, k, 'approver name'), approved_at: i.now + AT.approval + k }, a),
  );
  const request = makeRecoveryRequest(
    { session: w.titledSession, approvals, recipient: w.sessionRecipient, manifest: makeManifest(manifestBody(w), w.agent), created_at: i.now + AT.request },
    w.agent,
  );
  return { approval: at(approvals, 0, 'approval'), 'recovery-request': request };
}

const recordOf = (file: string, bytes: Uint8Array): MessageRecord => {
  const f = frameOf(bytes);
  return { file, length: bytes.length, sha256: toHex(sha256(bytes)), signer: toHex(f.k), body: toJson(f.body) };
};

/** The fingerprints, codes, commitments and hashes the vectors promise. */
export function expectedValues(
  w: VectorWorld,
  messages: Record<MessageType, Uint8Array>,
  bodies: Record<MessageType, unknown>,
  signers: Record<MessageType, Uint8Array>,
  titled: Record<TitledType, Uint8Array>,
): VectorExpected {
  const i = w.inputs;
  const binding = { setId: fromHex(i.setId), epoch: i.epoch };
  const shares = i.shares.map((h) => fromHex(h));
  const fp = {
    agent: agentFingerprint(w.agent.publicKey),
    agentNext: agentFingerprint(w.agentNext.publicKey),
    custodians: [...w.custodianFingerprints],
    approvers: w.approvers.map((a) => approverFingerprint(a.publicKey)),
  };
  const record = {} as Record<MessageType, MessageRecord>;
  for (const type of MESSAGE_TYPES) {
    const bytes = messages[type];
    record[type] = { file: `${type}.cbor`, length: bytes.length, sha256: toHex(sha256(bytes)), signer: toHex(signers[type]), body: toJson(bodies[type]) };
  }
  return {
    publicKeys: {
      agent: toHex(w.agent.publicKey),
      agentNext: toHex(w.agentNext.publicKey),
      custodians: w.custodians.map((c) => toHex(c.publicKey)),
      approvers: w.approvers.map((a) => toHex(a.publicKey)),
    },
    ageRecipients: { custodians: [...w.custodianRecipients], session: w.sessionRecipient },
    fingerprints: { agent: toHex(fp.agent), agentNext: toHex(fp.agentNext), custodians: fp.custodians.map(toHex), approvers: fp.approvers.map(toHex) },
    comparisonCodes: {
      agent: comparisonCode(fp.agent),
      agentNext: comparisonCode(fp.agentNext),
      custodians: fp.custodians.map(comparisonCode),
      approvers: fp.approvers.map(comparisonCode),
    },
    shareCommitments: shares.map((s, k) => toHex(shareCommitment(binding, k + 1, s))),
    possessionKeys: shares.map((s, k) => toHex(possessionPublicKey(binding, k + 1, s))),
    secretCommitment: toHex(secretCommitment(binding, fromHex(i.secret))),
    hashes: {
      manifest: toHex(fileHash(messages.manifest)),
      envelope: toHex(fileHash(messages.envelope)),
      recoveryRequest: toHex(fileHash(messages['recovery-request'])),
      inventoryChallenge: toHex(fileHash(messages['inventory-challenge'])),
    },
    messages: record,
    titled: { approval: recordOf('approval-titled.cbor', titled.approval), 'recovery-request': recordOf('recovery-request-titled.cbor', titled['recovery-request']) },
  };
}

/** The vectors' group key: the Ed25519 public key (a valid edwards25519 point) of a fixed seed. */
export const groupKeySeedPoint = (): string => toHex(ed25519.getPublicKey(fromHex(fixed('group key seed'))));

/** A fixed 32-byte value for a role, so that re-generating with --fresh keeps every non-random input. */
const fixed = (label: string, length = 32): string => {
  let out = '';
  for (let k = 0; out.length < length * 2; k++) out += toHex(sha256(utf8(`custos test vectors v1: ${label} #${String(k)}`)));
  return out.slice(0, length * 2);
};

/**
 * New inputs: the fixed values above, plus fresh age identities, a fresh Shamir split and fresh
 * sealed payloads (the parts the protocol randomizes). Only generate.ts --fresh calls this.
 */
export async function freshInputs(): Promise<VectorInputs> {
  const custodianAge = [await generateAgeKeyPair(), await generateAgeKeyPair(), await generateAgeKeyPair()];
  const session = await generateAgeKeyPair();
  const secret = fromHex(fixed('secret record', 70));
  const setId = fromHex(fixed('set id', 16));
  const threshold = 3;
  const total = 5;
  const retain = 2;
  const epoch = 1;
  const split = await splitSecret(secret, { threshold, total }, { setId, epoch });
  const held = at(split.shares, retain, 'share').share;
  return {
    now: 1_790_000_000,
    names: {
      agent: 'agent node-1',
      agentNext: 'agent node-1 (new key)',
      custodians: ['Carol (custodian)', '李华 (保管人)', 'Dave (custodian)'],
      approvers: ['Alice (security)', 'Bob (business owner)'],
    },
    seeds: {
      agent: fixed('agent seed'),
      agentNext: fixed('next agent seed'),
      custodians: [fixed('custodian 1 seed'), fixed('custodian 2 seed'), fixed('custodian 3 seed')],
      approvers: [fixed('approver 1 seed'), fixed('approver 2 seed')],
    },
    ageIdentities: { custodians: custodianAge.map((k) => k.identity), session: session.identity },
    keyId: 'key-1',
    nodeId: 'node-1',
    incidentId: 'INC-2026-0042',
    incidentTitle: VECTOR_INCIDENT_TITLE,
    curve: 'ed25519',
    secret: toHex(secret),
    publicContextHash: fixed('public context'),
    groupKey: groupKeySeedPoint(),
    setId: toHex(setId),
    epoch,
    threshold,
    total,
    retain,
    shares: split.shares.map((s) => toHex(s.share)),
    envelopePayload: toHex(await sealTo(at(custodianAge, 0, 'age key').recipient, held)),
    sessionId: fixed('session id', 16),
    exportPayload: toHex(await sealTo(session.recipient, held)),
    newSetId: fixed('new set id', 16),
    newManifestHash: fixed('new manifest'),
    challengeId: fixed('challenge id', 16),
    nonce: fixed('challenge nonce'),
    deletionId: fixed('deletion id', 16),
  };
}

/** The frame's fields and decoded body, read with the library's canonical decoder (no checks). */
export function frameOf(bytes: Uint8Array): { t: string; k: Uint8Array; b: Uint8Array; s: Uint8Array; body: unknown } {
  const frame = decodeCanonical(bytes) as { t: string; k: Uint8Array; b: Uint8Array; s: Uint8Array };
  return { ...frame, body: decodeCanonical(frame.b) };
}

/** Inputs, messages and expected values: everything vectors.json holds. */
export async function buildVectorFile(
  inputs: VectorInputs,
): Promise<{ file: VectorFile; messages: Record<MessageType, Uint8Array>; titled: Record<TitledType, Uint8Array> }> {
  const w = await vectorWorld(inputs);
  const messages = buildMessages(w);
  const titled = buildTitledMessages(w);
  const bodies = {} as Record<MessageType, unknown>;
  const signers = {} as Record<MessageType, Uint8Array>;
  for (const type of MESSAGE_TYPES) {
    const f = frameOf(messages[type]);
    bodies[type] = f.body;
    signers[type] = f.k;
  }
  return {
    file: {
      comment:
        'Custos protocol v1 test vectors. Written by test/vectors/generate.ts; see test/vectors/README.md. Byte strings are hex; in bodies a byte string is {"$bytes": hex}.',
      protocolVersion: 1,
      inputs,
      expected: expectedValues(w, messages, bodies, signers, titled),
    },
    messages,
    titled,
  };
}
