/**
 * Where each share's envelope is (issue 10: the unlocked vault's memory grows far slower than the
 * vault). An envelope (about 1.5–2.5 KB, signed by the agent) is read only to verify a share again,
 * to answer an inventory challenge or to rebuild a snapshot; so the unlocked vault does not hold it.
 * It stays inside the sealed record file that holds it (a snapshot part, or the journal entry that
 * brought it in, vault-store.ts), and this index keeps, per share id, which file that is and the
 * SHA-256 of that sealed file, as read at unlock (for a part: as named by the signed manifest).
 *
 * Reading one: the file is read, its hash compared with the one kept BEFORE it is decrypted
 * (authenticate before decrypting), decrypted, and the envelope's SHA-256 compared with the share id
 * (the id is the envelope's SHA-256). Files are read in order by the callers that read many (a
 * verify-all, a compaction), so a small cache of the last opened files makes each file open once.
 *
 * A share imported in this session has its envelope in memory (`pending`) until the journal entry
 * that carries it is written; then only its place is kept.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { fromUtf8 } from '../../shared/bytes';
import type { AgeOpener } from '../../shared/crypto/seal';
import { ServiceError } from './errors';

/** One sealed record file holding envelopes: its name in store/ and the SHA-256 of its sealed bytes. */
export interface RecordFile {
  readonly name: string;
  readonly sha256: string;
}

/** How many opened files are kept (each at most about 256 KB of base64 text, or one journal entry). */
const CACHE_FILES = 2;

export class EnvelopeIndex {
  readonly #dir: string;
  readonly #ownOpener: AgeOpener;
  #opener: AgeOpener;
  /** Share id → the file holding its envelope, or the envelope itself until it is written. */
  readonly #where = new Map<string, RecordFile | Uint8Array>();
  /** Recently opened files: name → (share id → envelope in base64). */
  readonly #cache = new Map<string, Map<string, string>>();

  constructor(storeDir: string, opener: AgeOpener) {
    this.#dir = storeDir;
    this.#ownOpener = opener;
    this.#opener = opener;
  }

  /** Decrypts with `opener` until called again with undefined (a compaction lends the unlock worker's). */
  useOpener(opener: AgeOpener | undefined): void {
    this.#opener = opener ?? this.#ownOpener;
  }

  /** An envelope not yet in any file (a share imported in this session). */
  pending(id: string, envelope: Uint8Array): void {
    this.#where.set(id, envelope);
  }

  /** The envelope of `id` is in `file` (set at load, and after each write that carries it). */
  located(id: string, file: RecordFile): void {
    this.#where.set(id, file);
  }

  /** The envelope of `id` when it is only in memory (not yet written); undefined otherwise. */
  pendingOf(id: string): Uint8Array | undefined {
    const where = this.#where.get(id);
    return where instanceof Uint8Array ? where : undefined;
  }

  has(id: string): boolean {
    return this.#where.has(id);
  }

  /** Forgets shares no longer in the state (after a hard delete), so their files are not kept alive. */
  retain(ids: ReadonlySet<string>): void {
    for (const id of this.#where.keys()) if (!ids.has(id)) this.#where.delete(id);
  }

  /** Forgets the opened-file cache (after a compaction removed files, and on lock). */
  forgetCache(): void {
    this.#cache.clear();
  }

  wipe(): void {
    this.#where.clear();
    this.#cache.clear();
  }

  /** The envelope of share `id`, read from its file and checked against the id (VAULT_CORRUPT when it cannot be). */
  async get(id: string): Promise<Uint8Array> {
    const where = this.#where.get(id);
    if (where === undefined) throw new ServiceError('INTERNAL', 'The vault has no envelope for this share.', { details: { id } });
    if (where instanceof Uint8Array) return Uint8Array.from(where);
    const b64 = (await this.#opened(where)).get(id);
    if (b64 === undefined) throw corrupt(where.name, 'does not hold the envelope it held at unlock');
    const envelope = new Uint8Array(Buffer.from(b64, 'base64'));
    if (createHash('sha256').update(envelope).digest('hex') !== id || envelope.length === 0) throw corrupt(where.name, 'holds an envelope that does not have the hash it is filed under');
    return envelope;
  }

  async #opened(file: RecordFile): Promise<Map<string, string>> {
    const hit = this.#cache.get(file.name);
    if (hit !== undefined) {
      this.#cache.delete(file.name);
      this.#cache.set(file.name, hit);
      return hit;
    }
    let sealed: Uint8Array;
    try {
      sealed = new Uint8Array(await fsp.readFile(join(this.#dir, file.name)));
    } catch (error) {
      throw corrupt(file.name, 'could not be read', error);
    }
    // Authenticate before decrypting: the file must be the one checked at unlock.
    if (createHash('sha256').update(sealed).digest('hex') !== file.sha256) throw corrupt(file.name, 'changed since the vault was unlocked');
    let doc: unknown;
    try {
      doc = JSON.parse(fromUtf8(await this.#opener.open(sealed, 'vault record')));
    } catch (error) {
      throw corrupt(file.name, 'could not be decrypted', error);
    }
    const map = envelopesIn(doc);
    this.#cache.set(file.name, map);
    while (this.#cache.size > CACHE_FILES) {
      const oldest = this.#cache.keys().next().value;
      if (oldest === undefined) break;
      this.#cache.delete(oldest);
    }
    return map;
  }
}

/** The share envelopes in a part (`items`) or a journal entry (`put.shares`, `reset.shares`): id → base64. */
function envelopesIn(doc: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const add = (items: unknown): void => {
    if (!Array.isArray(items)) return;
    for (const it of items as unknown[]) {
      if (typeof it !== 'object' || it === null) continue;
      const { id, envelope } = it as { id?: unknown; envelope?: unknown };
      if (typeof id === 'string' && typeof envelope === 'string') out.set(id, envelope);
    }
  };
  if (typeof doc !== 'object' || doc === null) return out;
  const d = doc as Record<string, unknown>;
  if (d['collection'] === 'shares') add(d['items']);
  for (const section of ['reset', 'put']) {
    const s = d[section];
    if (typeof s === 'object' && s !== null) add((s as Record<string, unknown>)['shares']);
  }
  return out;
}

function corrupt(name: string, what: string, cause?: unknown): ServiceError {
  return new ServiceError('VAULT_CORRUPT', `The vault record ${name} ${what}. Lock and unlock the vault; if this stays, restore the folder from a backup.`, {
    details: { file: name },
    ...(cause === undefined ? {} : { cause }),
  });
}
