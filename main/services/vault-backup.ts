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
 * sent since: ask ops to resend). `restoreBackup` copies a verified backup into a folder that holds
 * no vault, never over a live one.
 *
 * The record of the last verified backup is `backup.json` in the vault folder (not secret: the
 * time, the generation and the folder name; not inside the sealed records, so that recording it
 * is not itself a change that makes the backup out of date).
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { fromUtf8, toHex, utf8, wipe } from '../../shared/bytes';
import { ageOpener, AgeResealer } from '../../shared/crypto/seal';
import { exists, readIfExists, writeFileAtomic } from '../../node/fs-atomic';
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
async function copyFolder(from: string, to: string): Promise<Copied> {
  await fsp.mkdir(to, { mode: 0o700 });
  await fsp.mkdir(join(to, STORE_DIR), { mode: 0o700 });
  const files = new Map<string, string>();
  let bytes = 0;
  const names: string[] = [];
  for (const f of TOP_FILES) if (await exists(join(from, f))) names.push(f);
  for (const f of (await fsp.readdir(join(from, STORE_DIR))).sort()) if (STORE_FILE_RE.test(f)) names.push(join(STORE_DIR, f));
  for (const rel of names) {
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

/**
 * Opens a vault folder read-only with the passphrase and checks it as unlock would: the identity is
 * the one `expected` names, the records load and verify, and the rollback counter is not ahead of
 * them. Writes nothing. Throws VAULT_CORRUPT (with `details.reason`) or WRONG_PASSPHRASE.
 */
export async function verifyVaultCopy(dir: string, passphrase: string, expected: { signKey: string; ageRecipient: string }, kdf: ScryptKdf = nodeScryptKdf): Promise<VerifiedCopy> {
  const idFile = await readIfExists(join(dir, VAULT_FILES.identity));
  if (idFile === undefined) throw new ServiceError('VAULT_CORRUPT', `The backup in ${basename(dir)} has no identity.age.`, { details: { reason: 'missing-identity' } });
  const { plaintext, handle } = await IdentityFile.open(idFile, passphrase, kdf);
  handle.wipe();
  let parsed: Awaited<ReturnType<typeof parseIdentityText>>;
  try {
    parsed = await parseIdentityText(fromUtf8(plaintext));
  } finally {
    wipe(plaintext);
  }
  const { identity, generation: counter } = parsed;
  try {
    if (toHex(identity.signing.publicKey) !== expected.signKey || identity.age.recipient !== expected.ageRecipient) {
      throw new ServiceError('VAULT_CORRUPT', 'The backup holds another custodian identity than this vault.', { details: { reason: 'other-identity' } });
    }
    const sealer = await AgeResealer.forRecipient(identity.age.recipient);
    const store = new VaultStore(dir, { recipient: identity.age.recipient, sealer, opener: await ageOpener(identity.age.identity), signing: identity.signing });
    try {
      const loaded = await store.load(identity.signing.publicKey);
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
      return { generation, counter, shares, kdfLogN: scryptLogNOf(idFile) };
    } finally {
      store.wipe();
    }
  } finally {
    wipe(identity.signing.seed);
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

/**
 * Restores a backup folder into `dir`, which must hold no vault: verifies the backup with the
 * passphrase first (as `verifyVaultCopy`, against the backup's own vault.json), then copies the
 * whole folder, identity.age and store/ together (see the rollback rule in the header).
 */
export async function restoreBackup(backupDir: string, dir: string, passphrase: string, kdf: ScryptKdf = nodeScryptKdf): Promise<VerifiedCopy> {
  const from = resolve(backupDir);
  const to = resolve(dir);
  if (await Vault.exists(to)) {
    throw new ServiceError('VAULT_EXISTS', `${to} holds a vault already. Restore into an empty folder; move the current vault away yourself if you mean to replace it.`);
  }
  if ((await fsp.readdir(to).catch(() => [])).length > 0) throw new ServiceError('IO_FAILED', `${to} is not empty. Restore into a new or empty folder.`, { details: { dir: to } });
  const meta = await Vault.open(from).catch((error: unknown) => {
    throw isCodedError(error) ? error : new ServiceError('VAULT_NOT_FOUND', `${from} is not a vault backup.`, { cause: error });
  });
  const verified = await verifyVaultCopy(from, passphrase, meta.info, kdf);
  await fsp.rm(to, { recursive: true, force: true });
  await copyFolder(from, to);
  return verified;
}
