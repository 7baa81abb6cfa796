// The vault: create / unlock / lock (keys wiped), wrong passphrase with growing delays, the KDF
// running only at create and unlock (counted, not timed), calibration, the event loop staying free
// during unlock, atomic saves with the previous generation, and a failed save changing nothing.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSealed, sealTo } from '../../shared/crypto/seal';
import { fromUtf8, toHex, utf8 } from '../../shared/bytes';
import { AutoLock, type Timers } from '../../main/services/autolock';
import { calibrateScryptLogN, countingKdf, MAX_LOG_N, MIN_LOG_N, nodeScryptKdf, scryptLogNOf, type ScryptKdf } from '../../main/services/kdf';
import { explain } from '../../main/services/messages';
import { importEnvelope } from '../../main/services/inbox';
import { showRecoveryRequest } from '../../main/services/recovery';
import { parseState } from '../../main/services/state';
import { pinnedAgentKey, previewAgentCard } from '../../main/services/trust';
import { unlockDelayFor, Vault, VAULT_FILES } from '../../main/services/vault';
import {
  codeOf,
  createVault,
  makeAgent,
  makeSet,
  meOf,
  NOW,
  PASSPHRASE,
  pinned,
  recoveryRequest,
  sealedStateJson,
  tempDir,
  testClock,
  TEST_LOG_N,
  writeSealedState,
} from './helpers';

async function stateOf(v: Vault, file: 'shares' | 'previous'): Promise<{ generation: number; entries: number }> {
  const s = parseState(await sealedStateJson(v, file));
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

describe('vault: changing the passphrase is rate-limited like unlocking', () => {
  it('counts a wrong current passphrase as a failed attempt and waits out the delay before every check', async () => {
    const clock = testClock();
    const waits: number[] = [];
    const sleep = (ms: number): Promise<void> => {
      waits.push(ms);
      clock.now += ms;
      return Promise.resolve();
    };
    const kdf = countingKdf();
    const created = await createVault({ clock: clock.fn, kdf });
    const v = await Vault.open(created.dir, { clock: clock.fn, sleep, kdf });
    const before = kdf.count;
    for (let n = 1; n <= 3; n++) {
      try {
        await v.changePassphrase(`wrong passphrase ${String(n)}`, 'another long passphrase');
        expect.fail('changed the passphrase with a wrong current one');
      } catch (e) {
        expect(explain(e)).toMatchObject({ code: 'WRONG_PASSPHRASE', details: { failures: n, delayMs: unlockDelayFor(n) } });
      }
    }
    expect(kdf.count - before).toBe(3);
    expect(waits).toEqual([500, 1000]);
    expect(JSON.parse(readFileSync(v.path('attempts'), 'utf8'))).toMatchObject({ failures: 3 });
    // Unlocking shares the same counter: it waits what changePassphrase's failures earned.
    expect(await v.unlockDelayMs()).toBe(unlockDelayFor(3));
    await v.changePassphrase(PASSPHRASE, 'another long passphrase');
    expect(waits).toEqual([500, 1000, 2000]);
    expect(existsSync(v.path('attempts'))).toBe(false);
    await v.unlock('another long passphrase');
    expect(waits).toEqual([500, 1000, 2000]);
  });
});

describe('vault: the state is signed by the custodian', () => {
  it('refuses a shares.age sealed to the public recipient by someone without the passphrase (forged trust)', async () => {
    const v = await createVault();
    const agent = makeAgent();
    await pinned(v, agent);
    const set = await makeSet(agent.id, meOf(v));
    expect((await importEnvelope(v, set.envelope)).outcome).toBe('accepted');
    await v.save();
    const genuine = fromUtf8(await openSealed(v.identity.age.identity, new Uint8Array(readFileSync(v.path('shares'))), 'state'));
    const genuineSig = /,"sig":"([0-9a-f]{128})"\}$/.exec(genuine)?.[1];
    expect(genuineSig).toMatch(/^[0-9a-f]{128}$/);

    // The forger pins their own agent and moves the real one to previousAgents. (They cannot read
    // shares.age; the test takes its content from the real state to isolate the signature check.)
    const attacker = makeAgent('attacker');
    const p = previewAgentCard(attacker.card);
    const state = JSON.parse(await sealedStateJson(v, 'shares')) as { generation: number; agent: Record<string, unknown>; previousAgents: unknown[] };
    state.previousAgents.push({ ...state.agent, replacedAt: NOW });
    state.agent = { card: Buffer.from(attacker.card).toString('base64'), signKey: p.signKey, name: p.name, fingerprint: p.fingerprint, code: p.code, pinnedAt: NOW, via: 'pin' };
    state.generation += 1;
    const forged = JSON.stringify(state);
    const sealedWithGenuineSig = await sealTo(v.info.ageRecipient, utf8(`${forged.slice(0, -1)},"sig":"${genuineSig ?? ''}"}`));
    const attempts: [string, () => Promise<void>][] = [
      ['unsigned', () => writeSealedState(v, 'shares', forged, null)],
      ['signed by another key', () => writeSealedState(v, 'shares', forged, attacker.id.signing)],
      ['with a genuine signature of another state', 
        () => {
          writeFileSync(v.path('shares'), sealedWithGenuineSig);
          return Promise.resolve();
        },
      ],
    ];
    const request = await recoveryRequest(attacker.id, set);
    for (const [what, forge] of attempts) {
      await forge();
      await v.lock();
      const r = await v.unlock(PASSPHRASE);
      expect(r.recoveredFromPrevious, what).toBe(true);
      expect(toHex(pinnedAgentKey(v)), what).toBe(toHex(agent.id.signing.publicKey));
      expect(v.state.previousAgents, what).toHaveLength(0);
      expect(await codeOf(() => showRecoveryRequest(v, request.request)), what).toBe('UNTRUSTED_SIGNER');
    }

    // Both generations forged: refused as damaged, never used.
    await writeSealedState(v, 'previous', forged, attacker.id.signing);
    await v.lock();
    expect(await codeOf(() => v.unlock(PASSPHRASE))).toBe('VAULT_CORRUPT');
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

    // That save set the damaged file aside instead of rotating it over the good previous one.
    expect((await stateOf(v, 'previous')).generation).toBe(prev.generation);

    // Both generations damaged: a clear refusal, nothing invented.
    writeFileSync(v.path('shares'), 'x');
    writeFileSync(v.path('previous'), 'y');
    await v.lock();
    expect(await codeOf(() => v.unlock(PASSPHRASE))).toBe('VAULT_CORRUPT');
  });

  it('after falling back to the previous generation, a save interrupted at any step never loses the good copy', async () => {
    const created = await createVault();
    await created.save();
    await created.save();
    const good = await stateOf(created, 'previous');
    await created.lock();
    const damaged = readFileSync(created.path('shares'));
    damaged[damaged.length - 5]! ^= 0xff;

    for (const failAt of ['write', 'set-aside', 'rename', undefined]) {
      writeFileSync(created.path('shares'), damaged);
      for (const f of readdirSync(created.dir)) if (f.startsWith('shares.corrupt-')) rmSync(join(created.dir, f));
      const steps: string[] = [];
      const v = await Vault.open(created.dir, {
        onSaveStep: (step) => {
          steps.push(step);
          // A thrown step stands in for a crash there: nothing after it runs.
          if (step === failAt) throw new Error(`simulated crash at ${step}`);
        },
      });
      expect((await v.unlock(PASSPHRASE)).recoveredFromPrevious).toBe(true);
      const saved = await v.save().then(
        () => true,
        () => false,
      );
      expect(saved, String(failAt)).toBe(failAt === undefined);
      expect(steps, String(failAt)).not.toContain('link-previous');
      // The good generation is still shares.prev.age, untouched.
      expect((await stateOf(v, 'previous')).generation, String(failAt)).toBe(good.generation);
      await v.lock();
      // Whatever step it stopped at, the vault opens: to the new state, or to the good previous one.
      const again = await Vault.open(created.dir);
      const r = await again.unlock(PASSPHRASE);
      expect(r.generation, String(failAt)).toBe(saved ? good.generation + 1 : good.generation);
      expect(r.recoveredFromPrevious, String(failAt)).toBe(!saved);
      // The damaged file was set aside once the new one could take its place.
      const aside = readdirSync(created.dir).filter((f) => f.startsWith('shares.corrupt-'));
      expect(aside.length, String(failAt)).toBe(failAt === 'write' || failAt === 'set-aside' ? 0 : 1);
      if (aside.length === 1) expect(readFileSync(join(created.dir, aside[0]!)).equals(damaged)).toBe(true);
      if (saved) {
        // The next save rotates normally again.
        await again.save();
        expect((await stateOf(again, 'previous')).generation).toBe(good.generation + 1);
      }
      await again.lock();
    }
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
