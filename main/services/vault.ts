/**
 * Over 500 lines on purpose: the Vault is one state machine (create, unlock with migration and the
 * rollback check, change, save, compact, lock, passphrase change) whose invariants — one serial
 * queue, memory = disk after every step, journal before counter — are checked together here. The
 * pieces without those invariants live beside it: vault-identity.ts, vault-store.ts,
 * vault-tracking.ts, vault-layout.ts.
 *
 * The custodian vault: one folder per custodian profile, in the age format so that a custodian
 * with the passphrase and the `age` tool can get everything out if Custos is gone
 * (docs/custodian-vault.md has the layout, the numbers behind it, and the escape hatch).
 *
 *   identity.age          the custodian identity (an age identity file: the AGE-SECRET-KEY line, and
 *                         the Ed25519 seed, public facts and the rollback counter as `#` comment
 *                         lines), encrypted with the passphrase (age scrypt stanza, kdf.ts;
 *                         vault-identity.ts). Rewritten after every save without the KDF.
 *   store/                the vault records (vault-store.ts): a signed snapshot in parts and a
 *                         journal of signed changes, each file sealed to the custodian's OWN age
 *                         recipient. A save writes one journal file: its cost follows the change.
 *   vault.json            public facts (name, keys, fingerprint code), written last at creation:
 *                         a folder without it holds no finished vault.
 *   enrollment-card.custos  the self-signed enrollment card to send to ops.
 *   unlock-attempts.json  failed passphrase count and time (not secret), for the growing delay.
 *   README.txt            the escape hatch, in English and Chinese.
 *
 * Layout 1 (one shares.age with the whole state, and shares.prev.age) is migrated at the first
 * unlock. Changes go through `update`, which hands the change a tracking view of the state
 * (vault-tracking.ts), serialises changes, saves once at the end, and on any failure reloads what is
 * on disk so that what is in memory is always what is on disk. Rollback: unlock refuses records
 * older than the generation identity.age last recorded.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { AuditFields } from '../../shared/audit/chain';
import { createHash } from 'node:crypto';
import { fromUtf8, toHex, utf8, wipe } from '../../shared/bytes';
import { AgeResealer, ageOpener, openSealed } from '../../shared/crypto/seal';
import {
  comparisonCode,
  createCustodianIdentity,
  custodianIdentityFingerprint,
  makeCustodianCard,
  type CustodianIdentity,
} from '../../shared/protocol/identity';
import { label as labelSchema } from '../../shared/protocol/schema';
import { appendAudit } from './audit';
import { EMPTY_HEAD, stepChain, type ChainHead } from '../../shared/audit/chain';
import { ServiceError, isCodedError } from './errors';
import { exists, readIfExists, removeStaleTemps, writeFileAtomic, type AtomicStep } from '../../node/fs-atomic';
import { calibrateScryptLogN, MIN_LOG_N, nodeScryptKdf, scryptLogNOf, TEST_MIN_LOG_N, type ScryptKdf } from './kdf';
import { parseState, serializeState, verifiedStateJson, VAULT_FORMAT, wipeState, type VaultState } from './state';
import { identityText, IdentityFile, parseIdentityText } from './vault-identity';
import { selfCheckEnabled, STORE_DIR, VaultStore, type Saved } from './vault-store';
import { Tracker, type Changes } from './vault-tracking';
import type { EnvelopeIndex } from './vault-envelopes';
import { UnlockWorker } from './vault-worker';
import { canonicalJson, enforceModes, ESCAPE_HATCH, LEGACY_FILES, README, VAULT_FILES } from './vault-layout';
import { assertStrongPassphrase, MIN_PASSPHRASE_LENGTH } from './passphrase';

export { LEGACY_FILES, VAULT_FILES } from './vault-layout';

/** The longest the unlock's own work on the main thread runs before it lets the event loop go. */
const SLICE_MS = 8;

/** Compact (write a new snapshot) once the journal since the last one is this long or this big. */
export const COMPACT_AFTER_LOGS = 256;
export const COMPACT_AFTER_BYTES = 8 * 1024 * 1024;

export { MIN_PASSPHRASE_LENGTH } from './passphrase';

/** Delay before the next unlock attempt after `failures` wrong passphrases: min(2^n · 250 ms, 30 s). */
export function unlockDelayFor(failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(2 ** Math.min(failures, 20) * 250, 30_000);
}

export interface VaultOptions {
  /** Milliseconds since the Unix epoch (default Date.now). Protocol times are its seconds. */
  readonly clock?: () => number;
  /** How to wait out the unlock delay (default setTimeout). Tests inject a recorder. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** The scrypt implementation (default node:crypto on the thread pool). */
  readonly kdf?: ScryptKdf;
  /** Called before each step of every save (tests). */
  readonly onSaveStep?: (step: AtomicStep) => void;
  /**
   * Unlock in a worker thread (vault-worker.ts: the KDF, unless `kdf` is given, and the decryption
   * of the records). Default true; false runs both in this thread (the KDF still on libuv's pool).
   */
  readonly unlockWorker?: boolean;
  /** Awaited after each record file an unlock has read (tests: hold an unlock half-way to see its progress). */
  readonly onUnlockRead?: (done: number, total: number) => Promise<void>;
}

/** What an unlock reports while it runs (for a progress bar). */
export interface UnlockProgress {
  /** `deriving`: the passphrase KDF (no count); `reading`: record files read of the total. */
  readonly phase: 'deriving' | 'reading';
  readonly done: number;
  readonly total: number;
}

export interface CreateOptions extends VaultOptions {
  /**
   * The scrypt work factor to use instead of calibrating. Below MIN_LOG_N (15) it is refused with
   * WEAK_KDF unless `allowWeakKdf` is set: an explicit opt-in for tests only.
   */
  readonly kdfLogN?: number;
  readonly allowWeakKdf?: boolean;
  /** Calibration target per derivation (default 1000 ms). */
  readonly kdfTargetMs?: number;
}

export interface VaultPublicInfo {
  readonly format: typeof VAULT_FORMAT;
  readonly name: string;
  readonly createdAt: number;
  readonly signKey: string;
  readonly ageRecipient: string;
  readonly fingerprint: string;
  readonly code: string;
}

const metaSchema = z.strictObject({
  format: z.literal(VAULT_FORMAT),
  name: z.string().max(200),
  createdAt: z.number().int().min(0),
  signKey: z.string().regex(/^[0-9a-f]{64}$/),
  ageRecipient: z.string().max(100),
  fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  code: z.string(),
  files: z.record(z.string(), z.string()).optional(),
  escapeHatch: z.array(z.string()).optional(),
});

const attemptsSchema = z.strictObject({ failures: z.number().int().min(0), lastFailureAt: z.number().int().min(0) });

export interface UnlockResult {
  readonly generation: number;
  /** Some record file could not be used (the newest snapshot: an older one and the journal since were used). Nothing saved was lost. */
  readonly recoveredFromPrevious: boolean;
  /** The vault was in layout 1 (one shares.age) and has just been migrated. */
  readonly migrated: boolean;
  readonly auditOk: boolean;
  /** The scrypt work factor of identity.age. */
  readonly kdfLogN: number | undefined;
}

/** What a change function gets: the state to change, the time, and the audit log. */
export interface VaultTx {
  readonly state: VaultState;
  /**
   * The same state without the tracking view, for READING many items fast (an index over 100,000
   * shares: through the view, every item read makes a proxy). Never write through it or through an
   * item read from it: such a write is not saved.
   */
  readonly current: Readonly<VaultState>;
  /** Unix seconds, from the vault's clock. */
  readonly now: number;
  readonly identity: CustodianIdentity;
  readonly fingerprint: Uint8Array;
  /** Appends an audit entry (saved with the change). The operator defaults to the custodian's name. */
  audit(fields: AuditFields): void;
  /** Marks the state changed, so it is saved at the end. */
  changed(): void;
  /** The envelope of a share in the state (read from its sealed record file, checked against the id). */
  envelope(share: { readonly id: string }): Promise<Uint8Array>;
  /** Gives the envelope of a share being added (its id must be the envelope's SHA-256); saved with it. */
  addEnvelope(id: string, envelope: Uint8Array): void;
}

/** What an unlocked vault holds besides the state. */
interface Session {
  readonly identity: CustodianIdentity;
  readonly createdAt: number;
  readonly file: IdentityFile;
  readonly store: VaultStore;
  /** Where each share's envelope is (the envelopes are not held in memory). */
  envelopes: EnvelopeIndex;
  saved: Saved;
  /** identity.age holds an older counter than `saved.generation` (its rewrite failed): retried at the next save. */
  counterBehind: boolean;
}

export class Vault {
  readonly dir: string;
  readonly #clock: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #kdf: ScryptKdf;
  readonly #kdfGiven: boolean;
  readonly #useWorker: boolean;
  readonly #onUnlockRead: ((done: number, total: number) => Promise<void>) | undefined;
  readonly #onSaveStep: ((step: AtomicStep) => void) | undefined;
  #meta: VaultPublicInfo;
  #session: Session | null = null;
  #state: VaultState | null = null;
  /** The tracking view of the state while a change runs (`state` returns it then). */
  #view: VaultState | null = null;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(dir: string, meta: VaultPublicInfo, options: VaultOptions) {
    this.dir = dir;
    this.#meta = meta;
    this.#clock = options.clock ?? ((): number => Date.now());
    this.#sleep = options.sleep ?? ((ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#kdf = options.kdf ?? nodeScryptKdf;
    this.#kdfGiven = options.kdf !== undefined;
    this.#useWorker = options.unlockWorker ?? true;
    this.#onUnlockRead = options.onUnlockRead;
    this.#onSaveStep = options.onSaveStep;
  }

  path(file: keyof typeof VAULT_FILES | keyof typeof LEGACY_FILES): string {
    return join(this.dir, file === 'shares' || file === 'previous' ? LEGACY_FILES[file] : VAULT_FILES[file]);
  }

  /** True when `dir` holds a finished vault. */
  static async exists(dir: string): Promise<boolean> {
    return (await exists(join(dir, VAULT_FILES.meta))) && (await exists(join(dir, VAULT_FILES.identity)));
  }

  /** Creates a vault and its identity in `dir` (created if missing; must not hold a vault). Returns it unlocked. */
  static async create(dir: string, input: { name: string; passphrase: string }, options: CreateOptions = {}): Promise<Vault> {
    const nameCheck = labelSchema.safeParse(input.name);
    if (!nameCheck.success) {
      throw new ServiceError('USAGE', 'The custodian name must be 1 to 200 characters without control characters.');
    }
    checkPassphrase(input.passphrase);
    // The passphrase policy (passphrase.ts) at the work factor asked for, or at the floor when it is
    // calibrated below (a calibrated one is at least MIN_LOG_N: never judged more leniently).
    await assertStrongPassphrase(input.passphrase, options.kdfLogN ?? MIN_LOG_N, [nameCheck.data]);
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
      throw new ServiceError('IO_FAILED', 'The vault folder could not be created.', { cause: error });
    });
    for (const f of [VAULT_FILES.meta, VAULT_FILES.identity, VAULT_FILES.store, LEGACY_FILES.shares]) {
      if (await exists(join(dir, f))) {
        throw new ServiceError(
          'VAULT_EXISTS',
          f === VAULT_FILES.meta
            ? 'A vault already exists in this folder. Open it, or choose another folder.'
            : `This folder holds an unfinished vault (${f} without vault.json). Move it away or choose another folder.`,
        );
      }
    }
    const kdf = options.kdf ?? nodeScryptKdf;
    let logN = options.kdfLogN;
    if (logN !== undefined) {
      if (!Number.isInteger(logN) || logN < TEST_MIN_LOG_N || (logN < MIN_LOG_N && options.allowWeakKdf !== true)) {
        throw new ServiceError('WEAK_KDF', `A scrypt work factor of ${String(logN)} is below the minimum of ${String(MIN_LOG_N)}; only tests may go lower, explicitly.`, {
          details: { logN, min: MIN_LOG_N },
        });
      }
    } else {
      logN = (await calibrateScryptLogN({ kdf, ...(options.kdfTargetMs === undefined ? {} : { targetMs: options.kdfTargetMs }) })).logN;
    }
    const clock = options.clock ?? ((): number => Date.now());
    const createdAt = Math.floor(clock() / 1000);
    const identity = await createCustodianIdentity(nameCheck.data);
    const fp = custodianIdentityFingerprint(identity);
    const meta: VaultPublicInfo = {
      format: VAULT_FORMAT,
      name: identity.name,
      createdAt,
      signKey: toHex(identity.signing.publicKey),
      ageRecipient: identity.age.recipient,
      fingerprint: toHex(fp),
      code: comparisonCode(fp),
    };
    const vault = new Vault(dir, meta, options);
    try {
      await fsp.chmod(dir, 0o700);
      const state: VaultState = {
        format: VAULT_FORMAT,
        generation: 1,
        savedAt: createdAt,
        custodian: { name: identity.name, signKey: meta.signKey, ageRecipient: meta.ageRecipient, createdAt },
        agent: null,
        previousAgents: [],
        shares: [],
        refusals: [],
        supersedes: [],
        purged: [],
        audit: { entries: [], head: null },
      };
      appendAudit(state, createdAt, { event: 'register', result: 'ok', operator: identity.name, target: 'custodian', detail: `vault created, scrypt logN ${String(logN)}`, signature: meta.fingerprint });
      const idText = utf8(identityText(identity, createdAt, state.generation));
      const { file, handle } = await IdentityFile.create(idText, input.passphrase, logN, kdf);
      wipe(idText);
      await writeFileAtomic(vault.path('identity'), file);
      const store = new VaultStore(dir, { recipient: identity.age.recipient, sealer: await AgeResealer.forRecipient(identity.age.recipient), opener: await ageOpener(identity.age.identity), signing: identity.signing }, options.onSaveStep);
      const envelopes = store.newEnvelopeIndex();
      const saved = await store.writeSnapshot(state, undefined, envelopes);
      vault.#session = { identity, createdAt, file: handle, store, envelopes, saved, counterBehind: false };
      vault.#state = state;
      await writeFileAtomic(vault.path('card'), makeCustodianCard(identity, createdAt), { mode: 0o644 });
      await writeFileAtomic(vault.path('readme'), utf8(README), { mode: 0o644 });
      await vault.#writeMeta();
    } catch (error) {
      vault.#wipe();
      if (isCodedError(error)) throw error;
      throw new ServiceError('IO_FAILED', 'The vault could not be written.', { cause: error });
    }
    return vault;
  }

  async #writeMeta(): Promise<void> {
    const metaJson = { ...this.#meta, files: { ...VAULT_FILES }, escapeHatch: ESCAPE_HATCH };
    await writeFileAtomic(this.path('meta'), utf8(JSON.stringify(metaJson, null, 2) + '\n'), { mode: 0o644 });
  }

  /** Opens the vault in `dir`, locked. Forces the folder to 0700 and its files to 0600. */
  static async open(dir: string, options: VaultOptions = {}): Promise<Vault> {
    const metaBytes = await readIfExists(join(dir, VAULT_FILES.meta));
    if (metaBytes === undefined || !(await exists(join(dir, VAULT_FILES.identity)))) {
      throw new ServiceError('VAULT_NOT_FOUND', 'There is no complete vault in this folder.', { details: { dir } });
    }
    let raw: unknown;
    try {
      raw = JSON.parse(fromUtf8(metaBytes));
    } catch (error) {
      throw new ServiceError('VAULT_CORRUPT', 'vault.json is not valid JSON.', { cause: error });
    }
    const parsed = metaSchema.safeParse(raw);
    if (!parsed.success) throw new ServiceError('VAULT_CORRUPT', 'vault.json does not describe a Custos vault.');
    await enforceModes(dir).catch((error: unknown) => {
      throw new ServiceError('IO_FAILED', 'The vault folder\'s permissions could not be set to owner-only (0700/0600).', { cause: error });
    });
    const { files: _files, escapeHatch: _hatch, ...meta } = parsed.data;
    return new Vault(dir, meta, options);
  }

  /** Public facts, available while locked (from vault.json; checked against the identity at unlock). */
  get info(): VaultPublicInfo {
    return this.#meta;
  }

  get unlocked(): boolean {
    return this.#session !== null && this.#state !== null;
  }

  /** Unix seconds from the vault's clock. */
  now(): number {
    return Math.floor(this.#clock() / 1000);
  }

  async #readAttempts(): Promise<{ failures: number; lastFailureAt: number }> {
    const bytes = await readIfExists(this.path('attempts'));
    if (bytes === undefined) return { failures: 0, lastFailureAt: 0 };
    try {
      return attemptsSchema.parse(JSON.parse(fromUtf8(bytes)));
    } catch {
      // A damaged counter counts as one failure rather than none.
      return { failures: 1, lastFailureAt: this.#clock() };
    }
  }

  /** How long the next unlock attempt will wait, in ms (for a countdown in the UI). */
  async unlockDelayMs(): Promise<number> {
    const a = await this.#readAttempts();
    return Math.max(0, a.lastFailureAt + unlockDelayFor(a.failures) - this.#clock());
  }

  /**
   * Unlocks with the passphrase: one KDF run, then the records, both decrypted in a worker thread
   * (vault-worker.ts; in-process with `unlockWorker: false`) while this thread checks hashes and
   * signatures and parses in steps that each leave the event loop free within milliseconds;
   * `onProgress` hears `deriving`, then `reading` (files done of total). Waits out the delay earned
   * by earlier wrong passphrases first. Refuses records older than identity.age's rollback counter.
   * A layout-1 vault is migrated here.
   */
  unlock(passphrase: string, options: { onProgress?: (p: UnlockProgress) => void } = {}): Promise<UnlockResult> {
    return this.#serial(async () => {
      if (this.unlocked) throw new ServiceError('INVALID_STATE', 'The vault is already unlocked.');
      const worker = this.#useWorker ? UnlockWorker.start() : undefined;
      try {
        return await this.#unlock(passphrase, worker, options.onProgress);
      } finally {
        await worker?.stop();
      }
    });
  }

  async #unlock(passphrase: string, worker: UnlockWorker | undefined, onProgress: ((p: UnlockProgress) => void) | undefined): Promise<UnlockResult> {
    const idFile = await readIfExists(this.path('identity'));
    if (idFile === undefined) throw new ServiceError('VAULT_NOT_FOUND', 'identity.age is missing from the vault folder.');
    const kdf = worker !== undefined && !this.#kdfGiven ? worker.kdf : this.#kdf;
    const { plaintext, handle } = await this.#decryptIdentityFile(idFile, passphrase, kdf, () => onProgress?.({ phase: 'deriving', done: 0, total: 0 }));
    let parsed: Awaited<ReturnType<typeof parseIdentityText>>;
    try {
      parsed = await parseIdentityText(fromUtf8(plaintext));
    } catch (error) {
      handle.wipe();
      throw error;
    } finally {
      wipe(plaintext);
    }
    const { identity, createdAt, generation: counter } = parsed;
    const fail = (error: unknown): never => {
      wipe(identity.signing.seed);
      handle.wipe();
      throw error;
    };
    if (toHex(identity.signing.publicKey) !== this.#meta.signKey || identity.age.recipient !== this.#meta.ageRecipient) {
      fail(new ServiceError('VAULT_CORRUPT', 'vault.json does not belong to this identity.age: the folder was mixed up.'));
    }
    try {
      const store = new VaultStore(this.dir, { recipient: identity.age.recipient, sealer: await AgeResealer.forRecipient(identity.age.recipient), opener: await ageOpener(identity.age.identity), signing: identity.signing }, this.#onSaveStep);
      const migrated = !(await store.hasSnapshot());
      let state: VaultState;
      let saved: Saved;
      let envelopes: EnvelopeIndex;
      let recovered = false;
      if (migrated) {
        const legacy = await this.#loadLegacy(identity);
        state = legacy.state;
        recovered = legacy.recoveredFromPrevious;
        this.#checkRollback(state.generation, counter);
        envelopes = store.newEnvelopeIndex();
        for (const [id, bytes] of legacy.envelopes) envelopes.pending(id, bytes);
        saved = await this.#migrate(store, state, envelopes, identity, createdAt, handle);
      } else {
        await worker?.setIdentity(identity.age.identity);
        const onRead = this.#onUnlockRead;
        const loaded = await store.load(identity.signing.publicKey, {
          ...(worker === undefined ? {} : { opener: worker.opener }),
          onProgress: async (done: number, total: number) => {
            onProgress?.({ phase: 'reading', done, total });
            if (onRead !== undefined && done > 0) await onRead(done, total);
          },
        });
        state = loaded.state;
        saved = loaded.saved;
        envelopes = loaded.envelopes;
        recovered = loaded.damaged.length > 0;
        if (state.custodian.signKey !== this.#meta.signKey || state.custodian.ageRecipient !== identity.age.recipient) {
          throw new ServiceError('VAULT_CORRUPT', 'The vault records name another custodian than identity.age.');
        }
        this.#checkRollback(state.generation, counter);
        // A migration interrupted after its snapshot: layout 1's files are no longer read; remove them.
        for (const f of Object.values(LEGACY_FILES)) await fsp.rm(join(this.dir, f), { force: true });
      }
      this.#session = { identity, createdAt, file: handle, store, envelopes, saved, counterBehind: counter < saved.generation };
      this.#state = state;
      await removeStaleTemps(this.dir, Object.values(VAULT_FILES)).catch(() => 0);
      // Temp files of writes a crash interrupted (their target may never have been renamed into place).
      const temps = (await fsp.readdir(store.dir).catch(() => [])).flatMap((f) => /^\.(.+)\.[0-9a-f]{12}\.tmp$/.exec(f)?.[1] ?? []);
      await removeStaleTemps(store.dir, [...new Set(temps)]).catch(() => 0);
      await enforceModes(this.dir).catch(() => undefined);
      this.#compactLaterIfDue();
      return { generation: state.generation, recoveredFromPrevious: recovered, migrated, auditOk: await auditChainOk(state), kdfLogN: scryptLogNOf(idFile) };
    } catch (error) {
      this.#session = null;
      this.#state = null;
      return fail(error);
    }
  }

  #checkRollback(found: number, counter: number): void {
    if (found >= counter) return;
    throw new ServiceError(
      'VAULT_CORRUPT',
      `The vault records go up to save ${String(found)}, but this identity last saved ${String(counter)}: newer records were removed or an older copy of the folder was put back. Nothing was opened or changed. Put back the newest copy of the whole folder (store/ included).`,
      { details: { reason: 'rollback', found, expected: counter } },
    );
  }

  /**
   * Decrypts identity.age with a passphrase, under the failed-attempt counter: waits out the delay
   * earned by earlier wrong passphrases first, counts a wrong one (WRONG_PASSPHRASE with the next
   * delay), and clears the counter after a right one. Every passphrase check goes through here.
   */
  async #decryptIdentityFile(idFile: Uint8Array, passphrase: string, kdf: ScryptKdf = this.#kdf, deriving?: () => void): Promise<{ plaintext: Uint8Array; handle: IdentityFile }> {
    const wait = await this.unlockDelayMs();
    if (wait > 0) await this.#sleep(wait);
    deriving?.();
    let opened: { plaintext: Uint8Array; handle: IdentityFile };
    try {
      opened = await IdentityFile.open(idFile, passphrase, kdf);
    } catch (error) {
      if (error instanceof ServiceError && error.code === 'WRONG_PASSPHRASE') {
        const a = await this.#readAttempts();
        const failures = a.failures + 1;
        await writeFileAtomic(this.path('attempts'), utf8(JSON.stringify({ failures, lastFailureAt: this.#clock() })), { mode: 0o644 });
        const delayMs = unlockDelayFor(failures);
        throw new ServiceError('WRONG_PASSPHRASE', `The passphrase is wrong. The next try waits ${String(delayMs / 1000)} s.`, {
          details: { failures, delayMs, delaySeconds: delayMs / 1000 },
        });
      }
      throw error;
    }
    if ((await this.#readAttempts()).failures > 0) await fsp.rm(this.path('attempts'), { force: true });
    return opened;
  }

  /** Layout 1: shares.age, or shares.prev.age if that fails; each must decrypt, carry the custodian's signature and parse. */
  async #loadLegacy(identity: CustodianIdentity): Promise<{ state: VaultState; envelopes: Map<string, Uint8Array>; recoveredFromPrevious: boolean }> {
    const tryFile = async (file: 'shares' | 'previous'): Promise<{ state: VaultState; envelopes: Map<string, Uint8Array> } | undefined> => {
      const bytes = await readIfExists(this.path(file));
      if (bytes === undefined) return undefined;
      try {
        const json = fromUtf8(await openSealed(identity.age.identity, bytes, 'vault state'));
        const signed = verifiedStateJson(json, identity.signing.publicKey);
        const parsed = signed === undefined ? undefined : parseState(signed);
        if (parsed === undefined) return undefined;
        const { state } = parsed;
        if (state.custodian.signKey !== toHex(identity.signing.publicKey) || state.custodian.ageRecipient !== identity.age.recipient) return undefined;
        return parsed;
      } catch {
        return undefined;
      }
    };
    const current = await tryFile('shares');
    if (current !== undefined) return { ...current, recoveredFromPrevious: false };
    const previous = await tryFile('previous');
    if (previous !== undefined) return { ...previous, recoveredFromPrevious: true };
    throw new ServiceError('VAULT_CORRUPT', `Neither ${STORE_DIR}/ nor ${LEGACY_FILES.shares} nor ${LEGACY_FILES.previous} could be read with this identity.`);
  }

  /**
   * Layout 1 → 2: writes the state as a snapshot at its generation, records that generation in
   * identity.age, then removes shares.age and shares.prev.age (interrupted before that, the next
   * unlock finds the snapshot and removes them then). vault.json gets the new file list.
   */
  async #migrate(store: VaultStore, state: VaultState, envelopes: EnvelopeIndex, identity: CustodianIdentity, createdAt: number, handle: IdentityFile): Promise<Saved> {
    const saved = await store.writeSnapshot(state, undefined, envelopes);
    await writeFileAtomic(this.path('identity'), handle.rewrite(utf8(identityText(identity, createdAt, saved.generation))));
    for (const f of Object.values(LEGACY_FILES)) await fsp.rm(join(this.dir, f), { force: true });
    await this.#writeMeta();
    return saved;
  }

  /** Locks: waits for a running change to finish, then wipes keys and shares from memory. */
  lock(): Promise<void> {
    return this.#serial(() => {
      this.#wipe();
      return Promise.resolve();
    });
  }

  #wipe(): void {
    if (this.#session !== null) {
      wipe(this.#session.identity.signing.seed);
      this.#session.file.wipe();
      this.#session.store.wipe();
      this.#session.envelopes.wipe();
    }
    // The age identity is a JavaScript string: it cannot be overwritten, only dropped.
    if (this.#state !== null) wipeState(this.#state);
    this.#session = null;
    this.#state = null;
    this.#view = null;
  }

  #requireUnlocked(): { session: Session; state: VaultState } {
    if (this.#session === null || this.#state === null) throw new ServiceError('VAULT_LOCKED', 'The vault is locked.');
    return { session: this.#session, state: this.#state };
  }

  /** The identity (unlocked only). */
  get identity(): CustodianIdentity {
    return this.#requireUnlocked().session.identity;
  }

  get fingerprint(): Uint8Array {
    return Buffer.from(this.#meta.fingerprint, 'hex');
  }

  /** Read-only view of the state (unlocked only). Do not change it outside `update`. */
  get state(): Readonly<VaultState> {
    const { state } = this.#requireUnlocked();
    return this.#view ?? state;
  }

  /**
   * The envelope of share `id` (unlocked only), read from the sealed record file that holds it and
   * checked against the id. Queued behind running changes (a compaction may be moving it). Inside a
   * change, use `tx.envelope`.
   */
  envelope(id: string): Promise<Uint8Array> {
    return this.#serial(() => this.#requireUnlocked().session.envelopes.get(id));
  }

  /** A fresh enrollment card (self-signed now). */
  card(): Uint8Array {
    return makeCustodianCard(this.identity, this.now());
  }

  /**
   * Runs one change: `fn` changes `tx.state` (a tracking view of the state) and adds audit entries;
   * if anything changed, what changed is saved once at the end (one journal file, no KDF). If `fn`
   * throws, or the save fails, what is on disk is reloaded (no half-done change stays in memory).
   */
  update<T>(fn: (tx: VaultTx) => Promise<T> | T): Promise<T> {
    return this.#serial(async () => {
      const { session, state } = this.#requireUnlocked();
      const tracker = new Tracker();
      const view = tracker.view(state);
      const change = { dirty: false };
      const tx: VaultTx = {
        state: view,
        current: state,
        now: this.now(),
        identity: session.identity,
        fingerprint: this.fingerprint,
        audit: (fields) => {
          change.dirty = true;
          appendAudit(state, this.now(), { operator: session.identity.name, ...fields });
        },
        changed: () => {
          change.dirty = true;
        },
        envelope: (share) => session.envelopes.get(share.id),
        addEnvelope: (id, envelope) => {
          if (createHash('sha256').update(envelope).digest('hex') !== id) throw new ServiceError('INTERNAL', 'An envelope was given under an id that is not its SHA-256.');
          change.dirty = true;
          session.envelopes.pending(id, Uint8Array.from(envelope));
        },
      };
      this.#view = view;
      let result: T;
      try {
        result = await fn(tx);
        this.#view = null;
        if (change.dirty) await this.#persist(tracker.changes);
      } catch (error) {
        this.#view = null;
        // `fn` may have changed the state before it failed (even without saying so): go back to
        // what is on disk. If even that fails, lock rather than keep a state that is not on disk.
        try {
          await this.#reload();
        } catch {
          this.#wipe();
        }
        throw error;
      }
      return result;
    });
  }

  /** Saves the current state now (a new generation). */
  save(): Promise<void> {
    return this.update((tx) => {
      tx.changed();
    });
  }

  async #reload(): Promise<void> {
    const { session } = this.#requireUnlocked();
    const loaded = await session.store.load(session.identity.signing.publicKey);
    if (this.#state !== null && this.#state !== loaded.state) wipeState(this.#state);
    this.#state = loaded.state;
    session.saved = loaded.saved;
    session.envelopes.wipe();
    session.envelopes = loaded.envelopes;
  }

  /**
   * One save: the change as the next journal file, then the new generation into identity.age (in
   * that order: a crash between leaves identity.age one behind, which unlock accepts). A change
   * that removed shares (a hard delete) is followed at once by a compaction that keeps no older
   * snapshot or journal file, so no file in the vault still holds the removed shares.
   */
  async #persist(changes: Changes): Promise<void> {
    const { session, state } = this.#requireUnlocked();
    const savedAt = this.now();
    let written: { generation: number; removedShares: number };
    try {
      // Owner-only at every save too, whatever happened to the folder meanwhile.
      await fsp.chmod(this.dir, 0o700);
      await fsp.chmod(session.store.dir, 0o700);
      written = await session.store.appendLog(state, session.saved, changes, savedAt, session.envelopes);
    } catch (error) {
      if (isCodedError(error)) throw error;
      throw new ServiceError('IO_FAILED', 'The vault could not be saved; the last saved version is unchanged.', { cause: error });
    }
    state.generation = written.generation;
    state.savedAt = savedAt;
    await this.#writeCounter(session);
    if (written.removedShares > 0) {
      session.envelopes.retain(new Set(state.shares.map((r) => r.id)));
      await this.#compact(true);
    }
    if (selfCheckEnabled()) await this.#selfCheck();
    this.#compactLaterIfDue();
  }

  async #writeCounter(session: Session): Promise<void> {
    try {
      await writeFileAtomic(this.path('identity'), session.file.rewrite(utf8(identityText(session.identity, session.createdAt, session.saved.generation))));
      session.counterBehind = false;
    } catch {
      // The change itself is saved; identity.age keeps the older counter (still accepted) until the next save.
      session.counterBehind = true;
    }
  }

  /** Tests (and CUSTOS_VAULT_SELFCHECK=1): the files just written must give exactly the state in memory. */
  async #selfCheck(): Promise<void> {
    const { session, state } = this.#requireUnlocked();
    const loaded = await session.store.load(session.identity.signing.publicKey);
    // Key order may differ (a parsed item has the schema's order): compare with sorted keys.
    const a = canonicalJson(serializeState(loaded.state));
    const b = canonicalJson(serializeState(state));
    const ok = a === b;
    wipeState(loaded.state);
    if (!ok) throw new ServiceError('INTERNAL', 'Vault self-check: the saved records do not give the state in memory (a change bypassed the tracking view).');
    // Every share's envelope is in a file now, the one reading the records back finds (not only in memory).
    for (const r of state.shares) {
      if (session.envelopes.pendingOf(r.id) !== undefined || !loaded.envelopes.has(r.id)) {
        throw new ServiceError('INTERNAL', 'Vault self-check: a share\'s envelope was not written with it.', { details: { id: r.id } });
      }
    }
    loaded.envelopes.wipe();
  }

  /** Writes a snapshot of the state at the current generation and prunes what it makes unnecessary. */
  async #compact(dropPrevious: boolean): Promise<void> {
    const { session, state } = this.#requireUnlocked();
    const previous = session.saved.snapshot;
    if (previous === state.generation && !dropPrevious) return;
    let saved = session.saved;
    if (previous !== state.generation) {
      // Every envelope is read back from its file: decrypted in a worker thread, as at unlock.
      const worker = this.#useWorker && state.shares.length > 0 ? UnlockWorker.start() : undefined;
      try {
        if (worker !== undefined) {
          await worker.setIdentity(session.identity.age.identity);
          session.envelopes.useOpener(worker.opener);
        }
        saved = await session.store.writeSnapshot(state, session.saved.head, session.envelopes);
      } finally {
        session.envelopes.useOpener(undefined);
        await worker?.stop();
      }
    }
    await session.store.prune(saved, previous, dropPrevious);
    session.saved = saved;
  }

  /** Queues a compaction (after whatever is queued) when the journal since the last snapshot is long. */
  #compactLaterIfDue(): void {
    const saved = this.#session?.saved;
    if (saved === undefined) return;
    const due = saved.logsSinceSnapshot >= COMPACT_AFTER_LOGS || saved.logBytesSinceSnapshot >= Math.max(COMPACT_AFTER_BYTES, saved.snapshotBytes / 2);
    if (!due) return;
    void this.#serial(async () => {
      if (this.unlocked && this.#session?.saved === saved) await this.#compact(false);
    }).catch(() => undefined);
  }

  /** Compacts now (tests, bench): a new snapshot of the current generation, the previous one kept. */
  compact(): Promise<void> {
    return this.#serial(() => this.#compact(false));
  }

  /**
   * Re-encrypts identity.age under a new passphrase (same work factor unless given). The current
   * passphrase is checked like an unlock: the delay is waited out first and a wrong one counts.
   */
  changePassphrase(current: string, next: string, options: { kdfLogN?: number; allowWeakKdf?: boolean } = {}): Promise<void> {
    return this.#serial(async () => {
      checkPassphrase(next);
      const idFile = await readIfExists(this.path('identity'));
      if (idFile === undefined) throw new ServiceError('VAULT_NOT_FOUND', 'identity.age is missing from the vault folder.');
      // Refused before the current passphrase is tried (a refusal costs no attempt).
      await assertStrongPassphrase(next, options.kdfLogN ?? scryptLogNOf(idFile) ?? MIN_LOG_N, [this.#meta.name]);
      const { plaintext, handle: old } = await this.#decryptIdentityFile(idFile, current);
      old.wipe();
      const logN = options.kdfLogN ?? scryptLogNOf(idFile) ?? MIN_LOG_N;
      if (logN < MIN_LOG_N && options.allowWeakKdf !== true && options.kdfLogN !== undefined) {
        wipe(plaintext);
        throw new ServiceError('WEAK_KDF', `A scrypt work factor of ${String(logN)} is below the minimum of ${String(MIN_LOG_N)}.`);
      }
      const session = this.#session;
      // Unlocked: write the current counter (identity.age may be one behind); locked: the text as it is.
      const text = session === null ? plaintext : utf8(identityText(session.identity, session.createdAt, session.saved.generation));
      const { file, handle } = await IdentityFile.create(text, next, logN, this.#kdf);
      wipe(plaintext);
      wipe(text);
      await writeFileAtomic(this.path('identity'), file);
      if (session !== null && this.#state !== null) {
        session.file.wipe();
        (session as { file: IdentityFile }).file = handle;
        appendAudit(this.#state, this.now(), { event: 'settings', result: 'ok', operator: session.identity.name, detail: 'passphrase changed' });
        await this.#persist({ dirty: new Map(), structural: new Set() });
      } else {
        handle.wipe();
      }
    });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

/**
 * verifyAudit's verdict (the same rule, shared/audit/chain.ts `stepChain`, then the kept head), in
 * slices of at most about 8 ms with the event loop free between them (about 50 µs an entry on an idle
 * machine; slices counted in entries ran 50–200 ms on a busy one).
 */
async function auditChainOk(state: VaultState): Promise<boolean> {
  let at: ChainHead = EMPTY_HEAD;
  let slice = performance.now();
  for (const raw of state.audit.entries) {
    const step = stepChain(at, raw);
    if (!step.ok) return false;
    at = step.head;
    if (performance.now() - slice > SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      slice = performance.now();
    }
  }
  const head = state.audit.head;
  return head === null || (at.size === head.seq + 1 && at.hash === head.hash);
}

function checkPassphrase(passphrase: unknown): asserts passphrase is string {
  // Counted in characters as a person sees them (grapheme clusters), not UTF-16 units.
  if (typeof passphrase !== 'string' || Array.from(new Intl.Segmenter().segment(passphrase)).length < MIN_PASSPHRASE_LENGTH) {
    throw new ServiceError('WEAK_PASSPHRASE', `The passphrase must be at least ${String(MIN_PASSPHRASE_LENGTH)} characters long.`, {
      details: { min: MIN_PASSPHRASE_LENGTH },
    });
  }
}
