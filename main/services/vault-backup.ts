/**
 * Guided vault backup (issue 13): copy the sealed vault folder to removable media, then VERIFY the
 * copy by opening it with the passphrase, read-only, without touching the live vault's records;
 * remember the last verified backup, and say when it is older than the last change.
 *
 * The copy: a new folder `custos-vault-<name>-<UTC time>` inside the target (never over anything),
 * with identity.age, store/ (every snapshot part and journal entry), vault.json, the enrollment
 * card, README.txt and settings.json; not unlock-attempts.json (a local counter) nor temp files.
 * Each file is written atomically (temp, fsync, rename, fsync the folder); folders 0700, files 0600
 * (the public ones 0644), as the vault forces them. An unlocked vault is copied inside its own
 * serial queue (`Vault.update` with no change: nothing is saved), so no save or compaction runs
 * half-way through the copy; a locked vault writes nothing while locked.
 *
 * The verification opens the COPY: every copied file is compared byte for byte with its source
 * (SHA-256), identity.age is decrypted with the passphrase (one KDF run), the identity must be
 * the live vault's (same signing key and age recipient as vault.json), and the records are loaded
 * from the copy's store/ with the same code as unlock (signatures, hash chain, snapshot hashes);
 * the copy must hold the generation that was copied and pass the rollback rule below. Nothing in
 * the copy or in the live vault is written by the verification. The passphrase check counts like an
 * unlock: the live vault's delay for earlier wrong passphrases is waited out first, and a wrong one
 * adds to the live vault's unlock-attempts.json, so verifying is no faster way to guess.
 *
 * The rollback counter (docs/custodian-vault.md, "Rollback protection") and backups: the copy
 * carries its own identity.age, whose `vault-generation` is the generation copied (or one behind,
 * after a failed counter rewrite), so the copy opens on its own: verification checks
 * counter ≤ records' generation in the copy, exactly unlock's rule. Restoring: put back the WHOLE
 * backup folder (identity.age with store/), never store/ alone: an older store/ under the live
 * identity.age is refused as a rollback, by design. A whole folder restored brings its own
 * counter and opens; every change made after the backup is then lost (the agent still has what it
 * sent since: ask ops to resend). `restoreBackup` puts a backup into a folder that holds no vault,
 * never over a live one, crash-safe: it copies into a sibling temporary folder, verifies the copy,
 * and only then renames it into place (docs/custodian-vault.md, "Restoring from a backup").
 *
 * The record of the last verified backup is `backup.json` in the vault folder (not secret: the
 * time, the generation and the folder name; not inside the sealed records, so that recording it
 * is not itself a change that makes the backup out of date).
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { z } from 'zod';
import { fromUtf8, toHex, utf8, wipe } from '../../shared/bytes';
import { ageOpener, AgeResealer } from '../../shared/crypto/seal';
import { exists, fsyncDir, isErrno, readIfExists, writeFileAtomic } from '../../node/fs-atomic';
import { ServiceError, isCodedError } from './errors';
import { nodeScryptKdf, scryptLogNOf, type ScryptKdf } from './kdf';
import { Vault, unlockDelayFor } from './vault';
import { IdentityFile, parseIdentityText } from './vault-identity';
import { PUBLIC_FILES, VAULT_FILES } from './vault-layout';
import { STORE_DIR, VaultStore } from './vault-store';

export const BACKUP_FILE = 'backup.json';
/** Files of the vault folder that a backup carries (besides store/). */
const TOP_FILES = [VAULT_FILES.identity, VAULT_FILES.meta, VAULT_FILES.card, VAULT_FILES.readme, 'settings.json'] as const;
const STORE_FILE_RE = /^(?:snap|log)-[0-9]{12}(?:-[0-9]{4})?\.age$/;
const GEN_RE = /^(?:snap|log)-([0-9]{12})/;

const backupRecordSchema = z.strictObject({
  format: z.literal('custos-vault-backup/1'),
  verifiedAt: z.number().int().min(0),
  generation: z.number().int().min(0),
  folder: z.string().max(300),
  files: z.number().int().min(0),
  bytes: z.number().int().min(0),
});
export type BackupRecord = z.infer<typeof backupRecordSchema>;

export interface BackupResult extends BackupRecord {
  /** The full path of the copy. */
  readonly path: string;
  readonly kdfLogN: number | undefined;
  readonly shares: number;
}

export interface BackupStatus {
  readonly last: BackupRecord | null;
  /** The newest generation in the live vault's store/ (from the file names: no passphrase needed). */
  readonly generation: number;
  /** No verified backup, or the vault changed since the last one. */
  readonly due: boolean;
  /** A sentence for a person. */
  readonly sentence: string;
}

export interface BackupOptions {
  readonly kdf?: ScryptKdf;
  /** Milliseconds since the epoch (default Date.now). */
  readonly clock?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function safeName(name: string): string {
  const s = name.normalize('NFC').replace(/[\\/:*?"<>|\p{Cc}]+/gu, '-').replace(/\s+/g, '-').replace(/^[.-]+/, '').slice(0, 60);
  return s === '' ? 'vault' : s;
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '');
}

/** The newest generation named by the files in a vault's store/ (0 when there are none). */
export async function storeGeneration(vaultDir: string): Promise<number> {
  const names = await fsp.readdir(join(vaultDir, STORE_DIR)).catch(() => [] as string[]);
  let g = 0;
  for (const n of names) {
    const m = STORE_FILE_RE.test(n) ? GEN_RE.exec(n) : null;
    if (m?.[1] !== undefined) g = Math.max(g, Number(m[1]));
  }
  return g;
}

/** The record of the last verified backup, or null (a damaged record counts as none). */
export async function readBackupRecord(vaultDir: string): Promise<BackupRecord | null> {
  const bytes = await readIfExists(join(vaultDir, BACKUP_FILE));
  if (bytes === undefined) return null;
  try {
    return backupRecordSchema.parse(JSON.parse(fromUtf8(bytes)));
  } catch {
    return null;
  }
}

/** Whether a backup is due: none verified yet, or the vault changed since the last verified one. */
export async function backupStatus(vaultDir: string): Promise<BackupStatus> {
  const last = await readBackupRecord(vaultDir);
  const generation = await storeGeneration(vaultDir);
  if (last === null) return { last, generation, due: true, sentence: 'This vault has no verified backup yet. Back it up to removable media (custos backup --to DIR).' };
  const when = new Date(last.verifiedAt * 1000).toISOString();
  if (generation > last.generation) {
    return { last, generation, due: true, sentence: `The last verified backup (${when}, save ${String(last.generation)}) is older than the last change (save ${String(generation)}). Back up again.` };
  }
  return { last, generation, due: false, sentence: `The last verified backup (${when}) holds the vault as it is now (save ${String(generation)}).` };
}

interface Copied {
  readonly files: Map<string, string>;
  readonly bytes: number;
}

/** Copies the vault's files into `to` (which must not exist), each atomically; returns their hashes. */
async function copyFolder(from: string, to: string, onStep?: RestoreHook): Promise<Copied> {
  await fsp.mkdir(to, { mode: 0o700 });
  await fsp.mkdir(join(to, STORE_DIR), { mode: 0o700 });
  const files = new Map<string, string>();
  let bytes = 0;
  const names: string[] = [];
  for (const f of TOP_FILES) if (await exists(join(from, f))) names.push(f);
  for (const f of (await fsp.readdir(join(from, STORE_DIR))).sort()) if (STORE_FILE_RE.test(f)) names.push(join(STORE_DIR, f));
  for (const rel of names) {
    await onStep?.('copy-file', rel);
    const data = new Uint8Array(await fsp.readFile(join(from, rel)));
    await writeFileAtomic(join(to, rel), data, { mode: PUBLIC_FILES.has(rel) ? 0o644 : 0o600 });
    files.set(rel, sha256(data));
    bytes += data.length;
  }
  return { files, bytes };
}

/** Waits out the live vault's delay for earlier wrong passphrases, and counts a wrong one there. */
async function withAttemptCounter<T>(vault: Vault, clock: () => number, sleep: (ms: number) => Promise<void>, fn: () => Promise<T>): Promise<T> {
  const wait = await vault.unlockDelayMs();
  if (wait > 0) await sleep(wait);
  try {
    return await fn();
  } catch (error) {
    if (error instanceof ServiceError && error.code === 'WRONG_PASSPHRASE') {
      const path = vault.path('attempts');
      let failures: number;
      try {
        const prev = z.strictObject({ failures: z.number().int().min(0), lastFailureAt: z.number().int().min(0) }).parse(JSON.parse(fromUtf8((await readIfExists(path)) ?? utf8('{}'))));
        failures = prev.failures + 1;
      } catch {
        failures = 1;
      }
      await writeFileAtomic(path, utf8(JSON.stringify({ failures, lastFailureAt: clock() })), { mode: 0o644 });
      const delayMs = unlockDelayFor(failures);
      throw new ServiceError('WRONG_PASSPHRASE', `The passphrase is wrong: the backup copy was not verified. The next try waits ${String(delayMs / 1000)} s.`, {
        details: { failures, delayMs, delaySeconds: delayMs / 1000 },
      });
    }
    throw error;
  }
}

export interface VerifiedCopy {
  readonly generation: number;
  readonly counter: number;
  readonly shares: number;
  readonly kdfLogN: number | undefined;
}

interface OpenedIdentity {
  readonly identity: Awaited<ReturnType<typeof parseIdentityText>>['identity'];
  /** The rollback counter (`vault-generation`) the identity file carries. */
  readonly counter: number;
}

/** Decrypts identity.age's bytes with the passphrase (one KDF run). The caller wipes the signing seed. */
async function openIdentity(idFile: Uint8Array, passphrase: string, kdf: ScryptKdf): Promise<OpenedIdentity> {
  const { plaintext, handle } = await IdentityFile.open(idFile, passphrase, kdf);
  handle.wipe();
  try {
    const { identity, generation } = await parseIdentityText(fromUtf8(plaintext));
    return { identity, counter: generation };
  } finally {
    wipe(plaintext);
  }
}

/**
 * With an opened identity: it is the one `expected` names, the records of `dir`/store/ load and
 * verify with it (signatures, hash chain, snapshot hashes), nothing is damaged, and the rollback
 * counter is not ahead of them. Reads only.
 */
async function checkRecords(dir: string, opened: OpenedIdentity, expected: { signKey: string; ageRecipient: string }): Promise<Omit<VerifiedCopy, 'kdfLogN'>> {
  const { identity, counter } = opened;
  if (toHex(identity.signing.publicKey) !== expected.signKey || identity.age.recipient !== expected.ageRecipient) {
    throw new ServiceError('VAULT_CORRUPT', 'The backup holds another custodian identity than this vault.', { details: { reason: 'other-identity' } });
  }
  const sealer = await AgeResealer.forRecipient(identity.age.recipient);
  const store = new VaultStore(dir, { recipient: identity.age.recipient, sealer, opener: await ageOpener(identity.age.identity), signing: identity.signing });
  try {
    const loaded = await store.load(identity.signing.publicKey).catch((error: unknown) => {
      // No snapshot readable with this identity: the records are damaged or not this vault's.
      throw isCodedError(error) && error.code === 'VAULT_CORRUPT' ? new ServiceError('VAULT_CORRUPT', error.message, { cause: error, details: { ...error.details, reason: 'damaged' } }) : error;
    });
    const shares = loaded.state.shares.length;
    const generation = loaded.state.generation;
    if (loaded.damaged.length > 0) {
      throw new ServiceError('VAULT_CORRUPT', `The backup has files that cannot be used: ${loaded.damaged.join(', ')}.`, { details: { reason: 'damaged', damaged: [...loaded.damaged] } });
    }
    if (generation < counter) {
      throw new ServiceError('VAULT_CORRUPT', `The backup's records go up to save ${String(generation)} but its identity.age says ${String(counter)}: it would be refused as a rollback.`, {
        details: { reason: 'rollback', found: generation, expected: counter },
      });
    }
    return { generation, counter, shares };
  } finally {
    store.wipe();
  }
}

/**
 * Opens a vault folder read-only with the passphrase and checks it as unlock would: the identity is
 * the one `expected` names, the records load and verify, and the rollback counter is not ahead of
 * them. Writes nothing. Throws VAULT_CORRUPT (with `details.reason`) or WRONG_PASSPHRASE.
 */
export async function verifyVaultCopy(dir: string, passphrase: string, expected: { signKey: string; ageRecipient: string }, kdf: ScryptKdf = nodeScryptKdf): Promise<VerifiedCopy> {
  const idFile = await readIfExists(join(dir, VAULT_FILES.identity));
  if (idFile === undefined) throw new ServiceError('VAULT_CORRUPT', `The backup in ${basename(dir)} has no identity.age.`, { details: { reason: 'missing-identity' } });
  const opened = await openIdentity(idFile, passphrase, kdf);
  try {
    return { ...(await checkRecords(dir, opened, expected)), kdfLogN: scryptLogNOf(idFile) };
  } finally {
    wipe(opened.identity.signing.seed);
  }
}

/**
 * Backs the vault up into a new folder inside `targetDir` and verifies the copy with `passphrase`.
 * On any failure the incomplete copy is removed and backup.json is left as it was.
 */
export async function backupVault(vault: Vault, targetDir: string, passphrase: string, options: BackupOptions = {}): Promise<BackupResult> {
  const clock = options.clock ?? ((): number => Date.now());
  const sleep = options.sleep ?? ((ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms)));
  const target = resolve(targetDir);
  const st = await fsp.stat(target).catch(() => undefined);
  if (st?.isDirectory() !== true) {
    throw new ServiceError('IO_FAILED', `The backup target ${target} is not a folder. Insert the removable drive and choose a folder on it.`, { details: { target } });
  }
  if (resolve(target).startsWith(resolve(vault.dir) + '/') || resolve(target) === resolve(vault.dir)) {
    throw new ServiceError('USAGE', 'The backup target is inside the vault folder. Choose a folder on removable media.', { details: { target } });
  }
  // Never over anything: a second backup within the same second gets -2, -3, …
  const base = `custos-vault-${safeName(vault.info.name)}-${stamp(clock())}`;
  let folder = base;
  for (let n = 2; await exists(join(target, folder)); n++) folder = `${base}-${String(n)}`;
  const path = join(target, folder);

  const copyNow = async (): Promise<{ copied: Copied; generation: number }> => ({ copied: await copyFolder(vault.dir, path), generation: await storeGeneration(vault.dir) });
  let copy: { copied: Copied; generation: number };
  try {
    copy = vault.unlocked ? await vault.update(copyNow) : await copyNow();
  } catch (error) {
    await fsp.rm(path, { recursive: true, force: true }).catch(() => undefined);
    if (isCodedError(error)) throw error;
    throw new ServiceError('IO_FAILED', `The vault could not be copied to ${target} (full, read-only or removed?). Nothing in the vault changed.`, { cause: error, details: { target } });
  }
  try {
    // Byte for byte: what is on the media now is what was copied.
    for (const [rel, hash] of copy.copied.files) {
      const back = new Uint8Array(await fsp.readFile(join(path, rel)));
      if (sha256(back) !== hash) throw new ServiceError('IO_FAILED', `The copy of ${rel} on ${target} reads back differently: the media may be failing.`, { details: { target, file: rel } });
    }
    const verified = await withAttemptCounter(vault, clock, sleep, () => verifyVaultCopy(path, passphrase, vault.info, options.kdf ?? nodeScryptKdf));
    if (verified.generation !== copy.generation) {
      throw new ServiceError('VAULT_CORRUPT', `The copy opens at save ${String(verified.generation)}, but save ${String(copy.generation)} was copied.`, { details: { reason: 'generation', found: verified.generation, expected: copy.generation } });
    }
    const record: BackupRecord = {
      format: 'custos-vault-backup/1',
      verifiedAt: Math.floor(clock() / 1000),
      generation: verified.generation,
      folder: join(target, folder).slice(-300),
      files: copy.copied.files.size,
      bytes: copy.copied.bytes,
    };
    await writeFileAtomic(join(vault.dir, BACKUP_FILE), utf8(JSON.stringify(record, null, 2) + '\n'), { mode: 0o600 });
    return { ...record, path, kdfLogN: verified.kdfLogN, shares: verified.shares };
  } catch (error) {
    await fsp.rm(path, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
}

/** The steps of a restore, in order, for tests that stop it there as a crash would (never used in the app). */
export type RestoreStep = 'opened' | 'copy-file' | 'copied' | 'verified' | 'settings' | 'rename' | 'renamed';
export type RestoreHook = (step: RestoreStep, file?: string) => void | Promise<void>;

export interface RestoreOptions {
  readonly kdf?: ScryptKdf;
  /** Milliseconds since the epoch (default Date.now), for the restored vault's backup.json. */
  readonly clock?: () => number;
  /** Tests only: called before each step (see `RestoreStep`). */
  readonly onStep?: RestoreHook;
}

/** Files a folder may hold and still be restored into: the settings chosen before any vault existed. */
const RESTORE_LEFTOVERS: ReadonlySet<string> = new Set(['settings.json']);
const RESTORE_TEMP = '.restore-';

/** The sibling folder a restore into `to` copies into first (`.<name>.restore-<random>`). */
function restoreTempFor(to: string): string {
  return join(dirname(to), `.${basename(to)}${RESTORE_TEMP}${randomBytes(6).toString('hex')}`);
}

/** Removes what an interrupted restore into `to` left beside it (only this module's own temp folders). */
async function removeStaleRestores(to: string): Promise<void> {
  const prefix = `.${basename(to)}${RESTORE_TEMP}`;
  const names = await fsp.readdir(dirname(to)).catch(() => [] as string[]);
  for (const n of names) if (n.startsWith(prefix) && /^[0-9a-f]{12}$/.test(n.slice(prefix.length))) await fsp.rm(join(dirname(to), n), { recursive: true, force: true });
}

const isInside = (path: string, folder: string): boolean => path === folder || path.startsWith(folder.endsWith(sep) ? folder : folder + sep);

/**
 * Restores a backup folder into `dir`, which must hold no vault (at most the settings.json chosen
 * before one existed). Crash-safe: nothing is written before the passphrase opened the backup's
 * identity.age; then the whole folder (identity.age with store/, see the rollback rule in the
 * header) is copied into a sibling temporary folder, read back byte for byte, and verified as
 * unlock would (the identity is the one the copy's vault.json names, the records load and verify,
 * the rollback counter is not ahead of them); only then is it renamed into place, in one step. A
 * crash at any point leaves `dir` without a vault or with the whole verified one, never half of it;
 * the temp folder left by a crash is removed by the next restore. On a refusal nothing is left.
 *
 * A settings.json in `dir` gives way to the backup's (the vault's own settings); when the backup has
 * none, it is kept. The restored vault's backup.json names the backup it came from (read whole and
 * verified just now, it holds the vault as it is), so no reminder says it has no backup. Refusals carry `details.reason`: vault-exists, not-empty, same-folder,
 * not-backup, damaged, other-identity, rollback, read-back, not-writable; WRONG_PASSPHRASE has none.
 */
export async function restoreBackup(backupDir: string, dir: string, passphrase: string, options: RestoreOptions = {}): Promise<VerifiedCopy> {
  const { kdf = nodeScryptKdf, onStep, clock = (): number => Date.now() } = options;
  const from = resolve(backupDir);
  const to = resolve(dir);
  if (isInside(to, from) || isInside(from, to)) {
    throw new ServiceError('USAGE', 'The backup and the place to restore into are the same folder or inside each other. Restore into the app\'s own vault folder.', { details: { reason: 'same-folder' } });
  }
  if (await Vault.exists(to)) {
    throw new ServiceError('VAULT_EXISTS', `${to} holds a vault already. Restore into an empty folder; move the current vault away yourself if you mean to replace it.`, { details: { reason: 'vault-exists' } });
  }
  const present = await fsp.readdir(to).catch((error: unknown) => {
    if (isErrno(error, 'ENOENT')) return [] as string[];
    throw new ServiceError('IO_FAILED', `${to} cannot be read.`, { cause: error, details: { reason: 'not-writable', dir: to } });
  });
  const others = present.filter((n) => !RESTORE_LEFTOVERS.has(n));
  if (others.length > 0) throw new ServiceError('IO_FAILED', `${to} is not empty (${others.slice(0, 3).join(', ')}). Restore into a new or empty folder.`, { details: { reason: 'not-empty', dir: to } });
  if (!(await Vault.exists(from))) {
    throw new ServiceError('VAULT_NOT_FOUND', `${from} is not a vault backup: it has no vault.json and identity.age. Choose the custos-vault-… folder the backup made.`, { details: { reason: 'not-backup' } });
  }

  // The passphrase first: a wrong one refuses before anything is written.
  const idFile = await fsp.readFile(join(from, VAULT_FILES.identity)).then((b) => new Uint8Array(b));
  const opened = await openIdentity(idFile, passphrase, kdf);
  const tmp = restoreTempFor(to);
  let movedSettings = false;
  let verified: VerifiedCopy;
  try {
    await onStep?.('opened');
    await fsp.mkdir(dirname(to), { recursive: true, mode: 0o700 });
    await removeStaleRestores(to);
    let copied: Copied;
    try {
      copied = await copyFolder(from, tmp, onStep);
    } catch (error) {
      if (isCodedError(error)) throw error;
      throw new ServiceError('IO_FAILED', `The backup could not be copied from ${from} to ${dirname(to)} (read error, full disk?).`, { cause: error, details: { reason: 'not-writable' } });
    }
    await onStep?.('copied');
    // The identity copied is the one just opened, and every file reads back as it was read.
    if (copied.files.get(VAULT_FILES.identity) !== sha256(idFile)) {
      throw new ServiceError('VAULT_CORRUPT', 'identity.age changed while the backup was read. Try again, from a drive nothing else writes to.', { details: { reason: 'damaged' } });
    }
    for (const [rel, hash] of copied.files) {
      const back = new Uint8Array(await fsp.readFile(join(tmp, rel)));
      if (sha256(back) !== hash) throw new ServiceError('IO_FAILED', `The restored copy of ${rel} reads back differently: the disk may be failing.`, { details: { reason: 'read-back', file: rel } });
    }
    const meta = await Vault.open(tmp).catch((error: unknown) => {
      throw isCodedError(error) && error.code === 'VAULT_CORRUPT' ? new ServiceError('VAULT_CORRUPT', error.message, { cause: error, details: { reason: 'damaged' } }) : error;
    });
    verified = { ...(await checkRecords(tmp, opened, meta.info)), kdfLogN: scryptLogNOf(idFile) };
    // The backup it came from was just read whole and verified: it holds the vault as it is now.
    const record: BackupRecord = {
      format: 'custos-vault-backup/1',
      verifiedAt: Math.floor(clock() / 1000),
      generation: verified.generation,
      folder: from.slice(-300),
      files: copied.files.size,
      bytes: copied.bytes,
    };
    await writeFileAtomic(join(tmp, BACKUP_FILE), utf8(JSON.stringify(record, null, 2) + '\n'), { mode: 0o600 });
    await onStep?.('verified');

    // Into place: the settings chosen before a vault existed give way to the vault's own.
    await onStep?.('settings');
    if (present.length > 0) {
      const local = join(to, 'settings.json');
      if (copied.files.has('settings.json')) await fsp.rm(local, { force: true });
      else {
        await fsp.rename(local, join(tmp, 'settings.json'));
        movedSettings = true;
      }
      await fsyncDir(to);
    }
    await fsyncDir(tmp);
    await fsyncDir(join(tmp, STORE_DIR));
    await onStep?.('rename');
    try {
      // POSIX replaces an empty folder in the same step; Windows refuses, so the empty folder goes first.
      await fsp.rename(tmp, to);
    } catch (error) {
      if (!(isErrno(error, 'EEXIST') || isErrno(error, 'ENOTEMPTY') || isErrno(error, 'EPERM') || isErrno(error, 'EACCES'))) throw error;
      await fsp.rmdir(to);
      await fsp.rename(tmp, to);
    }
  } catch (error) {
    // The local settings go back where they were if they had been moved into the copy.
    if (movedSettings) await fsp.rename(join(tmp, 'settings.json'), join(to, 'settings.json')).catch(() => undefined);
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    if (isCodedError(error)) throw error;
    throw new ServiceError('IO_FAILED', `The restored vault could not be put in place in ${to}.`, { cause: error, details: { reason: 'not-writable' } });
  } finally {
    wipe(opened.identity.signing.seed);
  }
  // In place: from here a failure is not a refusal (the restored vault is whole in `to`).
  await fsyncDir(dirname(to));
  await onStep?.('renamed');
  return verified;
}
