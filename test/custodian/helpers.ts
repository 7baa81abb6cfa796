// Helpers for the custodian service tests: temp folders, a vault with a LOW scrypt work factor
// (explicit test opt-in), a controllable clock, and an agent that makes envelopes, notices,
// recovery requests and challenges for the vault's custodian with shared/protocol.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect } from 'vitest';
import { fromUtf8, randomBytes, utf8 } from '../../shared/bytes';
import { generateAgeKeyPair, openSealed, sealTo } from '../../shared/crypto/seal';
import type { SigningKey } from '../../shared/protocol/frame';
import { possessionPublicKey } from '../../shared/crypto/possession';
import { splitSecret } from '../../shared/crypto/shamir';
import { fileHash } from '../../shared/crypto/hash';
import {
  createAgentIdentity,
  createApproverIdentity,
  makeAgentCard,
  makeApproval,
  makeApproverCard,
  openApproverCard,
  makeChallenge,
  makeEnvelope,
  makeManifest,
  makeRecoveryRequest,
  makeSupersede,
  openAgentCard,
  manifestSchema,
  type AgentIdentity,
  type ApproverIdentity,
  type Manifest,
  type SessionDetails,
} from '../../shared/protocol';
import { isCodedError } from '../../main/services/errors';
import { signStateDocument, verifiedStateJson } from '../../main/services/state';
import { pinAgent, pinApprover } from '../../main/services/trust';
import { Vault, type CreateOptions } from '../../main/services/vault';
import { LOG_FORMAT, LOG_LABEL, logName, signDocument, SNAP_LABEL, STORE_DIR, verifyDocument } from '../../main/services/vault-store';

export const NOW = 1_790_000_000;
export const PASSPHRASE = 'correct horse battery staple';
/** A deliberately weak work factor: tests only, with the explicit opt-in. */
export const TEST_LOG_N = 10;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

export function tempDir(prefix = 'custos-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** A clock the test moves: `clock.now` in ms. */
export function testClock(startSeconds = NOW): { now: number; fn: () => number; advance(seconds: number): void } {
  const c = {
    now: startSeconds * 1000,
    fn: (): number => c.now,
    advance(seconds: number): void {
      c.now += seconds * 1000;
    },
  };
  return c;
}

export async function createVault(options: Partial<CreateOptions> & { name?: string; dir?: string } = {}): Promise<Vault> {
  const { name = 'Carol (cold storage)', dir = join(tempDir(), 'vault'), ...rest } = options;
  // The protocol fixtures are dated NOW: the vault's clock stands there unless a test brings its own.
  return Vault.create(dir, { name, passphrase: PASSPHRASE }, { kdfLogN: TEST_LOG_N, allowWeakKdf: true, clock: testClock().fn, ...rest });
}

/** Layout 1: the state JSON inside shares.age (or shares.prev.age), its custodian signature checked and removed. Unlocked vaults only. */
export async function sealedStateJson(v: Vault, file: 'shares' | 'previous'): Promise<string> {
  const document = fromUtf8(await openSealed(v.identity.age.identity, new Uint8Array(readFileSync(v.path(file))), 'state'));
  const json = verifiedStateJson(document, v.identity.signing.publicKey);
  if (json === undefined) throw new Error(`${file} does not carry a valid custodian signature`);
  return json;
}

/**
 * Layout 1: writes `json` as shares.age (or shares.prev.age), sealed to the vault's PUBLIC age recipient, as
 * anyone who can write the folder could: signed by `signer` (the custodian's own key: someone with
 * the passphrase; another key: a forger) or not signed at all (null).
 */
export async function writeSealedState(v: Vault, file: 'shares' | 'previous', json: string, signer: SigningKey | null): Promise<void> {
  const document = signer === null ? json : signStateDocument(json, signer);
  writeFileSync(v.path(file), await sealTo(v.info.ageRecipient, utf8(document)));
}

export interface Me {
  readonly fingerprint: Uint8Array;
  readonly ageRecipient: string;
}

export const meOf = (v: Vault): Me => ({ fingerprint: v.fingerprint, ageRecipient: v.info.ageRecipient });

export interface TestSet {
  readonly manifest: Manifest;
  readonly manifestBytes: Uint8Array;
  readonly envelope: Uint8Array;
  readonly share: Uint8Array;
  readonly shareIndex: number;
  readonly setId: Uint8Array;
  readonly secret: Uint8Array;
}

/** One backup set of a 3-of-5 split in which `me` holds share 3 (server keeps 1-2, others 4-5). */
export async function makeSet(
  agent: AgentIdentity,
  me: Me,
  opts: { keyId?: string; nodeId?: string; epoch?: number; setId?: Uint8Array; now?: number; notAfter?: number; createdAt?: number; secret?: Uint8Array; curve?: 'ed25519' | 'secp256k1'; groupKey?: Uint8Array } = {},
): Promise<TestSet> {
  const setId = opts.setId ?? randomBytes(16);
  const epoch = opts.epoch ?? 1;
  const now = opts.now ?? NOW;
  const secret = opts.secret ?? randomBytes(48);
  const binding = { setId, epoch };
  const split = await splitSecret(secret, { threshold: 3, total: 5 }, binding);
  const custodians = [null, null, me.fingerprint, randomBytes(32), randomBytes(32)];
  const manifest: Manifest = manifestSchema.parse({
    key_id: opts.keyId ?? 'key-1',
    node_id: opts.nodeId ?? 'node-1',
    set_id: setId,
    epoch,
    curve: opts.curve ?? 'ed25519',
    threshold: 3,
    total: 5,
    secret_length: secret.length,
    secret_commitment: split.secretCommitment,
    public_context_hash: randomBytes(32),
    ...(opts.groupKey === undefined ? {} : { group_key: opts.groupKey }),
    shares: split.shares.map((s, i) => ({ index: s.index, custodian: custodians[i], commitment: split.shareCommitments[i], possession_key: possessionPublicKey(binding, s.index, s.share) })),
    created_at: now,
  });
  const manifestBytes = makeManifest(manifest, agent.signing);
  const share = split.shares[2]!.share;
  const envelope = await makeEnvelope(
    {
      manifestBytes,
      manifest,
      shareIndex: 3,
      share,
      recipientFingerprint: me.fingerprint,
      recipientAge: me.ageRecipient,
      createdAt: opts.createdAt ?? now,
      ...(opts.notAfter === undefined ? {} : { notAfter: opts.notAfter }),
    },
    agent.signing,
  );
  return { manifest, manifestBytes, envelope, share: Uint8Array.from(share), shareIndex: 3, setId, secret };
}

export interface Agent {
  readonly id: AgentIdentity;
  readonly card: Uint8Array;
  readonly code: string;
}

export function makeAgent(name = 'agent node-1'): Agent {
  const id = createAgentIdentity(name);
  const card = makeAgentCard(id, NOW - 100);
  // The code ops read out, computed independently of the app's trust service.
  return { id, card, code: openAgentCard(card).code };
}

/** The two approvers of every `recoveryRequest` (issue 12: the vault must have pinned them for an export without override). */
export const TEST_APPROVERS: readonly ApproverIdentity[] = [createApproverIdentity('Alice (security)'), createApproverIdentity('Bob (business owner)')];

/** The approver cards of TEST_APPROVERS and the codes their owners read out. */
export const testApproverCards = (): { card: Uint8Array; code: string }[] =>
  TEST_APPROVERS.map((a) => {
    const card = makeApproverCard(a, NOW - 100);
    return { card, code: openApproverCard(card).code };
  });

export async function pinned(v: Vault, agent: Agent): Promise<void> {
  await pinAgent(v, agent.card, agent.code);
}

/** Pins the two test approvers (their cards, after the code comparison): needs the agent pinned. */
export async function pinTestApprovers(v: Vault): Promise<void> {
  for (const a of testApproverCards()) await pinApprover(v, a.card, a.code);
}

export function supersedeNotice(agent: AgentIdentity, me: Me, old: TestSet, next: TestSet, destroyAfter: number, now = NOW): Uint8Array {
  return makeSupersede(
    {
      key_id: old.manifest.key_id,
      node_id: old.manifest.node_id,
      old_set_id: old.setId,
      old_epoch: old.manifest.epoch,
      new_set_id: next.setId,
      new_epoch: next.manifest.epoch,
      new_manifest_hash: fileHash(next.manifestBytes),
      recipient: me.fingerprint,
      destroy_after: destroyAfter,
      created_at: now,
    },
    agent.signing,
  );
}

export interface Session {
  readonly request: Uint8Array;
  readonly sessionIdentity: string;
  readonly approvers: readonly ApproverIdentity[];
  readonly session: SessionDetails;
}

export async function recoveryRequest(
  agent: AgentIdentity,
  set: TestSet,
  opts: { incident?: string; title?: string; notAfter?: number; now?: number; mode?: 'mixed' | 'external-only'; approvers?: readonly ApproverIdentity[] } = {},
): Promise<Session> {
  const key = await generateAgeKeyPair();
  const approvers = opts.approvers ?? TEST_APPROVERS;
  const session: SessionDetails = {
    session_id: randomBytes(16),
    incident_id: opts.incident ?? 'INC-2026-0042',
    ...(opts.title === undefined ? {} : { incident_title: opts.title }),
    key_id: set.manifest.key_id,
    node_id: set.manifest.node_id,
    set_id: set.setId,
    epoch: set.manifest.epoch,
    mode: opts.mode ?? 'external-only',
    not_after: opts.notAfter ?? NOW + 3600,
  };
  const now = opts.now ?? NOW;
  const approvals = approvers.map((a) => makeApproval({ session, approver_name: a.name, approved_at: now }, a.signing));
  const request = makeRecoveryRequest({ session, approvals, recipient: key.recipient, manifest: set.manifestBytes, created_at: now }, agent.signing);
  return { request, sessionIdentity: key.identity, approvers, session };
}

export function challenge(agent: AgentIdentity, me: Me, sets: readonly TestSet[], extra: readonly { key_id: string; node_id: string; set_id: Uint8Array; epoch: number; share_index: number }[] = [], now = NOW) {
  const items = [...sets.map((s) => ({ key_id: s.manifest.key_id, node_id: s.manifest.node_id, set_id: s.setId, epoch: s.manifest.epoch, share_index: s.shareIndex })), ...extra];
  const bytes = makeChallenge({ challenge_id: randomBytes(16), nonce: randomBytes(32), custodian: me.fingerprint, items, created_at: now, not_after: now + 86_400 }, agent.signing);
  return { bytes, items };
}

/** Runs `fn` and returns the coded error's code; fails if nothing or something uncoded was thrown. */
export async function codeOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    if (isCodedError(e)) return e.code;
    throw e;
  }
  expect.fail('expected a coded error, nothing was thrown');
}

// ---- layout 2 (store/): reading and forging records as someone with folder access would ---------

export const storeDir = (v: Vault): string => join(v.dir, STORE_DIR);
export const storeFiles = (v: Vault): string[] => readdirSync(storeDir(v)).filter((f) => f.endsWith('.age') && !f.startsWith('.')).sort();

/** Every record file's plaintext (unlocked vaults only). */
export async function recordTexts(v: Vault): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const f of storeFiles(v)) out.set(f, fromUtf8(await openSealed(v.identity.age.identity, new Uint8Array(readFileSync(join(storeDir(v), f))), 'record')));
  return out;
}

/** The newest generation on disk and its chain digest (what the next journal entry must name as `prev`). */
export async function chainHead(v: Vault): Promise<{ generation: number; head: string }> {
  const texts = await recordTexts(v);
  // The newest journal entry that verifies (a forged one left by an earlier step does not count).
  for (const f of [...texts.keys()].filter((x) => x.startsWith('log-')).reverse()) {
    const verified = verifyDocument(LOG_LABEL, texts.get(f) ?? '', v.identity.signing.publicKey);
    if (verified !== undefined) return { generation: Number(/log-([0-9]+)/.exec(f)?.[1]), head: verified.digest };
  }
  const snap = [...texts.keys()].filter((f) => /^snap-[0-9]+\.age$/.test(f)).at(-1) ?? '';
  const verified = verifyDocument(SNAP_LABEL, texts.get(snap) ?? '', v.identity.signing.publicKey);
  if (verified === undefined) throw new Error(`${snap} does not verify`);
  const m = JSON.parse(verified.json) as { generation: number; head: string };
  return { generation: m.generation, head: m.head };
}

/**
 * Writes the next journal entry (generation and `prev` chained correctly) with `delta`, sealed to
 * the PUBLIC recipient, as anyone with write access to the folder could: signed by `signer` (the
 * custodian's own key: someone with the passphrase; another key: a forger), unsigned (null), or
 * carrying `{ sig }` taken from another document.
 */
export async function writeLogEntry(v: Vault, delta: Record<string, unknown>, signer: SigningKey | null | { sig: string }): Promise<string> {
  const { generation, head } = await chainHead(v);
  const json = JSON.stringify({ format: LOG_FORMAT, generation: generation + 1, savedAt: NOW, prev: head, ...delta });
  const document = signer === null ? json : 'sig' in signer ? `${json.slice(0, -1)},"sig":"${signer.sig}"}` : signDocument(LOG_LABEL, json, signer).document;
  const name = logName(generation + 1);
  writeFileSync(join(storeDir(v), name), await sealTo(v.info.ageRecipient, utf8(document)));
  return name;
}

/** Copies the vault folder (a backup, or what an attacker keeps to put back later). */
export function copyVault(v: Vault, to = join(tempDir(), 'copy')): string {
  cpSync(v.dir, to, { recursive: true });
  return to;
}

/** Puts the files of `from` (a copy) back into the vault, replacing `only` those (default: the records in store/, as the red team did). */
export function putBack(v: Vault, from: string, only: readonly string[] = [STORE_DIR]): void {
  for (const f of only) {
    rmSync(join(v.dir, f), { recursive: true, force: true });
    cpSync(join(from, f), join(v.dir, f), { recursive: true });
  }
}
