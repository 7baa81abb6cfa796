/**
 * A status call that starts opening the vault while first run creates it must not replace the new,
 * unlocked vault with a locked copy (the window then showed the unlock screen right after creating
 * the vault: seen in e2e under load). The open is caught half-way deterministically: its first check
 * runs before its first await, and the created vault is adopted while it awaits.
 */
import { describe, expect, it } from 'vitest';
import { Vault } from '../../main/services/vault';
import { PASSPHRASE, TEST_LOG_N } from '../custodian/helpers';
import { harness } from './helpers';

describe('AppContext.vaultIfExists racing vault:create', () => {
  it('keeps the vault adopted at create, unlocked, over one opened meanwhile', async () => {
    const { ctx, vaultDir } = harness();
    expect(await ctx.vaultIfExists()).toBeNull();
    const created = await Vault.create(vaultDir, { name: 'Carol Wu', passphrase: PASSPHRASE }, { kdfLogN: TEST_LOG_N, allowWeakKdf: true });
    expect(created.unlocked).toBe(true);
    const opening = ctx.vaultIfExists(); // sees no vault adopted yet, then awaits the folder and open
    ctx.adoptVault(created);
    const got = await opening;
    expect(got).toBe(created);
    expect((await ctx.unlocked()).unlocked).toBe(true);
  });
});
