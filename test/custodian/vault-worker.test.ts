// The unlock worker (main/services/vault-worker.ts) reads the standard age format with node:crypto:
// files written by typage, by our resealer and by the `age` CLI open to the same bytes typage gives;
// every kind of tampering, a foreign identity and a truncated or extended stream are DECRYPT_FAILED.
// Its scrypt equals node:crypto's. And an unlock through it reports progress and gives the same
// vault as an unlock in-process.
import { spawnSync } from 'node:child_process';
import { randomBytes as nodeRandom, scryptSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utf8 } from '../../shared/bytes';
import { AgeResealer, generateAgeKeyPair, openSealed, sealTo, type AgeKeyPair } from '../../shared/crypto/seal';
import { canonicalJson } from '../../main/services/vault-layout';
import { serializeState } from '../../main/services/state';
import { Vault, type UnlockProgress } from '../../main/services/vault';
import { UnlockWorker } from '../../main/services/vault-worker';
import { importEnvelope } from '../../main/services/inbox';
import { codeOf, createVault, makeAgent, makeSet, meOf, PASSPHRASE, pinned, tempDir } from './helpers';

/** Any number of random bytes (shared/bytes caps one call at 64 KiB). */
const randomBytes = (n: number): Uint8Array => new Uint8Array(nodeRandom(n));

const hasAgeCli = spawnSync('age', ['--version'], { encoding: 'utf8' }).status === 0;

describe('the unlock worker', () => {
  let w: UnlockWorker;
  let me: AgeKeyPair;
  beforeAll(async () => {
    const started = UnlockWorker.start();
    if (started === undefined) throw new Error('no worker threads here');
    w = started;
    me = await generateAgeKeyPair();
    await w.setIdentity(me.identity);
  });
  afterAll(async () => {
    await w.stop();
  });

  it('opens what typage and the resealer write, at every chunk boundary, to the bytes typage opens', async () => {
    const resealer = await AgeResealer.forRecipient(me.recipient);
    for (const n of [0, 1, 65_535, 65_536, 65_537, 131_072, 200_001]) {
      const plain = randomBytes(n);
      for (const file of [await sealTo(me.recipient, plain), resealer.seal(plain)]) {
        expect(await openSealed(me.identity, file)).toEqual(plain);
        expect(await w.opener.open(Uint8Array.from(file))).toEqual(plain);
      }
    }
  });

  it.skipIf(!hasAgeCli)('opens what the age CLI writes, also to several recipients', async () => {
    const other = await generateAgeKeyPair();
    const dir = tempDir();
    const plain = randomBytes(70_000);
    writeFileSync(join(dir, 'plain'), plain);
    const run = spawnSync('age', ['-r', other.recipient, '-r', me.recipient, '-o', join(dir, 'sealed.age'), join(dir, 'plain')], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(await w.opener.open(new Uint8Array(readFileSync(join(dir, 'sealed.age'))))).toEqual(plain);
  });

  it('refuses a tampered header, stanza, MAC, chunk, a truncated or extended stream, and a foreign identity', async () => {
    const plain = randomBytes(70_000);
    const file = await sealTo(me.recipient, plain);
    const headerEnd = Buffer.from(file).indexOf('\n--- ') + 1;
    // "--- " + 43 characters of MAC + "\n", then the 16-byte payload nonce.
    const payload = headerEnd + 48 + 16;
    expect(file[payload - 17]).toBe(0x0a);
    const flip = (at: number): Uint8Array => {
      const t = Uint8Array.from(file);
      t[at] = (t[at] ?? 0) ^ 0x01;
      return t;
    };
    const cases: Uint8Array[] = [
      flip(3), // the version line
      flip(headerEnd - 10), // the stanza body
      flip(headerEnd + 6), // the MAC
      flip(headerEnd + 60), // the payload nonce
      flip(file.length - 100), // the last chunk
      flip(headerEnd + 200), // the first chunk
      file.subarray(0, file.length - 1),
      file.subarray(0, payload + 65_536 + 16), // cut at a chunk boundary: no chunk flagged last
      Uint8Array.from([...file, ...randomBytes(32)]),
      utf8('not an age file at all'),
      await sealTo((await generateAgeKeyPair()).recipient, plain),
    ];
    for (const c of cases) expect(await codeOf(() => w.opener.open(Uint8Array.from(c)))).toBe('DECRYPT_FAILED');
    // Still working after refusals.
    expect(await w.opener.open(Uint8Array.from(file))).toEqual(plain);
  });

  it("computes node:crypto's scrypt", async () => {
    const salt = randomBytes(16);
    const key = await w.kdf.derive(utf8('a passphrase'), salt, 10);
    expect(Buffer.from(key).equals(scryptSync(utf8('a passphrase'), salt, 32, { N: 1024, r: 8, p: 1 }))).toBe(true);
  });
});

describe('unlocking through the worker', () => {
  it('reports deriving, then files read of the total, and gives the vault an in-process unlock gives', async () => {
    const v = await createVault();
    const agent = makeAgent();
    await pinned(v, agent);
    for (const nodeId of ['node-1', 'node-2', 'node-3']) expect((await importEnvelope(v, (await makeSet(agent.id, meOf(v), { nodeId })).envelope)).outcome).toBe('accepted');
    await v.compact();
    await v.save();
    const expected = canonicalJson(serializeState(v.state));
    await v.lock();

    const seen: UnlockProgress[] = [];
    const a = await Vault.open(v.dir, { unlockWorker: true });
    await a.unlock(PASSPHRASE, { onProgress: (p) => seen.push(p) });
    expect(canonicalJson(serializeState(a.state))).toBe(expected);
    expect(seen[0]).toEqual({ phase: 'deriving', done: 0, total: 0 });
    const reading = seen.filter((p) => p.phase === 'reading');
    expect(reading.length).toBeGreaterThan(2);
    const total = reading[0]!.total;
    expect(reading.every((p) => p.total === total && p.done <= total)).toBe(true);
    expect(reading.map((p) => p.done)).toEqual([...reading.map((p) => p.done)].sort((x, y) => x - y));
    expect(reading.at(-1)!.done).toBe(total);
    // The envelopes read later (in this thread) are the ones imported.
    expect((await a.envelope(a.state.shares[0]!.id)).length).toBe(a.state.shares[0]!.envelopeSize);
    await a.lock();

    const b = await Vault.open(v.dir, { unlockWorker: false });
    await b.unlock(PASSPHRASE);
    expect(canonicalJson(serializeState(b.state))).toBe(expected);
    await b.lock();
    // A wrong passphrase through the worker's KDF is refused like any other.
    const c = await Vault.open(v.dir, { unlockWorker: true, sleep: () => Promise.resolve() });
    expect(await codeOf(() => c.unlock('not the passphrase at all, no'))).toBe('WRONG_PASSPHRASE');
  });
});
