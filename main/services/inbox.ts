/**
 * The inbox: importing share envelopes, one or thousands at a time, each checked in this order
 * (docs/protocol.md §4.3; cheap checks first, decryption last):
 *
 *   1. not already held: same envelope file hash (DUPLICATE_ENVELOPE), or destroyed before
 *      (ALREADY_DESTROYED);
 *   2. schema and version of the frame (MALFORMED, VERSION_UNSUPPORTED, WRONG_TYPE);
 *   3. the agent's signature on the envelope and on its manifest, against the PINNED agent key
 *      (UNTRUSTED_SIGNER, SIGNATURE_INVALID); recipient is me in the envelope and in the manifest
 *      (WRONG_RECIPIENT); the time window (EXPIRED, NOT_YET_VALID);
 *   4. not the same share from another envelope: same key, node, set and index (DUPLICATE_SHARE);
 *      not a set the agent superseded (SET_SUPERSEDED); no other active set for the same key and
 *      node, unless superseded (CONFLICTING_SET);
 *   5. decryption with my age identity and the share commitment in the manifest
 *      (DECRYPT_FAILED, SHARE_COMMITMENT_MISMATCH).
 *
 * Every refusal gets a code and a sentence in English and Chinese (messages.ts), is audited, and is
 * remembered (without any secret) so a `rejected` receipt can be signed for it. A batch is saved
 * every `saveEvery` envelopes (default 1,000; a smaller batch once, at the end): each save is one
 * journal entry with just those shares, the KDF never runs, and the vault is never re-encrypted.
 * Supersede notices in a batch are applied first, so a rotation's notice and new envelope can be
 * imported together.
 *
 * For speed in a Node process, install node:crypto's Ed25519 verifier once (node/ed25519.ts).
 */
import { toHex } from '../../shared/bytes';
import { fileHash } from '../../shared/crypto/hash';
import { ageOpener, type AgeOpener } from '../../shared/crypto/seal';
import { decodeCanonical } from '../../shared/protocol/cbor';
import { envelopeSchema, unsealEnvelopeShare, verifyEnvelope } from '../../shared/protocol/envelope';
import { peekMessage, type MessageType } from '../../shared/protocol/frame';
import { manifestSchema } from '../../shared/protocol/manifest';
import { aOrAn } from '../../shared/article';
import { CustosError } from '../../shared/errors';
import { ServiceError, type AnyErrorCode } from './errors';
import { explain, type Sentence } from './messages';
import type { RefusalRecord, ShareCoordinates, ShareRecord, VaultState } from './state';
import { applySupersedeTx, type SupersedeResult } from './supersede';
import { pinnedAgentKey } from './trust';
import type { Vault, VaultTx } from './vault';

export interface InboxItem {
  /** A file name or label for the person (never trusted). */
  readonly name?: string;
  readonly bytes: Uint8Array;
}

export interface ItemResult {
  /** Position in the input. */
  readonly index: number;
  readonly name?: string;
  readonly kind: 'envelope' | 'supersede' | 'other';
  readonly outcome: 'accepted' | 'refused' | 'applied';
  /** The envelope's SHA-256 (hex): its id in the vault and in receipts. */
  readonly id?: string;
  readonly share?: ShareCoordinates;
  readonly code?: AnyErrorCode;
  readonly message?: Sentence;
  /** The specific English sentence (names the field, index…), for refusals. */
  readonly detail?: string;
  readonly supersede?: SupersedeResult;
}

export interface ImportProgress {
  readonly done: number;
  readonly total: number;
  readonly accepted: number;
  readonly refused: number;
}

export interface ImportOptions {
  readonly onProgress?: (progress: ImportProgress) => void;
  /** Save every N items (default DEFAULT_SAVE_EVERY): each save is one journal entry holding those N shares. */
  readonly saveEvery?: number;
  /** Stops after the current item; what was accepted so far is saved. */
  readonly signal?: AbortSignal;
}

export interface ImportSummary {
  readonly results: readonly ItemResult[];
  readonly accepted: number;
  readonly refused: number;
  readonly applied: number;
  readonly aborted: boolean;
}

/**
 * A batch saves every this many envelopes: one journal entry of about 3 MB, so neither the save nor
 * an unlock that reads it holds the event loop long. What was saved stays saved if the rest fails.
 */
export const DEFAULT_SAVE_EVERY = 1000;

/** How many refused envelopes are remembered for receipts (oldest dropped first). */
export const MAX_REMEMBERED_REFUSALS = 20_000;

const coordKey = (c: ShareCoordinates): string => `${c.keyId}\u0000${c.nodeId}\u0000${c.setId}\u0000${String(c.epoch)}\u0000${String(c.shareIndex)}`;
const nodeKey = (keyId: string, nodeId: string): string => `${keyId}\u0000${nodeId}`;
const setKey = (keyId: string, nodeId: string, setId: string, epoch: number): string => `${keyId}\u0000${nodeId}\u0000${setId}\u0000${String(epoch)}`;

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/** The longest the import runs (frame headers, indexes) before it lets the event loop go. */
const SLICE_MS = 8;

/** Lookups over the vault built once per batch and kept up to date while it runs. */
class Indexes {
  readonly ids = new Map<string, ShareRecord>();
  readonly coords = new Map<string, ShareRecord>();
  readonly purgedIds = new Set<string>();
  readonly purgedCoords = new Set<string>();
  readonly superseded = new Set<string>();
  readonly refusals = new Map<string, RefusalRecord>();
  /** key/node → active (not superseded, not deleted) sets: setId → epoch. */
  readonly active = new Map<string, Map<string, number>>();

  /**
   * Built in slices of 8 ms with the event loop free between them (100,000 shares take a few hundred
   * ms). `state`: the state itself, read only (shares, purged, supersedes); `view`: the change's
   * tracking view, for the refusals, which an import updates in place (`rememberRefusal`).
   */
  static async of(state: Readonly<VaultState>, view: VaultState): Promise<Indexes> {
    const idx = new Indexes();
    let slice = performance.now();
    for (const [i, r] of state.shares.entries()) {
      idx.add(r);
      if (i % 64 === 63 && performance.now() - slice > SLICE_MS) {
        await tick();
        slice = performance.now();
      }
    }
    for (const p of state.purged) {
      idx.purgedIds.add(p.id);
      idx.purgedCoords.add(coordKey(p));
    }
    for (const s of state.supersedes) idx.superseded.add(setKey(s.keyId, s.nodeId, s.oldSetId, s.oldEpoch));
    for (const r of view.refusals) idx.refusals.set(r.id, r);
    return idx;
  }

  add(r: ShareRecord): void {
    this.ids.set(r.id, r);
    this.coords.set(coordKey(r), r);
    if (r.status !== 'superseded' && r.status !== 'deleted') {
      const k = nodeKey(r.keyId, r.nodeId);
      let sets = this.active.get(k);
      if (sets === undefined) this.active.set(k, (sets = new Map<string, number>()));
      sets.set(r.setId, r.epoch);
    }
  }
}

/** Reads an envelope's coordinates WITHOUT verifying anything: only to label a refusal for a receipt. */
export function peekEnvelopeCoordinates(bytes: Uint8Array): ShareCoordinates | undefined {
  try {
    const frame = decodeCanonical(bytes) as { t?: unknown; b?: unknown };
    if (frame.t !== 'envelope' || !(frame.b instanceof Uint8Array)) return undefined;
    const body = envelopeSchema.safeParse(decodeCanonical(frame.b));
    if (!body.success) return undefined;
    const mframe = decodeCanonical(body.data.manifest) as { b?: unknown };
    if (!(mframe.b instanceof Uint8Array)) return undefined;
    const m = manifestSchema.safeParse(decodeCanonical(mframe.b));
    if (!m.success) return undefined;
    return { keyId: m.data.key_id, nodeId: m.data.node_id, setId: toHex(m.data.set_id), epoch: m.data.epoch, shareIndex: body.data.share_index };
  } catch {
    return undefined;
  }
}

/** What the outer frame says (decoded once per item, for routing), or why it could not be read. */
type Peeked = { readonly kind: 'envelope' | 'supersede' | 'other'; readonly type?: MessageType; readonly error?: Error };

function peekKind(bytes: unknown): Peeked {
  try {
    const type = peekMessage(bytes).type;
    return { kind: type === 'envelope' || type === 'supersede' ? type : 'other', type };
  } catch (error) {
    return { kind: 'other', error: error instanceof Error ? error : new CustosError('MALFORMED', 'This file is not a Custos message.') };
  }
}

/** What one batch shares: the pinned key, the age identity imported once, refusals to drop at the end. */
interface Batch {
  readonly agentKey: Uint8Array;
  readonly opener: AgeOpener;
  /** Refusals of envelopes accepted now: removed in one pass at the end (not one pass per envelope). */
  readonly accepted: Set<string>;
}

async function importOne(tx: VaultTx, idx: Indexes, batch: Batch, item: InboxItem, peeked: Peeked, index: number): Promise<ItemResult> {
  const agentKey = batch.agentKey;
  const name = item.name;
  const base = { index, ...(name === undefined ? {} : { name }), kind: 'envelope' as const };
  let id: string | undefined;
  let coords: ShareCoordinates | undefined;
  try {
    if (!(item.bytes instanceof Uint8Array)) throw new CustosError('MALFORMED', 'The envelope must be binary data.');
    id = toHex(fileHash(item.bytes));
    if (idx.ids.has(id)) throw new ServiceError('DUPLICATE_ENVELOPE', 'This envelope is already in the vault.', { details: { id } });
    if (idx.purgedIds.has(id)) throw new ServiceError('ALREADY_DESTROYED', 'This envelope\'s share was held before and has been destroyed.', { details: { id } });
    if (peeked.error !== undefined) throw peeked.error;
    if (peeked.type !== 'envelope') throw new CustosError('WRONG_TYPE', `Expected a share envelope but this file is ${aOrAn(String(peeked.type))}.`, { details: { got: String(peeked.type) } });
    const opened = verifyEnvelope(item.bytes, agentKey, tx.fingerprint, tx.now);
    const m = opened.manifest.body;
    const env = opened.envelope.body;
    coords = { keyId: m.key_id, nodeId: m.node_id, setId: toHex(m.set_id), epoch: m.epoch, shareIndex: env.share_index };
    const same = idx.coords.get(coordKey(coords));
    if (same !== undefined) {
      throw new CustosError('DUPLICATE_SHARE', `You already hold share ${String(coords.shareIndex)} of ${coords.keyId}/${coords.nodeId} (set ${coords.setId.slice(0, 8)}…) from envelope ${same.id.slice(0, 12)}…; status ${same.status}.`, {
        details: { heldId: same.id, heldStatus: same.status },
      });
    }
    if (idx.purgedCoords.has(coordKey(coords))) {
      throw new ServiceError('ALREADY_DESTROYED', `Share ${String(coords.shareIndex)} of ${coords.keyId}/${coords.nodeId} was held before and has been destroyed.`);
    }
    if (idx.superseded.has(setKey(coords.keyId, coords.nodeId, coords.setId, coords.epoch))) {
      throw new ServiceError('SET_SUPERSEDED', `Backup set ${coords.setId.slice(0, 8)}… (epoch ${String(coords.epoch)}) of ${coords.keyId}/${coords.nodeId} was superseded by the agent.`);
    }
    const activeSets = idx.active.get(nodeKey(coords.keyId, coords.nodeId));
    if (activeSets !== undefined) {
      for (const [heldSet, heldEpoch] of activeSets) {
        if (heldSet === coords.setId) continue;
        throw new ServiceError(
          'CONFLICTING_SET',
          `You hold an active share of another backup set of ${coords.keyId}/${coords.nodeId} (set ${heldSet.slice(0, 8)}…, epoch ${String(heldEpoch)}); this envelope is for set ${coords.setId.slice(0, 8)}… epoch ${String(coords.epoch)}. Apply the agent's supersede notice first.`,
          { details: { heldSetId: heldSet, heldEpoch, setId: coords.setId, epoch: coords.epoch } },
        );
      }
    }
    const share = await unsealEnvelopeShare(opened, batch.opener);
    const record: ShareRecord = {
      id,
      ...coords,
      curve: m.curve,
      threshold: m.threshold,
      total: m.total,
      manifestHash: toHex(fileHash(env.manifest)),
      agentKey: toHex(agentKey),
      envelopeSize: item.bytes.length,
      share,
      envelopeCreatedAt: env.created_at,
      ...(env.not_after === undefined ? {} : { notAfter: env.not_after }),
      receivedAt: tx.now,
      status: 'received',
      receipts: [],
      exports: [],
      history: [{ at: tx.now, event: 'imported', ...(name === undefined ? {} : { detail: `from ${name.slice(0, 200)}` }) }],
    };
    tx.addEnvelope(id, item.bytes);
    tx.state.shares.push(record);
    idx.add(record);
    if (idx.refusals.delete(id)) batch.accepted.add(id);
    tx.audit({
      event: 'import',
      result: 'ok',
      key_id: coords.keyId,
      node_id: coords.nodeId,
      set_id: coords.setId,
      share_index: coords.shareIndex,
      envelope_hash: id,
      version: 1,
      signature: toHex(opened.envelope.signer),
    });
    return { ...base, outcome: 'accepted', id, share: coords };
  } catch (error) {
    const e = explain(error);
    const fields = coords ?? (item.bytes instanceof Uint8Array ? peekEnvelopeCoordinates(item.bytes) : undefined);
    // A duplicate of an envelope already held is not a rejection: nothing to remember for a receipt.
    if (id !== undefined && e.code !== 'DUPLICATE_ENVELOPE' && e.code !== 'INTERNAL') rememberRefusal(tx.state, idx, { id, name, at: tx.now, code: e.code, fields });
    tx.audit({
      event: 'import',
      result: 'refused',
      reason: e.code,
      ...(id === undefined ? {} : { envelope_hash: id }),
      ...(fields === undefined ? {} : { key_id: fields.keyId, node_id: fields.nodeId, set_id: fields.setId, share_index: fields.shareIndex }),
      ...(e.detail === undefined ? {} : { detail: e.detail.slice(0, 500) }),
    });
    return {
      ...base,
      outcome: 'refused',
      ...(id === undefined ? {} : { id }),
      ...(fields === undefined ? {} : { share: fields }),
      code: e.code,
      message: e.message,
      ...(e.detail === undefined ? {} : { detail: e.detail }),
    };
  }
}

function rememberRefusal(state: VaultState, idx: Indexes, r: { id: string; name: string | undefined; at: number; code: string; fields: ShareCoordinates | undefined }): void {
  const existing = idx.refusals.get(r.id);
  if (existing !== undefined) {
    existing.at = r.at;
    existing.code = r.code;
    if (r.name !== undefined) existing.name = r.name.slice(0, 500);
    return;
  }
  const record: RefusalRecord = { id: r.id, ...(r.name === undefined ? {} : { name: r.name.slice(0, 500) }), at: r.at, code: r.code, ...(r.fields === undefined ? {} : { fields: r.fields }), receipts: [] };
  state.refusals.push(record);
  idx.refusals.set(r.id, record);
  if (state.refusals.length > MAX_REMEMBERED_REFUSALS) {
    for (const dropped of state.refusals.splice(0, state.refusals.length - MAX_REMEMBERED_REFUSALS)) idx.refusals.delete(dropped.id);
  }
}


/** Imports a batch: supersede notices first, then envelopes; a save every `saveEvery` (default 1,000) and at the end. */
export async function importEnvelopes(vault: Vault, items: readonly InboxItem[], options: ImportOptions = {}): Promise<ImportSummary> {
  const agentKey = pinnedAgentKey(vault);
  const total = items.length;
  const results: (ItemResult | undefined)[] = new Array<ItemResult | undefined>(total).fill(undefined);
  let accepted = 0;
  let refused = 0;
  let applied = 0;
  let done = 0;
  // An object, not a `let`: it is set inside the change callback.
  const stop = { aborted: false };
  const report = (): void => options.onProgress?.({ done, total, accepted, refused });

  // Every frame's outer type, to apply supersede notices first: decoded in slices of 8 ms with the
  // event loop free between them (10,000 at once held the main process for 1.8–2.4 s; issue 10).
  const peeked: Peeked[] = [];
  let slice = performance.now();
  for (const it of items) {
    peeked.push(peekKind(it.bytes));
    if (performance.now() - slice > SLICE_MS) {
      await tick();
      slice = performance.now();
    }
  }
  const kinds = peeked.map((p) => p.kind);
  const notices = items.flatMap((it, i) => (kinds[i] === 'supersede' ? [i] : []));
  const rest = items.flatMap((_it, i) => (kinds[i] === 'supersede' ? [] : [i]));

  if (notices.length > 0) {
    await vault.update((tx) => {
      for (const i of notices) {
        const it = items[i];
        if (it === undefined) continue;
        const name = it.name === undefined ? {} : { name: it.name };
        try {
          const s = applySupersedeTx(tx, it.bytes, agentKey);
          results[i] = { index: i, ...name, kind: 'supersede', outcome: 'applied', supersede: s };
          applied++;
        } catch (error) {
          const e = explain(error);
          tx.audit({ event: 'rotate', result: 'refused', reason: e.code, ...(e.detail === undefined ? {} : { detail: `supersede notice: ${e.detail.slice(0, 400)}` }) });
          results[i] = { index: i, ...name, kind: 'supersede', outcome: 'refused', code: e.code, message: e.message, ...(e.detail === undefined ? {} : { detail: e.detail }) };
          refused++;
        }
        done++;
        report();
      }
    });
  }

  const chunk = options.saveEvery !== undefined && options.saveEvery > 0 ? Math.floor(options.saveEvery) : DEFAULT_SAVE_EVERY;
  for (let start = 0; start < rest.length && !stop.aborted; start += chunk) {
    const batchItems = rest.slice(start, start + chunk);
    await vault.update(async (tx) => {
      // Read from the state itself, not the tracking view (a proxy per share read): the index only reads.
      const idx = await Indexes.of(tx.current, tx.state);
      const batch: Batch = { agentKey, opener: await ageOpener(tx.identity.age.identity), accepted: new Set() };
      slice = performance.now();
      for (const i of batchItems) {
        if (options.signal?.aborted === true) {
          stop.aborted = true;
          break;
        }
        const it = items[i];
        if (it === undefined) continue;
        const r = await importOne(tx, idx, batch, it, peeked[i] ?? peekKind(it.bytes), i);
        results[i] = kinds[i] === 'other' && r.outcome === 'refused' ? { ...r, kind: 'other' } : r;
        if (r.outcome === 'accepted') accepted++;
        else refused++;
        done++;
        report();
        // By time, not count: an envelope takes 1–5 ms (more on a loaded machine), so 32 of them held the event loop 50–150 ms.
        if (performance.now() - slice > SLICE_MS) {
          await tick();
          slice = performance.now();
        }
      }
      if (batch.accepted.size > 0) tx.state.refusals = tx.state.refusals.filter((r) => !batch.accepted.has(r.id));
    });
  }
  return { results: results.filter((r): r is ItemResult => r !== undefined), accepted, refused, applied, aborted: stop.aborted };
}

/** Imports one envelope (or supersede notice). */
export async function importEnvelope(vault: Vault, bytes: Uint8Array, name?: string): Promise<ItemResult> {
  const summary = await importEnvelopes(vault, [{ bytes, ...(name === undefined ? {} : { name }) }]);
  const r = summary.results[0];
  if (r === undefined) throw new ServiceError('INTERNAL', 'The import produced no result.');
  return r;
}
