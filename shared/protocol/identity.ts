/**
 * Identities, their public cards, fingerprints and the human comparison code
 * (docs/protocol.md §4.1).
 *
 * - An agent has an Ed25519 signing key. Its card is self-signed.
 * - A custodian has an Ed25519 signing key and an age X25519 key pair for receiving sealed shares.
 *   Its "enrollment card" is self-signed and carries both public keys.
 * - An approver (a person who approves recovery sessions) has an Ed25519 key and a self-signed card.
 *
 * Fingerprint = taggedHash("fingerprint/<role>", public keys...): it covers keys only, so renaming a
 * card does not change it. The comparison code is 24 decimal digits (about 80 bits) in six groups of
 * four, easy to read aloud in English or Chinese and to compare on two screens.
 */
import { z } from 'zod';
import { constantTimeEqual, toHex } from '../bytes';
import { CustosError } from '../errors';
import { taggedHash } from '../crypto/hash';
import { ageRecipient, label, parseWith, publicKey, timestamp } from './schema';
import { generateAgeKeyPair, recipientOf, type AgeKeyPair } from '../crypto/seal';
import { generateSigningKey, openMessage, sealMessage, TRUST_SELF, type Opened, type SigningKey } from './frame';

export const agentCardSchema = z.strictObject({
  name: label,
  sign_key: publicKey,
  created_at: timestamp,
});
export type AgentCard = z.infer<typeof agentCardSchema>;

export const custodianCardSchema = z.strictObject({
  name: label,
  sign_key: publicKey,
  age_recipient: ageRecipient,
  created_at: timestamp,
});
export type CustodianCard = z.infer<typeof custodianCardSchema>;

export const approverCardSchema = z.strictObject({
  name: label,
  sign_key: publicKey,
  created_at: timestamp,
});
export type ApproverCard = z.infer<typeof approverCardSchema>;

export interface AgentIdentity {
  readonly name: string;
  readonly signing: SigningKey;
}
export interface CustodianIdentity {
  readonly name: string;
  readonly signing: SigningKey;
  readonly age: AgeKeyPair;
}
export interface ApproverIdentity {
  readonly name: string;
  readonly signing: SigningKey;
}

export function createAgentIdentity(name: string): AgentIdentity {
  return { name: parseWith(label, name, 'name'), signing: generateSigningKey() };
}

export async function createCustodianIdentity(name: string): Promise<CustodianIdentity> {
  return { name: parseWith(label, name, 'name'), signing: generateSigningKey(), age: await generateAgeKeyPair() };
}

export function createApproverIdentity(name: string): ApproverIdentity {
  return { name: parseWith(label, name, 'name'), signing: generateSigningKey() };
}

/** Checks that an age identity and its recipient belong together (after loading from storage). */
export async function assertCustodianKeysMatch(id: CustodianIdentity): Promise<void> {
  if ((await recipientOf(id.age.identity)) !== id.age.recipient) {
    throw new CustosError('INVALID_PARAMETERS', 'The stored age identity does not match its recipient.');
  }
}

export const agentFingerprint = (signKey: Uint8Array): Uint8Array => taggedHash('fingerprint/agent', signKey);
export const custodianFingerprint = (signKey: Uint8Array, recipient: string): Uint8Array =>
  taggedHash('fingerprint/custodian', signKey, recipient);
export const approverFingerprint = (signKey: Uint8Array): Uint8Array => taggedHash('fingerprint/approver', signKey);

/** 24 decimal digits in six groups of four, from the first 80 bits of a fingerprint. */
export function comparisonCode(fp: Uint8Array): string {
  if (fp.length !== 32) throw new CustosError('INVALID_PARAMETERS', `A fingerprint is 32 bytes; got ${String(fp.length)}.`);
  let n = 0n;
  for (let i = 0; i < 10; i++) n = (n << 8n) | BigInt(fp[i] ?? 0);
  const digits = (n % 10n ** 24n).toString().padStart(24, '0');
  return digits.match(/.{4}/g)?.join(' ') ?? digits;
}

/** Fingerprint as lower-case hex, for logs, file names and databases. */
export const fingerprintHex = (fp: Uint8Array): string => toHex(fp);

export function makeAgentCard(id: AgentIdentity, now: number): Uint8Array {
  return sealMessage('agent-card', agentCardSchema, { name: id.name, sign_key: id.signing.publicKey, created_at: now }, id.signing);
}

export function makeCustodianCard(id: CustodianIdentity, now: number): Uint8Array {
  return sealMessage(
    'custodian-card',
    custodianCardSchema,
    { name: id.name, sign_key: id.signing.publicKey, age_recipient: id.age.recipient, created_at: now },
    id.signing,
  );
}

export function makeApproverCard(id: ApproverIdentity, now: number): Uint8Array {
  return sealMessage('approver-card', approverCardSchema, { name: id.name, sign_key: id.signing.publicKey, created_at: now }, id.signing);
}

export interface OpenedCard<T> extends Opened<T> {
  readonly fingerprint: Uint8Array;
  readonly code: string;
}

function selfSigned<T extends { sign_key: Uint8Array }>(opened: Opened<T>, what: string): void {
  if (!constantTimeEqual(opened.signer, opened.body.sign_key)) {
    throw new CustosError('SIGNATURE_INVALID', `This ${what} is not signed by the key it names.`);
  }
}

export function openAgentCard(bytes: unknown): OpenedCard<AgentCard> {
  const opened = openMessage(bytes, 'agent-card', agentCardSchema, TRUST_SELF);
  selfSigned(opened, 'agent card');
  const fp = agentFingerprint(opened.body.sign_key);
  return { ...opened, fingerprint: fp, code: comparisonCode(fp) };
}

export function openCustodianCard(bytes: unknown): OpenedCard<CustodianCard> {
  const opened = openMessage(bytes, 'custodian-card', custodianCardSchema, TRUST_SELF);
  selfSigned(opened, 'enrollment card');
  const fp = custodianFingerprint(opened.body.sign_key, opened.body.age_recipient);
  return { ...opened, fingerprint: fp, code: comparisonCode(fp) };
}

export function openApproverCard(bytes: unknown): OpenedCard<ApproverCard> {
  const opened = openMessage(bytes, 'approver-card', approverCardSchema, TRUST_SELF);
  selfSigned(opened, 'approver card');
  const fp = approverFingerprint(opened.body.sign_key);
  return { ...opened, fingerprint: fp, code: comparisonCode(fp) };
}

export const custodianIdentityFingerprint = (id: CustodianIdentity): Uint8Array =>
  custodianFingerprint(id.signing.publicKey, id.age.recipient);
