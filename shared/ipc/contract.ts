/**
 * (About 500 lines: the channel map is kept whole in one file on purpose — it is the one list of
 * what the renderer may ask; the record schemas it builds on live in ./schemas.ts.)
 *
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
 * and the end-to-end test host alike. The building blocks and records the channels carry are in
 * ./schemas.ts; this file is the channel map, the events and the call signatures.
 */
import { z } from 'zod';
import { AUDIT_EVENTS, auditEntrySchema } from '../audit/chain';
import { MESSAGE_TYPES } from '../protocol/frame';
import { REJECTION_REASONS } from '../protocol/receipt';
import { LANGUAGES, type Language } from '../languages';
import { SHARE_STATUSES, type ShareStatus } from '../share-status';
import {
  MAX_ITEMS,
  bytes,
  text,
  fileIn,
  fileOut,
  frameIn,
  opId,
  hex32,
  hex16,
  envelopeId,
  time,
  comparisonCode,
  identifier,
  shareIndex,
  count,
  problem,
  empty,
  coordinates,
  shareCoordinates,
  qrOut,
  vaultInfo,
  agentCardPreview,
  pinnedAgentView,
  approverCardPreview,
  pinnedApproverView,
  callBackContact,
  shareSummary,
  shareDetails,
  refusalView,
  supersedeResult,
  importItemResult,
  unreadInput,
  recoverySummary,
  stationSession,
  selfCheckItem,
  settingsValue,
  chainVerdict,
  auditHead,
  backupStatusView,
  backupDoneView,
  backupRestoredView,
  OPEN_PURPOSES,
  type IpcResult,
} from './schemas';

// What the renderer, the preload and main import from here, beside the channel map.
export {
  MAX_FILE_BYTES,
  MAX_ITEMS,
  MAX_FRAME_CHARS,
  IPC_ERROR_CODES,
  ipcError,
  fileIn,
  fileOut,
  frameIn,
  type IpcErrorCode,
  type IpcError,
  type IpcResult,
  type FileIn,
  type FileOut,
  type FrameIn,
} from './schemas';
export { LANGUAGES, type Language, SHARE_STATUSES, type ShareStatus };

/** (H6) The history events a share list can be filtered by (main/services: the events shares record). */
export const SHARE_EVENTS = ['imported', 'receipt-accepted', 'receipt-rejected', 'exported', 'deleted', 'rollback', 'superseded'] as const;
export type ShareEvent = (typeof SHARE_EVENTS)[number];
/** (H6) What a share page can be sorted by; `received` ascending is the vault's own order. */
export const SHARE_SORTS = ['received', 'key', 'node', 'set', 'index', 'status'] as const;
export type ShareSort = (typeof SHARE_SORTS)[number];
/** (H6) A filter menu lists at most this many values; past it the menu is left out (the search finds them). */
export const FACET_LIMIT = 5000;
/** (H6) The backup-set menu's limit: set ids are 32 hex digits nobody picks from thousands (the search takes a prefix). */
export const SET_FACET_LIMIT = 300;

// ---- the channel map ----------------------------------------------------------------------------

/** An approver as the roster lists them (approvers:*Roster). */
const rosterApprover = z.strictObject({ name: z.string(), code: comparisonCode, status: z.enum(['enabled', 'disabled']) });

/** A channel's request and response schemas. */
interface ChannelSpec {
  readonly request: z.ZodType;
  readonly response: z.ZodType;
}
const channel = <Req extends z.ZodType, Res extends z.ZodType>(request: Req, response: Res) => ({ request, response }) satisfies ChannelSpec;

/** Issue 13 (H12): the agent link check's outcome (main/services/agent-link.ts). */
const linkCheck = z.strictObject({
  state: z.enum(['not-configured', 'unreachable', 'rejected', 'authenticated']),
  url: z.string().nullable(),
  tokenSet: z.boolean(),
  checkedAt: time,
  problem: problem.optional(),
});

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
  /**
   * A diceware passphrase (EFF long list, main/services/passphrase.ts) for the person to write down:
   * the one case where a passphrase goes main → renderer, because the person must see it.
   */
  'vault:generatePassphrase': channel(
    z.strictObject({ words: z.number().int().min(4).max(12).optional() }),
    z.strictObject({ passphrase: z.string().max(200), words: count, entropyBits: z.number().min(0).max(200) }),
  ),
  /**
   * The strength meter: zxcvbn's estimate at this vault's KDF cost (the floor, logN 15, before a
   * vault exists). `ok: false` is what vault:create and vault:changePassphrase refuse (WEAK_PASSPHRASE).
   */
  'vault:checkPassphrase': channel(
    z.strictObject({ passphrase: z.string().max(1024), name: z.string().max(1000).optional() }),
    z.strictObject({
      ok: z.boolean(),
      score: z.number().int().min(0).max(4),
      logN: count,
      guessTime: z.string().max(100),
      guessSeconds: z.number().min(0),
      reasons: z.array(z.string().max(500)).max(10),
      suggestions: z.array(z.string().max(500)).max(10),
    }),
  ),
  /** The enrollment card (fresh when unlocked, the stored one when locked) as a file and as QR. */
  'vault:card': channel(empty, z.strictObject({ card: fileOut, qr: qrOut, code: comparisonCode, fingerprint: hex32 })),

  // -- vault backup to removable media (issue 13, H11; main/services/vault-backup.ts) -----------------
  /**
   * The last verified backup (no passphrase needed; locked or unlocked): when, how much, the copy's
   * folder name and the name of the folder it is in (never a full path), and whether it is `due`
   * (none yet, or the vault changed since: its newest save is past the backup's).
   */
  'backup:status': channel(empty, backupStatusView),
  /**
   * Asks for a folder with the system dialog (`saved: false` when cancelled), copies the sealed vault
   * into a new folder there and verifies the copy by opening it with `passphrase` (the live vault is
   * not replaced). Refusals carry `details.reason`: inside-vault, not-folder, not-writable, read-back,
   * not-verified; WRONG_PASSPHRASE carries `details.delaySeconds` like vault:unlock. On any refusal
   * the incomplete copy is removed and the last verified backup stays as it was.
   */
  'backup:toFolder': channel(z.strictObject({ passphrase: z.string().min(1).max(1024) }), backupDoneView),
  /**
   * (H2) Restores the vault from a backup when this profile has none yet (first run): asks for the
   * backup folder with the system dialog (`restored: false` when cancelled), opens its identity with
   * `passphrase` before anything is written, copies the whole folder beside the vault folder, reads it
   * back and verifies it as unlock would, then renames it into place in one step; then unlocks it with
   * the same passphrase. Never over a vault: VAULT_EXISTS (`details.reason` vault-exists). Other
   * refusals carry `details.reason`: not-empty, same-folder, not-backup, damaged, other-identity,
   * rollback, read-back, not-writable, busy; a wrong passphrase is WRONG_PASSPHRASE. Nothing is left.
   */
  'backup:restore': channel(z.strictObject({ passphrase: z.string().min(1).max(1024) }), backupRestoredView),

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

  // -- approvers (issue 12) --------------------------------------------------------------------------
  /** Opens an approver card and shows the code to compare with the approver. Changes nothing. */
  'approvers:preview': channel(z.strictObject({ card: fileIn }), approverCardPreview),
  /**
   * Pins an approver card after the read-aloud comparison (`confirmCode`, else CODE_MISMATCH), with
   * a call-back contact. Same name, other key: APPROVER_KEY_CHANGED. Needs a pinned agent.
   */
  'approvers:pin': channel(
    z.strictObject({ card: fileIn, confirmCode: z.string().max(100), contact: callBackContact.optional() }),
    approverCardPreview.extend({ alreadyPinned: z.boolean() }),
  ),
  /** Stops trusting an approver (by fingerprint). */
  'approvers:remove': channel(z.strictObject({ fingerprint: hex32 }), z.strictObject({ name: z.string(), code: comparisonCode })),
  /** The pinned approvers, the agent's call-back contact and the pinned roster's version. */
  'approvers:list': channel(
    empty,
    z.strictObject({
      approvers: z.array(pinnedApproverView),
      agentContact: callBackContact.nullable(),
      roster: z.strictObject({ version: count, issuedAt: time, pinnedAt: time }).nullable(),
    }),
  ),
  /** Records whom to call back about the pinned agent (ops). */
  'approvers:setAgentContact': channel(z.strictObject({ contact: callBackContact }), z.strictObject({ contact: callBackContact })),
  /** Records whom to call back about a pinned approver. */
  'approvers:setContact': channel(z.strictObject({ fingerprint: hex32, contact: callBackContact }), z.strictObject({ name: z.string() })),
  /** Opens the agent-signed approver roster (verified against the pinned agent key). Changes nothing. */
  'approvers:previewRoster': channel(
    z.strictObject({ roster: fileIn }),
    z.strictObject({ version: count, issuedAt: time, agentCode: comparisonCode, approvers: z.array(rosterApprover), pinnedVersion: count.nullable() }),
  ),
  /**
   * Pins the roster: the first needs the agent's code (`confirmCode`, else CODE_MISMATCH); a later
   * one must have a higher version (ROSTER_ROLLBACK) and, one version on, two pinned approvers' signatures.
   */
  'approvers:pinRoster': channel(
    z.strictObject({ roster: fileIn, confirmCode: z.string().max(100).optional() }),
    z.strictObject({ version: count, issuedAt: time, approvers: z.array(rosterApprover), succession: z.enum(['first', 'quorum', 'agent-only']), alreadyPinned: z.boolean() }),
  ),

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
  /**
   * (H6, issue 10) One page of the shares, filtered, searched and sorted in main so the window never
   * holds 100,000 rows: `query` is words that must each appear in a share's key id, node id, set id,
   * envelope id, curve or an export's incident id (any case); `event` keeps shares whose history has
   * that event. `matched` counts the shares that pass, `total` those in the vault; `facets` are the
   * keys, nodes and sets for the filter menus, each left empty with `more: true` past FACET_LIMIT.
   */
  'shares:page': channel(
    z.strictObject({
      offset: count.default(0),
      limit: z.number().int().min(1).max(500).default(100),
      query: text(200).default(''),
      keyId: identifier.optional(),
      nodeId: identifier.optional(),
      setId: z.string().regex(/^[0-9a-fA-F]{1,32}$/).optional(),
      shareIndex: shareIndex.optional(),
      status: z.array(z.enum(SHARE_STATUSES)).max(5).optional(),
      event: z.enum(SHARE_EVENTS).optional(),
      sort: z.strictObject({ by: z.enum(SHARE_SORTS), dir: z.enum(['asc', 'desc']) }).default({ by: 'received', dir: 'asc' }),
    }),
    z.strictObject({
      shares: z.array(shareSummary),
      offset: count,
      matched: count,
      total: count,
      facets: z.strictObject({
        keyIds: z.array(z.string()),
        nodeIds: z.array(z.string()),
        setIds: z.array(hex16),
        more: z.strictObject({ keyIds: z.boolean(), nodeIds: z.boolean(), setIds: z.boolean() }),
      }),
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
  /**
   * Receipt files (signed by this vault) laid out as ONE animated QR sequence (issue 13), prepared
   * here so the window never does the heavy part: each receipt checked (by its hash in the vault's
   * own record of the receipts it signed, else by its signature), with its UR type, its bytes and
   * its number of pure frames at every density (shared/qr/loop.ts DENSITIES). No pictures: the
   * player draws only the frame on screen. `progress` events (phase `exporting`).
   */
  'receipts:sequence': channel(
    z.strictObject({ receipts: z.array(fileIn).min(1).max(MAX_ITEMS), opId: opId.optional() }),
    z.strictObject({
      messages: z.array(
        z.strictObject({
          name: z.string(),
          id: hex32,
          status: z.enum(['accepted', 'rejected']),
          type: z.string(),
          payload: bytes(),
          lens: z.array(z.strictObject({ version: z.number().int().min(1).max(40), frames: count })),
        }),
      ),
    }),
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
      /**
       * With fewer than two verified approvers (`summary.needsOverride`): the custodian's typed reason
       * (20 to 500 characters), audited and carried in the export; without it APPROVERS_UNVERIFIED.
       */
      override: z.string().max(2000).optional(),
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
          /** Issue 12 (H8): the recovered keydata's group public key (shared/keydata/group-key.ts), checked on its curve. */
          groupKey: z
            .strictObject({ curve: z.enum(['secp256k1', 'ed25519']), compressed: z.string(), fingerprint: z.string(), address: z.string().optional(), base58: z.string().optional() })
            .optional(),
        })
        .nullable(),
    }),
  ),

  // -- linked agent -------------------------------------------------------------------------------
  /** The linked agent URL (from settings) and whether an API token was given this run. */
  'agent:status': channel(empty, z.strictObject({ url: z.string().nullable(), tokenSet: z.boolean(), check: linkCheck.nullable() })),
  /**
   * The agent's API token, kept in main-process memory for this run only: never written to disk,
   * never returned to the renderer. null forgets it.
   */
  'agent:setToken': channel(z.strictObject({ token: z.string().max(8192).nullable() }), z.strictObject({ tokenSet: z.boolean() })),
  /**
   * Issue 13 (H12): checks the link (main/services/agent-link.ts): not configured, unreachable
   * (with the reason), the token rejected, or authenticated; with the check time. Remembered until
   * the URL or the token changes (agent:status `check`).
   */
  'agent:check': channel(empty, linkCheck),

  // -- inventory, supersede, deletion --------------------------------------------------------------
  /**
   * Issue 12 (H8): what an inventory challenge asks, for whom and until when, checked as the answer
   * will be; nothing is signed or recorded. Its `challengeHash` goes back in `inventory:answer`.
   */
  'inventory:review': channel(
    z.strictObject({ challenge: fileIn }),
    z.strictObject({
      challengeId: hex16,
      challengeHash: hex32,
      agent: z.strictObject({ name: z.string(), code: z.string() }),
      createdAt: time,
      notAfter: time,
      items: z.array(z.strictObject({ ...coordinates, local: z.enum(['held', 'not-held', 'deleted']) })),
      held: count,
    }),
  ),
  /** Answers the agent's signed inventory challenge with a signed attestation (file and QR); `reviewedHash` refuses any other challenge than the one reviewed. */
  'inventory:answer': channel(
    z.strictObject({ challenge: fileIn, reviewedHash: hex32.optional() }),
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
    z.strictObject({
      offset: count.default(0),
      limit: z.number().int().min(1).max(1000).default(200),
      newestFirst: z.boolean().default(true),
      /** (H6) Words that must each appear in an entry's fields (ids, hashes, reason, detail); any case. */
      query: text(200).default(''),
      /** (H6) Only entries of this event. */
      event: z.enum(AUDIT_EVENTS).optional(),
    }),
    z.strictObject({
      entries: z.array(z.union([z.strictObject({ entry: auditEntrySchema }), z.strictObject({ damaged: z.literal(true), position: count })])),
      total: count,
      /** (H6) Entries that pass `query` and `event` (`total` when there is none; a damaged entry passes only an empty filter). */
      matched: count,
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
          recoveryMinExpiryMinutes: z.number().int().min(0).max(7 * 24 * 60).optional(),
          recoveryExpectMode: z.enum(['any', 'external-only']).optional(),
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
export const PASSIVE_CHANNELS: ReadonlySet<Channel> = new Set<Channel>(['app:info', 'vault:status', 'settings:get', 'agent:status', 'trust:status', 'station:list', 'backup:status']);

// ---- events (main → renderer) -------------------------------------------------------------------

// (H5) `reading`: the unlock reading the vault's record files, done/total files.
export const PROGRESS_PHASES = ['waiting', 'deriving', 'importing', 'verifying', 'exporting', 'submitting', 'reading'] as const;

export const EVENTS = {
  /**
   * Progress of a long call, for a progress bar: `opId` is the one the renderer passed; `done` of
   * `total` (total 0 = unknown: show an indeterminate bar). Throttled (at most about 20 per second,
   * and always the last one).
   */
  progress: z.strictObject({
    opId,
    channel: z.enum(['vault:create', 'vault:unlock', 'inbox:import', 'shares:verifyAll', 'recovery:export', 'station:submit', 'receipts:sequence']),
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
