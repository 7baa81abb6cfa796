/**
 * The IPC contract between the renderer and the main process, written once (issue 4, "Desktop
 * shell": "The IPC contract is written once in shared/ (channel map and zod schemas)").
 *
 * - `CHANNELS` is the ONE `as const` map of every channel, named `feature:verb`, each with a zod
 *   schema for its request and for its response. The main process parses every request with it
 *   BEFORE use (main/dispatch.ts) and every response before it leaves, so a handler can never leak
 *   a field the contract does not name (response objects are strict).
 * - `EVENTS` is the map of what main pushes to the renderer without being asked: progress of long
 *   operations, the vault locking itself (auto-lock), settings changing.
 * - Every call answers an `IpcResult`: `{ ok: true, value }` or `{ ok: false, error }`. An error is
 *   `{ code, message: { en, 'zh-CN' }, detail?, details }`: a stable code to switch on, the sentence a
 *   person can act on in both languages, the specific English sentence (names the field, the share,
 *   the file), and non-secret facts. Never a stack, a cause, a secret or a file-system path.
 *   Results are values, not exceptions, because Electron's contextBridge drops everything but the
 *   message of a thrown Error.
 * - Files cross as bytes with a display name (`FileIn`, `FileOut`). The renderer never sends or
 *   receives a file-system path: opening and saving go through `files:*`, where main shows the
 *   system dialog and touches the disk.
 * - Secrets never cross: no decrypted share, no identity key. Passphrases go renderer → main only.
 *
 * Pure TypeScript (zod only): it runs in the main process, the preload (types only), the renderer
 * and the end-to-end test host alike.
 */
import { z } from 'zod';
import { auditEntrySchema } from '../audit/chain';
import { ERROR_CODES } from '../errors';
import { MESSAGE_TYPES } from '../protocol/frame';
import { REJECTION_REASONS } from '../protocol/receipt';
import { SERVICE_ERROR_CODES } from '../service-errors';
import { LANGUAGES, type Language } from '../languages';
import { SHARE_STATUSES, type ShareStatus } from '../share-status';

// ---- limits -------------------------------------------------------------------------------------

/** The largest single file accepted over IPC (an envelope is a few KB; a photo of a QR code more). */
export const MAX_FILE_BYTES = 16 * 1024 * 1024;
/** The most files or frames in one call (a batch import of thousands of envelopes fits). */
export const MAX_ITEMS = 20_000;
/** No QR code holds more characters than this (version 40, level L). */
export const MAX_FRAME_CHARS = 4296;

export { LANGUAGES, type Language, SHARE_STATUSES, type ShareStatus };

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

/** A file name main suggests: letters, digits, `.`, `_` and `-` only, so it is valid on every system. */
export const fileName = z.string().regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/, 'a plain file name');

/** A file going main → renderer (to show, or to hand back to `files:save`). */
export const fileOut = z.strictObject({ name: fileName, bytes: bytes(64 * 1024 * 1024) });
export type FileOut = z.infer<typeof fileOut>;

/** One scanned QR frame (text as the camera read it) with a label for messages. */
export const frameIn = z.strictObject({ name: text(500), frame: z.string().min(1).max(MAX_FRAME_CHARS) });
export type FrameIn = z.infer<typeof frameIn>;

/** An operation id chosen by the renderer, echoed in `progress` events and used to cancel. */
export const opId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, '1-64 letters, digits, _ or -');

const hex = (len: number) => z.string().regex(new RegExp(`^[0-9a-f]{${String(len * 2)}}$`), `${String(len * 2)} lower-case hex digits`);
const hex32 = hex(32);
const hex16 = hex(16);
/** An envelope id (its SHA-256, hex) or a unique prefix of at least 8 hex digits. */
export const envelopeId = z.string().regex(/^[0-9a-fA-F]{8,64}$/, 'an envelope id: 8 to 64 hex digits');
/** Unix seconds. */
const time = z.number().int().min(0);
/** The 24-digit comparison code as printed: six groups of four digits. */
const comparisonCode = z.string().regex(/^[0-9]{4}( [0-9]{4}){5}$/);
const identifier = z.string().min(1).max(128);
const shareIndex = z.number().int().min(1).max(255);
const epoch = z.number().int().min(1);
const count = z.number().int().min(0);

/** A sentence in both languages. */
export const sentence = z.strictObject({ en: z.string(), 'zh-CN': z.string() });
export type Sentence = z.infer<typeof sentence>;

const detailValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number()]))]);

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

const empty = z.strictObject({});

const coordinates = {
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

const receiptRef = z.strictObject({
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
});
export type ShareDetails = z.infer<typeof shareDetails>;

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
});

const supersedeResult = z.strictObject({
  noticeHash: hex32,
  keyId: identifier,
  nodeId: identifier,
  oldSetId: hex16,
  oldEpoch: epoch,
  newSetId: hex16,
  newEpoch: epoch,
  destroyAfter: time,
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
  supersede: supersedeResult.optional(),
});
export type ImportItemResult = z.infer<typeof importItemResult>;

/** Inputs that did not even yield a message (an unreadable image, incomplete QR frames). */
export const unreadInput = z.strictObject({ names: z.array(z.string()), problem });

export const recoverySummary = z.strictObject({
  requestHash: hex32,
  sessionId: hex16,
  incidentId: z.string(),
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
  agent: z.strictObject({ name: z.string(), code: z.string() }),
  approvals: z.array(z.strictObject({ name: z.string(), code: z.string(), fingerprint: hex32, approvedAt: time })),
  /** The share of this set the vault holds, if any. */
  share: z.strictObject({ id: hex32, shareIndex, status: z.string() }).nullable(),
  exportable: z.boolean(),
  /** Why it cannot be exported, when it cannot. */
  problem: problem.optional(),
  /** Non-blocking remarks (English): the share is superseded, was exported before, … */
  warnings: z.array(z.string()),
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

const selfCheckItem = z.strictObject({ name: z.string(), ok: z.boolean(), detail: z.string() });

export const settingsValue = z.strictObject({
  version: z.literal(1),
  language: z.enum(LANGUAGES),
  /** Lock after this many idle minutes; 0 = never. */
  autoLockMinutes: z.number().int().min(0).max(24 * 60),
  /** The linked agent (origin and optional base path), or null: then the app makes no network request. */
  agentUrl: z.string().max(2048).nullable(),
  deletionCoolingDays: z.number().int().min(1).max(365),
});
export type SettingsValue = z.infer<typeof settingsValue>;

const chainVerdict = z.strictObject({
  ok: z.boolean(),
  entries: count,
  firstBad: z.strictObject({ seq: count, position: count, reason: z.enum(['edited', 'removed-or-reordered', 'malformed', 'truncated']) }).optional(),
});
const auditHead = z.strictObject({ seq: count, hash: hex32 }).nullable();

/** What `files:open` is for: picks the dialog's title and file filters. */
export const OPEN_PURPOSES = ['envelopes', 'agent-card', 'agent-key-rotation', 'recovery-request', 'inventory-challenge', 'supersede', 'recovery-exports', 'receipts', 'qr-images', 'any'] as const;

// ---- the channel map ----------------------------------------------------------------------------

/** A channel's request and response schemas. */
interface ChannelSpec {
  readonly request: z.ZodType;
  readonly response: z.ZodType;
}
const channel = <Req extends z.ZodType, Res extends z.ZodType>(request: Req, response: Res) => ({ request, response }) satisfies ChannelSpec;

export const CHANNELS = {
  // -- app ------------------------------------------------------------------------------------------
  /** Version, protocol version and platform. Needs nothing. */
  'app:info': channel(empty, z.strictObject({ name: z.literal('Custos'), version: z.string(), protocolVersion: z.number().int(), platform: z.string(), languages: z.array(z.enum(LANGUAGES)) })),
  /** The person did something: restarts the auto-lock timer (so does every call but the PASSIVE_CHANNELS). */
  'app:activity': channel(empty, empty),

  // -- vault --------------------------------------------------------------------------------------
  /**
   * Which screen to show first: no vault yet (first run), locked (with the wait before the next
   * unlock attempt, for a countdown), or unlocked (with counts per status and the pinned agent).
   */
  'vault:status': channel(
    empty,
    z.strictObject({
      exists: z.boolean(),
      unlocked: z.boolean(),
      info: vaultInfo.nullable(),
      /** Milliseconds before the next unlock attempt is tried (grows with each wrong passphrase). */
      unlockDelayMs: count,
      /** Unlocked only: the pinned agent. */
      agent: pinnedAgentView.nullable(),
      /** Unlocked only: how many shares per status, and refused envelopes remembered. */
      counts: z.strictObject({ received: count, confirmed: count, exported: count, superseded: count, deleted: count, refused: count }).nullable(),
      autoLockMinutes: count,
    }),
  ),
  /**
   * First run: creates the vault and identity (KDF calibrated to about a second; `progress` events
   * with phase `deriving`). The vault is left unlocked. Returns the enrollment card to save and as QR.
   */
  'vault:create': channel(
    z.strictObject({ name: z.string().max(1000), passphrase: z.string().max(1024), opId: opId.optional() }),
    z.strictObject({ info: vaultInfo, card: fileOut, qr: qrOut }),
  ),
  /**
   * Unlocks (one KDF run, off the renderer thread). Waits out the delay earned by earlier wrong
   * passphrases first (`progress` phase `waiting`, then `deriving`). WRONG_PASSPHRASE carries
   * `details.delaySeconds` for the next try.
   */
  'vault:unlock': channel(
    z.strictObject({ passphrase: z.string().max(1024), opId: opId.optional() }),
    z.strictObject({
      generation: count,
      /** shares.age was unreadable and the previous generation was used: say so. */
      recoveredFromPrevious: z.boolean(),
      /** false: the audit log does not verify; point to the audit screen. */
      auditOk: z.boolean(),
    }),
  ),
  /** Locks now: keys and shares are wiped from memory. Also emits `vault:locked` (reason `request`). */
  'vault:lock': channel(empty, z.strictObject({ locked: z.literal(true) })),
  'vault:changePassphrase': channel(z.strictObject({ current: z.string().max(1024), next: z.string().max(1024) }), empty),
  /** The enrollment card (fresh when unlocked, the stored one when locked) as a file and as QR. */
  'vault:card': channel(empty, z.strictObject({ card: fileOut, qr: qrOut, code: comparisonCode, fingerprint: hex32 })),

  // -- trust --------------------------------------------------------------------------------------
  /** Opens an agent card and shows the code to compare with ops. Changes nothing; needs no vault. */
  'trust:previewAgent': channel(z.strictObject({ card: fileIn }), agentCardPreview),
  /**
   * Pins the agent card. `confirmCode` is the code the person compared with ops (spaces and dashes
   * ignored): CODE_MISMATCH otherwise. Another key already pinned: AGENT_ALREADY_PINNED.
   */
  'trust:pin': channel(z.strictObject({ card: fileIn, confirmCode: z.string().max(100) }), agentCardPreview.extend({ alreadyPinned: z.boolean() })),
  /** Applies an agent key replacement notice, accepted only when signed by the pinned key. */
  'trust:rotate': channel(z.strictObject({ notice: fileIn }), z.strictObject({ previous: agentCardPreview, next: agentCardPreview })),
  /** The pinned agent and the ones it replaced. */
  'trust:status': channel(empty, z.strictObject({ agent: pinnedAgentView.nullable(), previous: z.array(pinnedAgentView) })),

  // -- inbox --------------------------------------------------------------------------------------
  /**
   * Batch import: envelope and supersede-notice files as they are, QR images (PNG) and UR frame
   * text files read and reassembled, plus frames scanned by the camera. One vault save for the
   * batch. `progress` events (phase `importing`) carry done/total/accepted/refused; `inbox:cancel`
   * stops after the current envelope (what was accepted so far is kept and saved).
   */
  'inbox:import': channel(
    z.strictObject({ opId, files: z.array(fileIn).max(MAX_ITEMS).default([]), frames: z.array(frameIn).max(MAX_ITEMS).default([]) }),
    z.strictObject({
      results: z.array(importItemResult),
      unread: z.array(unreadInput),
      accepted: count,
      refused: count,
      applied: count,
      aborted: z.boolean(),
    }),
  ),
  'inbox:cancel': channel(z.strictObject({ opId }), z.strictObject({ cancelled: z.boolean() })),
  /** Envelopes refused at import and remembered (no secret) so a `rejected` receipt can answer them. */
  'inbox:refusals': channel(empty, z.strictObject({ refusals: z.array(refusalView) })),

  // -- shares -------------------------------------------------------------------------------------
  /** Shares, filtered; `facets` lists every key, node and set in the vault for the filter menus. */
  'shares:list': channel(
    z.strictObject({
      filter: z
        .strictObject({
          keyId: identifier.optional(),
          nodeId: identifier.optional(),
          /** hex, or a prefix of it */
          setId: z.string().regex(/^[0-9a-fA-F]{1,32}$/).optional(),
          shareIndex: shareIndex.optional(),
          status: z.union([z.enum(SHARE_STATUSES), z.array(z.enum(SHARE_STATUSES)).max(5)]).optional(),
        })
        .default({}),
    }),
    z.strictObject({
      shares: z.array(shareSummary),
      /** Shares in the vault, before filtering. */
      total: count,
      facets: z.strictObject({ keyIds: z.array(z.string()), nodeIds: z.array(z.string()), setIds: z.array(hex16) }),
    }),
  ),
  /** One share with its receipts, exports and history (never the share itself). */
  'shares:details': channel(z.strictObject({ id: envelopeId }), shareDetails),
  /**
   * Decrypts every envelope again and checks each share against its stored copy and its
   * commitment. `progress` events (phase `verifying`).
   */
  'shares:verifyAll': channel(
    z.strictObject({ opId: opId.optional() }),
    z.strictObject({ results: z.array(z.strictObject({ id: hex32, share: shareCoordinates, ok: z.boolean(), problem: problem.optional() })), ok: count, failed: count }),
  ),

  // -- receipts -----------------------------------------------------------------------------------
  /**
   * Signs receipts: `accepted` for held shares (received → confirmed), or `rejected` with a reason
   * (required for a held share; for a refused envelope it defaults to the refusal's reason).
   * `ids: 'all'`: every share still `received` (accepted), or every refusal without a receipt
   * (rejected). A bad id in a batch signs nothing.
   */
  'receipts:sign': channel(
    z.strictObject({
      ids: z.union([z.literal('all'), z.array(envelopeId).min(1).max(MAX_ITEMS)]),
      status: z.enum(['accepted', 'rejected']),
      reason: z.enum(REJECTION_REASONS).optional(),
      note: text(500).optional(),
    }),
    z.strictObject({
      receipts: z.array(z.strictObject({ id: hex32, status: z.enum(['accepted', 'rejected']), reason: z.enum(REJECTION_REASONS).optional(), hash: hex32, file: fileOut })),
    }),
  ),
  /** Receipt files (signed by this vault) as QR frames, to show to ops' scanner. */
  'receipts:export': channel(
    z.strictObject({ receipts: z.array(fileIn).min(1).max(1000) }),
    z.strictObject({ receipts: z.array(z.strictObject({ name: z.string(), id: hex32, status: z.enum(['accepted', 'rejected']), qr: qrOut })) }),
  ),
  /** Sends receipt files to the linked agent (ConfirmShareDelivery); one result per file. */
  'receipts:send': channel(
    z.strictObject({ receipts: z.array(fileIn).min(1).max(MAX_ITEMS) }),
    z.strictObject({
      results: z.array(z.strictObject({ name: z.string(), ok: z.boolean(), agentStatus: z.enum(['unspecified', 'pending', 'delivered', 'confirmed', 'rejected']).optional(), problem: problem.optional() })),
    }),
  ),

  // -- recovery export ----------------------------------------------------------------------------
  /** Verifies the agent's signed recovery request and describes it in plain words. Changes nothing. */
  'recovery:show': channel(z.strictObject({ request: fileIn }), recoverySummary),
  /**
   * Exports the share for the request after the deliberate confirmation (`confirmation` =
   * `recovery:show`'s `summary.confirmation`, else CONFIRMATION_REQUIRED). Everything is verified
   * again; the share becomes `exported`; audited. Returns the export as a file, as QR frames (the
   * pure frames, plus `loop` extra fountain frames for a display that loops and a scanner that
   * misses some) and, with `sheet`, the printable PDF recovery sheet.
   */
  'recovery:export': channel(
    z.strictObject({
      request: fileIn,
      confirmation: z.string().regex(/^[0-9a-fA-F]{64}$/, 'the 64-hex-digit confirmation from recovery:show'),
      extraFrames: z.number().int().min(0).max(500).default(0),
      sheet: z.boolean().default(true),
      opId: opId.optional(),
    }),
    z.strictObject({
      summary: recoverySummary,
      /** SHA-256 of the export file, hex (printed on the sheet too). */
      hash: hex32,
      file: fileOut,
      qr: qrOut.extend({ loop: z.array(z.string()) }),
      /** The printable sheet (PDF), when asked for. */
      sheet: fileOut.nullable(),
      /** The export was made but the sheet could not be: why (the file and QR frames are fine). */
      sheetProblem: problem.optional(),
    }),
  ),

  // -- recovery station (ops) ---------------------------------------------------------------------
  /**
   * Adds custodians' recovery exports (files, QR images, UR text, camera frames) and recovery
   * requests (they tell which shares to expect) to the station, grouped by session. In memory only.
   */
  'station:add': channel(
    z.strictObject({ files: z.array(fileIn).max(MAX_ITEMS).default([]), frames: z.array(frameIn).max(MAX_ITEMS).default([]) }),
    z.strictObject({
      added: z.array(
        z.strictObject({
          name: z.string(),
          kind: z.enum(['recovery-export', 'recovery-request', 'other']),
          outcome: z.enum(['added', 'duplicate', 'refused']),
          sessionId: hex16.optional(),
          shareIndex: shareIndex.optional(),
          problem: problem.optional(),
        }),
      ),
      unread: z.array(unreadInput),
      sessions: z.array(stationSession),
    }),
  ),
  /** Every session at the station (agent:status tells whether an agent is linked). */
  'station:list': channel(empty, z.strictObject({ sessions: z.array(stationSession) })),
  /** Removes one export (by hash) or, without `hash`, the whole session from the station. */
  'station:remove': channel(z.strictObject({ sessionId: hex16, hash: hex32.optional() }), z.strictObject({ sessions: z.array(stationSession) })),
  /** Asks the linked agent for its view of the session (received, missing, state). Sends no share. */
  'station:refresh': channel(z.strictObject({ sessionId: hex16 }), z.strictObject({ session: stationSession })),
  /**
   * Submits the session's pending exports to the linked agent (RecoverMPCShare). With `complete`, the
   * agent combines and writes back the share; with `drill` too, it verifies everything and writes
   * nothing. Refused exports are named; accepted ones are kept by the agent.
   */
  'station:submit': channel(
    z.strictObject({ sessionId: hex16, complete: z.boolean().default(false), drill: z.boolean().default(false), opId: opId.optional() }),
    z.strictObject({
      session: stationSession,
      accepted: z.array(shareIndex),
      refused: z.array(z.strictObject({ shareIndex: z.number().int().min(0), problem })),
      missing: z.array(shareIndex),
      completion: z
        .strictObject({
          success: z.boolean(),
          written: z.boolean(),
          failure: problem.optional(),
          selfCheck: z.array(selfCheckItem),
          keydataSha256: z.string(),
          durationMs: count,
        })
        .nullable(),
    }),
  ),

  // -- linked agent -------------------------------------------------------------------------------
  /** The linked agent URL (from settings) and whether an API token was given this run. */
  'agent:status': channel(empty, z.strictObject({ url: z.string().nullable(), tokenSet: z.boolean() })),
  /**
   * The agent's API token, kept in main-process memory for this run only: never written to disk,
   * never returned to the renderer. null forgets it.
   */
  'agent:setToken': channel(z.strictObject({ token: z.string().regex(/^[\x21-\x7e]{16,4096}$/, 'printable ASCII without spaces, at least 16 characters').nullable() }), z.strictObject({ tokenSet: z.boolean() })),

  // -- inventory, supersede, deletion --------------------------------------------------------------
  /** Answers the agent's signed inventory challenge with a signed attestation (file and QR). */
  'inventory:answer': channel(
    z.strictObject({ challenge: fileIn }),
    z.strictObject({
      challengeId: hex16,
      hash: hex32,
      held: count,
      missing: count,
      items: z.array(z.strictObject({ ...coordinates, answer: z.enum(['held', 'missing']), local: z.enum(['held', 'not-held', 'damaged', 'deleted']), id: hex32.optional() })),
      file: fileOut,
      qr: qrOut,
    }),
  ),
  /** Applies supersede notices (old set → superseded, destroyed after `destroyAfter`); one result each. */
  'supersede:apply': channel(
    z.strictObject({ notices: z.array(fileIn).min(1).max(1000) }),
    z.strictObject({ results: z.array(z.strictObject({ name: z.string(), ok: z.boolean(), result: supersedeResult.optional(), problem: problem.optional() })) }),
  ),
  /** Soft delete: the share stays for the cooling period (settings), rollback possible until then. */
  'deletion:soft': channel(z.strictObject({ id: envelopeId, reason: text(500).optional() }), z.strictObject({ share: shareSummary })),
  'deletion:rollback': channel(z.strictObject({ id: envelopeId }), z.strictObject({ share: shareSummary })),
  /** Hard-deletes shares whose cooling period is over; starts it for superseded shares past destroyAfter. */
  'deletion:purge': channel(
    empty,
    z.strictObject({ purged: z.array(shareSummary), scheduled: z.array(shareSummary), cooling: z.array(z.strictObject({ id: hex32, purgeAfter: time })) }),
  ),

  // -- audit --------------------------------------------------------------------------------------
  /** A page of the audit log (newest first by default), with its verification verdict. */
  'audit:list': channel(
    z.strictObject({ offset: count.default(0), limit: z.number().int().min(1).max(1000).default(200), newestFirst: z.boolean().default(true) }),
    z.strictObject({
      entries: z.array(z.union([z.strictObject({ entry: auditEntrySchema }), z.strictObject({ damaged: z.literal(true), position: count })])),
      total: count,
      head: auditHead,
      verdict: chainVerdict,
    }),
  ),
  'audit:verify': channel(empty, z.strictObject({ verdict: chainVerdict, head: auditHead })),
  /** The log as JSON lines and its head as a separate file, for auditors (verifyAuditJsonl). */
  'audit:export': channel(empty, z.strictObject({ file: fileOut, headFile: fileOut, head: auditHead, verdict: chainVerdict })),

  // -- settings -----------------------------------------------------------------------------------
  /** Settings (readable before unlocking: the language). A damaged file gives defaults and `problem`. */
  'settings:get': channel(empty, z.strictObject({ settings: settingsValue, problem: problem.optional() })),
  /**
   * Changes some settings (checked strictly: SETTINGS_INVALID names the field). Setting `agentUrl`
   * links the agent: the only origin the app may ever contact. Emits `settings:changed`.
   */
  'settings:set': channel(
    z.strictObject({
      change: z
        .strictObject({
          language: z.enum(LANGUAGES).optional(),
          autoLockMinutes: z.number().int().min(0).max(24 * 60).optional(),
          agentUrl: z.string().max(2048).nullable().optional(),
          deletionCoolingDays: z.number().int().min(1).max(365).optional(),
        })
        .refine((c) => Object.keys(c).length > 0, 'name at least one setting'),
    }),
    z.strictObject({ settings: settingsValue }),
  ),

  // -- QR -----------------------------------------------------------------------------------------
  /** The QR code in a PNG image (photo or screenshot), or null when none can be read. */
  'qr:decodeImage': channel(z.strictObject({ image: fileIn }), z.strictObject({ frame: z.string().nullable() })),
  /**
   * Reassembles scanned frames (any order, several messages mixed): complete messages as bytes,
   * incomplete or broken groups as problems (INCOMPLETE carries `details.received`/`expected`).
   */
  'qr:assemble': channel(
    z.strictObject({ frames: z.array(frameIn).min(1).max(MAX_ITEMS) }),
    z.strictObject({ messages: z.array(z.strictObject({ names: z.array(z.string()), urType: z.string(), bytes: bytes() })), problems: z.array(unreadInput) }),
  ),
  /** Any Custos message as QR frames (UR type `custos-<type>`). */
  'qr:encode': channel(z.strictObject({ type: z.enum(MESSAGE_TYPES), bytes: bytes(64 * 1024) }), qrOut),

  // -- files (system dialogs; main touches the disk) ----------------------------------------------
  /** Shows the save dialog (suggesting `file.name`) and writes the file. `saved: false` when cancelled. */
  'files:save': channel(z.strictObject({ file: fileOut }), z.strictObject({ saved: z.boolean(), name: z.string().optional() })),
  /** Asks for a folder and writes every file into it (never overwriting: a suffix is added). */
  'files:saveAll': channel(
    z.strictObject({ files: z.array(fileOut).min(1).max(MAX_ITEMS) }),
    z.strictObject({ saved: z.boolean(), folder: z.string().optional(), names: z.array(z.string()) }),
  ),
  /** Shows the open dialog and returns the chosen files' bytes and names (never their paths). */
  'files:open': channel(
    z.strictObject({ purpose: z.enum(OPEN_PURPOSES), multiple: z.boolean().default(false) }),
    z.strictObject({ files: z.array(fileIn) }),
  ),
} as const;

export type Channels = typeof CHANNELS;
export type Channel = keyof Channels;
export const CHANNEL_NAMES = Object.keys(CHANNELS) as Channel[];

/** What the renderer passes (defaults not yet applied). */
export type RequestOf<C extends Channel> = z.input<Channels[C]['request']>;
/** What a handler in main receives: parsed, defaults applied. */
export type ParsedRequestOf<C extends Channel> = z.output<Channels[C]['request']>;
/** What a handler returns (before the response is parsed). */
export type HandlerResultOf<C extends Channel> = z.input<Channels[C]['response']>;
/** What the renderer receives. */
export type ResponseOf<C extends Channel> = z.output<Channels[C]['response']>;

export const isChannel = (name: unknown): name is Channel => typeof name === 'string' && Object.hasOwn(CHANNELS, name);

/**
 * Calls that do NOT count as the person's activity for auto-lock: what a screen may poll (a
 * countdown, a status line). Every other call restarts the idle timer, like a key press.
 */
export const PASSIVE_CHANNELS: ReadonlySet<Channel> = new Set<Channel>(['app:info', 'vault:status', 'settings:get', 'agent:status', 'trust:status', 'station:list']);

// ---- events (main → renderer) -------------------------------------------------------------------

export const PROGRESS_PHASES = ['waiting', 'deriving', 'importing', 'verifying', 'exporting', 'submitting'] as const;

export const EVENTS = {
  /**
   * Progress of a long call, for a progress bar: `opId` is the one the renderer passed; `done` of
   * `total` (total 0 = unknown: show an indeterminate bar). Throttled (at most about 20 per second,
   * and always the last one).
   */
  progress: z.strictObject({
    opId,
    channel: z.enum(['vault:create', 'vault:unlock', 'inbox:import', 'shares:verifyAll', 'recovery:export', 'station:submit']),
    phase: z.enum(PROGRESS_PHASES),
    done: count,
    total: count,
    accepted: count.optional(),
    refused: count.optional(),
    /** phase `waiting`: how long the wait is, in ms (the delay after wrong passphrases). */
    waitMs: count.optional(),
  }),
  /** The vault locked: `idle` (auto-lock), `request` (vault:lock), `error` (a failed save forced it). */
  'vault:locked': z.strictObject({ reason: z.enum(['idle', 'request', 'error']), at: time }),
  /** Settings changed (language, auto-lock, linked agent). */
  'settings:changed': z.strictObject({ settings: settingsValue }),
} as const;

export type Events = typeof EVENTS;
export type EventName = keyof Events;
export type EventPayload<E extends EventName> = z.output<Events[E]>;
export const EVENT_NAMES = Object.keys(EVENTS) as EventName[];

export { eventChannel, TRANSPORT_FAILURE } from './transport';

// ---- transport-agnostic call signatures (the preload and the test bridge implement these) --------

/** Calls one channel. Electron: `ipcRenderer.invoke`; the e2e bridge: `fetch` to the test host. */
export type Invoke = <C extends Channel>(channel: C, payload: RequestOf<C>) => Promise<IpcResult<ResponseOf<C>>>;
/** Listens to one event; returns the function that stops listening. */
export type Subscribe = <E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void) => () => void;
