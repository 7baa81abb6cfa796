/**
 * identity.age: the custodian identity, encrypted with the passphrase (age scrypt stanza, kdf.ts),
 * and the vault's ROLLBACK COUNTER (docs/custodian-vault.md, "Rollback protection").
 *
 * Plaintext (an age identity file: `#` lines are comments, so `age -d -i` takes it as it is):
 *
 *   # Custos custodian identity (custos-identity/1). KEEP SECRET.
 *   # name / created / ed25519-seed / ed25519-public / age-recipient: …
 *   # vault-generation: <the last generation this identity saw saved>
 *   AGE-SECRET-KEY-1…
 *
 * The counter is rewritten after every save, without the KDF: at unlock (and creation, and a
 * passphrase change) the vault keeps the file's age header and its file key, and a rewrite is that
 * same header with a fresh 16-byte payload nonce and the new plaintext (age-encryption.org/v1,
 * "Payload": payload key = HKDF-SHA256(file key, nonce, "payload"), STREAM of ChaCha20-Poly1305
 * chunks; shared/crypto/seal.ts `AgeResealer`). The result is a standard age passphrase file (typage and the `age` CLI read it; the tests
 * check both). Distinct random nonces give distinct payload keys, which is what the age format
 * relies on; the scrypt stanza (and its nonce-zero wrap of the file key) is never recomputed.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { Decrypter, Encrypter } from 'age-encryption';
import { toHex, wipe } from '../../shared/bytes';
import { AgeResealer, recipientOf } from '../../shared/crypto/seal';
import type { SigningKey } from '../../shared/protocol/frame';
import type { CustodianIdentity } from '../../shared/protocol/identity';
import { ServiceError } from './errors';
import { ScryptPassphraseIdentity, ScryptPassphraseRecipient, type ScryptKdf } from './kdf';

const IDENTITY_MARKER = '# Custos custodian identity (custos-identity/1). KEEP SECRET.';

export function identityText(id: CustodianIdentity, createdAt: number, generation: number): string {
  return [
    IDENTITY_MARKER,
    '# This is an age identity file: `age -d -i THIS_FILE store/FILE.age` prints vault records (README.txt).',
    `# name: ${JSON.stringify(id.name)}`,
    `# created: ${String(createdAt)}`,
    `# ed25519-seed: ${toHex(id.signing.seed)}`,
    `# ed25519-public: ${toHex(id.signing.publicKey)}`,
    `# age-recipient: ${id.age.recipient}`,
    `# vault-generation: ${String(generation)}`,
    id.age.identity,
    '',
  ].join('\n');
}

/** DER PrivateKeyInfo prefix for an Ed25519 seed (RFC 8410), as node/ed25519-sign.ts. */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** DER SubjectPublicKeyInfo prefix of an Ed25519 public key (RFC 8410): the 32 key bytes follow. */
const SPKI_PREFIX = '302a300506032b6570032100';

/**
 * The signing key of `seed`, its public key derived by node:crypto (RFC 8032 §5.1.5, the same bytes
 * as @noble/ed25519's getPublicKey). noble's first use in a process builds its point tables, 90–120 ms
 * on the event loop in the middle of an unlock (issue 10: the unlock stall).
 */
export function signingKeyOf(seed: Uint8Array): SigningKey {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new ServiceError('INTERNAL', `An Ed25519 seed is 32 bytes; got ${seed instanceof Uint8Array ? String(seed.length) : typeof seed}.`);
  const der = Buffer.concat([PKCS8_PREFIX, seed]);
  try {
    const spki = createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })).export({ format: 'der', type: 'spki' });
    if (spki.length !== 44 || spki.subarray(0, 12).toString('hex') !== SPKI_PREFIX) throw new ServiceError('INTERNAL', 'node:crypto gave an Ed25519 public key of an unexpected form.');
    return { seed: Uint8Array.from(seed), publicKey: new Uint8Array(spki.subarray(12)) };
  } finally {
    der.fill(0);
  }
}

export interface ParsedIdentity {
  readonly identity: CustodianIdentity;
  readonly createdAt: number;
  /** The rollback counter; 0 in an identity file written before it existed (layout 1). */
  readonly generation: number;
}

export async function parseIdentityText(text: string): Promise<ParsedIdentity> {
  const lines = text.split('\n');
  const field = (name: string): string | undefined => {
    const prefix = `# ${name}: `;
    return lines.find((l) => l.startsWith(prefix))?.slice(prefix.length);
  };
  const damaged = (what: string): ServiceError => new ServiceError('VAULT_CORRUPT', `identity.age decrypted but its ${what} is missing or wrong.`);
  if (lines[0] !== IDENTITY_MARKER) throw damaged('header');
  const nameJson = field('name');
  const created = field('created');
  const seedHex = field('ed25519-seed');
  const pubHex = field('ed25519-public');
  const recipient = field('age-recipient');
  const generation = field('vault-generation');
  const secret = lines.find((l) => l.startsWith('AGE-SECRET-KEY-1'));
  if (nameJson === undefined || created === undefined || !/^[0-9]+$/.test(created)) throw damaged('name or creation time');
  if (seedHex === undefined || !/^[0-9a-f]{64}$/.test(seedHex) || pubHex === undefined) throw damaged('Ed25519 key');
  if (secret === undefined || recipient === undefined) throw damaged('age key');
  if (generation !== undefined && !/^(?:0|[1-9][0-9]{0,14})$/.test(generation)) throw damaged('vault generation');
  let name: unknown;
  try {
    name = JSON.parse(nameJson);
  } catch {
    throw damaged('name');
  }
  if (typeof name !== 'string') throw damaged('name');
  const seed = new Uint8Array(Buffer.from(seedHex, 'hex'));
  const signing = signingKeyOf(seed);
  wipe(seed);
  if (toHex(signing.publicKey) !== pubHex) throw damaged('Ed25519 public key');
  if ((await recipientOf(secret)) !== recipient) throw damaged('age recipient');
  return { identity: { name, signing, age: { identity: secret, recipient } }, createdAt: Number(created), generation: generation === undefined ? 0 : Number(generation) };
}

/**
 * identity.age as this process last read or wrote it: its header and file key, kept while the vault
 * is unlocked (as secret as the identity itself), so the rollback counter can be rewritten cheaply.
 */
export class IdentityFile {
  readonly #resealer: AgeResealer;

  private constructor(file: Uint8Array, fileKey: Uint8Array) {
    try {
      this.#resealer = AgeResealer.fromFile(file, fileKey);
    } catch (error) {
      throw new ServiceError('VAULT_CORRUPT', 'identity.age has no complete age header.', { cause: error });
    } finally {
      wipe(fileKey);
    }
  }

  /** Encrypts `plaintext` with a fresh passphrase wrap (one KDF run). */
  static async create(plaintext: Uint8Array, passphrase: string, logN: number, kdf: ScryptKdf): Promise<{ file: Uint8Array; handle: IdentityFile }> {
    const recipient = new ScryptPassphraseRecipient(passphrase, logN, kdf);
    const e = new Encrypter();
    e.addRecipient(recipient);
    const file = await e.encrypt(plaintext);
    const fileKey = recipient.takeFileKey();
    if (fileKey === undefined) throw new ServiceError('INTERNAL', 'The identity file key was not captured.');
    return { file, handle: new IdentityFile(file, fileKey) };
  }

  /** Decrypts identity.age with the passphrase; WRONG_PASSPHRASE or VAULT_CORRUPT on failure. */
  static async open(file: Uint8Array, passphrase: string, kdf: ScryptKdf): Promise<{ plaintext: Uint8Array; handle: IdentityFile }> {
    const id = new ScryptPassphraseIdentity(passphrase, kdf, { keepFileKey: true });
    const d = new Decrypter();
    d.addIdentity(id);
    let plaintext: Uint8Array;
    try {
      plaintext = await d.decrypt(file, 'uint8array');
    } catch (error) {
      if (id.outcome === 'wrong-passphrase') throw new ServiceError('WRONG_PASSPHRASE', 'The passphrase is wrong.');
      if (id.outcome === 'too-expensive') {
        throw new ServiceError('VAULT_CORRUPT', `identity.age asks for a scrypt work factor of ${String(id.logN)}, more than this app computes.`, { cause: error });
      }
      throw new ServiceError('VAULT_CORRUPT', 'identity.age is damaged or is not a passphrase-encrypted age file.', { cause: error });
    }
    const fileKey = id.takeFileKey();
    if (fileKey === undefined) throw new ServiceError('INTERNAL', 'The identity file key was not captured.');
    return { plaintext, handle: new IdentityFile(file, fileKey) };
  }

  /** The same header, a fresh payload nonce, `plaintext`: a new standard age file, no KDF. */
  rewrite(plaintext: Uint8Array): Uint8Array {
    return this.#resealer.seal(plaintext);
  }

  wipe(): void {
    this.#resealer.wipe();
  }
}
