// The vault: create / unlock / lock (keys wiped), wrong passphrase with growing delays, the KDF
// running only at create and unlock (counted, not timed), calibration, the event loop staying free
// during unlock, atomic saves with the previous generation, and a failed save changing nothing.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSealed } from '../../shared/crypto/seal';
import { fromUtf8 } from '../../shared/bytes';
import { AutoLock, type Timers } from '../../main/services/autolock';
import { calibrateScryptLogN, countingKdf, MAX_LOG_N, MIN_LOG_N, nodeScryptKdf, scryptLogNOf, type ScryptKdf } from '../../main/services/kdf';
import { explain } from '../../main/services/messages';
import { importEnvelope } from '../../main/services/inbox';
import { parseState } from '../../main/services/state';
import { unlockDelayFor, Vault, VAULT_FILES } from '../../main/services/vault';
import { codeOf, createVault, makeAgent, makeSet, meOf, PASSPHRASE, pinned, tempDir, testClock, TEST_LOG_N } from './helpers';

async function stateOf(v: Vault, file: 'shares' | 'previous'): Promise<{ generation: number; entries: number }> {
  const json = await openSealed(v.identity.age.identity, new Uint8Array(readFileSync(v.path(file))), 'state');
  const s = parseState(fromUtf8(json));
  if (s === undefined) throw new Error('state does not parse');
  return { generation: s.generation, entries: s.audit.entries.length };
}

describe('vault: create, unlock, lock', () => {
  it('creates the files, unlocks with the passphrase, and wipes keys and shares on lock', async () => {
    const kdf = countingKdf();
    const clock = testClock();
    const v = await createVault({ kdf, clock: clock.fn });
    for (const f of Object.values(VAULT_FILES)) {
      if (f === VAULT_FILES.attempts || f === VAULT_FILES.previous) continue;
      expect(existsSync(join(v.dir, f)), f).toBe(true);
    }
    expect(v.info.code).toMatch(/^[0-9]{4}( [0-9]{4}){5}$/);
    expect(scryptLogNOf(new Uint8Array(readFileSync(v.path('identity'))))).toBe(TEST_LOG_N);

    const agent = makeAgent();
    await pinned(v, agent);
    const set = await makeSet(agent.id, meOf(v));
    expect((await importEnvelope(v, set.envelope)).outcome).toBe('accepted');
    const seed = v.identity.signing.seed;
    const share = v.state.shares[0]!.share;
    expect(share).toEqual(set.share);

    await v.lock();
    expect(v.unlocked).toBe(false);
    expect(seed.every((b) => b === 0)).toBe(true);
    expect(share.every((b) => b === 0)).toBe(true);
    expect(await codeOf(() => v.state)).toBe('VAULT_LOCKED');
    expect(await codeOf(() => v.identity)).toBe('VAULT_LOCKED');

    const reopened = await Vault.open(v.dir, { kdf, clock: clock.fn });
    expect(reopened.info.name).toBe('Carol (cold storage)');
    const r = await reopened.unlock(PASSPHRASE);
    expect(r).toMatchObject({ recoveredFromPrevious: false, auditOk: true, kdfLogN: TEST_LOG_N });
    expect(reopened.state.shares[0]!.share).toEqual(set.share);
    expect(await codeOf(() => reopened.unlock(PASSPHRASE))).toBe('INVALID_STATE');
  });

  it('refuses a second vault in the same folder, a missing vault, a short passphrase and a weak KDF without the test opt-in', async () => {
    const v = await createVault();
    expect(await codeOf(() => Vault.create(v.dir, { name: 'x', passphrase: PASSPHRASE }, { kdfLogN: TEST_LOG_N, allowWeakKdf: true }))).toBe('VAULT_EXISTS');
    expect(await codeOf(() => Vault.open(join(tempDir(), 'nothing')))).toBe('VAULT_NOT_FOUND');
    expect(await codeOf(() => Vault.create(join(tempDir(), 'v'), { name: 'x', passphrase: 'short' }, { kdfLogN: TEST_LOG_N, allowWeakKdf: true }))).toBe('WEAK_PASSPHRASE');
    expect(await codeOf(() => Vault.create(join(tempDir(), 'v'), { name: 'x', passphrase: PASSPHRASE }, { kdfLogN: TEST_LOG_N }))).toBe('WEAK_KDF');
  });

  it('changes the passphrase', async () => {
    const v = await createVault();
    await v.changePassphrase(PASSPHRASE, 'another long passphrase');
    await v.lock();
    expect(await codeOf(() => v.unlock(PASSPHRASE))).toBe('WRONG_PASSPHRASE');
  });
});

describe('vault: wrong passphrase', () => {
  it('refuses with a coded, worded error and makes every next try wait longer (min(2^n·250 ms, 30 s))', async () => {
    const clock = testClock();
    const waits: number[] = [];
    const sleep = (ms: number): Promise<void> => {
      waits.push(ms);
      clock.now += ms;
      return Promise.resolve();
    };
    const created = await createVault({ clock: clock.fn });
    await created.lock();
    const v = await Vault.open(created.dir, { clock: clock.fn, sleep });
    expect(await v.unlockDelayMs()).toBe(0);
    for (let n = 1; n <= 4; n++) {
      try {
        await v.unlock(`wrong passphrase ${String(n)}`);
        expect.fail('unlocked with a wrong passphrase');
      } catch (e) {
        const ex = explain(e);
        expect(ex.code).toBe('WRONG_PASSPHRASE');
        expect(ex.details).toMatchObject({ failures: n, delayMs: unlockDelayFor(n) });
        expect(ex.message.en).toContain(`${String(unlockDelayFor(n) / 1000)} s`);
        expect(ex.message['zh-CN']).toContain('口令错误');
      }
      expect(await v.unlockDelayMs()).toBe(unlockDelayFor(n));
    }
    // Each attempt after the first waited the delay earned by the failures before it.
    expect(waits).toEqual([500, 1000, 2000]);
    expect(JSON.parse(readFileSync(v.path('attempts'), 'utf8'))).toMatchObject({ failures: 4 });
    await v.unlock(PASSPHRASE);
    expect(waits).toEqual([500, 1000, 2000, 4000]);
    expect(existsSync(v.path('attempts'))).toBe(false);
    expect(unlockDelayFor(6)).toBe(16_000);
    expect(unlockDelayFor(7)).toBe(30_000);
    expect(unlockDelayFor(50)).toBe(30_000);
  });
});

describe('vault: KDF', () => {
  it('runs the KDF only at create and unlock, never when saving (counted)', async () => {
    const kdf = countingKdf();
    const v = await createVault({ kdf });
    expect(kdf.count).toBe(1);
    const agent = makeAgent();
    await pinned(v, agent);
    const before = v.state.generation;
    for (let i = 0; i < 3; i++) {
      const set = await makeSet(agent.id, meOf(v), { keyId: `key-${String(i)}` });
      expect((await importEnvelope(v, set.envelope)).outcome).toBe('accepted');
    }
    expect(v.state.generation).toBe(before + 3);
    expect(kdf.count).toBe(1);
    await v.lock();
    await v.unlock(PASSPHRASE);
    expect(kdf.count).toBe(2);
    await v.save();
    expect(kdf.count).toBe(2);
  });

  it('calibrates the work factor at creation (≥ 15, ≤ 20) and records it in identity.age itself', async () => {
    const v = await Vault.create(join(tempDir(), 'real'), { name: 'Dora', passphrase: PASSPHRASE });
    const logN = scryptLogNOf(new Uint8Array(readFileSync(v.path('identity'))));
    expect(logN).toBeGreaterThanOrEqual(MIN_LOG_N);
    expect(logN).toBeLessThanOrEqual(MAX_LOG_N);
    expect(readFileSync(v.path('identity'), 'latin1')).toMatch(new RegExp(`\\n-> scrypt [A-Za-z0-9+/]{22} ${String(logN)}\\n`));
    await v.lock();
    expect((await v.unlock(PASSPHRASE)).kdfLogN).toBe(logN);
  });

  it('picks the work factor nearest the target from one probe, clamped', async () => {
    // A fake KDF whose "time" is 2^(logN-14) × 80 ms on a fake clock.
    let t = 0;
    const fake: ScryptKdf = {
      derive: (_p, _s, logN) => {
        t += 80 * 2 ** (logN - 14);
        return Promise.resolve(new Uint8Array(32));
      },
    };
    const nowMs = (): number => t;
    expect((await calibrateScryptLogN({ kdf: fake, nowMs })).logN).toBe(18); // 80 ms · 16 = 1.28 s
    expect((await calibrateScryptLogN({ kdf: fake, nowMs, targetMs: 100_000 })).logN).toBe(MAX_LOG_N);
    expect((await calibrateScryptLogN({ kdf: fake, nowMs, targetMs: 1 })).logN).toBe(MIN_LOG_N);
  });

  it('keeps the event loop running while the KDF derives (node:crypto scrypt on the thread pool)', async () => {
    const kdf = countingKdf(nodeScryptKdf);
    const created = await Vault.create(join(tempDir(), 'v'), { name: 'Eve', passphrase: PASSPHRASE }, { kdfLogN: 15, kdf });
    await created.lock();
    let ticksWhileDeriving = 0;
    const timer = setInterval(() => {
      if (kdf.running) ticksWhileDeriving++;
    }, 1);
    try {
      await created.unlock(PASSPHRASE);
    } finally {
      clearInterval(timer);
    }
    // With typage's Decrypter.addPassphrase this is always 0: its scrypt is synchronous (see the report / bench).
    expect(ticksWhileDeriving).toBeGreaterThan(0);
  });
});

describe('vault: atomic saves and the previous generation', () => {
  it('keeps the previous generation and falls back to it when shares.age is damaged', async () => {
    const v = await createVault();
    await v.save();
    await v.save();
    const cur = await stateOf(v, 'shares');
    const prev = await stateOf(v, 'previous');
    expect(cur.generation).toBe(prev.generation + 1);
    expect(cur.generation).toBe(v.state.generation);

    const bytes = readFileSync(v.path('shares'));
    bytes[bytes.length - 5]! ^= 0xff;
    writeFileSync(v.path('shares'), bytes);
    await v.lock();
    const r = await v.unlock(PASSPHRASE);
    expect(r).toMatchObject({ recoveredFromPrevious: true, generation: prev.generation });
    await v.save();
    expect((await stateOf(v, 'shares')).generation).toBe(prev.generation + 1);

    // Both generations damaged: a clear refusal, nothing invented.
    writeFileSync(v.path('shares'), 'x');
    writeFileSync(v.path('previous'), 'y');
    await v.lock();
    expect(await codeOf(() => v.unlock(PASSPHRASE))).toBe('VAULT_CORRUPT');
  });

  it('a save that fails half-way changes neither the files nor what is in memory', async () => {
    let failAt: string | undefined;
    const v = await createVault({
      onSaveStep: (step) => {
        if (step === failAt) throw new Error(`simulated failure at ${step}`);
      },
    });
    const agent = makeAgent();
    await pinned(v, agent);
    const gen = v.state.generation;
    const before = readFileSync(v.path('shares'));
    for (const step of ['write', 'fsync-file', 'link-previous', 'rename-previous', 'rename']) {
      failAt = step;
      const set = await makeSet(agent.id, meOf(v));
      expect(await codeOf(() => importEnvelope(v, set.envelope))).toBe('IO_FAILED');
      expect(readFileSync(v.path('shares')).equals(before)).toBe(true);
      expect(v.state.generation).toBe(gen);
      expect(v.state.shares).toHaveLength(0);
    }
    failAt = undefined;
    await v.lock();
    await v.unlock(PASSPHRASE);
    expect(v.state.generation).toBe(gen);
  });
});

describe('auto-lock', () => {
  it('locks after the idle time and restarts the timer on activity', async () => {
    const v = await createVault();
    const pending: { fn: () => void; ms: number; cancelled: boolean }[] = [];
    const timers: Timers = {
      setTimeout: (fn, ms) => {
        const t = { fn, ms, cancelled: false };
        pending.push(t);
        return t;
      },
      clearTimeout: (h) => {
        (h as { cancelled: boolean }).cancelled = true;
      },
    };
    let locked = 0;
    const auto = new AutoLock(v, 5, () => locked++, timers);
    expect(pending.at(-1)!.ms).toBe(5 * 60_000);
    auto.activity();
    expect(pending.filter((t) => !t.cancelled)).toHaveLength(1);
    pending.at(-1)!.fn();
    await v.lock(); // waits for the auto-lock's own lock to finish
    expect(v.unlocked).toBe(false);
    expect(locked).toBe(1);
  });
});
