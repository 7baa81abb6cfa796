// Guided vault backup (main/services/vault-backup.ts): the copy is verified by opening it with the
// passphrase, read-only; the live vault's records are untouched; the last verified backup is
// remembered and reported as due after a change; a wrong passphrase counts like an unlock and
// leaves no copy; a copy with a journal entry removed is refused as a rollback; a restore brings
// the whole folder back and opens, never over a live vault.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Vault } from '../../main/services/vault';
import { backupStatus, backupVault, restoreBackup, verifyVaultCopy } from '../../main/services/vault-backup';
import { codeOf, createVault, PASSPHRASE, storeFiles, tempDir } from './helpers';

function hashes(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string): void => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p, join(rel, f));
      else out.set(join(rel, f), createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(dir, '');
  return out;
}

const noSleep = (): Promise<void> => Promise.resolve();

describe('vault backup', () => {
  it('copies, verifies with the passphrase, records it, and says when the vault changed since', async () => {
    const v = await createVault();
    await v.save();
    const usb = tempDir('custos-usb-');
    expect((await backupStatus(v.dir)).due).toBe(true);
    const storeBefore = hashes(join(v.dir, 'store'));
    const r = await backupVault(v, usb, PASSPHRASE, { sleep: noSleep });
    expect(r.generation).toBe(v.state.generation);
    expect(r.path.startsWith(usb)).toBe(true);
    // The live records are exactly as before; the copy holds the same files.
    expect(hashes(join(v.dir, 'store'))).toEqual(storeBefore);
    expect(hashes(join(r.path, 'store'))).toEqual(storeBefore);
    expect(existsSync(join(r.path, 'unlock-attempts.json'))).toBe(false);
    expect(statSync(r.path).mode & 0o777).toBe(0o700);
    expect(statSync(join(r.path, 'identity.age')).mode & 0o777).toBe(0o600);

    const s = await backupStatus(v.dir);
    expect(s.due).toBe(false);
    expect(s.last?.generation).toBe(r.generation);
    await v.save();
    const later = await backupStatus(v.dir);
    expect(later.due).toBe(true);
    expect(later.sentence).toMatch(/older than the last change/);

    // The copy opens on its own, with the Vault itself, at the generation copied.
    const copy = await Vault.open(r.path);
    expect((await copy.unlock(PASSPHRASE)).generation).toBe(r.generation);
    await copy.lock();
  });

  it('backs up a locked vault too', async () => {
    const v = await createVault();
    await v.lock();
    const r = await backupVault(v, tempDir('custos-usb-'), PASSPHRASE, { sleep: noSleep });
    expect(r.files).toBeGreaterThan(3);
  });

  it('a wrong passphrase: no copy left, no record, and it counts on the live vault like a wrong unlock', async () => {
    const v = await createVault();
    const usb = tempDir('custos-usb-');
    expect(await codeOf(() => backupVault(v, usb, 'not the passphrase at all', { sleep: noSleep }))).toBe('WRONG_PASSPHRASE');
    expect(readdirSync(usb)).toEqual([]);
    expect((await backupStatus(v.dir)).last).toBeNull();
    expect(await v.unlockDelayMs()).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(v.path('attempts'), 'utf8'))).toMatchObject({ failures: 1 });
  });

  it('refuses a target that is not a folder or is inside the vault', async () => {
    const v = await createVault();
    expect(await codeOf(() => backupVault(v, join(tempDir(), 'missing'), PASSPHRASE))).toBe('IO_FAILED');
    mkdirSync(join(v.dir, 'inside'));
    expect(await codeOf(() => backupVault(v, join(v.dir, 'inside'), PASSPHRASE))).toBe('USAGE');
  });

  it('verification refuses a copy whose newest journal entry is missing (rollback) and one of another identity', async () => {
    const v = await createVault();
    await v.save();
    await v.save();
    const r = await backupVault(v, tempDir('custos-usb-'), PASSPHRASE, { sleep: noSleep });
    const logs = storeFiles(v).filter((f) => f.startsWith('log-'));
    const newest = logs[logs.length - 1] ?? '';
    rmSync(join(r.path, 'store', newest));
    const e = await verifyVaultCopy(r.path, PASSPHRASE, v.info).catch((error: unknown) => error as { code: string; details: Record<string, unknown> });
    expect(e).toMatchObject({ code: 'VAULT_CORRUPT', details: { reason: 'rollback' } });
    const other = await createVault({ name: 'Someone else' });
    expect(await verifyVaultCopy(other.dir, PASSPHRASE, v.info).catch((error: unknown) => (error as { details: { reason: string } }).details.reason)).toBe('other-identity');
  });

  it('restores the whole folder into an empty place, never over a live vault', async () => {
    const v = await createVault();
    await v.save();
    const r = await backupVault(v, tempDir('custos-usb-'), PASSPHRASE, { sleep: noSleep });
    expect(await codeOf(() => restoreBackup(r.path, v.dir, PASSPHRASE))).toBe('VAULT_EXISTS');
    const to = join(tempDir(), 'restored');
    const restored = await restoreBackup(r.path, to, PASSPHRASE);
    expect(restored.generation).toBe(r.generation);
    const back = await Vault.open(to);
    expect((await back.unlock(PASSPHRASE)).generation).toBe(r.generation);
    expect(back.info.fingerprint).toBe(v.info.fingerprint);
  });
});
