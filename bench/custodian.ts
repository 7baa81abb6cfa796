/**
 * Custodian vault benchmark: `npx tsx bench/custodian.ts [N]` (N envelopes, default 10000, the
 * issue's size: 2000 keys × 5 nodes; pass a smaller N for a quick look). Everything is measured side by side in one run
 * and reported as ratios and medians (HANDBOOK "Measuring"):
 *
 *   1. the passphrase KDF: typage's own scrypt (synchronous) against ours (node:crypto, thread pool),
 *      with the longest event-loop stall each causes;
 *   2. importing N envelopes into a vault, against the floor of the same crypto operations
 *      (verifyEnvelope + unsealEnvelopeShare per envelope, no vault);
 *   3. saving the N-share vault after adding one share, and unlocking it (with its event-loop stall).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decrypter, Encrypter } from 'age-encryption';
import { randomBytes } from '../shared/bytes';
import { possessionPublicKey } from '../shared/crypto/possession';
import { splitSecret } from '../shared/crypto/shamir';
import {
  createAgentIdentity,
  makeAgentCard,
  makeEnvelope,
  makeManifest,
  manifestSchema,
  openAgentCard,
  unsealEnvelopeShare,
  verifyEnvelope,
  type AgentIdentity,
} from '../shared/protocol';
import { importEnvelope, importEnvelopes } from '../main/services/inbox';
import { ScryptPassphraseIdentity, ScryptPassphraseRecipient } from '../main/services/kdf';
import { installNodeVerifier } from '../node/ed25519';
import { pinAgent } from '../main/services/trust';
import { Vault } from '../main/services/vault';

const N = Number(process.argv[2] ?? process.env['BENCH_N'] ?? 10000);
const KDF_LOG_N = 16;
const PASS = 'benchmark passphrase';

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const ms = (x: number): string => `${x.toFixed(0)} ms`;

/** Runs `fn` and reports its duration and the longest gap between 2 ms timer ticks meanwhile. */
async function withStallMeter<T>(fn: () => Promise<T>): Promise<{ value: T; elapsed: number; maxStall: number }> {
  let last = performance.now();
  let maxStall = 0;
  const timer = setInterval(() => {
    const t = performance.now();
    maxStall = Math.max(maxStall, t - last);
    last = t;
  }, 2);
  const t0 = performance.now();
  try {
    const value = await fn();
    const elapsed = performance.now() - t0;
    maxStall = Math.max(maxStall, performance.now() - last);
    return { value, elapsed, maxStall };
  } finally {
    clearInterval(timer);
  }
}

async function kdf(): Promise<void> {
  const plain = new Uint8Array(64);
  const e = new Encrypter();
  e.setPassphrase(PASS);
  e.setScryptWorkFactor(KDF_LOG_N);
  const file = await e.encrypt(plain);
  const typage: { elapsed: number; maxStall: number }[] = [];
  const ours: { elapsed: number; maxStall: number }[] = [];
  for (let i = 0; i < 3; i++) {
    typage.push(
      await withStallMeter(async () => {
        const d = new Decrypter();
        d.addPassphrase(PASS);
        return d.decrypt(file, 'uint8array');
      }),
    );
    ours.push(
      await withStallMeter(async () => {
        const d = new Decrypter();
        d.addIdentity(new ScryptPassphraseIdentity(PASS));
        return d.decrypt(file, 'uint8array');
      }),
    );
  }
  const enc = new Encrypter();
  enc.addRecipient(new ScryptPassphraseRecipient(PASS, KDF_LOG_N));
  await enc.encrypt(plain);
  console.log(`1. passphrase KDF (scrypt logN ${String(KDF_LOG_N)}), medians of 3:`);
  console.log(`   typage addPassphrase: ${ms(median(typage.map((x) => x.elapsed)))}, longest event-loop stall ${ms(median(typage.map((x) => x.maxStall)))}`);
  console.log(`   ours (node:crypto):   ${ms(median(ours.map((x) => x.elapsed)))}, longest event-loop stall ${ms(median(ours.map((x) => x.maxStall)))}`);
  console.log('   → typage\'s scrypt blocks the event loop for the whole derivation; ours leaves it free.');
}

async function envelopesFor(agent: AgentIdentity, me: { fingerprint: Uint8Array; ageRecipient: string }, count: number, now: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const setId = randomBytes(16);
    const binding = { setId, epoch: 1 };
    const secret = randomBytes(64);
    const split = await splitSecret(secret, { threshold: 3, total: 5 }, binding);
    const custodians = [null, null, me.fingerprint, randomBytes(32), randomBytes(32)];
    const manifest = manifestSchema.parse({
      key_id: `key-${String(Math.floor(i / 5))}`,
      node_id: `node-${String(i % 5)}`,
      set_id: setId,
      epoch: 1,
      curve: 'secp256k1',
      threshold: 3,
      total: 5,
      secret_length: secret.length,
      secret_commitment: split.secretCommitment,
      public_context_hash: randomBytes(32),
      shares: split.shares.map((s, j) => ({ index: s.index, custodian: custodians[j], commitment: split.shareCommitments[j], possession_key: possessionPublicKey(binding, s.index, s.share) })),
      created_at: now,
    });
    const manifestBytes = makeManifest(manifest, agent.signing);
    const share = split.shares[2]?.share;
    if (share === undefined) throw new Error('split');
    out.push(await makeEnvelope({ manifestBytes, manifest, shareIndex: 3, share, recipientFingerprint: me.fingerprint, recipientAge: me.ageRecipient, createdAt: now }, agent.signing));
  }
  return out;
}

async function vaultBench(): Promise<void> {
  installNodeVerifier();
  const dir = mkdtempSync(join(tmpdir(), 'custos-bench-'));
  try {
    const now = Math.floor(Date.now() / 1000);
    const v = await Vault.create(join(dir, 'vault'), { name: 'bench', passphrase: PASS }, { kdfLogN: KDF_LOG_N });
    const agent = createAgentIdentity('bench agent');
    const card = makeAgentCard(agent, now);
    await pinAgent(v, card, openAgentCard(card).code);
    const me = { fingerprint: v.fingerprint, ageRecipient: v.info.ageRecipient };
    const t0 = performance.now();
    const envelopes = await envelopesFor(agent, me, N + 1, now - 10);
    console.log(`\n(made ${String(N + 1)} envelopes in ${ms(performance.now() - t0)})`);

    // Floor: the same crypto, no vault.
    const tf = performance.now();
    for (const e of envelopes.slice(0, N)) {
      const opened = verifyEnvelope(e, agent.signing.publicKey, me.fingerprint, now);
      (await unsealEnvelopeShare(opened, v.identity.age.identity)).fill(0);
    }
    const floor = performance.now() - tf;

    const imp = await withStallMeter(() => importEnvelopes(v, envelopes.slice(0, N).map((bytes) => ({ bytes }))));
    if (imp.value.accepted !== N) throw new Error(`only ${String(imp.value.accepted)} accepted`);
    console.log(`2. import ${String(N)} envelopes: ${ms(imp.elapsed)} (${(N / (imp.elapsed / 1000)).toFixed(0)}/s); floor (verify + unseal only) ${ms(floor)}; ratio ${(imp.elapsed / floor).toFixed(2)}×`);
    console.log(`   longest event-loop stall during the import: ${ms(imp.maxStall)} (the final save)`);

    const addOne = await withStallMeter(() => importEnvelope(v, envelopes[N] ?? new Uint8Array()));
    const saves: number[] = [];
    const stalls: number[] = [];
    for (let i = 0; i < 5; i++) {
      const s = await withStallMeter(() => v.save());
      saves.push(s.elapsed);
      stalls.push(s.maxStall);
    }
    console.log(`3. ${String(N + 1)}-share vault: adding one share ${ms(addOne.elapsed)}; a save ${ms(median(saves))} (median of 5), longest stall ${ms(median(stalls))}`);
    await v.lock();
    const un = await withStallMeter(() => v.unlock(PASS));
    console.log(`   unlock (scrypt logN ${String(KDF_LOG_N)} + decrypt + parse): ${ms(un.elapsed)}, longest event-loop stall ${ms(un.maxStall)}`);
    const ratio = imp.elapsed / floor;
    console.log(
      ratio < 1.5
        ? `   → import is dominated by the per-envelope crypto (X25519 unseal, Ed25519 verify): the vault adds ${((ratio - 1) * 100).toFixed(0)} % on top of the floor.`
        : `   → import is dominated by the vault's own work, not the crypto: ${ms(imp.elapsed - floor)} beyond the floor (${ratio.toFixed(2)}×) — duplicate and conflict checks, state updates and audit entries per envelope, and the final save.`,
    );
    console.log('   → a save is JSON + ChaCha20 of the whole state, so it grows with the vault.');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await kdf();
await vaultBench();
