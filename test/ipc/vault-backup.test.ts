// The vault backup through IPC (issue 13, H11): backup:status and backup:toFolder against a real
// vault in a temp folder, the folder coming from the (scripted) system dialog as in the window.
// The copy lands in the chosen folder and verifies; a change makes the backup due again; a wrong
// passphrase, a folder inside the vault, a file, an unwritable place are refused with a reason and
// leave no copy behind and the last verified backup as it was; no answer carries a path.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BACKUP_FILE } from '../../main/services/vault-backup';
import { makeAgent, PASSPHRASE, tempDir } from '../custodian/helpers';
import { call, file, harness, refused, withVault } from './helpers';

const copiesIn = (dir: string): string[] => readdirSync(dir).filter((n) => n.startsWith('custos-vault-'));

describe('backup:status and backup:toFolder', () => {
  it('backs up into the chosen folder, verifies the copy, and says when the vault changed since', async () => {
    const h = harness();
    await withVault(h);
    const drive = join(tempDir('custos-usb-'), 'KINGSTON');
    mkdirSync(drive);

    const none = await call(h, 'backup:status', {});
    expect(none.last).toBeNull();
    expect(none.due).toBe(true);
    // The person cancels the folder dialog: nothing happens.
    expect(await call(h, 'backup:toFolder', { passphrase: PASSPHRASE })).toEqual({ saved: false });
    expect(h.dialogs.calls).toEqual(['chooseFolder:vault-backup']);

    h.dialogs.folderQueue.push(drive);
    const done = await call(h, 'backup:toFolder', { passphrase: PASSPHRASE });
    expect(done.saved).toBe(true);
    const b = done.backup!;
    const [copy] = copiesIn(drive);
    expect(copy).toBe(b.folder);
    expect(b.drive).toBe('KINGSTON');
    expect(b).toMatchObject({ hashesMatch: true, identityMatches: true, shares: 0 });
    expect(b.files).toBeGreaterThanOrEqual(4);
    // The copy holds the sealed vault, byte for byte; not the local attempt counter.
    const copied = join(drive, b.folder);
    expect(readFileSync(join(copied, 'identity.age'))).toEqual(readFileSync(join(h.vaultDir, 'identity.age')));
    expect(readdirSync(join(copied, 'store')).sort()).toEqual(readdirSync(join(h.vaultDir, 'store')).filter((n) => n.endsWith('.age')).sort());
    expect(existsSync(join(copied, 'unlock-attempts.json'))).toBe(false);

    const fresh = await call(h, 'backup:status', {});
    expect(fresh).toEqual({ last: { verifiedAt: b.verifiedAt, generation: b.generation, folder: b.folder, drive: 'KINGSTON', files: b.files, bytes: b.bytes }, generation: b.generation, due: false });

    // A change (pinning the agent is a save): the backup no longer holds the vault as it is.
    const agent = makeAgent();
    await call(h, 'trust:pin', { card: file('agent.custos', agent.card), confirmCode: agent.code });
    const stale = await call(h, 'backup:status', {});
    expect(stale.due).toBe(true);
    expect(stale.generation).toBeGreaterThan(b.generation);
    expect(stale.last?.folder).toBe(b.folder);

    // Backing up again makes it current; a second copy beside the first, never over it.
    h.dialogs.folderQueue.push(drive);
    const again = await call(h, 'backup:toFolder', { passphrase: PASSPHRASE });
    expect(copiesIn(drive)).toHaveLength(2);
    expect((await call(h, 'backup:status', {})).due).toBe(false);
    expect(again.backup?.generation).toBe(stale.generation);

    // Nothing that crossed IPC names a path on this machine.
    for (const a of h.answers) {
      expect(a).not.toContain(drive);
      expect(a).not.toContain(h.dir);
    }
  });

  it('refuses a wrong passphrase, a folder in the vault, a file and an unwritable place: no copy left, the last backup kept', async () => {
    const h = harness();
    await withVault(h);
    const drive = tempDir('custos-usb-');
    h.dialogs.folderQueue.push(drive);
    const first = (await call(h, 'backup:toFolder', { passphrase: PASSPHRASE })).backup!;
    const record = readFileSync(join(h.vaultDir, BACKUP_FILE));
    const agent = makeAgent();
    await call(h, 'trust:pin', { card: file('agent.custos', agent.card), confirmCode: agent.code });

    // Wrong passphrase at the verification: counted like an unlock, the new copy removed.
    h.dialogs.folderQueue.push(drive);
    const wrong = await refused(h, 'backup:toFolder', { passphrase: `${PASSPHRASE}x` }, 'WRONG_PASSPHRASE');
    expect(wrong.details['delaySeconds']).toBeGreaterThan(0);
    expect(copiesIn(drive)).toEqual([first.folder]);
    expect(readFileSync(join(h.vaultDir, BACKUP_FILE))).toEqual(record);
    expect((await call(h, 'backup:status', {})).due).toBe(true);

    const reasonFor = async (target: string, reason: string, code = 'IO_FAILED'): Promise<void> => {
      h.dialogs.folderQueue.push(target);
      const e = await refused(h, 'backup:toFolder', { passphrase: PASSPHRASE }, code);
      expect(e.details).toEqual({ reason });
      expect(JSON.stringify(e)).not.toContain(h.dir);
      expect(readFileSync(join(h.vaultDir, BACKUP_FILE))).toEqual(record);
    };
    await reasonFor(h.vaultDir, 'inside-vault');
    await reasonFor(join(h.vaultDir, 'store'), 'inside-vault');
    expect(copiesIn(join(h.vaultDir, 'store'))).toEqual([]);
    const aFile = join(drive, 'not-a-folder.txt');
    writeFileSync(aFile, 'x');
    await reasonFor(aFile, 'not-folder');
    // procfs refuses new folders even to root (the tests may run as root, who writes anywhere else).
    await reasonFor('/proc', 'not-writable');
    expect(copiesIn(drive)).toEqual([first.folder]);

    // A bad payload is refused before any dialog is shown.
    const calls = h.dialogs.calls.length;
    await refused(h, 'backup:toFolder', { passphrase: '' }, 'INVALID_PARAMETERS');
    await refused(h, 'backup:toFolder', { passphrase: PASSPHRASE, folder: drive }, 'INVALID_PARAMETERS');
    expect(h.dialogs.calls).toHaveLength(calls);
  });

  it('needs a vault, and answers status while it is locked', async () => {
    const h = harness();
    await refused(h, 'backup:status', {}, 'VAULT_NOT_FOUND');
    await withVault(h);
    await call(h, 'vault:lock', {});
    expect((await call(h, 'backup:status', {})).due).toBe(true);
    // Locked, the backup still copies and verifies (the sealed files; nothing is written meanwhile).
    const drive = tempDir('custos-usb-');
    h.dialogs.folderQueue.push(drive);
    expect((await call(h, 'backup:toFolder', { passphrase: PASSPHRASE })).saved).toBe(true);
    expect((await call(h, 'backup:status', {})).due).toBe(false);
  });
});
