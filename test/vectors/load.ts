/**
 * Loads the checked-in vectors (test/vectors/v1) and prepares, for every message type, the public
 * open* call a real receiver would make, with the right context (pinned keys, session, request,
 * challenge). The vector, tamper and fuzz tests all open messages through this one table.
 */
import { readFileSync } from 'node:fs';
import { fromHex } from '../../shared/bytes';
import { fileHash } from '../../shared/crypto/hash';
import { CustosError } from '../../shared/errors';
import {
  approverFingerprint,
  MESSAGE_TYPES,
  openAgentCard,
  openAgentKeyRotation,
  openApproval,
  openApproverCard,
  openChallenge,
  openCustodianCard,
  openDeletionApproval,
  openEnvelope,
  openManifest,
  openReceipt,
  openRecoveryExport,
  openRecoveryRequest,
  openRoster,
  openRosterChange,
  openSupersede,
  verifyAttestation,
  type MessageType,
  type OpenedRecoveryRequest,
  type InventoryChallenge,
  type InventoryItem,
} from '../../shared/protocol';
import { at, AT, TITLED_TYPES, vectorWorld, type TitledType, type VectorFile, type VectorWorld } from './build';

export const VECTOR_DIR = new URL('./v1/', import.meta.url);

export function readVectorFile(): VectorFile {
  return JSON.parse(readFileSync(new URL('vectors.json', VECTOR_DIR), 'utf8')) as VectorFile;
}

export function readMessages(file: VectorFile): Record<MessageType, Uint8Array> {
  const out = {} as Record<MessageType, Uint8Array>;
  for (const type of MESSAGE_TYPES) out[type] = new Uint8Array(readFileSync(new URL(file.expected.messages[type].file, VECTOR_DIR)));
  return out;
}

/** The titled vectors (issue 13): `<type>-titled.cbor`. */
export function readTitledMessages(file: VectorFile): Record<TitledType, Uint8Array> {
  const out = {} as Record<TitledType, Uint8Array>;
  for (const type of TITLED_TYPES) out[type] = new Uint8Array(readFileSync(new URL(file.expected.titled[type].file, VECTOR_DIR)));
  return out;
}

/** An opener takes untrusted input and returns what the public function returned. */
export type Opener = (input: unknown) => Promise<unknown>;

export interface LoadedVectors {
  readonly file: VectorFile;
  readonly world: VectorWorld;
  readonly messages: Record<MessageType, Uint8Array>;
  /** The moment each vector is opened at. */
  readonly openAt: Record<MessageType, number>;
  readonly request: OpenedRecoveryRequest;
  readonly challenge: { bytes: Uint8Array; body: InventoryChallenge };
  /** Opens `input` as `type`, like the receiving side would. `signer` replaces the pinned key (re-label tests). */
  readonly open: (type: MessageType, input: unknown, signer?: Uint8Array) => Promise<unknown>;
  readonly possessionKeyOf: (item: InventoryItem) => Uint8Array | undefined;
}

export async function loadVectors(): Promise<LoadedVectors> {
  const file = readVectorFile();
  const world = await vectorWorld(file.inputs);
  const messages = readMessages(file);
  const now = file.inputs.now;
  const openAt: Record<MessageType, number> = {
    'agent-card': now,
    'custodian-card': now,
    'approver-card': now,
    'agent-key-rotation': now + AT.rotation,
    manifest: now,
    envelope: now + AT.envelope + 5,
    receipt: now + AT.receipt,
    approval: now + AT.approval,
    'recovery-request': now + AT.request + 5,
    'recovery-export': now + AT.export + 5,
    supersede: now + AT.supersede,
    'inventory-challenge': now + AT.challenge + 5,
    'inventory-attestation': now + AT.attestation + 5,
    'deletion-approval': now + AT.deletionApproval + 5,
    'approver-roster': now + AT.roster + 5,
    'roster-change': now + AT.rosterChange + 5,
  };
  const agentKey = world.agent.publicKey;
  const custodian = at(world.custodians, 0, 'custodian');
  const me = at(world.custodianFingerprints, 0, 'fingerprint');
  const ageIdentity = at(file.inputs.ageIdentities.custodians, 0, 'age identity');
  const approverKeys = world.approvers.map((a) => a.publicKey);
  const registered = world.custodians.map((c, i) => ({ signKey: c.publicKey, ageRecipient: at(world.custodianRecipients, i, 'recipient') }));
  const request = openRecoveryRequest(messages['recovery-request'], agentKey, openAt['recovery-request'], approverKeys);
  const opened = openChallenge(messages['inventory-challenge'], agentKey, me, openAt['inventory-challenge']);
  const challenge = { bytes: opened.bytes, body: opened.body };
  const manifest = openManifest(messages.manifest, agentKey).body;
  const possessionKeyOf = (item: InventoryItem): Uint8Array | undefined =>
    item.node_id === manifest.node_id && item.key_id === manifest.key_id ? manifest.shares[item.share_index - 1]?.possession_key : undefined;

  const open = async (type: MessageType, input: unknown, signer?: Uint8Array): Promise<unknown> => {
    const when = openAt[type];
    switch (type) {
      case 'agent-card':
        return openAgentCard(input);
      case 'custodian-card':
        return openCustodianCard(input);
      case 'approver-card':
        return openApproverCard(input);
      case 'agent-key-rotation':
        return openAgentKeyRotation(input, signer ?? agentKey);
      case 'manifest':
        return openManifest(input, signer ?? agentKey);
      case 'envelope':
        return openEnvelope(input, signer ?? agentKey, { fingerprint: me, ageIdentity }, when);
      case 'receipt':
        return openReceipt(input, signer ?? custodian.publicKey);
      case 'approval':
        return openApproval(input, world.session, signer === undefined ? approverKeys : [signer]);
      case 'recovery-request':
        return openRecoveryRequest(input, signer ?? agentKey, when, approverKeys);
      case 'recovery-export':
        return openRecoveryExport(
          input,
          request,
          signer === undefined ? registered : [...registered, { signKey: signer, ageRecipient: world.sessionRecipient }],
          file.inputs.ageIdentities.session,
        );
      case 'supersede':
        return openSupersede(input, signer ?? agentKey, me);
      case 'inventory-challenge':
        return openChallenge(input, signer ?? agentKey, me, when);
      case 'inventory-attestation':
        return verifyAttestation(input, challenge, signer ?? custodian.publicKey, possessionKeyOf);
      case 'deletion-approval':
        return openDeletionApproval(input, world.deletion, signer === undefined ? approverKeys : [signer]);
      case 'approver-roster':
        return openRoster(input, signer ?? agentKey);
      case 'roster-change': {
        const second = at(world.approvers, 1, 'approver').publicKey;
        const expected = { agentKey, version: 2, action: 'disable' as const, target: approverFingerprint(second), now: when };
        const change = openRosterChange(input, expected);
        const trusted = signer === undefined ? approverKeys : [signer];
        if (!trusted.some((k) => Buffer.compare(k, change.approverKey) === 0)) throw new CustosError('UNTRUSTED_SIGNER', 'not a vector approver');
        return change;
      }
    }
  };
  return { file, world, messages, openAt, request, challenge, open, possessionKeyOf };
}

/** The recorded expectations, decoded from hex where that is what a test compares. */
export function expectedHash(file: VectorFile, type: MessageType): Uint8Array {
  return fromHex(file.expected.messages[type].sha256);
}

export const sha256Of = fileHash;
