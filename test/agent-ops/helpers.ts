// Helpers for the operations tests (issue 5: deletion, zero retention, rotation, inventory): an
// ed25519 node (the fast fixture) backed up 3-of-5 with 2 retained, envelopes opened by their
// custodians, receipts, and the approvers' and custodians' side of the protocol made with
// shared/protocol exactly as the approver CLI and the custodian app would.
import { join } from 'node:path';
import type { BackupResult } from '../../agent/api';
import { provePossession } from '../../shared/crypto/possession';
import { fileHash } from '../../shared/crypto/hash';
import {
  custodianIdentityFingerprint,
  makeAttestation,
  makeDeletionApproval,
  openChallenge,
  type ApproverIdentity,
  type DeletionDetails,
} from '../../shared/protocol';
import { fixture, makeWorld, openAllEnvelopes, receiptFor, snapshot, type World } from '../agent/helpers';

export type Held = Awaited<ReturnType<typeof openAllEnvelopes>>;
export type HeldShare = Held extends Map<number, infer H> ? H : never;

export const KEY = 'key-1';
export const NODE = 'node-0';
export const SEL = { keyId: KEY, nodeId: NODE } as const;
export const DAY = 24 * 3600;

/** A node imported and backed up 3-of-5 (retain 2); the envelopes are opened, optionally confirmed. */
export async function backedUp(options: { confirm?: boolean; custodians?: number; approvers?: number } = {}): Promise<{ w: World; backup: BackupResult; held: Held }> {
  const w = await makeWorld({ custodians: options.custodians ?? 3, approvers: options.approvers ?? 3 });
  await w.agent.importKeyshare(KEY, NODE, fixture('eddsa', 0));
  const backup = await w.agent.backup(KEY, NODE, {}, w.fingerprints.slice(0, 3), w.out, { qr: false });
  const held = await openAllEnvelopes(w, backup);
  if (options.confirm !== false) {
    for (const [i, h] of held) {
      await w.agent.requestShareDelivery({ ...SEL, shareIndex: i });
      await w.agent.confirmShareDelivery(receiptFor(w, backup, h, i));
    }
  }
  return { w, backup, held };
}

/** An approver signs a deletion's details with their own key (what `approver sign --deletion` does). */
export function approveDeletion(details: DeletionDetails, approver: ApproverIdentity, at: number): Uint8Array {
  return makeDeletionApproval({ deletion: details, approver_name: approver.name, approved_at: at }, approver.signing);
}

/**
 * A custodian answers an inventory challenge (what the custodian app does): checks it, then for
 * every item either proves possession of the share it holds or says missing. `forge` replaces
 * the share used for a proof (a bad proof).
 */
export function attest(
  w: World,
  challenge: Uint8Array,
  custodian: HeldShare['custodian'],
  shares: ReadonlyMap<string, HeldShare>,
  options: { forge?: Uint8Array; missing?: boolean } = {},
): Uint8Array {
  const opened = openChallenge(challenge, w.agent.publicKey, custodianIdentityFingerprint(custodian), w.clock.seconds);
  const hash = fileHash(opened.bytes);
  const items = opened.body.items.map((item) => {
    const h = shares.get(`${item.key_id}/${item.node_id}/${String(item.share_index)}/${String(item.epoch)}`);
    if (h === undefined || options.missing === true) return { ...item, status: 'missing' as const };
    return { ...item, status: 'held' as const, proof: provePossession(hash, { setId: item.set_id, epoch: item.epoch }, item.share_index, options.forge ?? h.share) };
  });
  return makeAttestation(
    { challenge_id: opened.body.challenge_id, challenge_hash: hash, items, answered_at: w.clock.seconds },
    custodian.signing,
  );
}

/** The shares one custodian holds, keyed as `attest` looks them up. */
export function sharesOf(held: Held, fingerprintIndex: number, w: World, keyId = KEY, nodeId = NODE, epoch = 1): Map<string, HeldShare> {
  const out = new Map<string, HeldShare>();
  for (const [i, h] of held) if (h.custodian === w.custodians[fingerprintIndex]) out.set(`${keyId}/${nodeId}/${String(i)}/${String(epoch)}`, h);
  return out;
}

/** Everything stored that a refusal must not change: node files, retained shares. */
export function stored(w: World): Map<string, string> {
  const all = new Map<string, string>();
  for (const sub of ['keys', 'backup']) for (const [k, v] of snapshot(join(w.dir, sub))) all.set(`${sub}/${k}`, v);
  return all;
}

export function auditTrail(w: World): { event: string; action: string; result: string; operator?: string; approver?: string; share_index?: number; ts: number; reason?: string; target?: string }[] {
  return w.agent.auditEntries({ limit: 100_000 }).map((r) => r.entry);
}
