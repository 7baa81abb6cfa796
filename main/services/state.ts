/**
 * What the vault holds once unlocked, and its on-disk form (the plaintext of `shares.age`).
 *
 * On disk it is one UTF-8 JSON document, readable after `age -d -i key.txt shares.age`:
 * byte strings are lower-case hex (hashes, keys, ids, the share itself) or base64 (whole signed
 * files: envelopes, cards, notices); times are Unix seconds. Everything read back is parsed by the
 * zod schema below before use: a file that decrypts but does not parse is treated as damaged.
 *
 * shares.age is sealed to the custodian's age recipient, which is PUBLIC: anyone who can write the
 * folder could seal a state of their own. So the state is signed with the custodian's Ed25519 key
 * (only in the passphrase-protected identity.age) and the signature is checked before the state is
 * used (`signStateDocument` / `verifiedStateJson`):
 *
 *   sig      = Ed25519(custodian, "custos/v1/vault-state" || 0x00 || J)      J = the state JSON bytes
 *   document = J without its final "}", then `,"sig":"<sig, 128 hex>"}`
 *
 * The document is still one JSON object (the state's fields plus "sig"), so the escape hatch prints
 * the same shape as before.
 */
import { z } from 'zod';
import { nodeVerifier } from '../../node/ed25519';
import { nodeSigner } from '../../node/ed25519-sign';
import { concatBytes, utf8 } from '../../shared/bytes';
import type { SigningKey } from '../../shared/protocol/frame';
import { REJECTION_REASONS, type RejectionReason } from '../../shared/protocol/receipt';

export const VAULT_FORMAT = 'custos-vault/1';

import { SHARE_STATUSES, type ShareStatus } from '../../shared/share-status';

export { SHARE_STATUSES, type ShareStatus };
export type LiveStatus = Exclude<ShareStatus, 'deleted'>;

export interface HistoryEvent {
  readonly at: number;
  readonly event: string;
  readonly detail?: string;
}

export interface ReceiptRef {
  readonly status: 'accepted' | 'rejected';
  readonly reason?: RejectionReason;
  readonly note?: string;
  readonly signedAt: number;
  /** SHA-256 of the receipt file. */
  readonly hash: string;
}

export interface ExportRef {
  readonly sessionId: string;
  readonly incidentId: string;
  readonly requestHash: string;
  readonly exportedAt: number;
  readonly exportHash: string;
}

export interface DeletionInfo {
  readonly deletedAt: number;
  /** Hard deletion is allowed from this time on; rollback until then. */
  readonly purgeAfter: number;
  readonly previousStatus: LiveStatus;
  readonly reason?: string;
}

export interface SupersededInfo {
  readonly newSetId: string;
  readonly newEpoch: number;
  readonly newManifestHash: string;
  /** From the agent's notice: the old share should be destroyed after this time. */
  readonly destroyAfter: number;
  readonly noticeHash: string;
  readonly appliedAt: number;
}

/** The facts that name one share. */
export interface ShareCoordinates {
  readonly keyId: string;
  readonly nodeId: string;
  /** hex */
  readonly setId: string;
  readonly epoch: number;
  readonly shareIndex: number;
}

export interface ShareRecord extends ShareCoordinates {
  /** The envelope's SHA-256, hex: the id everything uses (receipts name it too). */
  readonly id: string;
  readonly curve: string;
  readonly threshold: number;
  readonly total: number;
  readonly manifestHash: string;
  /** The agent key that signed the envelope, hex. */
  readonly agentKey: string;
  /**
   * The envelope's size in bytes. The envelope itself is not held in memory: it stays in its sealed
   * record file and is read on demand (`VaultTx.envelope`, `Vault.envelope`; vault-envelopes.ts).
   */
  readonly envelopeSize: number;
  /** The decrypted share, checked against its commitment at import. */
  readonly share: Uint8Array;
  readonly envelopeCreatedAt: number;
  readonly notAfter?: number;
  readonly receivedAt: number;
  status: ShareStatus;
  deletion?: DeletionInfo;
  superseded?: SupersededInfo;
  readonly receipts: ReceiptRef[];
  readonly exports: ExportRef[];
  readonly history: HistoryEvent[];
}

/** An envelope refused at import: kept (without any secret) so a `rejected` receipt can be signed. */
export interface RefusalRecord {
  readonly id: string;
  name?: string;
  at: number;
  code: string;
  /** Read from the envelope WITHOUT trusting it, when it could be parsed at all. */
  readonly fields?: ShareCoordinates;
  readonly receipts: ReceiptRef[];
}

export interface SupersedeRecord {
  readonly noticeHash: string;
  readonly keyId: string;
  readonly nodeId: string;
  readonly oldSetId: string;
  readonly oldEpoch: number;
  readonly newSetId: string;
  readonly newEpoch: number;
  readonly newManifestHash: string;
  readonly destroyAfter: number;
  readonly appliedAt: number;
}

/** What remains of a hard-deleted share: no secret, enough to refuse it if it comes back. */
export interface PurgedRecord extends ShareCoordinates {
  readonly id: string;
  readonly purgedAt: number;
}

/** Who to call back to check a request out of band (recorded when pinning; free text, bounded). */
export interface CallBackContact {
  readonly name: string;
  /** Phone number or another way to reach them. */
  readonly reach: string;
}

/** An approver this custodian trusts (main/services/trust.ts): pinned from a card or from the agent-signed roster. */
export interface PinnedApprover {
  readonly name: string;
  readonly signKey: string;
  readonly fingerprint: string;
  readonly code: string;
  readonly pinnedAt: number;
  readonly via: 'card' | 'roster';
  /** The approver's self-signed card (via = card). */
  readonly card?: Uint8Array;
  /** From the roster: a disabled approver's approvals no longer count. */
  readonly status: 'enabled' | 'disabled';
  readonly contact?: CallBackContact;
}

/** The agent-signed approver roster pinned last (its version only ever grows). */
export interface PinnedRoster {
  readonly bytes: Uint8Array;
  readonly version: number;
  readonly issuedAt: number;
  readonly pinnedAt: number;
}

export interface PinnedAgent {
  readonly card: Uint8Array;
  readonly signKey: string;
  readonly name: string;
  readonly fingerprint: string;
  readonly code: string;
  readonly pinnedAt: number;
  readonly via: 'pin' | 'rotation';
  /** The key replacement notice that introduced this key (via = rotation). */
  readonly notice?: Uint8Array;
  replacedAt?: number;
  // Added for pinned approvers (issue 12); optional so vaults written before read unchanged.
  readonly contact?: CallBackContact;
  readonly approvers?: readonly PinnedApprover[];
  readonly roster?: PinnedRoster;
}

export interface VaultState {
  readonly format: typeof VAULT_FORMAT;
  generation: number;
  savedAt: number;
  readonly custodian: { readonly name: string; readonly signKey: string; readonly ageRecipient: string; readonly createdAt: number };
  agent: PinnedAgent | null;
  readonly previousAgents: PinnedAgent[];
  shares: ShareRecord[];
  refusals: RefusalRecord[];
  readonly supersedes: SupersedeRecord[];
  readonly purged: PurgedRecord[];
  /**
   * The app's hash-chained audit log (shared/audit/chain.ts). Entries stay `unknown` as read, so
   * that a damaged entry is reported by verification (naming it) instead of making the vault
   * unreadable; `head` is the last entry's seq and hash, kept apart so truncation is detected.
   */
  readonly audit: { entries: unknown[]; head: { seq: number; hash: string } | null };
}

// ---- on-disk form -----------------------------------------------------------------------------

const hex = (len?: number) => z.string().regex(len === undefined ? /^(?:[0-9a-f]{2})*$/ : new RegExp(`^[0-9a-f]{${String(len * 2)}}$`));
const b64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
const time = z.number().int().min(0);
const text = z.string().max(2000);

const coordinates = {
  keyId: z.string().min(1).max(128),
  nodeId: z.string().min(1).max(128),
  setId: hex(16),
  epoch: z.number().int().min(1),
  shareIndex: z.number().int().min(1).max(255),
};

const historySchema = z.strictObject({ at: time, event: z.string().max(64), detail: text.optional() });
const receiptRefSchema = z.strictObject({
  status: z.enum(['accepted', 'rejected']),
  reason: z.enum(REJECTION_REASONS).optional(),
  note: z.string().max(500).optional(),
  signedAt: time,
  hash: hex(32),
});
const exportRefSchema = z.strictObject({ sessionId: hex(16), incidentId: text, requestHash: hex(32), exportedAt: time, exportHash: hex(32) });
const liveStatus = z.enum(['received', 'confirmed', 'exported', 'superseded']);

const shareDiskSchema = z.strictObject({
  id: hex(32),
  ...coordinates,
  curve: z.string().max(32),
  threshold: z.number().int().min(2).max(255),
  total: z.number().int().min(2).max(255),
  manifestHash: hex(32),
  agentKey: hex(32),
  envelope: b64,
  share: hex(),
  envelopeCreatedAt: time,
  notAfter: time.optional(),
  receivedAt: time,
  status: z.enum(SHARE_STATUSES),
  deletion: z.strictObject({ deletedAt: time, purgeAfter: time, previousStatus: liveStatus, reason: text.optional() }).optional(),
  superseded: z
    .strictObject({ newSetId: hex(16), newEpoch: z.number().int().min(1), newManifestHash: hex(32), destroyAfter: time, noticeHash: hex(32), appliedAt: time })
    .optional(),
  receipts: z.array(receiptRefSchema),
  exports: z.array(exportRefSchema),
  history: z.array(historySchema),
});

const refusalDiskSchema = z.strictObject({
  id: hex(32),
  name: text.optional(),
  at: time,
  code: z.string().max(64),
  fields: z.strictObject(coordinates).optional(),
  receipts: z.array(receiptRefSchema),
});

const supersedeDiskSchema = z.strictObject({
  noticeHash: hex(32),
  keyId: coordinates.keyId,
  nodeId: coordinates.nodeId,
  oldSetId: hex(16),
  oldEpoch: z.number().int().min(1),
  newSetId: hex(16),
  newEpoch: z.number().int().min(1),
  newManifestHash: hex(32),
  destroyAfter: time,
  appliedAt: time,
});

const purgedDiskSchema = z.strictObject({ id: hex(32), ...coordinates, purgedAt: time });

const agentDiskSchema = z.strictObject({
  card: b64,
  signKey: hex(32),
  name: text,
  fingerprint: hex(32),
  code: z.string().regex(/^[0-9]{4}( [0-9]{4}){5}$/),
  pinnedAt: time,
  via: z.enum(['pin', 'rotation']),
  notice: b64.optional(),
  replacedAt: time.optional(),
  // Pinned approvers and call-back contacts (issue 12): optional, so older vaults parse as before.
  contact: z.strictObject({ name: z.string().max(200), reach: z.string().max(200) }).optional(),
  approvers: z
    .array(
      z.strictObject({
        name: text,
        signKey: hex(32),
        fingerprint: hex(32),
        code: z.string().regex(/^[0-9]{4}( [0-9]{4}){5}$/),
        pinnedAt: time,
        via: z.enum(['card', 'roster']),
        card: b64.optional(),
        status: z.enum(['enabled', 'disabled']),
        contact: z.strictObject({ name: z.string().max(200), reach: z.string().max(200) }).optional(),
      }),
    )
    .max(256)
    .optional(),
  roster: z.strictObject({ bytes: b64, version: z.number().int().min(0), issuedAt: time, pinnedAt: time }).optional(),
});

export const vaultDiskSchema = z.strictObject({
  format: z.literal(VAULT_FORMAT),
  generation: z.number().int().min(1),
  savedAt: time,
  custodian: z.strictObject({ name: text, signKey: hex(32), ageRecipient: z.string().max(100), createdAt: time }),
  agent: agentDiskSchema.nullable(),
  previousAgents: z.array(agentDiskSchema),
  shares: z.array(shareDiskSchema),
  refusals: z.array(refusalDiskSchema),
  supersedes: z.array(supersedeDiskSchema),
  purged: z.array(purgedDiskSchema),
  audit: z.strictObject({
    entries: z.array(z.unknown()),
    head: z.strictObject({ seq: z.number().int().min(0), hash: hex(32) }).nullable(),
  }),
});

const toB64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const fromB64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
const toHexStr = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHexStr = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

function agentToDisk(a: PinnedAgent): z.input<typeof agentDiskSchema> {
  const { notice, card, approvers, roster, ...rest } = a;
  return {
    ...rest,
    card: toB64(card),
    ...(notice === undefined ? {} : { notice: toB64(notice) }),
    ...(approvers === undefined ? {} : { approvers: approvers.map(({ card: c, ...p }) => ({ ...p, ...(c === undefined ? {} : { card: toB64(c) }) })) }),
    ...(roster === undefined ? {} : { roster: { ...roster, bytes: toB64(roster.bytes) } }),
  };
}

function agentFromDisk(a: z.output<typeof agentDiskSchema>): PinnedAgent {
  const { notice, card, approvers, roster, ...rest } = a;
  return {
    ...rest,
    card: fromB64(card),
    ...(notice === undefined ? {} : { notice: fromB64(notice) }),
    ...(approvers === undefined ? {} : { approvers: approvers.map(({ card: c, ...p }) => ({ ...p, ...(c === undefined ? {} : { card: fromB64(c) }) })) }),
    ...(roster === undefined ? {} : { roster: { ...roster, bytes: fromB64(roster.bytes) } }),
  };
}

/** The state in memory as JSON (shares without their envelopes, which stay on disk): the vault's self-check compares two of them. */
export function serializeState(s: VaultState): string {
  const disk = {
    format: s.format,
    generation: s.generation,
    savedAt: s.savedAt,
    custodian: s.custodian,
    agent: s.agent === null ? null : agentToDisk(s.agent),
    previousAgents: s.previousAgents.map(agentToDisk),
    shares: s.shares.map((r) => ({ ...r, share: toHexStr(r.share) })),
    refusals: s.refusals,
    supersedes: s.supersedes,
    purged: s.purged,
    audit: s.audit,
  };
  return JSON.stringify(disk);
}

/**
 * Parses the JSON text of layout 1's shares.age; undefined when it is not a valid vault state. The
 * envelopes come back apart from the state (by share id), to be written into the new layout.
 */
export function parseState(json: string): { state: VaultState; envelopes: Map<string, Uint8Array> } | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return undefined;
  }
  const parsed = vaultDiskSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const d = parsed.data;
  const envelopes = new Map(d.shares.map((r) => [r.id, fromB64(r.envelope)]));
  const state: VaultState = {
    format: d.format,
    generation: d.generation,
    savedAt: d.savedAt,
    custodian: d.custodian,
    agent: d.agent === null ? null : agentFromDisk(d.agent),
    previousAgents: d.previousAgents.map(agentFromDisk),
    shares: d.shares.map(({ envelope, ...r }) => ({ ...r, envelopeSize: b64Length(envelope), share: fromHexStr(r.share) })),
    refusals: d.refusals,
    supersedes: d.supersedes,
    purged: d.purged,
    audit: { entries: d.audit.entries, head: d.audit.head },
  };
  return { state, envelopes };
}

/** The number of bytes a (valid, padded) base64 string decodes to. */
function b64Length(b64s: string): number {
  return (b64s.length / 4) * 3 - (b64s.endsWith('==') ? 2 : b64s.endsWith('=') ? 1 : 0);
}

export const STATE_SIGNATURE_LABEL = 'custos/v1/vault-state';

const stateMessage = (json: string): Uint8Array => concatBytes(utf8(STATE_SIGNATURE_LABEL), new Uint8Array([0]), utf8(json));
const SIG_SUFFIX = /,"sig":"([0-9a-f]{128})"\}$/;

/** Layout 1 (one shares.age): the plaintext of shares.age, the state JSON (from `serializeState`) with the custodian's signature added. */
export function signStateDocument(json: string, key: SigningKey): string {
  if (!json.startsWith('{"') || !json.endsWith('}')) throw new Error('The vault state must serialise to a non-empty JSON object.');
  const sig = Buffer.from(nodeSigner(stateMessage(json), key.seed)).toString('hex');
  return `${json.slice(0, -1)},"sig":"${sig}"}`;
}

/**
 * The state JSON of a shares.age plaintext, if it carries a valid signature by `publicKey`;
 * undefined otherwise (no signature, a bad one, or another key's: treat the file as damaged).
 */
export function verifiedStateJson(document: string, publicKey: Uint8Array): string | undefined {
  const m = SIG_SUFFIX.exec(document);
  if (m === null) return undefined;
  const json = `${document.slice(0, document.length - m[0].length)}}`;
  if (!json.startsWith('{"')) return undefined;
  // node:crypto with exactly noble's strict accept set (node/ed25519.ts).
  return nodeVerifier(new Uint8Array(Buffer.from(m[1] ?? '', 'hex')), stateMessage(json), publicKey) ? json : undefined;
}

// ---- records: the state as the store writes it (vault-store.ts) ---------------------------------

/** The growing lists of the state, stored item by item; each item has a key that never changes. */
export const COLLECTIONS = ['shares', 'refusals', 'supersedes', 'purged'] as const;
export type CollectionName = (typeof COLLECTIONS)[number];
export type CollectionItem<C extends CollectionName> = VaultState[C][number];

const itemSchemas = { shares: shareDiskSchema, refusals: refusalDiskSchema, supersedes: supersedeDiskSchema, purged: purgedDiskSchema } as const;

export function itemKey(c: CollectionName, item: CollectionItem<CollectionName>): string {
  return c === 'supersedes' ? (item as SupersedeRecord).noticeHash : (item as ShareRecord | RefusalRecord | PurgedRecord).id;
}

/**
 * The JSON form of one item. A share's carries its envelope in base64 when `envelope` is given; a
 * share item without one (a journal entry changing a share already stored) keeps the envelope of
 * the item with the same id (the id is the envelope's SHA-256, so it never changes).
 */
export function itemToDisk(c: CollectionName, item: CollectionItem<CollectionName>, envelope?: Uint8Array): unknown {
  if (c !== 'shares') return item;
  const { envelopeSize: _size, ...r } = item as ShareRecord;
  return { ...r, ...(envelope === undefined ? {} : { envelope: toB64(envelope) }), share: toHexStr(r.share) };
}

// The envelope text is not decoded at unlock (the vault keeps only which file holds it): bounded
// here, and checked when it is read (decoded, its SHA-256 must be the share id; vault-envelopes.ts).
// The base64 pattern over every envelope was about 15 % of an unlock.
const shareItemSchema = shareDiskSchema.extend({ envelope: z.string().min(4).max(1 << 20).optional() });

/**
 * Parses one item's JSON form; undefined when it is not valid. A share comes back with its envelope
 * as the base64 text read (not decoded: the vault keeps only where it is), or without one (above):
 * then `envelopeSize` is -1 until the caller takes it from the item this one replaces.
 */
export function itemFromDisk(c: CollectionName, raw: unknown): { item: CollectionItem<CollectionName>; envelope?: string } | undefined {
  if (c !== 'shares') {
    const parsed = itemSchemas[c].safeParse(raw);
    return parsed.success ? { item: parsed.data as CollectionItem<CollectionName> } : undefined;
  }
  const parsed = shareItemSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const { envelope, ...r } = parsed.data;
  const item: ShareRecord = { ...r, envelopeSize: envelope === undefined ? -1 : b64Length(envelope), share: fromHexStr(r.share) };
  return envelope === undefined ? { item } : { item, envelope };
}

/** The small, whole-written part of the state: who the custodian is, the agents, the audit head. */
export const metaDiskSchema = z.strictObject({
  format: z.literal(VAULT_FORMAT),
  custodian: vaultDiskSchema.shape.custodian,
  agent: agentDiskSchema.nullable(),
  previousAgents: z.array(agentDiskSchema),
  auditHead: vaultDiskSchema.shape.audit.shape.head,
});
export type MetaDisk = z.output<typeof metaDiskSchema>;

export function metaToDisk(s: VaultState): z.input<typeof metaDiskSchema> {
  return {
    format: s.format,
    custodian: s.custodian,
    agent: s.agent === null ? null : agentToDisk(s.agent),
    previousAgents: s.previousAgents.map(agentToDisk),
    auditHead: s.audit.head,
  };
}

/** An empty state carrying `meta` (the store then adds the items). */
export function stateFromMeta(meta: MetaDisk, generation: number, savedAt: number): VaultState {
  return {
    format: meta.format,
    generation,
    savedAt,
    custodian: meta.custodian,
    agent: meta.agent === null ? null : agentFromDisk(meta.agent),
    previousAgents: meta.previousAgents.map(agentFromDisk),
    shares: [],
    refusals: [],
    supersedes: [],
    purged: [],
    audit: { entries: [], head: meta.auditHead },
  };
}

/** Wipes every share held in memory (on lock). */
export function wipeState(s: VaultState): void {
  for (const r of s.shares) r.share.fill(0);
}
