// Restoring a vault from a verified backup (main/services/vault-backup.ts `restoreBackup`, H2): a
// real backup made by backupVault goes into an empty place and unlocks with its shares; the
// passphrase is checked before anything is written; a tampered backup (a record changed, the newest
// journal entry removed, another custodian's identity.age) is refused and leaves nothing; never over
// a vault or into a folder with other files. Crash safety: the restore is stopped at each of its
// steps as a crash would stop it (the step never returns: no clean-up runs), and the vault folder
// then holds no vault or the whole verified one, never half of it; the next restore succeeds.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Vault } from '../../main/services/vault';
import { backupStatus, backupVault, restoreBackup, type RestoreStep } from '../../main/services/vault-backup';
import { codeOf, createVault, makeAgent, makeSet, meOf, pinned, PASSPHRASE, storeFiles, tempDir } from './helpers';
import { importEnvelope } from '../../main/services/inbox';

const noSleep = (): Promise<void> => Promise.resolve();

/** A vault with an agent pinned and one share, backed up; the backup's path. */
async function backedUp(): Promise<{ v: Vault; backup: string }> {
  const v = await createVault();
  const agent = makeAgent();
  await pinned(v, agent);
  const set = await makeSet(agent.id, meOf(v));
  await importEnvelope(v, set.envelope, 'e.custos');
  expect(v.state.shares).toHaveLength(1);
  const r = await backupVault(v, tempDir('custos-usb-'), PASSPHRASE, { sleep: noSleep });
  return { v, backup: r.path };
}

async function reasonOf(fn: () => Promise<unknown>): Promise<{ code: string; reason: unknown }> {
  try {
    await fn();
  } catch (error) {
    const e = error as { code: string; details?: Record<string, unknown> };
    return { code: e.code, reason: e.details?.['reason'] };
  }
  throw new Error('expected a refusal');
}

/** Everything in the folder that holds `to` (the restore's temp folders are siblings of `to`). */
const besides = (to: string): string[] => readdirSync(dirname(to)).sort();

describe('restoreBackup', () => {
  it('restores a real backup into a new folder, which then unlocks with the shares', async () => {
    const { v, backup } = await backedUp();
    const to = join(tempDir(), 'profile', 'vault');
    const r = await restoreBackup(backup, to, PASSPHRASE, { clock: () => 1_800_000_000_000 });
    expect(r).toMatchObject({ generation: v.state.generation, shares: 1 });
    expect(besides(to)).toEqual(['vault']);
    // The backup it came from counts as its last verified backup: nothing is due.
    const status = await backupStatus(to);
    expect(status).toMatchObject({ due: false, last: { folder: backup, generation: v.state.generation, verifiedAt: 1_800_000_000 } });
    const back = await Vault.open(to);
    expect((await back.unlock(PASSPHRASE)).generation).toBe(v.state.generation);
    expect(back.info.fingerprint).toBe(v.info.fingerprint);
    expect(back.state.shares.map((s) => s.id)).toEqual(v.state.shares.map((s) => s.id));
    expect(back.state.agent?.fingerprint).toBe(v.state.agent?.fingerprint);
    await back.lock();
  });

  it('restores into the vault folder of a first run that holds only its settings: the backup brings its own', async () => {
    const { backup } = await backedUp();
    writeFileSync(join(backup, 'settings.json'), JSON.stringify({ version: 1, language: 'zh-CN' }));
    const to = join(tempDir(), 'vault');
    mkdirSync(to);
    writeFileSync(join(to, 'settings.json'), JSON.stringify({ version: 1, language: 'en' }));
    await restoreBackup(backup, to, PASSPHRASE);
    expect(JSON.parse(readFileSync(join(to, 'settings.json'), 'utf8'))).toMatchObject({ language: 'zh-CN' });
    expect(await Vault.exists(to)).toBe(true);
    expect(besides(to)).toEqual(['vault']);

    // A backup without settings keeps the ones there.
    const { backup: plain } = await backedUp();
    rmSync(join(plain, 'settings.json'), { force: true });
    const other = join(tempDir(), 'vault');
    mkdirSync(other);
    writeFileSync(join(other, 'settings.json'), JSON.stringify({ version: 1, language: 'zh-CN' }));
    await restoreBackup(plain, other, PASSPHRASE);
    expect(JSON.parse(readFileSync(join(other, 'settings.json'), 'utf8'))).toMatchObject({ language: 'zh-CN' });
  });

  it('a wrong passphrase refuses before anything is written', async () => {
    const { backup } = await backedUp();
    const parent = tempDir();
    const to = join(parent, 'vault');
    expect(await codeOf(() => restoreBackup(backup, to, 'not the passphrase at all'))).toBe('WRONG_PASSPHRASE');
    expect(readdirSync(parent)).toEqual([]);
  });

  it('refuses a tampered backup and leaves nothing: a record changed, the newest journal entry removed, another identity', async () => {
    const { v, backup } = await backedUp();
    const logs = storeFiles(v).filter((f) => f.startsWith('log-'));
    const newest = logs[logs.length - 1];
    expect(newest).toBeDefined();

    // One byte changed in the newest journal entry: it no longer decrypts.
    const changed = join(tempDir(), 'changed');
    await restoreBackup(backup, join(changed, 'ok'), PASSPHRASE); // the untouched backup restores
    const bytes = readFileSync(join(backup, 'store', newest!));
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] ?? 0) ^ 0x01;
    writeFileSync(join(backup, 'store', newest!), bytes);
    const to = join(tempDir(), 'vault');
    expect(await reasonOf(() => restoreBackup(backup, to, PASSPHRASE))).toEqual({ code: 'VAULT_CORRUPT', reason: 'damaged' });
    expect(besides(to)).toEqual([]);

    // The newest entry removed: the records are older than the identity's counter says.
    rmSync(join(backup, 'store', newest!));
    expect(await reasonOf(() => restoreBackup(backup, to, PASSPHRASE))).toEqual({ code: 'VAULT_CORRUPT', reason: 'rollback' });
    expect(besides(to)).toEqual([]);

    // Another custodian's identity.age (same passphrase) beside this vault's records and vault.json.
    const { backup: fresh } = await backedUp();
    const someone = await createVault({ name: 'Someone else' });
    writeFileSync(join(fresh, 'identity.age'), readFileSync(someone.path('identity')));
    expect(await reasonOf(() => restoreBackup(fresh, to, PASSPHRASE))).toEqual({ code: 'VAULT_CORRUPT', reason: 'other-identity' });
    expect(besides(to)).toEqual([]);
  });

  it('never over a vault, never into a folder with other files, never from a folder that is no backup', async () => {
    const { v, backup } = await backedUp();
    const before = readdirSync(v.dir).sort();
    expect(await reasonOf(() => restoreBackup(backup, v.dir, PASSPHRASE))).toEqual({ code: 'VAULT_EXISTS', reason: 'vault-exists' });
    expect(readdirSync(v.dir).sort()).toEqual(before);

    const busy = join(tempDir(), 'vault');
    mkdirSync(busy);
    writeFileSync(join(busy, 'notes.txt'), 'mine');
    expect(await reasonOf(() => restoreBackup(backup, busy, PASSPHRASE))).toEqual({ code: 'IO_FAILED', reason: 'not-empty' });
    expect(readdirSync(busy)).toEqual(['notes.txt']);

    // The drive rather than the copy on it.
    expect(await reasonOf(() => restoreBackup(dirname(backup), join(tempDir(), 'vault'), PASSPHRASE))).toEqual({ code: 'VAULT_NOT_FOUND', reason: 'not-backup' });
    expect(await reasonOf(() => restoreBackup(backup, join(backup, 'inner'), PASSPHRASE))).toEqual({ code: 'USAGE', reason: 'same-folder' });
  });

  const STEPS: readonly RestoreStep[] = ['opened', 'copy-file', 'copied', 'verified', 'settings', 'rename', 'renamed'];
  for (const stop of STEPS) {
    it(`a crash at "${stop}" leaves no vault or the whole one, and the next restore succeeds`, async () => {
      const { v, backup } = await backedUp();
      const to = join(tempDir(), 'vault');
      mkdirSync(to);
      writeFileSync(join(to, 'settings.json'), JSON.stringify({ version: 1, language: 'en' }));
      let seen = 0;
      let reached!: () => void;
      const stopped = new Promise<void>((resolve) => {
        reached = resolve;
      });
      // At the step (the third copied file for copy-file: mid-copy), the restore stops for good, as the process would.
      const onStep = (step: RestoreStep): Promise<void> | undefined => {
        if (step !== stop || (step === 'copy-file' && ++seen < 3)) return undefined;
        reached();
        return new Promise<void>(() => undefined);
      };
      void restoreBackup(backup, to, PASSPHRASE, { onStep });
      await stopped;

      if (await Vault.exists(to)) {
        // Whole: it opens at the backup's save, with its share.
        expect(stop).toBe('renamed');
        const back = await Vault.open(to);
        expect((await back.unlock(PASSPHRASE)).generation).toBe(v.state.generation);
        expect(back.state.shares).toHaveLength(1);
        await back.lock();
        return;
      }
      // No vault: nothing of one in the folder (at most the settings), whatever the temp folder beside it holds.
      expect(existsSync(to) ? readdirSync(to).filter((n) => n !== 'settings.json') : []).toEqual([]);
      const r = await restoreBackup(backup, to, PASSPHRASE);
      expect(r.shares).toBe(1);
      expect(besides(to)).toEqual(['vault']);
      const back = await Vault.open(to);
      expect((await back.unlock(PASSPHRASE)).generation).toBe(v.state.generation);
      await back.lock();
    });
  }
});
