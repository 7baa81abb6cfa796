/**
 * An approver's own key, on the approver's own machine (issue 3, "Recovery": an approval is a
 * signature by an approver's own key over the session's details, made where the approver keeps
 * that key; docs/protocol.md §4.5). The same key approves hard deletions of server-retained shares
 * (issue 5, "Deletion"; docs/protocol.md §4.11): `approver sign` reads either kind of details file
 * and signs the matching message. Nothing here needs an agent data directory, and it imports only
 * shared/ and node/: the approver's program (approver/cli.ts, `npm run approver -- keygen|sign`)
 * runs on the approver's own machine.
 *
 * Files written by {@link createApproverKey} into the chosen folder (0700):
 *   approver.key   0600  an age passphrase file (scrypt, node/age-scrypt.ts, as the custodian
 *                        vault's identity.age; `age -d` opens it too) of the JSON
 *                        { format: "custos-approver-key", version: 1, name, public_key (hex),
 *                          seed (hex, the Ed25519 secret), created_at (Unix seconds) }
 *   approver.card  0644  the self-signed approver card (what ops register with `approver add`)
 * The passphrase is judged by the vault's policy (node/passphrase-policy.ts) at the file's work
 * factor, and comes from a file, an environment variable or a prompt, never the command line
 * (approver/cli.ts). A key file from before (the same JSON, unencrypted) still loads, with
 * `legacy` set so the program warns, and `approver rewrap` encrypts it in place.
 * The key file is refused when group or others can read it, when it is a link, or when its seed
 * does not give its public key. Its content is never printed, logged or put in an error message.
 */
import { readFileSync, closeSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { constantTimeEqual, fromHex, fromUtf8, toHex, utf8, wipe } from '../shared/bytes';
import { CodedError, CustosError } from '../shared/errors';
import {
  approverFingerprint,
  comparisonCode,
  createApproverIdentity,
  decodeCanonical,
  deletionDetailsSchema,
  label,
  makeApproval,
  makeDeletionApproval,
  makeApproverCard,
  openApproverCard,
  parseWith,
  sessionDetailsSchema,
  signingKeyFromSeed,
  type DeletionDetails,
  type SessionDetails,
  type SigningKey,
} from '../shared/protocol';
import { decryptWithPassphrase, encryptWithPassphrase, MAX_LOG_N, MIN_LOG_N, PassphraseOpenError } from '../node/age-scrypt';
import { FileError } from '../node/errors';
import { ensureDir, existsSync, writeFileAtomicSync as writeFileAtomic } from '../node/fs-atomic';
import { MIN_GUESS_YEARS, passphraseStrength } from '../node/passphrase-policy';
import { openPrivateFile } from '../node/private-file';

/**
 * A key file that is not one or is damaged (CORRUPT_FILE), a passphrase that does not open it
 * (WRONG_PASSPHRASE) or is too weak to protect it (WEAK_PASSPHRASE). Its other refusals are
 * CustosError and node/'s FileError.
 */
export class ApproverKeyError extends CodedError<'CORRUPT_FILE' | 'WRONG_PASSPHRASE' | 'WEAK_PASSPHRASE'> {
  override readonly name = 'ApproverKeyError';
}

/** The scrypt work factor of a new key file (about half a second with node:crypto here), and its bounds. */
export const APPROVER_KDF = { default: 18, min: MIN_LOG_N, max: MAX_LOG_N } as const;
const AGE_MAGIC = 'age-encryption.org/v1\n';

export const APPROVER_KEY_FILE = 'approver.key';
export const APPROVER_CARD_FILE = 'approver.card';
const KEY_FORMAT = 'custos-approver-key';
const MAX_KEY_FILE_BYTES = 4096;

const hex32 = z.string().regex(/^[0-9a-f]{64}$/);
const keyFileSchema = z.strictObject({
  format: z.literal(KEY_FORMAT),
  version: z.literal(1),
  name: label,
  public_key: hex32,
  seed: hex32,
  created_at: z.number().int().min(0),
});

export interface ApproverKeyInfo {
  readonly name: string;
  readonly fingerprint: string;
  /** The 24-digit comparison code ops compare when registering the card. */
  readonly code: string;
}

export interface CreatedApproverKey extends ApproverKeyInfo {
  readonly keyFile: string;
  readonly cardFile: string;
}

/** A loaded key; call {@link ApproverKey.close} when done (wipes the seed). */
export interface ApproverKey extends ApproverKeyInfo {
  readonly signing: SigningKey;
  /** True for an unencrypted key file from before passphrases (`approver rewrap` encrypts it). */
  readonly legacy: boolean;
  close(): void;
}

/** Asked only when the key file is encrypted (a legacy file needs none). */
export type PassphrasePrompt = () => Promise<string>;

/** Refuses (WEAK_PASSPHRASE) a passphrase the vault's policy refuses, judged at work factor `logN`. */
export async function assertApproverPassphrase(passphrase: string, logN: number, userInputs: readonly string[]): Promise<void> {
  const s = await passphraseStrength(passphrase, logN, userInputs, APPROVER_KEY_FILE);
  if (s.ok) return;
  throw new ApproverKeyError('WEAK_PASSPHRASE', `This passphrase is too weak for ${APPROVER_KEY_FILE}: ${s.reasons.join('; ')}. Use five or more random words. Nothing was written.`, {
    details: { score: s.score, logN: s.logN, guessTime: s.guessTime, minGuessYears: MIN_GUESS_YEARS },
  });
}

function checkLogN(logN: number): void {
  if (!Number.isInteger(logN) || logN < APPROVER_KDF.min || logN > APPROVER_KDF.max) {
    throw new CustosError('INVALID_PARAMETERS', `The scrypt work factor is a whole number from ${String(APPROVER_KDF.min)} to ${String(APPROVER_KDF.max)}; got ${String(logN)}.`);
  }
}

/** The JSON of a key, encrypted with `passphrase` (the plaintext wiped after). */
async function sealKey(json: Uint8Array, passphrase: string, logN: number): Promise<Uint8Array> {
  try {
    return await encryptWithPassphrase(json, passphrase, logN);
  } finally {
    wipe(json);
  }
}

function keyJson(name: string, signing: SigningKey, createdAt: number): Uint8Array {
  return utf8(`${JSON.stringify({ format: KEY_FORMAT, version: 1, name, public_key: toHex(signing.publicKey), seed: toHex(signing.seed), created_at: createdAt })}\n`);
}

/**
 * Creates a new approver key (encrypted with `passphrase`, refused when weak) and card in `outDir`;
 * refuses (CONFLICT) to overwrite either.
 */
export async function createApproverKey(outDir: string, name: string, nowSeconds: number, passphrase: string, options: { logN?: number } = {}): Promise<CreatedApproverKey> {
  const dir = resolve(outDir);
  const logN = options.logN ?? APPROVER_KDF.default;
  checkLogN(logN);
  const identity = createApproverIdentity(name);
  try {
    await assertApproverPassphrase(passphrase, logN, [identity.name]);
    const card = makeApproverCard(identity, nowSeconds);
    const opened = openApproverCard(card);
    const keyFile = join(dir, APPROVER_KEY_FILE);
    const cardFile = join(dir, APPROVER_CARD_FILE);
    for (const f of [keyFile, cardFile]) {
      if (existsSync(f)) throw new FileError('CONFLICT', `${f} exists already; choose another folder (an approver key is never overwritten).`, { details: { file: basename(f) } });
    }
    const sealed = await sealKey(keyJson(identity.name, identity.signing, nowSeconds), passphrase, logN);
    ensureDir(dir, 0o700);
    writeFileAtomic(keyFile, sealed, { mode: 0o600, noOverwrite: true });
    writeFileAtomic(cardFile, card, { mode: 0o644, noOverwrite: true });
    return { name: identity.name, fingerprint: toHex(opened.fingerprint), code: opened.code, keyFile, cardFile };
  } finally {
    wipe(identity.signing.seed);
  }
}

/** The raw bytes of a key file, after checking it is private (0600, not a link, ours). */
function readKeyFile(file: string): Uint8Array {
  const fd = openPrivateFile(file, basename(file));
  try {
    return new Uint8Array(readFileSync(fd));
  } finally {
    closeSync(fd);
  }
}

/**
 * Loads an approver key file after checking its permissions and that its seed fits its public key.
 * An encrypted file asks `passphrase` (WRONG_PASSPHRASE when it does not open it); a legacy
 * unencrypted one loads without, with `legacy` set.
 */
export async function readApproverKey(path: string, passphrase: PassphrasePrompt): Promise<ApproverKey> {
  const file = resolve(path);
  const name = basename(file);
  const notAKey = (cause?: unknown): ApproverKeyError =>
    new ApproverKeyError('CORRUPT_FILE', `${name} is not a Custos approver key file (made by \`approver keygen\`), or it is damaged.`, { details: { file: name }, cause });
  let raw = readKeyFile(file);
  if (raw.length > MAX_KEY_FILE_BYTES) throw notAKey();
  const legacy = fromUtf8(raw.subarray(0, AGE_MAGIC.length)) !== AGE_MAGIC;
  if (!legacy) {
    const sealed = raw;
    try {
      raw = await decryptWithPassphrase(sealed, await passphrase());
    } catch (error) {
      if (error instanceof PassphraseOpenError && error.reason === 'wrong-passphrase') {
        throw new ApproverKeyError('WRONG_PASSPHRASE', `The passphrase does not open ${name}. Nothing was signed.`, { details: { file: name } });
      }
      if (error instanceof PassphraseOpenError) throw notAKey(error);
      throw error;
    }
  }
  let parsed: z.infer<typeof keyFileSchema>;
  try {
    const result = keyFileSchema.safeParse(JSON.parse(fromUtf8(raw)));
    if (!result.success) throw notAKey();
    parsed = result.data;
  } catch {
    throw notAKey();
  } finally {
    wipe(raw);
  }
  const seed = fromHex(parsed.seed, 'seed');
  const signing = signingKeyFromSeed(seed);
  wipe(seed);
  if (!constantTimeEqual(signing.publicKey, fromHex(parsed.public_key, 'public key'))) {
    wipe(signing.seed);
    throw new ApproverKeyError('CORRUPT_FILE', `${name} is damaged: its secret does not belong to its public key.`, { details: { file: name } });
  }
  const fp = approverFingerprint(signing.publicKey);
  return {
    name: parsed.name,
    fingerprint: toHex(fp),
    code: comparisonCode(fp),
    signing,
    legacy,
    close: () => {
      wipe(signing.seed);
    },
  };
}

/**
 * Re-encrypts a key file in place with `newPassphrase` (refused when weak): a legacy unencrypted
 * file becomes an encrypted one, an encrypted one gets a new passphrase (the current one asked by
 * `passphrase`). The key stays the same (same card, same fingerprint); the file is replaced
 * atomically, so a crash leaves the old or the new file, never a mix.
 */
export async function rewrapApproverKey(path: string, passphrase: PassphrasePrompt, newPassphrase: string, options: { logN?: number; createdAt?: number } = {}): Promise<ApproverKeyInfo & { wasLegacy: boolean; keyFile: string }> {
  const file = resolve(path);
  const logN = options.logN ?? APPROVER_KDF.default;
  checkLogN(logN);
  const key = await readApproverKey(file, passphrase);
  try {
    await assertApproverPassphrase(newPassphrase, logN, [key.name]);
    const sealed = await sealKey(keyJson(key.name, key.signing, options.createdAt ?? Math.floor(Date.now() / 1000)), newPassphrase, logN);
    writeFileAtomic(file, sealed, { mode: 0o600 });
    return { name: key.name, fingerprint: key.fingerprint, code: key.code, wasLegacy: key.legacy, keyFile: file };
  } finally {
    key.close();
  }
}

/** Parses a session details file (canonical CBOR, as `session open --out` writes it). */
export function readSessionDetails(bytes: Uint8Array): SessionDetails {
  return parseWith(sessionDetailsSchema, decodeCanonical(bytes, 'session details file'), 'session details');
}

/** The details an approver reads before signing, in plain words (label, value). */
export function describeSession(d: SessionDetails, nowSeconds: number): [string, string][] {
  const left = d.not_after - nowSeconds;
  const remaining = left <= 0 ? 'expired' : left < 3600 ? `in ${String(Math.ceil(left / 60))} min` : `in ${(left / 3600).toFixed(1)} h`;
  return [
    ['incident', d.incident_id],
    // Issue 13: the incident's name in any script, signed like every line here (absent: none was given).
    ...(d.incident_title === undefined ? [] : [['incident title', d.incident_title] as [string, string]]),
    ['key', d.key_id],
    ['node', d.node_id],
    ['mode', d.mode === 'mixed' ? 'mixed: server-held shares plus custodian shares' : 'external-only: custodian shares only'],
    ['backup set', `${toHex(d.set_id)} (epoch ${String(d.epoch)})`],
    ['session', toHex(d.session_id)],
    ['valid until', `${new Date(d.not_after * 1000).toISOString().replace('.000Z', 'Z')} (${remaining})`],
  ];
}

/** Signs an approval of exactly these session details; refuses an expired session. */
export function signApproval(key: ApproverKey, details: SessionDetails, nowSeconds: number): Uint8Array {
  if (nowSeconds > details.not_after) {
    throw new CustosError('EXPIRED', `This recovery session expired at ${new Date(details.not_after * 1000).toISOString()}; ask ops to open a new one.`);
  }
  return makeApproval({ session: details, approver_name: key.name, approved_at: nowSeconds }, key.signing);
}

/** What an approver is asked to sign: a recovery session's details or a deletion's details. */
export type ApprovalSubject = { readonly kind: 'session'; readonly details: SessionDetails } | { readonly kind: 'deletion'; readonly details: DeletionDetails };

/**
 * Reads a details file (canonical CBOR, as `session open --out` or `delete request --out` writes
 * it) and says which kind it is. The two kinds have different fields, so a file is never both.
 */
export function readApprovalSubject(bytes: Uint8Array): ApprovalSubject {
  const value = decodeCanonical(bytes, 'details file');
  const session = sessionDetailsSchema.safeParse(value);
  if (session.success) return { kind: 'session', details: session.data };
  const isDeletion = typeof value === 'object' && value !== null && 'deletion_id' in value;
  if (isDeletion) return { kind: 'deletion', details: parseWith(deletionDetailsSchema, value, 'deletion details') };
  return { kind: 'session', details: parseWith(sessionDetailsSchema, value, 'session details') };
}

const PURPOSE_TEXT: Record<DeletionDetails['purpose'], string> = {
  'zero-retention': "zero retention: afterwards the server keeps NO share of this node's current backup set; only the custodians can recover it",
  'superseded-set': 'old backup set replaced by a newer one (rotation)',
  'reduce-retention': 'fewer server-retained shares of the current backup set',
};

/** The details of a deletion an approver reads before signing, in plain words (label, value). */
export function describeDeletion(d: DeletionDetails, nowSeconds: number): [string, string][] {
  const left = d.not_after - nowSeconds;
  const remaining = left <= 0 ? 'expired' : left < 3600 ? `in ${String(Math.ceil(left / 60))} min` : `in ${(left / 3600).toFixed(1)} h`;
  const at = (t: number): string => new Date(t * 1000).toISOString().replace('.000Z', 'Z');
  return [
    ['action', 'DESTROY server-retained backup shares (cannot be undone)'],
    ['key', d.key_id],
    ['node', d.node_id],
    ['backup set', `${toHex(d.set_id)} (epoch ${String(d.epoch)})`],
    ['shares', d.share_indexes.join(', ')],
    ['purpose', PURPOSE_TEXT[d.purpose]],
    ['not before', `${at(d.cooling_ends_at)} (end of the cooling-off period)`],
    ['deletion', toHex(d.deletion_id)],
    ['valid until', `${at(d.not_after)} (${remaining})`],
  ];
}

/** Signs an approval of exactly this deletion; refuses an expired one. */
export function signDeletionApproval(key: ApproverKey, details: DeletionDetails, nowSeconds: number): Uint8Array {
  if (nowSeconds > details.not_after) {
    throw new CustosError('EXPIRED', `This deletion expired at ${new Date(details.not_after * 1000).toISOString()}; ask ops for a new one.`);
  }
  return makeDeletionApproval({ deletion: details, approver_name: key.name, approved_at: nowSeconds }, key.signing);
}
