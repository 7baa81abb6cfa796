/**
 * The vault's passphrase KDF: age's scrypt recipient (age-encryption.org/v1, "scrypt" stanza),
 * computed with node:crypto's scrypt so that it runs on libuv's thread pool and never blocks the
 * event loop.
 *
 * Why not typage's own `Encrypter.setPassphrase` / `Decrypter.addPassphrase`: they call
 * @noble/hashes' synchronous `scrypt` inside an async function, so a one-second derivation freezes
 * the whole process (no timer, no IPC, no repaint) for that second. The stanza written here is
 * byte-for-byte the format typage and the `age` CLI write and read (test/custodian proves all four
 * directions), so the file stays a standard age passphrase file:
 *
 *   -> scrypt <base64(salt, 16 bytes)> <logN>
 *   <base64(ChaCha20-Poly1305(key = scrypt(passphrase, "age-encryption.org/v1/scrypt" || salt,
 *                             N = 2^logN, r = 8, p = 1, dkLen = 32), nonce = 0, file key))>
 *
 * The stanza's code (recipient, identity, node:crypto KDF) is in node/age-scrypt.ts, shared with the
 * approver's key file; this module re-exports it and keeps the vault's calibration.
 *
 * The work factor is in the stanza, so every file says how it was made. It is calibrated at vault
 * creation to about one second on the creating machine and clamped to [15, 20]: 20 is the largest
 * that typage accepts when reading (the Go `age` CLI accepts up to 22), so the vault stays readable
 * by both.
 */
import { randomBytes, utf8, wipe } from '../../shared/bytes';
import { MAX_LOG_N, MIN_LOG_N, nodeScryptKdf, type ScryptKdf } from '../../node/age-scrypt';

export {
  MAX_LOG_N,
  MAX_READ_LOG_N,
  MIN_LOG_N,
  nodeScryptKdf,
  ScryptPassphraseIdentity,
  ScryptPassphraseRecipient,
  scryptLogNOf,
  TEST_MIN_LOG_N,
  type ScryptKdf,
} from '../../node/age-scrypt';

/** Wraps a KDF and counts derivations (tests, and the "save does not re-run the KDF" check). */
export function countingKdf(inner: ScryptKdf = nodeScryptKdf): ScryptKdf & { count: number; running: boolean } {
  const spy = {
    count: 0,
    running: false,
    async derive(passphrase: Uint8Array, salt: Uint8Array, logN: number): Promise<Uint8Array> {
      spy.count++;
      spy.running = true;
      try {
        return await inner.derive(passphrase, salt, logN);
      } finally {
        spy.running = false;
      }
    },
  };
  return spy;
}

export interface CalibrationOptions {
  /** Aim for about this long per derivation (default 1000 ms). */
  readonly targetMs?: number;
  readonly kdf?: ScryptKdf;
  readonly min?: number;
  readonly max?: number;
  /** The small work factor measured (default 14). */
  readonly probeLogN?: number;
  /** For tests: the measuring clock. */
  readonly nowMs?: () => number;
}

export interface Calibration {
  readonly logN: number;
  readonly probeLogN: number;
  readonly probeMs: number;
  readonly estimatedMs: number;
}

/**
 * Picks the work factor whose derivation takes about `targetMs` here: measures scrypt at a small
 * work factor (twice; the faster run counts, the first one warms up), scales by 2^Δ (scrypt's time
 * is linear in N), takes the nearest work factor in log scale, clamps to [min, max].
 */
export async function calibrateScryptLogN(options: CalibrationOptions = {}): Promise<Calibration> {
  const target = options.targetMs ?? 1000;
  const kdf = options.kdf ?? nodeScryptKdf;
  const probe = options.probeLogN ?? 14;
  const min = options.min ?? MIN_LOG_N;
  const max = options.max ?? MAX_LOG_N;
  const now = options.nowMs ?? ((): number => performance.now());
  const salt = randomBytes(16);
  const pass = utf8('calibration');
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 2; i++) {
    const t0 = now();
    wipe(await kdf.derive(pass, salt, probe));
    best = Math.min(best, now() - t0);
  }
  const probeMs = Math.max(best, 0.01);
  const ideal = probe + Math.round(Math.log2(target / probeMs));
  const logN = Math.min(max, Math.max(min, ideal));
  return { logN, probeLogN: probe, probeMs, estimatedMs: probeMs * 2 ** (logN - probe) };
}
