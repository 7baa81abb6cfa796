/**
 * The shares in the vault: listing with filters, lookup by id (or a unique prefix of at least 8 hex
 * digits), and "verify all", which decrypts every envelope again with the custodian's identity and
 * checks the share against the stored copy and the commitment in the signed manifest.
 */
import { constantTimeEqual, toHex } from '../../shared/bytes';
import { verifyEnvelope, unsealEnvelopeShare } from '../../shared/protocol/envelope';
import { ServiceError } from './errors';
import { explain, type Explained } from './messages';
import type { RefusalRecord, ShareCoordinates, ShareRecord, ShareStatus } from './state';
import type { Vault } from './vault';

export interface ShareFilter {
  readonly keyId?: string;
  readonly nodeId?: string;
  /** hex, or a prefix of it */
  readonly setId?: string;
  readonly shareIndex?: number;
  readonly status?: ShareStatus | readonly ShareStatus[];
}

/** What a list shows: no secret (no share, no envelope bytes). */
export interface ShareSummary extends ShareCoordinates {
  readonly id: string;
  readonly status: ShareStatus;
  readonly curve: string;
  readonly threshold: number;
  readonly total: number;
  readonly receivedAt: number;
  readonly notAfter?: number;
  readonly receipt?: 'accepted' | 'rejected';
  readonly exports: number;
  readonly purgeAfter?: number;
  readonly destroyAfter?: number;
}

export function summarize(r: ShareRecord): ShareSummary {
  const last = r.receipts.at(-1);
  return {
    id: r.id,
    keyId: r.keyId,
    nodeId: r.nodeId,
    setId: r.setId,
    epoch: r.epoch,
    shareIndex: r.shareIndex,
    status: r.status,
    curve: r.curve,
    threshold: r.threshold,
    total: r.total,
    receivedAt: r.receivedAt,
    ...(r.notAfter === undefined ? {} : { notAfter: r.notAfter }),
    ...(last === undefined ? {} : { receipt: last.status }),
    exports: r.exports.length,
    ...(r.deletion === undefined ? {} : { purgeAfter: r.deletion.purgeAfter }),
    ...(r.superseded === undefined ? {} : { destroyAfter: r.superseded.destroyAfter }),
  };
}

export function matches(r: ShareRecord, f: ShareFilter): boolean {
  if (f.keyId !== undefined && r.keyId !== f.keyId) return false;
  if (f.nodeId !== undefined && r.nodeId !== f.nodeId) return false;
  if (f.setId !== undefined && !r.setId.startsWith(f.setId.toLowerCase())) return false;
  if (f.shareIndex !== undefined && r.shareIndex !== f.shareIndex) return false;
  if (f.status !== undefined) {
    const statuses: readonly ShareStatus[] = typeof f.status === 'string' ? [f.status] : f.status;
    if (!statuses.includes(r.status)) return false;
  }
  return true;
}

export function listShares(vault: Vault, filter: ShareFilter = {}): ShareSummary[] {
  return vault.state.shares.filter((r) => matches(r, filter)).map(summarize);
}

/** Refused envelopes kept for `rejected` receipts. */
export function listRefusals(vault: Vault): readonly RefusalRecord[] {
  return vault.state.refusals;
}

function resolve<T extends { id: string }>(items: readonly T[], idOrPrefix: string): T | undefined {
  const q = idOrPrefix.toLowerCase();
  if (!/^[0-9a-f]{8,64}$/.test(q)) {
    throw new ServiceError('USAGE', 'An envelope id is its SHA-256 in hex (at least its first 8 digits).');
  }
  const found = items.filter((r) => r.id.startsWith(q));
  if (found.length > 1) throw new ServiceError('AMBIGUOUS_ID', `The id prefix ${q} matches ${String(found.length)} records; type more digits.`);
  return found[0];
}

/** The share with this envelope id (or unique prefix); NOT_FOUND otherwise. */
export function findShare(records: readonly ShareRecord[], idOrPrefix: string): ShareRecord {
  const r = resolve(records, idOrPrefix);
  if (r === undefined) throw new ServiceError('NOT_FOUND', `No share in the vault has the envelope id ${idOrPrefix}.`, { details: { id: idOrPrefix } });
  return r;
}

/** A held share or a refused envelope with this id (or unique prefix). */
export function findShareOrRefusal(vault: Vault, idOrPrefix: string): { share: ShareRecord } | { refusal: RefusalRecord } {
  const q = idOrPrefix.toLowerCase();
  const inShares = resolve(vault.state.shares, q);
  const inRefusals = resolve(vault.state.refusals, q);
  if (inShares !== undefined && inRefusals !== undefined && inShares.id !== inRefusals.id) {
    throw new ServiceError('AMBIGUOUS_ID', `The id prefix ${q} matches more than one record; type more digits.`);
  }
  if (inShares !== undefined) return { share: inShares };
  if (inRefusals !== undefined) return { refusal: inRefusals };
  throw new ServiceError('NOT_FOUND', `Nothing in the vault has the envelope id ${idOrPrefix}.`, { details: { id: idOrPrefix } });
}

export interface VerifyResult {
  readonly id: string;
  readonly share: ShareCoordinates;
  readonly ok: boolean;
  readonly problem?: Explained;
}

/**
 * Verifies every share: the envelope's signature (against the agent key that signed it at import),
 * decryption of its payload with this identity, equality with the stored share, and the commitment
 * in the signed manifest. Records the run in the audit log.
 */
export async function verifyAll(vault: Vault, options: { onProgress?: (done: number, total: number) => void } = {}): Promise<{ results: VerifyResult[]; ok: number; failed: number }> {
  return vault.update(async (tx) => {
    const results: VerifyResult[] = [];
    const records = tx.state.shares;
    for (const [i, r] of records.entries()) {
      const coords: ShareCoordinates = { keyId: r.keyId, nodeId: r.nodeId, setId: r.setId, epoch: r.epoch, shareIndex: r.shareIndex };
      try {
        const opened = verifyEnvelope(r.envelope, Buffer.from(r.agentKey, 'hex'), tx.fingerprint, r.envelopeCreatedAt);
        if (toHex(opened.hash) !== r.id) throw new ServiceError('VAULT_CORRUPT', 'The stored envelope no longer has the hash it was filed under.');
        const share = await unsealEnvelopeShare(opened, tx.identity.age.identity);
        const same = constantTimeEqual(share, r.share);
        share.fill(0);
        if (!same) throw new ServiceError('VAULT_CORRUPT', `The stored copy of share ${String(r.shareIndex)} differs from the one in its envelope.`);
        results.push({ id: r.id, share: coords, ok: true });
      } catch (error) {
        results.push({ id: r.id, share: coords, ok: false, problem: explain(error) });
      }
      options.onProgress?.(i + 1, records.length);
      if (i % 64 === 63) await new Promise((resolve) => setImmediate(resolve));
    }
    const failed = results.filter((x) => !x.ok).length;
    tx.audit({
      event: 'inspect',
      result: failed === 0 ? 'ok' : 'failed',
      detail: `verify all: ${String(results.length - failed)} ok, ${String(failed)} failed`,
      ...(failed === 0 ? {} : { reason: results.find((x) => !x.ok)?.problem?.code ?? 'INTERNAL' }),
    });
    return { results, ok: results.length - failed, failed };
  });
}
