// Migration from layout 1 (one shares.age holding the whole state) to layout 2 (store/), on the
// vault in test/fixtures/vault-v1, written by the code before the redesign (its README says how).
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../shared/bytes';
import { Decrypter } from 'age-encryption';
import { Vault } from '../../main/services/vault';
import { isCodedError } from '../../main/services/errors';
import { storeFiles, tempDir } from './helpers';

const FIXTURE = new URL('../fixtures/vault-v1/', import.meta.url).pathname;
const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as {
  passphrase: string;
  generation: number;
  signKey: string;
  agentSignKey: string;
  refusals: number;
  auditEntries: number;
  shares: { id: string; keyId: string; status: string; share: string }[];
};

function fixtureCopy(): string {
  const dir = join(tempDir(), 'vault');
  cpSync(join(FIXTURE, 'vault'), dir, { recursive: true });
  return dir;
}

describe('migration of a layout-1 vault', () => {
  it('opens the fixture, migrates it at unlock keeping every share, and reads it back from store/', async () => {
    const dir = fixtureCopy();
    expect(existsSync(join(dir, 'shares.age'))).toBe(true);
    const v = await Vault.open(dir);
    const r = await v.unlock(expected.passphrase);
    expect(r).toMatchObject({ migrated: true, generation: expected.generation, auditOk: true, recoveredFromPrevious: false });
    const check = (x: Vault): void => {
      expect(x.info.signKey).toBe(expected.signKey);
      expect(x.state.agent?.signKey).toBe(expected.agentSignKey);
      expect(x.state.refusals).toHaveLength(expected.refusals);
      expect(x.state.audit.entries).toHaveLength(expected.auditEntries);
      expect(x.state.shares.map((s) => ({ id: s.id, keyId: s.keyId, status: s.status, share: toHex(s.share) }))).toEqual(expected.shares);
    };
    check(v);
    // Layout 1's files are gone; the records are in store/; vault.json names the new escape hatch.
    expect(existsSync(join(dir, 'shares.age'))).toBe(false);
    expect(existsSync(join(dir, 'shares.prev.age'))).toBe(false);
    expect(storeFiles(v).some((f) => /^snap-[0-9]+\.age$/.test(f))).toBe(true);
    expect(readFileSync(join(dir, 'vault.json'), 'utf8')).toContain('store/*.age');
    // identity.age now carries the rollback counter.
    const d = new Decrypter();
    d.addPassphrase(expected.passphrase);
    expect(new TextDecoder().decode(await d.decrypt(new Uint8Array(readFileSync(join(dir, 'identity.age'))), 'uint8array'))).toContain(`# vault-generation: ${String(expected.generation)}`);

    await v.save();
    await v.lock();
    const again = await Vault.open(dir);
    expect(await again.unlock(expected.passphrase)).toMatchObject({ migrated: false, generation: expected.generation + 1 });
    check(again);
    await again.lock();

    // The red team's case on a migrated vault: layout 1's old shares.age and shares.prev.age put
    // back (store/ removed) is an older generation: refused, not silently unlocked.
    cpSync(join(FIXTURE, 'vault', 'shares.age'), join(dir, 'shares.age'));
    cpSync(join(FIXTURE, 'vault', 'shares.prev.age'), join(dir, 'shares.prev.age'));
    const store = join(dir, 'store');
    const kept = join(tempDir(), 'store');
    cpSync(store, kept, { recursive: true });
    rmSync(store, { recursive: true });
    const refused = await Vault.open(dir)
      .then((x) => x.unlock(expected.passphrase))
      .then(
        () => undefined,
        (e: unknown) => (isCodedError(e) ? { code: e.code, details: (e as { details?: unknown }).details } : e),
      );
    expect(refused).toMatchObject({ code: 'VAULT_CORRUPT', details: { reason: 'rollback', found: expected.generation, expected: expected.generation + 1 } });
  });

  it('a migration interrupted before layout 1 is removed finishes at the next unlock', async () => {
    const dir = fixtureCopy();
    const v = await Vault.open(dir);
    await v.unlock(expected.passphrase);
    await v.lock();
    // As if the process died after the snapshot was written but before shares.age was removed.
    cpSync(join(FIXTURE, 'vault', 'shares.age'), join(dir, 'shares.age'));
    const again = await Vault.open(dir);
    expect(await again.unlock(expected.passphrase)).toMatchObject({ migrated: false, generation: expected.generation });
    expect(again.state.shares).toHaveLength(expected.shares.length);
    expect(existsSync(join(dir, 'shares.age'))).toBe(false);
  });
});
