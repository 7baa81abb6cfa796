/**
 * (Over 500 lines: the delta builder and the loader that replays it, with where each envelope is
 * written and found again, are kept in one file, so the format written and the format read are
 * reviewed side by side.)
 *
 * The vault's records on disk (layout 2, docs/custodian-vault.md): a signed snapshot in parts plus
 * an append-only journal of signed changes, every file a standard age file sealed to the
 * custodian's own X25519 recipient, in the vault's `store/` folder. The files an unlocked session
 * writes share one age header made at unlock (shared/crypto/seal.ts `AgeResealer`: one X25519
 * operation per session, a fresh payload nonce per file).
 *
 *   snap-<G>.age        snapshot manifest of generation G: the small part of the state (custodian,
 *                       agents, audit head), the chain head at G, and the list of part files with
 *                       the SHA-256 of each sealed file. Signed (below).
 *   snap-<G>-<k>.age    part k: up to about 256 KB of JSON items of one collection (shares, refusals,
 *                       supersedes, purged, audit). Checked by its hash in the manifest BEFORE it is
 *                       decrypted.
 *   log-<g>.age         the change saved as generation g: items put (added or changed, whole; a
 *                       share already stored is put without its envelope, which never changes),
 *                       keys deleted, lists reset, audit entries appended, the meta if it changed;
 *                       `prev` = the digest of generation g-1 (a hash chain). Signed.
 *
 *   signed document = J without its final "}" + `,"sig":"<128 hex>"}`,
 *   sig = Ed25519(custodian, label || 0x00 || SHA-256(J)), digest(J) = SHA-256(J)
 *
 * The custodian signs the DIGEST of each document, not the document (a 30 MB snapshot is not fed
 * through Ed25519). Loading: the newest snapshot whose manifest and every part check out (else the
 * one before it: the previous generation), then log after log while each exists, verifies and chains.
 * A save writes one log file (O(the change)); a compaction writes a new snapshot and removes what
 * no kept snapshot needs. Loading yields to the event loop after every file, so no single step
 * holds the main process for long (each is at most about 256 KB of work).
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { concatBytes, fromUtf8, randomBytes, toHex, utf8 } from '../../shared/bytes';
import { openSealed, type AgeOpener, type AgeResealer } from '../../shared/crypto/seal';
import type { SigningKey } from '../../shared/protocol/frame';
import { nodeVerifier } from '../../node/ed25519';
import { nodeSigner } from '../../node/ed25519-sign';
import { writeFileAtomic, type AtomicStep } from '../../node/fs-atomic';
import { ServiceError } from './errors';
import {
  COLLECTIONS,
  itemFromDisk,
  itemKey,
  itemToDisk,
  metaDiskSchema,
  metaToDisk,
  stateFromMeta,
  type CollectionItem,
  type CollectionName,
  type ShareRecord,
  type VaultState,
} from './state';
import type { Changes } from './vault-tracking';
import { EnvelopeIndex, type RecordFile } from './vault-envelopes';

/** SHA-256 of a sealed file, hex (node:crypto: the vault hashes every record it reads at unlock). */
const fileSha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
/** A signed document's digest (node:crypto's SHA-256: noble's was a fifth of a save's time; issue 10). */
const documentDigest = (json: string): Uint8Array => new Uint8Array(createHash('sha256').update(utf8(json)).digest());

export const STORE_DIR = 'store';
export const LOG_FORMAT = 'custos-vault-log/1';
const SNAP_FORMAT = 'custos-vault-snapshot/1';
const PART_FORMAT = 'custos-vault-part/1';
export const LOG_LABEL = 'custos/v1/vault-log';
export const SNAP_LABEL = 'custos/v1/vault-snapshot';
/** A part holds items up to about this many bytes of JSON. */
export const PART_BYTES = 256 * 1024;

const pad = (n: number): string => String(n).padStart(12, '0');
export const logName = (g: number): string => `log-${pad(g)}.age`;
export const snapName = (g: number): string => `snap-${pad(g)}.age`;
const partName = (g: number, k: number): string => `snap-${pad(g)}-${String(k).padStart(4, '0')}.age`;
const LOG_RE = /^log-([0-9]{12})\.age$/;
const SNAP_RE = /^snap-([0-9]{12})\.age$/;
const ANY_SNAP_RE = /^snap-([0-9]{12})(?:-[0-9]{4})?\.age$/;

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/** Items parsed between two yields to the event loop at unlock. */
const PARSE_SLICE = 32;

/**
 * The test suite checks every save by reading it back (vault.ts): in vitest's own workers, not in
 * the processes tests start (CLI runs, the crash child), whose timing would change. CUSTOS_VAULT_
 * SELFCHECK=1 turns it on anywhere.
 */
export function selfCheckEnabled(): boolean {
  return '__vitest_worker__' in globalThis || process.env['CUSTOS_VAULT_SELFCHECK'] === '1';
}

// ---- signed documents ---------------------------------------------------------------------------

const SIG_SUFFIX = /,"sig":"([0-9a-f]{128})"\}$/;
const signedMessage = (label: string, digest: Uint8Array): Uint8Array => concatBytes(utf8(label), new Uint8Array([0]), digest);

export function signDocument(label: string, json: string, key: SigningKey): { document: string; digest: string } {
  if (!json.startsWith('{"') || !json.endsWith('}')) throw new ServiceError('INTERNAL', 'A vault document must serialise to a non-empty JSON object.');
  const digest = documentDigest(json);
  const sig = toHex(nodeSigner(signedMessage(label, digest), key.seed));
  return { document: `${json.slice(0, -1)},"sig":"${sig}"}`, digest: toHex(digest) };
}

/** The JSON and its digest, if `document` carries a valid signature by `publicKey` under `label`. */
export function verifyDocument(label: string, document: string, publicKey: Uint8Array): { json: string; digest: string } | undefined {
  const m = SIG_SUFFIX.exec(document);
  if (m === null) return undefined;
  const json = `${document.slice(0, document.length - m[0].length)}}`;
  if (!json.startsWith('{"')) return undefined;
  const digest = documentDigest(json);
  const ok = nodeVerifier(new Uint8Array(Buffer.from(m[1] ?? '', 'hex')), signedMessage(label, digest), publicKey);
  return ok ? { json, digest: toHex(digest) } : undefined;
}

/**
 * A JSON document written as UTF-8 pieces of about 64 KB, hashed as it grows: a large record (an
 * import of thousands of shares) is never one string, never copied whole, and its writer yields to
 * the event loop every few hundred items.
 */
class DocWriter {
  readonly pieces: Uint8Array[] = [];
  // node:crypto's SHA-256 (OpenSSL): noble's was a fifth of a save's time (issue 10).
  readonly #hash = createHash('sha256');
  #pending: string[] = [];
  #pendingLength = 0;

  text(s: string): void {
    this.#pending.push(s);
    this.#pendingLength += s.length;
    if (this.#pendingLength >= 64 * 1024) this.#flush();
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    const b = utf8(this.#pending.join(''));
    this.pieces.push(b);
    this.#hash.update(b);
    this.#pending = [];
    this.#pendingLength = 0;
  }

  /** `[a,b,…]`, each item serialised by `toJson`. */
  async list<T>(items: readonly T[], toJson: (item: T) => string): Promise<void> {
    this.text('[');
    for (const [i, it] of items.entries()) {
      if (i > 0) this.text(',');
      this.text(toJson(it));
      if (i % 256 === 255) await tick();
    }
    this.text(']');
  }

  /** Ends the object (the caller wrote all but its final "}"): plain. */
  finishPlain(): Uint8Array[] {
    this.text('}');
    this.#flush();
    return this.pieces;
  }

  /** Ends the object signed: the digest covers J (with its "}"), the document is J with the sig field added. */
  finishSigned(label: string, key: SigningKey): { pieces: Uint8Array[]; digest: string } {
    this.#flush();
    const close = utf8('}');
    this.#hash.update(close);
    const digest = new Uint8Array(this.#hash.digest());
    const sig = toHex(nodeSigner(signedMessage(label, digest), key.seed));
    this.pieces.push(utf8(`,"sig":"${sig}"}`));
    return { pieces: this.pieces, digest: toHex(digest) };
  }
}

/** Writes the change; a share item carries its envelope only when no file holds it yet (a new share). */
async function writeDelta(w: DocWriter, delta: Delta, envelopes: EnvelopeIndex): Promise<void> {
  const itemJson = (c: CollectionName) => (it: CollectionItem<CollectionName>): string =>
    JSON.stringify(c === 'shares' ? itemToDisk(c, it, envelopes.pendingOf((it as { id: string }).id)) : itemToDisk(c, it));
  for (const section of ['reset', 'put'] as const) {
    const lists = delta[section];
    if (lists === undefined) continue;
    w.text(`,"${section}":{`);
    let first = true;
    for (const c of COLLECTIONS) {
      const items = lists[c];
      if (items === undefined) continue;
      w.text(`${first ? '' : ','}"${c}":`);
      first = false;
      await w.list(items, itemJson(c));
    }
    w.text('}');
  }
  if (delta.del !== undefined) w.text(`,"del":${JSON.stringify(delta.del)}`);
  if (delta.audit !== undefined) {
    w.text(`,"audit":{"from":${String(delta.audit.from)},"entries":`);
    await w.list(delta.audit.entries, (e) => JSON.stringify(e));
    w.text('}');
  }
  if (delta.meta !== undefined) w.text(`,"meta":${JSON.stringify(delta.meta)}`);
}

// ---- what the files hold ------------------------------------------------------------------------

/** What is on disk, as this process last wrote or read it: the base of the next change. */
export interface Saved {
  generation: number;
  savedAt: number;
  /** Digest of the newest journal entry (or the snapshot's chain head). */
  head: string;
  /** The newest snapshot on disk, and the one kept before it (undefined: none kept). */
  snapshot: number;
  previousSnapshot: number | undefined;
  logsSinceSnapshot: number;
  logBytesSinceSnapshot: number;
  snapshotBytes: number;
  readonly keys: Record<CollectionName, { order: string[]; set: Set<string> }>;
  auditCount: number;
  metaJson: string;
}

/** The index of what `state` holds (100,000 keys: built in slices, the event loop free between them). */
async function savedFrom(state: VaultState, generation: number, head: string, snapshot: number): Promise<Saved> {
  const keys = {} as Saved['keys'];
  for (const c of COLLECTIONS) {
    const order: string[] = [];
    const set = new Set<string>();
    for (const [i, it] of (state[c] as CollectionItem<CollectionName>[]).entries()) {
      const k = itemKey(c, it);
      order.push(k);
      set.add(k);
      if (i % 5000 === 4999) await tick();
    }
    keys[c] = { order, set };
  }
  return {
    generation,
    savedAt: state.savedAt,
    head,
    snapshot,
    previousSnapshot: undefined,
    logsSinceSnapshot: 0,
    logBytesSinceSnapshot: 0,
    snapshotBytes: 0,
    keys,
    auditCount: state.audit.entries.length,
    metaJson: JSON.stringify(metaToDisk(state)),
  };
}

/** A change, holding the items themselves: serialised item by item when written (`writeDelta`). */
interface Delta {
  meta?: unknown;
  reset?: Partial<Record<CollectionName, readonly CollectionItem<CollectionName>[]>>;
  del?: Partial<Record<CollectionName, string[]>>;
  put?: Partial<Record<CollectionName, readonly CollectionItem<CollectionName>[]>>;
  audit?: { from: number; entries: readonly unknown[] };
}

/** What changed since `saved`, from the tracker's notes (see vault-tracking.ts), and how many shares it removes. Updates `saved.keys`. */
function buildDelta(state: VaultState, saved: Saved, changes: Changes): { delta: Delta; removedShares: number } {
  const delta: Delta = {};
  let removedShares = 0;
  for (const c of COLLECTIONS) {
    const list = state[c] as CollectionItem<CollectionName>[];
    const dirty = changes.dirty.get(c);
    const known = saved.keys[c];
    if (!changes.structural.has(c) && dirty === undefined) continue;
    let structural = changes.structural.has(c);
    const appended: CollectionItem<CollectionName>[] = [];
    const changed: CollectionItem<CollectionName>[] = [];
    if (!structural && dirty !== undefined) {
      for (const raw of dirty) {
        const it = raw as CollectionItem<CollectionName>;
        (known.set.has(itemKey(c, it)) ? changed : appended).push(it);
      }
      // Appends must be exactly the new tail of the list; anything else is handled as structural.
      const base = known.order.length;
      if (list.length !== base + appended.length || appended.some((it, i) => list[base + i] !== it)) structural = true;
    }
    if (structural) {
      const now = list.map((it) => itemKey(c, it));
      const nowSet = new Set(now);
      const removed = known.order.filter((k) => !nowSet.has(k));
      if (c === 'shares') removedShares = removed.length;
      const expected = known.order.filter((k) => nowSet.has(k));
      const added = list.filter((it) => !known.set.has(itemKey(c, it)));
      for (const it of added) expected.push(itemKey(c, it));
      const dirtyNow = dirty === undefined ? [] : list.filter((it) => dirty.has(it) && known.set.has(itemKey(c, it)));
      if (nowSet.size === now.length && expected.every((k, i) => k === now[i])) {
        if (removed.length > 0) (delta.del ??= {})[c] = removed;
        const puts = [...dirtyNow, ...added];
        if (puts.length > 0) (delta.put ??= {})[c] = puts;
      } else {
        (delta.reset ??= {})[c] = list.slice();
      }
      saved.keys[c] = { order: now, set: nowSet };
    } else {
      const puts = [...changed, ...appended];
      if (puts.length > 0) (delta.put ??= {})[c] = puts;
      for (const it of appended) {
        const k = itemKey(c, it);
        known.order.push(k);
        known.set.add(k);
      }
    }
  }
  const entries = state.audit.entries;
  if (changes.structural.has('audit') || entries.length < saved.auditCount) delta.audit = { from: 0, entries: entries.slice() };
  else if (entries.length > saved.auditCount) delta.audit = { from: saved.auditCount, entries: entries.slice(saved.auditCount) };
  saved.auditCount = entries.length;
  const metaJson = JSON.stringify(metaToDisk(state));
  if (metaJson !== saved.metaJson) {
    delta.meta = JSON.parse(metaJson) as unknown;
    saved.metaJson = metaJson;
  }
  return { delta, removedShares };
}

/**
 * Builds a state from a snapshot and journal entries, item by item. Share envelopes are not kept:
 * `envelopes` learns which file holds each one (a share item without one keeps the envelope of the
 * item with the same id it replaces).
 */
class Builder {
  readonly state: VaultState;
  readonly envelopes: EnvelopeIndex;
  readonly #index = new Map<CollectionName, Map<string, number>>();
  #holes = false;

  constructor(state: VaultState, envelopes: EnvelopeIndex) {
    this.state = state;
    this.envelopes = envelopes;
    for (const c of COLLECTIONS) this.#reindex(c);
  }

  #reindex(c: CollectionName): void {
    const m = new Map<string, number>();
    (this.state[c] as (CollectionItem<CollectionName> | undefined)[]).forEach((it, i) => {
      if (it !== undefined) m.set(itemKey(c, it), i);
    });
    this.#index.set(c, m);
  }

  /** Parses items read from `file`; `before` finds the item a share item without an envelope replaces. */
  #items(c: CollectionName, raw: unknown, file: RecordFile, before: (key: string) => CollectionItem<CollectionName> | undefined): CollectionItem<CollectionName>[] {
    if (!Array.isArray(raw)) throw new Error(`${c}: not a list`);
    return raw.map((x: unknown) => {
      const parsed = itemFromDisk(c, x);
      if (parsed === undefined) throw new Error(`${c}: an item does not parse`);
      if (c !== 'shares') return parsed.item;
      const r = parsed.item as ShareRecord;
      if (parsed.envelope !== undefined) {
        this.envelopes.located(r.id, file);
        return r;
      }
      const old = before(r.id) as ShareRecord | undefined;
      if (old === undefined) throw new Error('shares: a new share without its envelope');
      return { ...r, envelopeSize: old.envelopeSize };
    });
  }

  #current(c: CollectionName): (key: string) => CollectionItem<CollectionName> | undefined {
    const list = this.state[c] as (CollectionItem<CollectionName> | undefined)[];
    const m = this.#index.get(c);
    return (key) => {
      const at = m?.get(key);
      return at === undefined ? undefined : list[at];
    };
  }

  addPart(c: CollectionName | 'audit', items: unknown[], file: RecordFile): void {
    if (c === 'audit') {
      this.state.audit.entries.push(...items);
      return;
    }
    const list = this.state[c] as CollectionItem<CollectionName>[];
    const m = this.#index.get(c) ?? new Map<string, number>();
    // A snapshot part carries every share's envelope.
    for (const it of this.#items(c, items, file, () => undefined)) {
      const k = itemKey(c, it);
      if (m.has(k)) throw new Error(`${c}: key ${k} twice`);
      m.set(k, list.length);
      list.push(it);
    }
  }

  apply(d: Record<string, unknown>, file: RecordFile): void {
    if (d['meta'] !== undefined) {
      const meta = metaDiskSchema.parse(d['meta']);
      const next = stateFromMeta(meta, this.state.generation, this.state.savedAt);
      const s = this.state as { -readonly [K in keyof VaultState]: VaultState[K] };
      s.agent = next.agent;
      this.state.previousAgents.splice(0, this.state.previousAgents.length, ...next.previousAgents);
      if (meta.custodian.signKey !== this.state.custodian.signKey) throw new Error('the custodian changed');
      this.state.audit.head = meta.auditHead;
    }
    const section = (name: string): Partial<Record<CollectionName, unknown>> => {
      const v = d[name];
      if (v === undefined) return {};
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${name}: not an object`);
      for (const k of Object.keys(v)) if (!(COLLECTIONS as readonly string[]).includes(k)) throw new Error(`${name}: unknown collection ${k}`);
      return v;
    };
    const reset = section('reset');
    const del = section('del');
    const put = section('put');
    for (const c of COLLECTIONS) {
      const s = this.state as unknown as Record<CollectionName, (CollectionItem<CollectionName> | undefined)[]>;
      if (reset[c] !== undefined) {
        s[c] = this.#items(c, reset[c], file, this.#current(c));
        this.#reindex(c);
      }
      const m = this.#index.get(c) ?? new Map<string, number>();
      const delKeys = del[c];
      if (delKeys !== undefined) {
        if (!Array.isArray(delKeys)) throw new Error(`del ${c}: not a list`);
        for (const k of delKeys) {
          const at = typeof k === 'string' ? m.get(k) : undefined;
          if (at === undefined) throw new Error(`del ${c}: no such key`);
          s[c][at] = undefined;
          m.delete(k as string);
          this.#holes = true;
        }
      }
      if (put[c] !== undefined) {
        for (const it of this.#items(c, put[c], file, this.#current(c))) {
          const k = itemKey(c, it);
          const at = m.get(k);
          if (at !== undefined) s[c][at] = it;
          else {
            m.set(k, s[c].length);
            s[c].push(it);
          }
        }
      }
    }
    const audit = d['audit'];
    if (audit !== undefined) {
      const a = audit as { from?: unknown; entries?: unknown };
      if (typeof a.from !== 'number' || !Number.isInteger(a.from) || a.from < 0 || a.from > this.state.audit.entries.length || !Array.isArray(a.entries)) {
        throw new Error('audit: bad append');
      }
      this.state.audit.entries.length = a.from;
      this.state.audit.entries.push(...(a.entries as unknown[]));
    }
  }

  finish(): VaultState {
    if (this.#holes) {
      const s = this.state as unknown as Record<CollectionName, (CollectionItem<CollectionName> | undefined)[]>;
      for (const c of COLLECTIONS) s[c] = s[c].filter((it) => it !== undefined);
      this.envelopes.retain(new Set(this.state.shares.map((r) => r.id)));
    }
    return this.state;
  }
}

// ---- the store ----------------------------------------------------------------------------------

export interface StoreKeys {
  readonly recipient: string;
  /** Seals the record files under one header made at unlock (no X25519 operation per save). */
  readonly sealer: AgeResealer;
  readonly opener: AgeOpener;
  readonly signing: SigningKey;
}

export interface Loaded {
  readonly state: VaultState;
  readonly saved: Saved;
  /** Where each share's envelope is. */
  readonly envelopes: EnvelopeIndex;
  /** The newest snapshot could not be read; an older one (and the journal since) was used. */
  readonly usedOlderSnapshot: boolean;
  /** Files that exist but could not be used (damaged, forged, or past a break in the chain). */
  readonly damaged: readonly string[];
}

/** How a load reads files: the decrypter, the progress callback, and how many journal entries follow a generation. */
interface LoadIo {
  readonly opener: AgeOpener;
  readonly onProgress?: (done: number, total: number) => void | Promise<void>;
  logsAfter(g: number): number;
}

export class VaultStore {
  readonly dir: string;
  readonly #keys: StoreKeys;
  readonly #onStep: ((step: AtomicStep) => void) | undefined;

  constructor(vaultDir: string, keys: StoreKeys, onStep?: (step: AtomicStep) => void) {
    this.dir = join(vaultDir, STORE_DIR);
    this.#keys = keys;
    this.#onStep = onStep;
  }

  /** Wipes the sealing file key (on lock). */
  wipe(): void {
    this.#keys.sealer.wipe();
  }

  /** An empty envelope index for this store (a new vault, a migration). */
  newEnvelopeIndex(): EnvelopeIndex {
    return new EnvelopeIndex(this.dir, this.#keys.opener);
  }

  async #write(name: string, plaintext: string): Promise<number> {
    const sealed = this.#keys.sealer.seal(utf8(plaintext));
    await writeFileAtomic(join(this.dir, name), sealed, this.#onStep === undefined ? {} : { onStep: this.#onStep });
    return sealed.length;
  }

  async #list(): Promise<string[]> {
    try {
      return await fsp.readdir(this.dir);
    } catch {
      return [];
    }
  }

  /** True when the folder holds any snapshot (layout 2). */
  async hasSnapshot(): Promise<boolean> {
    return (await this.#list()).some((f) => SNAP_RE.test(f));
  }

  /**
   * Writes a snapshot of `state` at its generation. `head`: the chain digest at that generation
   * (undefined: a new chain, at creation or migration). Returns the new `Saved`.
   */
  async writeSnapshot(state: VaultState, head: string | undefined, envelopes: EnvelopeIndex): Promise<Saved> {
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await fsp.chmod(this.dir, 0o700);
    const g = state.generation;
    const parts: { file: string; collection: string; count: number; sha256: string }[] = [];
    let bytes = 0;
    // Every share item carries its envelope, read from where it is now (file by file, in order).
    const shareJson = async (it: unknown): Promise<string> => JSON.stringify(itemToDisk('shares', it as ShareRecord, await envelopes.get((it as ShareRecord).id)));
    // Items are serialised part by part (never the whole vault at once), yielding after each part.
    const lists: [CollectionName | 'audit', readonly unknown[], (x: unknown) => string | Promise<string>][] = [
      ...COLLECTIONS.map((c): [CollectionName, readonly unknown[], (x: unknown) => string | Promise<string>] => [c, state[c], c === 'shares' ? shareJson : (it) => JSON.stringify(itemToDisk(c, it as CollectionItem<CollectionName>))]),
      ['audit', state.audit.entries, (e) => JSON.stringify(e)],
    ];
    /** Where the envelopes are once the manifest is written (not before: until then the old files hold them). */
    const moved: [RecordFile, string[]][] = [];
    for (const [collection, items, toJson] of lists) {
      let at = 0;
      while (at < items.length) {
        const chunk: string[] = [];
        const ids: string[] = [];
        let size = 0;
        while (at < items.length && (chunk.length === 0 || size <= PART_BYTES)) {
          const item = items[at++];
          const j = await toJson(item);
          chunk.push(j);
          if (collection === 'shares') ids.push((item as ShareRecord).id);
          size += j.length + 1;
        }
        const k = parts.length;
        const file = partName(g, k);
        const json = `{"format":"${PART_FORMAT}","generation":${String(g)},"part":${String(k)},"collection":"${collection}","items":[${chunk.join(',')}]}`;
        const sealed = this.#keys.sealer.seal(utf8(json));
        await writeFileAtomic(join(this.dir, file), sealed, this.#onStep === undefined ? {} : { onStep: this.#onStep });
        const hash = fileSha256(sealed);
        parts.push({ file, collection, count: chunk.length, sha256: hash });
        if (ids.length > 0) moved.push([{ name: file, sha256: hash }, ids]);
        bytes += sealed.length;
        await tick();
      }
    }
    const chainHead = head ?? toHex(randomBytes(32));
    const manifest = JSON.stringify({ format: SNAP_FORMAT, generation: g, savedAt: state.savedAt, head: chainHead, meta: metaToDisk(state), parts });
    bytes += await this.#write(snapName(g), signDocument(SNAP_LABEL, manifest, this.#keys.signing).document);
    for (const [file, ids] of moved) for (const id of ids) envelopes.located(id, file);
    envelopes.forgetCache();
    const saved = await savedFrom(state, g, chainHead, g);
    saved.snapshotBytes = bytes;
    return saved;
  }

  /** Writes the change since `saved` as generation saved.generation + 1 (updates `saved`). Returns it and how many shares the change removed. */
  async appendLog(state: VaultState, saved: Saved, changes: Changes, savedAt: number, envelopes: EnvelopeIndex): Promise<{ generation: number; removedShares: number }> {
    const generation = saved.generation + 1;
    const { delta, removedShares } = buildDelta(state, saved, changes);
    const w = new DocWriter();
    w.text(`{"format":"${LOG_FORMAT}","generation":${String(generation)},"savedAt":${String(savedAt)},"prev":"${saved.head}"`);
    await writeDelta(w, delta, envelopes);
    const { pieces, digest } = w.finishSigned(LOG_LABEL, this.#keys.signing);
    const sealed = await this.#keys.sealer.sealPieces(pieces, tick);
    await writeFileAtomic(join(this.dir, logName(generation)), sealed, this.#onStep === undefined ? {} : { onStep: this.#onStep });
    // The new shares' envelopes are in this entry now: keep only where.
    const file: RecordFile = { name: logName(generation), sha256: fileSha256(sealed) };
    for (const list of [delta.put?.shares, delta.reset?.shares]) {
      for (const it of list ?? []) {
        const id = (it as ShareRecord).id;
        if (envelopes.pendingOf(id) !== undefined) envelopes.located(id, file);
      }
    }
    saved.generation = generation;
    saved.savedAt = savedAt;
    saved.head = digest;
    saved.logsSinceSnapshot++;
    saved.logBytesSinceSnapshot += sealed.length;
    return { generation, removedShares };
  }

  /**
   * After a snapshot at `saved.snapshot`: removes every file no kept snapshot needs. Kept: the new
   * snapshot and (unless `dropPrevious`, after a hard delete) the one before it with the journal
   * since; removed: older snapshots, their parts, parts of unfinished snapshots, older logs.
   */
  async prune(saved: Saved, previous: number | undefined, dropPrevious: boolean): Promise<void> {
    const keep = new Set<number>([saved.snapshot]);
    if (!dropPrevious && previous !== undefined && previous < saved.snapshot) keep.add(previous);
    const oldestKept = Math.min(...keep);
    for (const f of await this.#list()) {
      const snap = ANY_SNAP_RE.exec(f);
      const log = LOG_RE.exec(f);
      const remove = (snap !== null && !keep.has(Number(snap[1]))) || (log !== null && Number(log[1]) <= oldestKept);
      if (remove) await fsp.rm(join(this.dir, f), { force: true });
    }
    saved.previousSnapshot = keep.has(previous ?? -1) ? previous : undefined;
  }

  /** Reads and decrypts one record file (with `opener`, which may move the bytes to a worker: hashed first). */
  async #open(name: string, opener: AgeOpener): Promise<{ text: string; sha256: string; size: number }> {
    const bytes = new Uint8Array(await fsp.readFile(join(this.dir, name)));
    const sha = fileSha256(bytes);
    const size = bytes.length;
    return { text: fromUtf8(await openSealed(opener, bytes, 'vault record')), sha256: sha, size };
  }

  async #loadSnapshot(g: number, publicKey: Uint8Array, io: LoadIo): Promise<{ builder: Builder; head: string; bytes: number; parts: number }> {
    const verified = verifyDocument(SNAP_LABEL, (await this.#open(snapName(g), io.opener)).text, publicKey);
    if (verified === undefined) throw new Error('the snapshot signature does not verify');
    const m = JSON.parse(verified.json) as Record<string, unknown>;
    const parts = m['parts'];
    if (m['format'] !== SNAP_FORMAT || m['generation'] !== g || typeof m['head'] !== 'string' || !/^[0-9a-f]{64}$/.test(m['head']) || typeof m['savedAt'] !== 'number' || !Array.isArray(parts)) {
      throw new Error('the snapshot manifest is not one');
    }
    const builder = new Builder(stateFromMeta(metaDiskSchema.parse(m['meta']), g, m['savedAt']), this.newEnvelopeIndex());
    const entries = parts as Record<string, unknown>[];
    for (const [k, p] of entries.entries()) {
      const collection = p['collection'];
      if (p['file'] !== partName(g, k) || typeof p['sha256'] !== 'string' || (collection !== 'audit' && !(COLLECTIONS as readonly unknown[]).includes(collection))) throw new Error('a part entry is wrong');
    }
    const total = entries.length + io.logsAfter(g);
    await io.onProgress?.(0, total);
    const fetchPart = async (k: number): Promise<{ plain: Uint8Array; size: number }> => {
      const sealed = new Uint8Array(await fsp.readFile(join(this.dir, partName(g, k))));
      // Authenticate before decrypting: the sealed file must be the one the signed manifest names.
      if (fileSha256(sealed) !== entries[k]?.['sha256']) throw new Error(`part ${String(k)} is not the one the manifest names`);
      const size = sealed.length;
      return { plain: await openSealed(io.opener, sealed, 'vault record'), size };
    };
    // One part ahead: the next one decrypts (in the unlock worker) while this one is parsed.
    let next = entries.length > 0 ? fetchPart(0) : undefined;
    let bytes = 0;
    for (const [k, p] of entries.entries()) {
      const current = next;
      if (current === undefined) break;
      next = k + 1 < entries.length ? fetchPart(k + 1) : undefined;
      if (next !== undefined) next.catch(() => undefined);
      const { plain, size } = await current;
      const part = JSON.parse(fromUtf8(plain)) as Record<string, unknown>;
      const items = part['items'];
      const collection = p['collection'];
      if (part['format'] !== PART_FORMAT || part['generation'] !== g || part['part'] !== k || part['collection'] !== collection || !Array.isArray(items) || items.length !== p['count']) {
        throw new Error(`part ${String(k)} does not match the manifest`);
      }
      // In slices (a part's items parse in about 5 ms on an idle machine, several times that on a busy one).
      const file: RecordFile = { name: partName(g, k), sha256: p['sha256'] as string };
      for (let at = 0; at < items.length; at += PARSE_SLICE) {
        builder.addPart(collection as CollectionName | 'audit', (items as unknown[]).slice(at, at + PARSE_SLICE), file);
        if (at + PARSE_SLICE < items.length) await tick();
      }
      bytes += size;
      await io.onProgress?.(k + 1, total);
      await tick();
    }
    return { builder, head: m['head'], bytes, parts: entries.length };
  }

  /**
   * Loads the newest complete state (see the header). Throws VAULT_CORRUPT when no snapshot is
   * usable. `opener` decrypts the files (default: in this thread; the unlock passes its worker's);
   * `onProgress` hears files done of files to read (awaited: a test may hold the load there).
   */
  async load(publicKey: Uint8Array, options: { opener?: AgeOpener; onProgress?: (done: number, total: number) => void | Promise<void> } = {}): Promise<Loaded> {
    const files = await this.#list();
    const fileSet = new Set(files);
    const logNumbers = files.flatMap((f) => {
      const m = LOG_RE.exec(f);
      return m === null ? [] : [Number(m[1])];
    });
    const io: LoadIo = {
      opener: options.opener ?? this.#keys.opener,
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
      logsAfter: (g) => logNumbers.filter((n) => n > g).length,
    };
    const snaps = files.flatMap((f) => {
      const m = SNAP_RE.exec(f);
      return m === null ? [] : [Number(m[1])];
    });
    snaps.sort((a, b) => b - a);
    const damaged: string[] = [];
    let base: { g: number; builder: Builder; head: string; bytes: number; parts: number } | undefined;
    let older: number | undefined;
    for (const g of snaps) {
      if (base !== undefined) {
        older = g;
        break;
      }
      try {
        base = { g, ...(await this.#loadSnapshot(g, publicKey, io)) };
      } catch {
        damaged.push(snapName(g));
      }
    }
    if (base === undefined) throw new ServiceError('VAULT_CORRUPT', `No snapshot in ${STORE_DIR}/ could be read with this identity (${damaged.join(', ') || 'none found'}).`, { details: { damaged } });
    const { builder } = base;
    let g = base.g;
    let head = base.head;
    let savedAt = builder.state.savedAt;
    let logs = 0;
    let logBytes = 0;
    for (;;) {
      const name = logName(g + 1);
      if (!fileSet.has(name)) break;
      try {
        const { text, sha256: hash } = await this.#open(name, io.opener);
        const verified = verifyDocument(LOG_LABEL, text, publicKey);
        if (verified === undefined) throw new Error('signature');
        const d = JSON.parse(verified.json) as Record<string, unknown>;
        if (d['format'] !== LOG_FORMAT || d['generation'] !== g + 1 || d['prev'] !== head || typeof d['savedAt'] !== 'number') throw new Error('chain');
        builder.apply(d, { name, sha256: hash });
        g++;
        head = verified.digest;
        savedAt = d['savedAt'];
        logs++;
        logBytes += text.length;
        await io.onProgress?.(base.parts + logs, base.parts + io.logsAfter(base.g));
      } catch {
        damaged.push(name);
        break;
      }
      await tick();
    }
    const state = builder.finish();
    state.generation = g;
    state.savedAt = savedAt;
    const saved = await savedFrom(state, g, head, base.g);
    saved.previousSnapshot = older;
    saved.logsSinceSnapshot = logs;
    saved.logBytesSinceSnapshot = logBytes;
    saved.snapshotBytes = base.bytes;
    for (const f of files) {
      const m = LOG_RE.exec(f);
      if (m !== null && Number(m[1]) > g + 1 && !damaged.includes(f)) damaged.push(f);
    }
    return { state, saved, envelopes: builder.envelopes, usedOlderSnapshot: damaged.some((f) => SNAP_RE.test(f)), damaged };
  }
}
