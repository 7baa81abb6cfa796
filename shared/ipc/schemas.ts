/**
 * The building blocks and records of the IPC contract (shared/ipc/contract.ts holds the channel
 * map that uses them): size limits, the zod schemas of bytes, names, ids and times, and the records
 * the channels carry (vault info, shares, receipts, recovery and station views, settings, audit).
 * Response objects are strict, so a handler can never leak a field the contract does not name.
 *
 * Pure TypeScript (zod only), like the contract.
 */
import { isSafeFileName } from '../file-name';
import { z } from 'zod';
import { ERROR_CODES } from '../errors';
import { REJECTION_REASONS } from '../protocol/receipt';
import { SERVICE_ERROR_CODES } from '../service-errors';
import { LANGUAGES } from '../languages';
import { SHARE_STATUSES } from '../share-status';

// ---- limits -------------------------------------------------------------------------------------

/** The largest single file accepted over IPC (an envelope is a few KB; a photo of a QR code more). */
export const MAX_FILE_BYTES = 16 * 1024 * 1024;
/** The most files or frames in one call (a batch import of thousands of envelopes fits). */
export const MAX_ITEMS = 20_000;
/** No QR code holds more characters than this (version 40, level L). */
export const MAX_FRAME_CHARS = 4296;

/** Every code an IPC error may carry: the protocol's (shared/errors.ts) and the app's own. */
export const IPC_ERROR_CODES = [...ERROR_CODES, ...SERVICE_ERROR_CODES] as const;
export type IpcErrorCode = (typeof IPC_ERROR_CODES)[number];

// ---- building blocks ----------------------------------------------------------------------------

function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Raw bytes (a Uint8Array; Node's Buffer is one too) of at most `max` bytes. */
export const bytes = (max: number = MAX_FILE_BYTES) =>
  z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.length <= max, `expected bytes (Uint8Array, at most ${String(max)})`);

/** A short text for a person (a file's display name, a note): never used as a path. */
export const text = (max: number) => z.string().max(max).refine((s) => !hasControl(s), 'must not contain control characters');

/** A file going renderer → main: its bytes and a name to show (a label only, never a path). */
export const fileIn = z.strictObject({ name: text(500), bytes: bytes() });
export type FileIn = z.infer<typeof fileIn>;

/** A file name main suggests: letters and digits of any script, `.`, `_` and `-`, valid on every system (shared/file-name.ts). */
export const fileName = z.string().refine(isSafeFileName, 'a file name safe on every system (shared/file-name.ts)');

/** A file going main → renderer (to show, or to hand back to `files:save`). */
export const fileOut = z.strictObject({ name: fileName, bytes: bytes(64 * 1024 * 1024) });
export type FileOut = z.infer<typeof fileOut>;

/** One scanned QR frame (text as the camera read it) with a label for messages. */
export const frameIn = z.strictObject({ name: text(500), frame: z.string().min(1).max(MAX_FRAME_CHARS) });
export type FrameIn = z.infer<typeof frameIn>;

/** An operation id chosen by the renderer, echoed in `progress` events and used to cancel. */
export const opId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, '1-64 letters, digits, _ or -');

export const hex = (len: number) => z.string().regex(new RegExp(`^[0-9a-f]{${String(len * 2)}}$`), `${String(len * 2)} lower-case hex digits`);
export const hex32 = hex(32);
export const hex16 = hex(16);
/** An envelope id (its SHA-256, hex) or a unique prefix of at least 8 hex digits. */
export const envelopeId = z.string().regex(/^[0-9a-fA-F]{8,64}$/, 'an envelope id: 8 to 64 hex digits');
/** Unix seconds. */
export const time = z.number().int().min(0);
/** The 24-digit comparison code as printed: six groups of four digits. */
export const comparisonCode = z.string().regex(/^[0-9]{4}( [0-9]{4}){5}$/);
export const identifier = z.string().min(1).max(128);
export const shareIndex = z.number().int().min(1).max(255);
export const epoch = z.number().int().min(1);
export const count = z.number().int().min(0);

/** A sentence in both languages. */
export const sentence = z.strictObject({ en: z.string(), 'zh-CN': z.string() });
export type Sentence = z.infer<typeof sentence>;

export const detailValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number()]))]);

/** What every refusal looks like on the renderer side. */
export const ipcError = z.strictObject({
  code: z.enum(IPC_ERROR_CODES),
  /** The sentence to show, in both languages. */
  message: sentence,
  /** The specific English sentence (names the field, the share, the file), when there is one. */
  detail: z.string().optional(),
  /** Non-secret facts (`delaySeconds` after a wrong passphrase, `field` of a bad request, …). */
  details: z.record(z.string(), detailValue),
});
export type IpcError = z.infer<typeof ipcError>;

/** The answer to every call. */
export type IpcResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: IpcError };

/** A refusal that is part of a successful answer (one item of a batch). */
export const problem = ipcError;

export const empty = z.strictObject({});

export const coordinates = {
  keyId: identifier,
  nodeId: identifier,
  setId: hex16,
  epoch,
  shareIndex,
};
export const shareCoordinates = z.strictObject(coordinates);
export type ShareCoordinates = z.infer<typeof shareCoordinates>;

/** QR frames of one message: the UR texts and each as an SVG document (black on white). */
export const qrOut = z.strictObject({
  /** The UR frames (`ur:custos-…`), in order: show them in a loop; any order scans. */
  frames: z.array(z.string()),
  /** One SVG document per frame. Show with `<img src={'data:image/svg+xml;utf8,' + encodeURIComponent(svg)}>`. */
  svgs: z.array(z.string()),
});
export type QrOut = z.infer<typeof qrOut>;

// ---- records ------------------------------------------------------------------------------------

export const vaultInfo = z.strictObject({
  name: z.string(),
  createdAt: time,
  /** The custodian's Ed25519 key, hex. */
  signKey: hex32,
  ageRecipient: z.string(),
  /** Fingerprint of the identity, hex. */
  fingerprint: hex32,
  /** The 24-digit code to read out to ops. */
  code: comparisonCode,
});
export type VaultInfo = z.infer<typeof vaultInfo>;

/** Whom to call back about an agent or an approver (recorded when pinning; free text, bounded). */
export const callBackContact = z.strictObject({ name: z.string().max(200), reach: z.string().max(200) });

/** An approver this vault trusts (main/services/trust.ts). */
export const pinnedApproverView = z.strictObject({
  name: z.string(),
  signKey: hex32,
  fingerprint: hex32,
  code: comparisonCode,
  pinnedAt: time,
  via: z.enum(['card', 'roster']),
  status: z.enum(['enabled', 'disabled']),
  contact: callBackContact.optional(),
});

export const approverCardPreview = z.strictObject({ name: z.string(), signKey: hex32, fingerprint: hex32, code: comparisonCode, createdAt: time });

export const agentCardPreview = z.strictObject({
  name: z.string(),
  signKey: hex32,
  fingerprint: hex32,
  /** The 24-digit code to compare with ops over another channel before pinning. */
  code: comparisonCode,
  createdAt: time,
});

export const pinnedAgentView = z.strictObject({
  name: z.string(),
  signKey: hex32,
  fingerprint: hex32,
  code: comparisonCode,
  pinnedAt: time,
  /** `pin`: pinned after a code comparison; `rotation`: through a notice signed by the previous key. */
  via: z.enum(['pin', 'rotation']),
  replacedAt: time.optional(),
});

export const shareSummary = z.strictObject({
  id: hex32,
  ...coordinates,
  status: z.enum(SHARE_STATUSES),
  curve: z.string(),
  threshold: z.number().int(),
  total: z.number().int(),
  receivedAt: time,
  notAfter: time.optional(),
  /** The last receipt signed for it. */
  receipt: z.enum(['accepted', 'rejected']).optional(),
  /** How many recovery exports were made of it. */
  exports: count,
  /** Deleted: hard deletion allowed from this time (rollback until then). */
  purgeAfter: time.optional(),
  /** Superseded: the agent asks to destroy it after this time. */
  destroyAfter: time.optional(),
});
export type ShareSummary = z.infer<typeof shareSummary>;

export const receiptRef = z.strictObject({
  status: z.enum(['accepted', 'rejected']),
  reason: z.enum(REJECTION_REASONS).optional(),
  note: z.string().optional(),
  signedAt: time,
  hash: hex32,
});

export const shareDetails = shareSummary.extend({
  manifestHash: hex32,
  /** The agent key that signed the envelope, hex. */
  agentKey: hex32,
  envelopeCreatedAt: time,
  envelopeSize: count,
  deletion: z.strictObject({ deletedAt: time, purgeAfter: time, previousStatus: z.enum(['received', 'confirmed', 'exported', 'superseded']), reason: z.string().optional() }).optional(),
  superseded: z.strictObject({ newSetId: hex16, newEpoch: epoch, newManifestHash: hex32, destroyAfter: time, noticeHash: hex32, appliedAt: time }).optional(),
  receipts: z.array(receiptRef),
  exportsMade: z.array(z.strictObject({ sessionId: hex16, incidentId: z.string(), requestHash: hex32, exportedAt: time, exportHash: hex32 })),
  history: z.array(z.strictObject({ at: time, event: z.string(), detail: z.string().optional() })),
  /**
   * Issue 12 (H14): the group public key the share's signed manifest names (main/services/share-group-key.ts),
   * absent when the manifest was made before it carried one (compare after recovery then).
   */
  groupKey: z.strictObject({ curve: z.enum(['secp256k1', 'ed25519']), compressed: z.string(), fingerprint: z.string(), address: z.string().optional(), base58: z.string().optional() }).optional(),
});
export type ShareDetails = z.infer<typeof shareDetails>;

/**
 * Issue 12 (H8): the class of a refusal, so a person can tell an attack from noise
 * (main/services/refusal-class.ts decides it): its look, its advice, and whether a signed
 * rejection receipt is offered (never for a harmless file).
 */
export const REFUSAL_CLASSES = ['possible-attack', 'not-for-you-or-outdated', 'harmless'] as const;
export type RefusalClass = (typeof REFUSAL_CLASSES)[number];
export const refusalClassView = z.strictObject({ class: z.enum(REFUSAL_CLASSES), offerSignedRejection: z.boolean(), advice: sentence });

export const refusalView = z.strictObject({
  id: hex32,
  name: z.string().optional(),
  at: time,
  code: z.enum(IPC_ERROR_CODES),
  message: sentence,
  /** Read from the envelope WITHOUT trusting it, when it could be parsed at all. */
  fields: shareCoordinates.optional(),
  /** How many (rejected) receipts were signed for it. */
  receipts: count,
  /** Its class (issue 12); `offerSignedRejection` is also false when no receipt could name it. */
  refusal: refusalClassView,
});

export const supersedeResult = z.strictObject({
  noticeHash: hex32,
  keyId: identifier,
  nodeId: identifier,
  oldSetId: hex16,
  oldEpoch: epoch,
  newSetId: hex16,
  newEpoch: epoch,
  destroyAfter: time,
  /** The notice says the old set is stale: the node's keydata was reshared (tss-lib resharing), not merely rotated. */
  stale: z.boolean(),
  /** Envelope ids of the shares marked superseded now. */
  affected: z.array(hex32),
  alreadyApplied: z.boolean(),
});

export const importItemResult = z.strictObject({
  /** Position among the messages found in the input (files first, then assembled QR messages). */
  index: count,
  name: z.string().optional(),
  kind: z.enum(['envelope', 'supersede', 'other']),
  outcome: z.enum(['accepted', 'refused', 'applied']),
  /** The envelope's SHA-256: its id in the vault and in receipts. */
  id: hex32.optional(),
  share: shareCoordinates.optional(),
  /** For a refusal: why, in words, in both languages (`detail` is the specific English sentence). */
  problem: problem.optional(),
  /** For a refusal: its class, advice and whether a signed rejection is offered (issue 12). */
  refusal: refusalClassView.optional(),
  supersede: supersedeResult.optional(),
});
export type ImportItemResult = z.infer<typeof importItemResult>;

/** Inputs that did not even yield a message (an unreadable image, incomplete QR frames). */
export const unreadInput = z.strictObject({ names: z.array(z.string()), problem });

export const recoverySummary = z.strictObject({
  requestHash: hex32,
  sessionId: hex16,
  incidentId: z.string(),
  /** The session's free-text incident title in any script (docs/protocol.md §4.5), when it has one. */
  incidentTitle: z.string().optional(),
  keyId: identifier,
  nodeId: identifier,
  setId: hex16,
  epoch,
  /** `mixed`: server-held and custodian shares; `external-only`: custodian shares only. */
  mode: z.enum(['mixed', 'external-only']),
  /** The request (and the session) expire at this time. */
  notAfter: time,
  createdAt: time,
  threshold: z.number().int(),
  total: z.number().int(),
  agent: z.strictObject({ name: z.string(), code: z.string(), contact: callBackContact.optional() }),
  /**
   * Each approval against the approvers this vault pinned: `verified` (a pinned, enabled key),
   * `changed-key` (a pinned approver's name, another key), `disabled` (by the roster), `unknown`.
   */
  approvals: z.array(
    z.strictObject({
      name: z.string(),
      code: z.string(),
      fingerprint: hex32,
      approvedAt: time,
      verdict: z.enum(['verified', 'changed-key', 'disabled', 'unknown']),
      pinned: z.strictObject({ name: z.string(), code: z.string() }).optional(),
      contact: callBackContact.optional(),
    }),
  ),
  verifiedApprovals: count,
  requiredApprovals: count,
  /** Exportable only with a typed override reason (`recovery:export` `override`): too few verified approvers. */
  needsOverride: z.boolean(),
  /** The share of this set the vault holds, if any. */
  share: z.strictObject({ id: hex32, shareIndex, status: z.string() }).nullable(),
  exportable: z.boolean(),
  /** Why it cannot be exported, when it cannot. */
  problem: problem.optional(),
  /**
   * Warnings (main/services/recovery-warnings.ts): `code` and `params` for the screen's catalog
   * (`recWarn_<code>`, `recWarnDo_<code>`), the sentences in both languages, whom to call back.
   */
  warnings: z.array(
    z.strictObject({
      code: z.enum(['exported-other-session', 'exported-this-session', 'superseded', 'short-expiry', 'mixed-mode', 'agent-rotated', 'approver-key-changed', 'approvers-unverified']),
      params: z.record(z.string(), z.union([z.string().max(2000), z.number()])),
      message: sentence,
      advice: sentence,
      contact: callBackContact.optional(),
    }),
  ),
  /**
   * What `recovery:export` must be given back as `confirmation`: names this exact request, so a
   * confirmation given for one request never exports for another.
   */
  confirmation: hex32,
});
export type RecoverySummary = z.infer<typeof recoverySummary>;

/** The agent's view of a recovery session (from its RecoverMPCShare answer). */
export const agentSessionView = z.strictObject({
  state: z.enum(['unspecified', 'awaiting-approvals', 'collecting', 'completed', 'failed', 'expired', 'cancelled']),
  incidentId: z.string(),
  threshold: z.number().int(),
  received: z.array(shareIndex),
  missing: z.array(shareIndex),
  /** Mixed mode: the server-held shares completion will use. */
  server: z.array(shareIndex),
  approvals: z.array(z.strictObject({ name: z.string(), fingerprint: z.string() })),
  notAfter: time.optional(),
  /** When this view was fetched (Unix seconds, this machine's clock). */
  fetchedAt: time,
});

export const stationItem = z.strictObject({
  shareIndex,
  /** Display name of the file or QR frames it came from. */
  name: z.string(),
  /** SHA-256 of the export file, hex: its identity at the station. */
  hash: hex32,
  /** The Ed25519 key that signed it (hex); the AGENT checks it belongs to the custodian of this index. */
  signer: hex32,
  createdAt: time,
  /** `pending`: not yet sent to the agent. */
  submitted: z.enum(['pending', 'accepted', 'refused']),
  problem: problem.optional(),
});

export const stationSession = z.strictObject({
  sessionId: hex16,
  keyId: identifier,
  nodeId: identifier,
  setId: hex16,
  epoch,
  /** From the recovery request, when one was added. */
  incidentId: z.string().optional(),
  incidentTitle: z.string().optional(),
  mode: z.enum(['mixed', 'external-only']).optional(),
  threshold: z.number().int().optional(),
  total: z.number().int().optional(),
  notAfter: time.optional(),
  /**
   * The recovery request of this session, if one was added: `verified` when it was checked against
   * the pinned agent key (vault unlocked, agent pinned); otherwise only its own signatures were.
   */
  request: z.strictObject({ hash: hex32, verified: z.boolean() }).nullable(),
  /** Custodian-held share indexes of the set (from the request's manifest). Empty without a request. */
  expected: z.array(shareIndex),
  /** Every export that arrived for this session (several per index are kept; the agent decides). */
  arrived: z.array(stationItem),
  /** Expected indexes without any arrived export (from the request, else from the agent's view). */
  missing: z.array(shareIndex),
  /** The agent's view, after `station:refresh` or `station:submit`. */
  agent: agentSessionView.nullable(),
});
export type StationSession = z.infer<typeof stationSession>;

export const selfCheckItem = z.strictObject({ name: z.string(), ok: z.boolean(), detail: z.string() });

export const settingsValue = z.strictObject({
  version: z.literal(1),
  language: z.enum(LANGUAGES),
  /** Lock after this many idle minutes; 0 = never. */
  autoLockMinutes: z.number().int().min(0).max(24 * 60),
  /** The linked agent (origin and optional base path), or null: then the app makes no network request. */
  agentUrl: z.string().max(2048).nullable(),
  deletionCoolingDays: z.number().int().min(1).max(365),
  /** Recovery policy: warn below this many minutes left on a request, and on mixed mode when external-only is expected. */
  recoveryMinExpiryMinutes: z.number().int().min(0).max(7 * 24 * 60),
  recoveryExpectMode: z.enum(['any', 'external-only']),
});
export type SettingsValue = z.infer<typeof settingsValue>;

export const chainVerdict = z.strictObject({
  ok: z.boolean(),
  entries: count,
  firstBad: z.strictObject({ seq: count, position: count, reason: z.enum(['edited', 'removed-or-reordered', 'malformed', 'truncated']) }).optional(),
});
export const auditHead = z.strictObject({ seq: count, hash: hex32 }).nullable();

/** What `files:open` is for: picks the dialog's title and file filters. */
export const OPEN_PURPOSES = ['envelopes', 'agent-card', 'agent-key-rotation', 'recovery-request', 'inventory-challenge', 'supersede', 'recovery-exports', 'receipts', 'qr-images', 'any'] as const;

/** The last verified vault backup (issue 13, H11): where by name only (`folder` in `drive`), never a full path. */
export const backupRecordView = z.strictObject({
  verifiedAt: time,
  /** The save (record generation) the copy holds. */
  generation: count,
  /** The copy's own folder name (custos-vault-<name>-<UTC time>). */
  folder: z.string().max(300),
  /** The name of the folder it was put in (the removable drive or a folder on it). */
  drive: z.string().max(300),
  files: count,
  bytes: count,
});
export const backupStatusView = z.strictObject({
  last: backupRecordView.nullable(),
  /** The live vault's newest save. */
  generation: count,
  /** No verified backup yet, or the vault changed since the last one. */
  due: z.boolean(),
});
/** What a backup verified: every file read back equal (SHA-256), the identity opened with the passphrase, the records loaded. */
export const backupDoneView = z.strictObject({
  saved: z.boolean(),
  backup: backupRecordView.extend({ shares: count, hashesMatch: z.literal(true), identityMatches: z.literal(true) }).optional(),
});
/** (H2, issue 13) A vault restored from a verified backup: where it came from (names only), what it holds, whether it was unlocked with the same passphrase. */
export const backupRestoredView = z.strictObject({
  restored: z.boolean(),
  restore: z
    .strictObject({
      /** The backup folder's own name (custos-vault-<name>-<UTC time>) and the name of the folder it is in. */
      folder: z.string().max(300),
      drive: z.string().max(300),
      /** The save the restored records hold, and how many shares. */
      generation: count,
      shares: count,
      /** Unlocked right away with the passphrase that verified it (false: the unlock screen follows). */
      unlocked: z.boolean(),
    })
    .optional(),
});
