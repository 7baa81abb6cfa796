// Restoring the vault from a backup through IPC (issue 13, H2): backup:restore on a profile without
// a vault, the backup folder coming from the (scripted) system dialog as in the window. A real backup
// made with backup:toFolder is restored into the new profile's empty vault folder, verified, put in
// place and unlocked with its shares; the language chosen on the first screen stays. A wrong
// passphrase, a tampered backup, a folder that is no backup and a profile that has a vault are
// refused with a reason (and both languages' sentences), and leave nothing; no answer names a path.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeAgent, makeSet, PASSPHRASE, storeFiles, tempDir } from '../custodian/helpers';
import { call, file, harness, refused, withVault, type Harness } from './helpers';

/** A vault with the agent pinned and one share, backed up to a "drive"; the copy's path. */
async function backupWithShare(): Promise<{ source: Harness; copy: string; generation: number }> {
  const source = harness();
  await withVault(source);
  const v = await source.ctx.vault();
  const agent = makeAgent();
  await call(source, 'trust:pin', { card: file('agent.custos', agent.card), confirmCode: agent.code });
  const set = await makeSet(agent.id, { fingerprint: v.fingerprint, ageRecipient: v.info.ageRecipient });
  await call(source, 'inbox:import', { opId: 'i', files: [file('e.custos', set.envelope)] });
  const drive = join(tempDir('custos-usb-'), 'KINGSTON');
  mkdirSync(drive);
  source.dialogs.folderQueue.push(drive);
  const done = (await call(source, 'backup:toFolder', { passphrase: PASSPHRASE })).backup!;
  return { source, copy: join(drive, done.folder), generation: done.generation };
}

/** The new profile's vault folder and what is beside it (a restore's temp folder would be). */
const left = (h: Harness): { vault: string[]; beside: string[] } => ({
  vault: readdirSync(h.vaultDir).sort(),
  beside: readdirSync(dirname(h.vaultDir)).sort(),
});

describe('backup:restore', () => {
  it('restores a real backup into the empty profile, unlocks it with its shares, and keeps the language chosen', async () => {
    const { source, copy, generation } = await backupWithShare();
    const h = harness();
    // First screen: the person picks Chinese (this writes the profile's settings.json, no vault).
    await call(h, 'settings:set', { change: { language: 'zh-CN' } });
    expect((await call(h, 'vault:status', {})).exists).toBe(false);

    // Cancelled dialog: nothing happens.
    expect(await call(h, 'backup:restore', { passphrase: PASSPHRASE })).toEqual({ restored: false });
    expect(h.dialogs.calls).toEqual(['chooseFolder:vault-restore']);
    expect(left(h)).toEqual({ vault: ['settings.json'], beside: ['downloads', 'vault'] });

    h.dialogs.folderQueue.push(copy);
    const r = await call(h, 'backup:restore', { passphrase: PASSPHRASE });
    expect(r).toEqual({ restored: true, restore: { folder: copy.split('/').pop(), drive: 'KINGSTON', generation, shares: 1, unlocked: true } });
    const status = await call(h, 'vault:status', {});
    expect(status).toMatchObject({ exists: true, unlocked: true, counts: { received: 1 } });
    expect(status.info?.fingerprint).toBe((await source.ctx.vault()).info.fingerprint);
    expect(status.agent?.fingerprint).toBe((await source.ctx.vault()).state.agent?.fingerprint);
    const shares = await call(h, 'shares:list', {});
    expect(shares.shares.map((s) => s.id)).toEqual((await source.ctx.vault()).state.shares.map((s) => s.id));
    expect((await call(h, 'settings:get', {})).settings.language).toBe('zh-CN');
    // The backup it came from is its last verified backup (by name only), holding it as it is.
    expect(await call(h, 'backup:status', {})).toMatchObject({ due: false, last: { folder: copy.split('/').pop(), drive: 'KINGSTON', generation } });
    expect(h.events.some((e) => e.event === 'settings:changed')).toBe(true);
    expect(left(h).beside).toEqual(['downloads', 'vault']);
    // The restored vault is this profile's vault now: a second restore is refused before any dialog.
    const calls = h.dialogs.calls.length;
    const again = await refused(h, 'backup:restore', { passphrase: PASSPHRASE }, 'VAULT_EXISTS');
    expect(again.details['reason']).toBe('vault-exists');
    expect(again.message['zh-CN']).toMatch(/保险库/);
    expect(h.dialogs.calls).toHaveLength(calls);

    for (const a of h.answers) {
      expect(a).not.toContain(copy);
      expect(a).not.toContain(h.dir);
    }
  });

  it('refuses a wrong passphrase, a tampered backup and a folder that is no backup: nothing left in or beside the vault folder', async () => {
    const { source, copy } = await backupWithShare();
    const h = harness();
    await call(h, 'settings:set', { change: { language: 'en' } });
    const before = left(h);

    h.dialogs.folderQueue.push(copy);
    const wrong = await refused(h, 'backup:restore', { passphrase: 'not the passphrase at all' }, 'WRONG_PASSPHRASE');
    expect(wrong.message.en).toMatch(/passphrase is wrong/);
    expect(left(h)).toEqual(before);

    // The drive, not the custos-vault-… folder on it.
    h.dialogs.folderQueue.push(dirname(copy));
    expect((await refused(h, 'backup:restore', { passphrase: PASSPHRASE }, 'VAULT_NOT_FOUND')).details['reason']).toBe('not-backup');
    expect(left(h)).toEqual(before);

    // The newest journal entry changed on the drive: it no longer opens as a whole vault.
    const v = await source.ctx.vault();
    const logs = storeFiles(v).filter((f) => f.startsWith('log-'));
    const newest = join(copy, 'store', logs[logs.length - 1]!);
    const bytes = readFileSync(newest);
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] ?? 0) ^ 0x01;
    writeFileSync(newest, bytes);
    h.dialogs.folderQueue.push(copy);
    const damaged = await refused(h, 'backup:restore', { passphrase: PASSPHRASE }, 'VAULT_CORRUPT');
    expect(damaged.details['reason']).toBe('damaged');
    expect(damaged.detail).toMatch(/Nothing was restored/);
    expect(left(h)).toEqual(before);

    // Removed: older than its own identity.age says (a rollback).
    rmSync(newest);
    h.dialogs.folderQueue.push(copy);
    expect((await refused(h, 'backup:restore', { passphrase: PASSPHRASE }, 'VAULT_CORRUPT')).details['reason']).toBe('rollback');
    expect(left(h)).toEqual(before);
    expect((await call(h, 'vault:status', {})).exists).toBe(false);

    for (const a of h.answers) {
      expect(a).not.toContain(copy);
      expect(a).not.toContain(h.dir);
    }
  });

  it('never over the vault of the profile, even if it is locked', async () => {
    const { source, copy } = await backupWithShare();
    await call(source, 'vault:lock', {});
    const before = readdirSync(source.vaultDir).sort();
    source.dialogs.folderQueue.push(copy);
    const e = await refused(source, 'backup:restore', { passphrase: PASSPHRASE }, 'VAULT_EXISTS');
    expect(e.details['reason']).toBe('vault-exists');
    expect(readdirSync(source.vaultDir).sort()).toEqual(before);
    // The dialog was not even shown.
    expect(source.dialogs.calls.filter((c) => c === 'chooseFolder:vault-restore')).toEqual([]);
  });
});
