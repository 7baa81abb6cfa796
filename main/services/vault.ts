/**
 * The custodian vault: one folder per custodian profile, in the age format so that a custodian
 * with the passphrase and the `age` tool can get everything out if Custos is gone.
 *
 *   identity.age          the custodian identity (an age identity file: the AGE-SECRET-KEY line, and
 *                         the Ed25519 seed and public facts as `#` comment lines), encrypted with the
 *                         passphrase (age scrypt stanza; the work factor is in the stanza, calibrated
 *                         at creation to about one second here, see kdf.ts).
 *   shares.age            the vault state as JSON (state.ts): every share with its envelope, status and
 *                         history, the pinned agent, refusals, supersede notices and the audit log,
 *                         sealed to the custodian's OWN age X25519 recipient. That recipient is public,
 *                         so the JSON also carries an Ed25519 signature by the custodian's signing key
 *                         ("sig", state.ts `signStateDocument`), checked before the state is used: a
 *                         state nobody with the passphrase wrote is treated as damaged. Saving never
 *                         runs the KDF: only unlocking does.
 *   shares.prev.age       the previous generation of shares.age (each state carries `generation`).
 *   shares.corrupt-*.age  a damaged shares.age, set aside by the first save after unlocking from
 *                         shares.prev.age (so the only good generation is never rotated away).
 *   vault.json            public facts (name, keys, fingerprint code), written last at creation:
 *                         a folder without it holds no finished vault.
 *   enrollment-card.custos  the self-signed enrollment card to send to ops.
 *   unlock-attempts.json  failed passphrase count and time (not secret), for the growing delay
 *                         (unlock and changePassphrase both wait it out and count failures).
 *   README.txt            the escape hatch, in English and Chinese.
 *
 * Escape hatch (README.md, "Escape hatch"):
 *   age -d -o key.txt identity.age        # asks for the passphrase
 *   age -d -i key.txt shares.age          # prints the state JSON: every share in hex
 *
 * Saves are atomic and keep the previous generation (fs-atomic.ts `replaceKeepingPrevious`); an
 * unreadable shares.age falls back to shares.prev.age and says so. Changes go through `update`,
 * which serialises them, saves once at the end, and on any failure reloads the last saved state so
 * that what is in memory is always what is on disk.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Decrypter, Encrypter } from 'age-encryption';
import { z } from 'zod';
import type { AuditFields } from '../../shared/audit/chain';
import { fromUtf8, toHex, utf8, wipe } from '../../shared/bytes';
import { openSealed, recipientOf, sealTo } from '../../shared/crypto/seal';
import { signingKeyFromSeed } from '../../shared/protocol/frame';
import {
  comparisonCode,
  createCustodianIdentity,
  custodianIdentityFingerprint,
  makeCustodianCard,
  type CustodianIdentity,
} from '../../shared/protocol/identity';
import { label as labelSchema } from '../../shared/protocol/schema';
import { appendAudit, verifyAudit } from './audit';
import { ServiceError, isCodedError } from './errors';
import { exists, readIfExists, removeStaleTemps, replaceKeepingPrevious, replaceSettingAside, writeFileAtomic, type AtomicStep } from '../../node/fs-atomic';
import {
  calibrateScryptLogN,
  MIN_LOG_N,
  nodeScryptKdf,
  ScryptPassphraseIdentity,
  ScryptPassphraseRecipient,
  scryptLogNOf,
  TEST_MIN_LOG_N,
  type ScryptKdf,
} from './kdf';
import { parseState, serializeState, signStateDocument, verifiedStateJson, VAULT_FORMAT, wipeState, type VaultState } from './state';

export const VAULT_FILES = {
  identity: 'identity.age',
  shares: 'shares.age',
  previous: 'shares.prev.age',
  meta: 'vault.json',
  card: 'enrollment-card.custos',
  attempts: 'unlock-attempts.json',
  readme: 'README.txt',
} as const;

export const MIN_PASSPHRASE_LENGTH = 8;

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
  /** shares.age could not be read; the previous generation was used. The next save rewrites both. */
  readonly recoveredFromPrevious: boolean;
  readonly auditOk: boolean;
  /** The scrypt work factor of identity.age. */
  readonly kdfLogN: number | undefined;
}

/** What a change function gets: the state to change, the time, and the audit log. */
export interface VaultTx {
  readonly state: VaultState;
  /** Unix seconds, from the vault's clock. */
  readonly now: number;
  readonly identity: CustodianIdentity;
  readonly fingerprint: Uint8Array;
  /** Appends an audit entry (saved with the change). The operator defaults to the custodian's name. */
  audit(fields: AuditFields): void;
  /** Marks the state changed, so it is saved at the end. */
  changed(): void;
}

// ---- identity file ------------------------------------------------------------------------------

const IDENTITY_MARKER = '# Custos custodian identity (custos-identity/1). KEEP SECRET.';

function identityText(id: CustodianIdentity, createdAt: number): string {
  return [
    IDENTITY_MARKER,
    '# This is an age identity file: `age -d -i THIS_FILE shares.age` prints the vault records.',
    `# name: ${JSON.stringify(id.name)}`,
    `# created: ${String(createdAt)}`,
    `# ed25519-seed: ${toHex(id.signing.seed)}`,
    `# ed25519-public: ${toHex(id.signing.publicKey)}`,
    `# age-recipient: ${id.age.recipient}`,
    id.age.identity,
    '',
  ].join('\n');
}

async function parseIdentityText(text: string): Promise<{ identity: CustodianIdentity; createdAt: number }> {
  const lines = text.split('\n');
  const field = (name: string): string | undefined => {
    const prefix = `# ${name}: `;
    return lines.find((l) => l.startsWith(prefix))?.slice(prefix.length);
  };
  const damaged = (what: string): ServiceError => new ServiceError('VAULT_CORRUPT', `identity.age decrypted but its ${what} is missing or wrong.`);
  if (lines[0] !== IDENTITY_MARKER) throw damaged('header');
  const nameJson = field('name');
  const created = field('created');
  const seedHex = field('ed25519-seed');
  const pubHex = field('ed25519-public');
  const recipient = field('age-recipient');
  const secret = lines.find((l) => l.startsWith('AGE-SECRET-KEY-1'));
  if (nameJson === undefined || created === undefined || !/^[0-9]+$/.test(created)) throw damaged('name or creation time');
  if (seedHex === undefined || !/^[0-9a-f]{64}$/.test(seedHex) || pubHex === undefined) throw damaged('Ed25519 key');
  if (secret === undefined || recipient === undefined) throw damaged('age key');
  let name: unknown;
  try {
    name = JSON.parse(nameJson);
  } catch {
    throw damaged('name');
  }
  if (typeof name !== 'string') throw damaged('name');
  const seed = new Uint8Array(Buffer.from(seedHex, 'hex'));
  const signing = signingKeyFromSeed(seed);
  wipe(seed);
  if (toHex(signing.publicKey) !== pubHex) throw damaged('Ed25519 public key');
  if ((await recipientOf(secret)) !== recipient) throw damaged('age recipient');
  return { identity: { name, signing, age: { identity: secret, recipient } }, createdAt: Number(created) };
}

async function encryptWithPassphrase(plaintext: Uint8Array, passphrase: string, logN: number, kdf: ScryptKdf): Promise<Uint8Array> {
  const e = new Encrypter();
  e.addRecipient(new ScryptPassphraseRecipient(passphrase, logN, kdf));
  return e.encrypt(plaintext);
}

/** Decrypts identity.age; WRONG_PASSPHRASE or VAULT_CORRUPT on failure. */
async function decryptWithPassphrase(file: Uint8Array, passphrase: string, kdf: ScryptKdf): Promise<Uint8Array> {
  const id = new ScryptPassphraseIdentity(passphrase, kdf);
  const d = new Decrypter();
  d.addIdentity(id);
  try {
    return await d.decrypt(file, 'uint8array');
  } catch (error) {
    if (id.outcome === 'wrong-passphrase') throw new ServiceError('WRONG_PASSPHRASE', 'The passphrase is wrong.');
    if (id.outcome === 'too-expensive') {
      throw new ServiceError('VAULT_CORRUPT', `identity.age asks for a scrypt work factor of ${String(id.logN)}, more than this app computes.`, { cause: error });
    }
    throw new ServiceError('VAULT_CORRUPT', 'identity.age is damaged or is not a passphrase-encrypted age file.', { cause: error });
  }
}

const README = `Custos custodian vault / Custos 托管人保险库

This folder is your Custos vault. Keep it, and back it up. Without Custos, with the passphrase
and the standard "age" tool (https://age-encryption.org), you can still read everything:

  age -d -o key.txt identity.age      (asks for your passphrase; key.txt is your secret key: protect it)
  age -d -i key.txt shares.age        (prints every share you hold, as JSON, shares in hex)

shares.prev.age is the previous saved version. vault.json and enrollment-card.custos are public.

此文件夹是您的 Custos 保险库，请妥善保管并备份。即使没有 Custos，只要有口令和标准 age 工具，
也可以读出全部内容：

  age -d -o key.txt identity.age      （会要求输入口令；key.txt 是您的私钥，请妥善保护）
  age -d -i key.txt shares.age        （以 JSON 输出您持有的全部分片，分片为十六进制）

shares.prev.age 是上一次保存的版本。vault.json 和 enrollment-card.custos 是公开信息。
`;

// ---- the vault ----------------------------------------------------------------------------------

export class Vault {
  readonly dir: string;
  readonly #clock: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #kdf: ScryptKdf;
  readonly #onSaveStep: ((step: AtomicStep) => void) | undefined;
  #meta: VaultPublicInfo;
  #identity: CustodianIdentity | null = null;
  #state: VaultState | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  /** The state in memory came from shares.prev.age: shares.age is damaged and must not become `previous`. */
  #fromPrevious = false;

  private constructor(dir: string, meta: VaultPublicInfo, options: VaultOptions) {
    this.dir = dir;
    this.#meta = meta;
    this.#clock = options.clock ?? ((): number => Date.now());
    this.#sleep = options.sleep ?? ((ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#kdf = options.kdf ?? nodeScryptKdf;
    this.#onSaveStep = options.onSaveStep;
  }

  path(file: keyof typeof VAULT_FILES): string {
    return join(this.dir, VAULT_FILES[file]);
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
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
      throw new ServiceError('IO_FAILED', 'The vault folder could not be created.', { cause: error });
    });
    for (const f of [VAULT_FILES.meta, VAULT_FILES.identity, VAULT_FILES.shares]) {
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
      const idText = utf8(identityText(identity, createdAt));
      const idFile = await encryptWithPassphrase(idText, input.passphrase, logN, kdf);
      wipe(idText);
      await writeFileAtomic(vault.path('identity'), idFile);
      vault.#identity = identity;
      const state: VaultState = {
        format: VAULT_FORMAT,
        generation: 0,
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
      await vault.#persist(state);
      vault.#state = state;
      await writeFileAtomic(vault.path('card'), makeCustodianCard(identity, createdAt), { mode: 0o644 });
      await writeFileAtomic(vault.path('readme'), utf8(README), { mode: 0o644 });
      const metaJson = {
        ...meta,
        files: { ...VAULT_FILES },
        escapeHatch: ['age -d -o key.txt identity.age', 'age -d -i key.txt shares.age'],
      };
      await writeFileAtomic(vault.path('meta'), utf8(JSON.stringify(metaJson, null, 2) + '\n'), { mode: 0o644 });
    } catch (error) {
      vault.#wipe();
      if (isCodedError(error)) throw error;
      throw new ServiceError('IO_FAILED', 'The vault could not be written.', { cause: error });
    }
    return vault;
  }

  /** Opens the vault in `dir`, locked. */
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
    const { files: _files, escapeHatch: _hatch, ...meta } = parsed.data;
    return new Vault(dir, meta, options);
  }

  /** Public facts, available while locked (from vault.json; checked against the identity at unlock). */
  get info(): VaultPublicInfo {
    return this.#meta;
  }

  get unlocked(): boolean {
    return this.#identity !== null && this.#state !== null;
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

  /** Unlocks with the passphrase: one KDF run. Waits out the delay earned by earlier wrong passphrases first. */
  unlock(passphrase: string): Promise<UnlockResult> {
    return this.#serial(async () => {
      if (this.unlocked) throw new ServiceError('INVALID_STATE', 'The vault is already unlocked.');
      const idFile = await readIfExists(this.path('identity'));
      if (idFile === undefined) throw new ServiceError('VAULT_NOT_FOUND', 'identity.age is missing from the vault folder.');
      const plaintext = await this.#decryptIdentityFile(idFile, passphrase);
      const { identity } = await parseIdentityText(fromUtf8(plaintext)).finally(() => {
        wipe(plaintext);
      });
      if (toHex(identity.signing.publicKey) !== this.#meta.signKey || identity.age.recipient !== this.#meta.ageRecipient) {
        wipe(identity.signing.seed);
        throw new ServiceError('VAULT_CORRUPT', 'vault.json does not belong to this identity.age: the folder was mixed up.');
      }
      let loaded: { state: VaultState; recoveredFromPrevious: boolean };
      try {
        loaded = await this.#load(identity);
      } catch (error) {
        wipe(identity.signing.seed);
        throw error;
      }
      this.#identity = identity;
      this.#state = loaded.state;
      this.#fromPrevious = loaded.recoveredFromPrevious;
      await removeStaleTemps(this.dir, Object.values(VAULT_FILES)).catch(() => 0);
      return {
        generation: loaded.state.generation,
        recoveredFromPrevious: loaded.recoveredFromPrevious,
        auditOk: verifyAudit(loaded.state).ok,
        kdfLogN: scryptLogNOf(idFile),
      };
    });
  }

  /**
   * Decrypts identity.age with a passphrase, under the failed-attempt counter: waits out the delay
   * earned by earlier wrong passphrases first, counts a wrong one (WRONG_PASSPHRASE with the next
   * delay), and clears the counter after a right one. Every passphrase check goes through here.
   */
  async #decryptIdentityFile(idFile: Uint8Array, passphrase: string): Promise<Uint8Array> {
    const wait = await this.unlockDelayMs();
    if (wait > 0) await this.#sleep(wait);
    let plaintext: Uint8Array;
    try {
      plaintext = await decryptWithPassphrase(idFile, passphrase, this.#kdf);
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
    return plaintext;
  }

  /**
   * Reads shares.age, or shares.prev.age if that fails. A file counts only if it decrypts, carries a
   * valid signature by `identity`'s signing key (checked before anything else is read), parses, and
   * names `identity` as its custodian.
   */
  async #load(identity: CustodianIdentity): Promise<{ state: VaultState; recoveredFromPrevious: boolean }> {
    const tryFile = async (file: 'shares' | 'previous'): Promise<VaultState | undefined> => {
      const bytes = await readIfExists(this.path(file));
      if (bytes === undefined) return undefined;
      let json: Uint8Array;
      try {
        json = await openSealed(identity.age.identity, bytes, 'vault state');
      } catch {
        return undefined;
      }
      let state: VaultState | undefined;
      try {
        const signed = verifiedStateJson(fromUtf8(json), identity.signing.publicKey);
        state = signed === undefined ? undefined : parseState(signed);
      } catch {
        state = undefined;
      }
      if (state === undefined) return undefined;
      if (state.custodian.signKey !== toHex(identity.signing.publicKey) || state.custodian.ageRecipient !== identity.age.recipient) return undefined;
      return state;
    };
    const current = await tryFile('shares');
    if (current !== undefined) return { state: current, recoveredFromPrevious: false };
    const previous = await tryFile('previous');
    if (previous !== undefined) return { state: previous, recoveredFromPrevious: true };
    throw new ServiceError('VAULT_CORRUPT', 'Neither shares.age nor shares.prev.age could be read with this identity.');
  }

  /** Locks: waits for a running change to finish, then wipes keys and shares from memory. */
  lock(): Promise<void> {
    return this.#serial(() => {
      this.#wipe();
      return Promise.resolve();
    });
  }

  #wipe(): void {
    if (this.#identity !== null) wipe(this.#identity.signing.seed);
    // The age identity is a JavaScript string: it cannot be overwritten, only dropped.
    if (this.#state !== null) wipeState(this.#state);
    this.#identity = null;
    this.#state = null;
    this.#fromPrevious = false;
  }

  #requireUnlocked(): { identity: CustodianIdentity; state: VaultState } {
    if (this.#identity === null || this.#state === null) throw new ServiceError('VAULT_LOCKED', 'The vault is locked.');
    return { identity: this.#identity, state: this.#state };
  }

  /** The identity (unlocked only). */
  get identity(): CustodianIdentity {
    return this.#requireUnlocked().identity;
  }

  get fingerprint(): Uint8Array {
    return Buffer.from(this.#meta.fingerprint, 'hex');
  }

  /** Read-only view of the state (unlocked only). Do not change it outside `update`. */
  get state(): Readonly<VaultState> {
    return this.#requireUnlocked().state;
  }

  /** A fresh enrollment card (self-signed now). */
  card(): Uint8Array {
    return makeCustodianCard(this.identity, this.now());
  }

  /**
   * Runs one change: `fn` changes `tx.state` and adds audit entries; the state is saved once at the
   * end if anything changed (no KDF: sealed to the vault's own X25519 recipient). If `fn` throws,
   * or the save fails, the last saved state is reloaded (no half-done change stays in memory).
   */
  update<T>(fn: (tx: VaultTx) => Promise<T> | T): Promise<T> {
    return this.#serial(async () => {
      const { identity, state } = this.#requireUnlocked();
      const change = { dirty: false };
      const tx: VaultTx = {
        state,
        now: this.now(),
        identity,
        fingerprint: this.fingerprint,
        audit: (fields) => {
          change.dirty = true;
          appendAudit(state, this.now(), { operator: identity.name, ...fields });
        },
        changed: () => {
          change.dirty = true;
        },
      };
      let result: T;
      try {
        result = await fn(tx);
        if (change.dirty) await this.#persist(state);
      } catch (error) {
        // `fn` may have changed the state before it failed (even without saying so): go back to
        // what is on disk. If even that fails, lock rather than keep a state that is not on disk.
        try {
          await this.#reload(identity);
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

  async #reload(identity: CustodianIdentity): Promise<void> {
    const { state, recoveredFromPrevious } = await this.#load(identity);
    if (this.#state !== null && this.#state !== state) wipeState(this.#state);
    this.#state = state;
    this.#fromPrevious = recoveredFromPrevious;
  }

  async #persist(state: VaultState): Promise<void> {
    const identity = this.#identity;
    if (identity === null) throw new ServiceError('VAULT_LOCKED', 'The vault was locked before it could be saved.');
    const generation = state.generation + 1;
    const savedAt = this.now();
    const json = serializeState({ ...state, generation, savedAt });
    const sealed = await sealTo(identity.age.recipient, utf8(signStateDocument(json, identity.signing)));
    const options = this.#onSaveStep === undefined ? {} : { onStep: this.#onSaveStep };
    try {
      if (this.#fromPrevious) {
        // shares.age is damaged and shares.prev.age is the only good generation: never rotate the
        // damaged file over it. Set the damaged one aside (kept for inspection) and write the new one.
        await replaceSettingAside(this.path('shares'), await this.#corruptAsidePath(), sealed, options);
        this.#fromPrevious = false;
      } else {
        await replaceKeepingPrevious(this.path('shares'), this.path('previous'), sealed, options);
      }
    } catch (error) {
      if (isCodedError(error)) throw error;
      throw new ServiceError('IO_FAILED', 'The vault could not be saved; the last saved version is unchanged.', { cause: error });
    }
    state.generation = generation;
    state.savedAt = savedAt;
  }

  /** A free name for a damaged shares.age: shares.corrupt-<unix seconds>[-n].age. */
  async #corruptAsidePath(): Promise<string> {
    const base = `shares.corrupt-${String(this.now())}`;
    for (let n = 0; ; n++) {
      const path = join(this.dir, n === 0 ? `${base}.age` : `${base}-${String(n)}.age`);
      if (!(await exists(path))) return path;
    }
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
      const plaintext = await this.#decryptIdentityFile(idFile, current);
      const logN = options.kdfLogN ?? scryptLogNOf(idFile) ?? MIN_LOG_N;
      if (logN < MIN_LOG_N && options.allowWeakKdf !== true && options.kdfLogN !== undefined) {
        throw new ServiceError('WEAK_KDF', `A scrypt work factor of ${String(logN)} is below the minimum of ${String(MIN_LOG_N)}.`);
      }
      const again = await encryptWithPassphrase(plaintext, next, logN, this.#kdf);
      wipe(plaintext);
      await writeFileAtomic(this.path('identity'), again);
      if (this.#state !== null && this.#identity !== null) {
        appendAudit(this.#state, this.now(), { event: 'settings', result: 'ok', operator: this.#identity.name, detail: 'passphrase changed' });
        await this.#persist(this.#state);
      }
    });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

function checkPassphrase(passphrase: unknown): asserts passphrase is string {
  // Counted in characters as a person sees them (grapheme clusters), not UTF-16 units.
  if (typeof passphrase !== 'string' || Array.from(new Intl.Segmenter().segment(passphrase)).length < MIN_PASSPHRASE_LENGTH) {
    throw new ServiceError('WEAK_PASSPHRASE', `The passphrase must be at least ${String(MIN_PASSPHRASE_LENGTH)} characters long.`, {
      details: { min: MIN_PASSPHRASE_LENGTH },
    });
  }
}
