// The vault: create / unlock / lock (keys wiped), wrong passphrase with growing delays, the KDF
// running only at create and unlock (counted, not timed), calibration, the event loop staying free
// during unlock, atomic saves with the previous generation, and a failed save changing nothing.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sealTo } from '../../shared/crypto/seal';
import { toHex, utf8 } from '../../shared/bytes';
import { AutoLock, type Timers } from '../../main/services/autolock';
import { calibrateScryptLogN, countingKdf, MAX_LOG_N, MIN_LOG_N, nodeScryptKdf, scryptLogNOf, type ScryptKdf } from '../../main/services/kdf';
import { explain } from '../../main/services/messages';
import { importEnvelope, importEnvelopes } from '../../main/services/inbox';
import { softDelete } from '../../main/services/deletion';
import { showRecoveryRequest } from '../../main/services/recovery';
import { metaToDisk } from '../../main/services/state';
import { signDocument, SNAP_LABEL } from '../../main/services/vault-store';
import { pinnedAgentKey, previewAgentCard } from '../../main/services/trust';
import { unlockDelayFor, Vault, VAULT_FILES, type VaultTx } from '../../main/services/vault';
import {
  codeOf,
  createVault,
  makeAgent,
  makeSet,
  meOf,
  NOW,
  PASSPHRASE,
  pinned,
  recordTexts,
  recoveryRequest,
  storeDir,
  storeFiles,
  tempDir,
  testClock,
  TEST_LOG_N,
  writeLogEntry,
} from './helpers';

/** The store's files and their bytes. */
function storeBytes(v: Vault): Map<string, string> {
  return new Map(storeFiles(v).map((f) => [f, readFileSync(join(storeDir(v), f)).toString('hex')]));
}

describe('vault: create, unlock, lock', () => {
  it('creates the files, unlocks with the passphrase, and wipes keys and shares on lock', async () => {
    const kdf = countingKdf();
    const clock = testClock();
    const v = await createVault({ kdf, clock: clock.fn });
    for (const f of Object.values(VAULT_FILES)) {
      if (f === VAULT_FILES.attempts) continue;
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
  it('refuses records sealed to the public recipient by someone without the passphrase (forged trust)', async () => {
    const v = await createVault();
    const agent = makeAgent();
    await pinned(v, agent);
    const set = await makeSet(agent.id, meOf(v));
    expect((await importEnvelope(v, set.envelope)).outcome).toBe('accepted');
    await v.save();
    const texts = await recordTexts(v);
    const genuine = [...texts.entries()].filter(([f]) => f.startsWith('log-')).at(-1)?.[1] ?? '';
    const genuineSig = /,"sig":"([0-9a-f]{128})"\}$/.exec(genuine)?.[1];
    expect(genuineSig).toMatch(/^[0-9a-f]{128}$/);

    // The forger pins their own agent and moves the real one to previousAgents, as the next
    // journal entry. (They cannot read the records; the test takes the real meta to isolate the
    // signature check.)
    const attacker = makeAgent('attacker');
    const p = previewAgentCard(attacker.card);
    const meta = metaToDisk(v.state) as { agent: Record<string, unknown>; previousAgents: unknown[] };
    meta.previousAgents.push({ ...meta.agent, replacedAt: NOW });
    meta.agent = { card: Buffer.from(attacker.card).toString('base64'), signKey: p.signKey, name: p.name, fingerprint: p.fingerprint, code: p.code, pinnedAt: NOW, via: 'pin' };
    const generation = v.state.generation;
    const attempts: [string, () => Promise<string>][] = [
      ['unsigned', () => writeLogEntry(v, { meta }, null)],
      ['signed by another key', () => writeLogEntry(v, { meta }, attacker.id.signing)],
      ['with a genuine signature of another entry', () => writeLogEntry(v, { meta }, { sig: genuineSig ?? '' })],
    ];
    const request = await recoveryRequest(attacker.id, set);
    for (const [what, forge] of attempts) {
      await forge();
      await v.lock();
      const r = await v.unlock(PASSPHRASE);
      expect(r.recoveredFromPrevious, what).toBe(true);
      expect(r.generation, what).toBe(generation);
      expect(toHex(pinnedAgentKey(v)), what).toBe(toHex(agent.id.signing.publicKey));
      expect(v.state.previousAgents, what).toHaveLength(0);
      expect(await codeOf(() => showRecoveryRequest(v, request.request)), what).toBe('UNTRUSTED_SIGNER');
    }

    // Every snapshot forged too: refused as damaged, never used.
    for (const f of storeFiles(v).filter((x) => /^snap-[0-9]+\.age$/.test(x))) {
      const json = JSON.stringify({ format: 'custos-vault-snapshot/1', generation: Number(/[0-9]+/.exec(f)?.[0]), savedAt: NOW, head: '0'.repeat(64), meta, parts: [] });
      writeFileSync(join(storeDir(v), f), await sealTo(v.info.ageRecipient, utf8(signDocument(SNAP_LABEL, json, attacker.id.signing).document)));
    }
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
  it('a save writes one journal file; a damaged newest snapshot falls back to the previous one and the journal since, losing nothing', async () => {
    const v = await createVault();
    const agent = makeAgent();
    await pinned(v, agent);
    await v.compact();
    const before = storeFiles(v);
    await v.save();
    const added = storeFiles(v).filter((f) => !before.includes(f));
    expect(added).toEqual([`log-${String(v.state.generation).padStart(12, '0')}.age`]);
    await v.save();
    await v.compact();
    await v.save();
    const generation = v.state.generation;
    const snaps = storeFiles(v).filter((f) => /^snap-[0-9]+\.age$/.test(f));
    expect(snaps).toHaveLength(2);

    const newest = join(storeDir(v), snaps[1]!);
    const good = readFileSync(newest);
    const bytes = Buffer.from(good);
    bytes[bytes.length - 5]! ^= 0xff;
    writeFileSync(newest, bytes);
    await v.lock();
    const r = await v.unlock(PASSPHRASE);
    expect(r).toMatchObject({ recoveredFromPrevious: true, generation });
    expect(toHex(pinnedAgentKey(v))).toBe(toHex(agent.id.signing.publicKey));
    // A damaged part is caught by its hash in the signed manifest, before it is decrypted.
    writeFileSync(newest, good);
    const part = storeFiles(v).find((f) => f.startsWith(snaps[1]!.slice(0, -4) + '-'));
    writeFileSync(join(storeDir(v), part!), 'x');
    await v.lock();
    expect(await v.unlock(PASSPHRASE)).toMatchObject({ recoveredFromPrevious: true, generation });

    // Every snapshot damaged: a clear refusal, nothing invented.
    for (const f of storeFiles(v).filter((x) => x.startsWith('snap-'))) writeFileSync(join(storeDir(v), f), 'x');
    await v.lock();
    expect(await codeOf(() => v.unlock(PASSPHRASE))).toBe('VAULT_CORRUPT');
  });

  it('a save writes what the change touched, not the vault; the self-check catches a change that bypassed the tracking view', async () => {
    const v = await createVault();
    const agent = makeAgent();
    await pinned(v, agent);
    const sets = await Promise.all(Array.from({ length: 12 }, (_x, i) => makeSet(agent.id, meOf(v), { keyId: `key-${String(i)}` })));
    expect((await importEnvelopes(v, sets.map((x) => ({ bytes: x.envelope })))).accepted).toBe(12);
    const target = v.state.shares[5]!;
    await softDelete(v, target.id, { reason: 'one change' });
    const texts = await recordTexts(v);
    const last = JSON.parse([...texts.entries()].filter(([f]) => f.startsWith('log-')).at(-1)![1]) as { put?: { shares?: { id: string }[] }; reset?: unknown; del?: unknown };
    expect(last.put?.shares?.map((x) => x.id)).toEqual([target.id]);
    expect(last.reset).toBeUndefined();
    expect(last.del).toBeUndefined();

    // A record kept from outside the change and written to inside it is invisible to the tracker:
    // the test suite's self-check reads the save back, refuses it, and memory goes back to disk.
    const raw = v.state.shares[0]!;
    expect(
      await codeOf(() =>
        v.update((tx) => {
          raw.status = 'confirmed';
          tx.changed();
        }),
      ),
    ).toBe('INTERNAL');
    expect(v.state.shares[0]!.status).toBe('received');
  });

  it('every kind of list change survives a reload: appended, changed, removed, reordered, replaced', async () => {
    const v = await createVault();
    const refusal = (i: number): { id: string; at: number; code: string; receipts: never[] } => ({ id: i.toString(16).padStart(64, '0'), at: NOW, code: 'MALFORMED', receipts: [] });
    await v.update((tx) => {
      for (let i = 1; i <= 6; i++) tx.state.refusals.push(refusal(i));
      tx.changed();
    });
    const steps: [string, (s: VaultTx['state']) => void][] = [
      ['changed in place', (s) => void (s.refusals[2]!.code = 'EXPIRED')],
      ['removed (filter)', (s) => void (s.refusals = s.refusals.filter((r) => r.id !== refusal(4).id))],
      ['removed from the front (splice) and appended', (s) => void (s.refusals.splice(0, 1), s.refusals.push(refusal(7)))],
      ['reordered', (s) => void s.refusals.reverse()],
      ['replaced whole, with a changed item', (s) => void (s.refusals = [refusal(9), { ...s.refusals[0]!, code: 'WRONG_TYPE' }])],
      ['audit entry appended and a nested receipt added', (s) => void s.refusals[0]!.receipts.push({ status: 'rejected', signedAt: NOW, hash: '11'.repeat(32) })],
    ];
    for (const [what, change] of steps) {
      await v.update((tx) => {
        change(tx.state);
        tx.audit({ event: 'settings', result: 'ok', detail: what });
      });
      const expected = JSON.stringify(v.state.refusals);
      await v.lock();
      await v.unlock(PASSPHRASE);
      expect(JSON.stringify(v.state.refusals), what).toBe(expected);
    }
    expect(v.state.refusals.map((r) => r.id.slice(-1))).toEqual(['9', '7']);
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
    const before = storeBytes(v);
    for (const step of ['open-temp', 'write', 'fsync-file', 'close', 'rename']) {
      failAt = step;
      const set = await makeSet(agent.id, meOf(v));
      expect(await codeOf(() => importEnvelope(v, set.envelope))).toBe('IO_FAILED');
      expect(storeBytes(v), step).toEqual(before);
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
