/**
 * Inventory (seeds SOP §4.3 盘点): the agent signs a challenge per custodian listing the shares it
 * should hold (delivered or confirmed shares of active sets) with a fresh nonce; the custodian
 * answers with an attestation that proves possession of each share with the share's possession
 * key (docs/protocol.md §4.9), checked against the possession keys in the agent's own signed
 * manifests. The verdicts and the last proof of each share are kept (on the delivery records,
 * through agent/backup/delivery.ts); a custodian is overdue when a challenge expires unanswered
 * or its last proof is older than the maximum age. Owns `inventory_challenges` and
 * `inventory_items`.
 */
import { randomBytes } from 'node:crypto';
import { fromHex, toHex } from '../../shared/bytes';
import { CustosError } from '../../shared/errors';
import { makeChallenge, openChallenge, verifyAttestation, type InventoryItem } from '../../shared/protocol';
import type {
  AttestationResult,
  CustodianInventory,
  InventoryItemRef,
  InventoryShare,
  InventoryStatus,
  InventoryVerdict,
  IssuedChallenge,
  OpContext,
  OverdueCustodian,
  OverdueReason,
} from '../api';
import type { Backups } from '../backup/backup';
import type { Deliveries } from '../backup/delivery';
import { Capability } from '../core/context';
import { blob, frameSignature, peekBody, sec, setScope, sha256Hex } from '../core/util';
import { inTransaction, type BackupSetRow, type ChallengeRow, type DeliveryRow } from '../db';
import { AgentError } from '../errors';
import { checkBytes, checkFingerprint, checkKeyId, checkNodeId } from '../ids';
import type { Keyshares } from '../keyshare/keyshare';
import type { Registry } from '../registry/registry';
import type { ServerShares } from '../retention/server-shares';
import { SETTING_BOUNDS, type Settings } from '../settings/settings';

const MAX_CHALLENGE_ITEMS = 20_000;
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export interface InventoryPeers {
  readonly registry: Pick<Registry, 'custodian' | 'custodianLabels' | 'listCustodians'>;
  readonly keyshare: Pick<Keyshares, 'node'>;
  readonly backup: Pick<Backups, 'activeSet' | 'setByIdOrUndefined' | 'manifest'>;
  readonly deliveries: Pick<Deliveries, 'heldBy' | 'heldRowsOf' | 'ofSet' | 'recordVerdict'>;
  readonly shares: Pick<ServerShares, 'heldIndexes'>;
  readonly settings: Pick<Settings, 'get' | 'maxAgeMs'>;
}

export class Inventory extends Capability<InventoryPeers> {

  /** Signs and stores an inventory challenge for one custodian; returns the file to send them. */
  async issueChallenge(custodianFingerprint: string, options: OpContext & { ttlSeconds?: number } = {}): Promise<IssuedChallenge> {
    const base = { event: 'inspect', action: 'inventory-challenge', operator: this.core.op(options) } as const;
    return this.core.audited(base, () => {
      const fp = checkFingerprint(custodianFingerprint);
      const ttl = options.ttlSeconds ?? this.peers.settings.get().inventoryChallengeTtlSeconds;
      const [minTtl, maxTtl] = SETTING_BOUNDS.inventoryChallengeTtlSeconds;
      if (!Number.isInteger(ttl) || ttl < minTtl || ttl > maxTtl) {
        throw new CustosError('INVALID_PARAMETERS', `A challenge can be answered for ${String(minTtl)} to ${String(maxTtl)} seconds.`, { details: { field: 'ttlSeconds' } });
      }
      const custodian = this.peers.registry.custodian(fp);
      if (custodian.enabled !== 1) throw new AgentError('FAILED_PRECONDITION', `Custodian ${custodian.label} (${custodian.code}) is disabled.`, { details: { fingerprint: fp } });
      const rows = this.peers.deliveries.heldBy(fp);
      if (rows.length === 0) {
        throw new AgentError('FAILED_PRECONDITION', `Custodian ${custodian.label} holds no delivered share of a current backup set; there is nothing to take stock of.`, { details: { fingerprint: fp } });
      }
      if (rows.length > MAX_CHALLENGE_ITEMS) {
        throw new AgentError('FAILED_PRECONDITION', `Custodian ${custodian.label} holds ${String(rows.length)} shares; one challenge lists at most ${String(MAX_CHALLENGE_ITEMS)}.`);
      }
      const nowMs = this.core.now();
      const idBytes = new Uint8Array(randomBytes(16));
      const challengeId = toHex(idBytes);
      const items: InventoryItem[] = rows.map((r) => ({ key_id: r.key_id, node_id: r.node_id, set_id: fromHex(r.set_id), epoch: r.epoch, share_index: r.share_index }));
      const notAfter = sec(nowMs) + ttl;
      const bytes = makeChallenge(
        { challenge_id: idBytes, nonce: new Uint8Array(randomBytes(32)), custodian: fromHex(fp), items, created_at: sec(nowMs), not_after: notAfter },
        this.core.signing,
      );
      const digest = sha256Hex(bytes);
      inTransaction(this.core.db, () => {
        this.core.db
          .prepare('INSERT INTO inventory_challenges (challenge_id, custodian, challenge, challenge_sha256, items, not_after, operator, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
          .run(challengeId, fp, bytes, digest, rows.length, notAfter, this.core.op(options), nowMs);
        const add = this.core.stmt('INSERT INTO inventory_items (challenge_id, set_id, share_index) VALUES (?, ?, ?)');
        for (const r of rows) add.run(challengeId, r.set_id, r.share_index);
        this.core.audit({
          ...base,
          result: 'ok',
          signature: frameSignature(bytes),
          target: `custodian:${fp} (${custodian.label})`,
          details: { challenge_id: challengeId, items: rows.length, not_after: notAfter, challenge_sha256: digest },
        });
      });
      return Promise.resolve({
        challengeId,
        custodian: fp,
        items: rows.map((r) => ({ keyId: r.key_id, nodeId: r.node_id, setId: r.set_id, epoch: r.epoch, shareIndex: r.share_index })),
        createdAt: sec(nowMs),
        notAfter,
        challenge: bytes,
        sha256: digest,
      });
    });
  }

  /**
   * Takes a custodian's attestation for one of the agent's challenges: the registered custodian's
   * signature, the challenge hash, and every possession proof against the manifest's possession
   * key. A bad proof or a share reported missing is recorded as such (the attestation itself is
   * accepted); an attestation after the challenge expired, for another challenge, or not signed by
   * the challenged custodian is refused and changes nothing.
   */
  async submitAttestation(attestationBytes: Uint8Array, ctx: OpContext = {}): Promise<AttestationResult> {
    const base = { event: 'inspect', action: 'inventory-attestation', operator: this.core.op(ctx) } as const;
    return this.core.audited(base, () => {
      checkBytes(attestationBytes, 'inventory attestation', 1024 * 1024);
      const claimed = peekBody(attestationBytes, 'inventory attestation')['challenge_id'];
      if (!(claimed instanceof Uint8Array) || claimed.length !== 16) throw new CustosError('MALFORMED', 'The inventory attestation does not name a challenge.', { details: { field: 'challenge_id' } });
      const cid = toHex(claimed);
      const row = this.core.stmt('SELECT * FROM inventory_challenges WHERE challenge_id = ?').get(cid) as ChallengeRow | undefined;
      if (row === undefined) throw new AgentError('NOT_FOUND', 'The attestation answers a challenge this agent did not issue.', { details: { challengeId: cid } });
      const custodian = this.peers.registry.custodian(row.custodian);
      const digest = sha256Hex(attestationBytes);
      if (row.attestation !== null) {
        if (sha256Hex(blob(row.attestation)) === digest) return Promise.resolve(this.#attestationResult(row));
        throw new AgentError('CONFLICT', `Challenge ${cid} was answered already; issue a new challenge for a new attestation.`, { details: { challengeId: cid } });
      }
      const nowMs = this.core.now();
      if (nowMs > row.not_after * 1000) {
        throw new CustosError('EXPIRED', `Challenge ${cid} expired at ${new Date(row.not_after * 1000).toISOString()} before this attestation arrived; ${custodian.label} is overdue. Issue a new challenge.`, {
          details: { challengeId: cid, notAfter: row.not_after },
        });
      }
      const challenge = openChallenge(blob(row.challenge), this.core.signing.publicKey, fromHex(row.custodian), row.not_after);
      const possessionKeyOf = (item: InventoryItem): Uint8Array | undefined => {
        const set = this.peers.backup.setByIdOrUndefined(toHex(item.set_id));
        if (set?.key_id !== item.key_id || set.node_id !== item.node_id || set.epoch !== item.epoch) return undefined;
        const share = this.peers.backup.manifest(set).shares[item.share_index - 1];
        return share?.custodian !== null && share !== undefined && toHex(share.custodian) === row.custodian ? share.possession_key : undefined;
      };
      const { verdicts } = verifyAttestation(attestationBytes, { bytes: challenge.bytes, body: challenge.body }, blob(custodian.sign_key), possessionKeyOf);
      const count = (r: InventoryVerdict): number => verdicts.filter((v) => v.result === r).length;
      return Promise.resolve(
        inTransaction(this.core.db, () => {
          this.core.db
            .prepare('UPDATE inventory_challenges SET attestation = ?, answered_at = ?, proven = ?, missing = ?, bad_proof = ?, not_answered = ? WHERE challenge_id = ?')
            .run(attestationBytes, nowMs, count('proven'), count('missing'), count('bad-proof'), count('not-answered'), cid);
          const setItem = this.core.stmt('UPDATE inventory_items SET result = ? WHERE challenge_id = ? AND set_id = ? AND share_index = ?');
          for (const v of verdicts) {
            const setId = toHex(v.set_id);
            setItem.run(v.result, cid, setId, v.share_index);
            this.peers.deliveries.recordVerdict(setId, v.share_index, row.custodian, v.result, nowMs);
            if (v.result !== 'proven') {
              this.core.audit({
                event: 'inspect',
                action: 'inventory-item',
                result: 'failed',
                keyId: v.key_id,
                nodeId: v.node_id,
                setId,
                epoch: v.epoch,
                shareIndex: v.share_index,
                operator: this.core.op(ctx),
                target: `custodian:${row.custodian} (${custodian.label})`,
                reason: {
                  missing: 'the custodian reports this share missing',
                  'bad-proof': 'SIGNATURE_INVALID: the proof of possession does not verify against the manifest',
                  'not-answered': 'the attestation leaves this share out',
                }[v.result],
                details: { challenge_id: cid, verdict: v.result },
              });
            }
          }
          const allProven = verdicts.every((v) => v.result === 'proven');
          this.core.audit({
            ...base,
            result: allProven ? 'ok' : 'failed',
            signature: frameSignature(attestationBytes),
            target: `custodian:${row.custodian} (${custodian.label})`,
            ...(allProven ? {} : { reason: `${String(verdicts.length - count('proven'))} of ${String(verdicts.length)} share(s) not proven` }),
            details: { challenge_id: cid, proven: count('proven'), missing: count('missing'), bad_proof: count('bad-proof'), not_answered: count('not-answered'), attestation_sha256: digest },
          });
          return this.#attestationResult(this.core.stmt('SELECT * FROM inventory_challenges WHERE challenge_id = ?').get(cid) as ChallengeRow);
        }),
      );
    });
  }

  /** The inventory of a key and node's active set: per share and per custodian (seeds SOP §4.3, §9). */
  status(keyId: string, nodeId: string): InventoryStatus {
    const k = checkKeyId(keyId);
    const n = checkNodeId(nodeId);
    this.peers.keyshare.node(k, n);
    const set = this.peers.backup.activeSet(k, n);
    if (set === undefined) throw new AgentError('NOT_FOUND', `Key ${k} node ${n} has no backup set yet.`, { details: { keyId: k, nodeId: n } });
    return this.of(set);
  }

  /** Every custodian's inventory across the active sets, for `inventory status` without a node. */
  custodians(): CustodianInventory[] {
    const nowMs = this.core.now();
    const maxAge = this.peers.settings.maxAgeMs();
    return this.peers.registry.listCustodians().map((c) => {
      const rows = this.peers.deliveries.heldRowsOf(c.fingerprint);
      let overdue: OverdueReason | undefined;
      let attested = 0;
      let lastProven: number | undefined;
      for (const d of rows) {
        const o = this.#overdueOf(d, nowMs, maxAge);
        if (o !== undefined && overdue !== 'challenge-unanswered') overdue = o.reason;
        if (this.#attested(d, nowMs, maxAge)) attested++;
        if (d.last_proven_at !== null) lastProven = Math.max(lastProven ?? 0, d.last_proven_at);
      }
      const last = this.core.stmt('SELECT * FROM inventory_challenges WHERE custodian = ? ORDER BY created_at DESC, challenge_id LIMIT 1').get(c.fingerprint) as ChallengeRow | undefined;
      return {
        custodian: c.fingerprint,
        label: c.label,
        enabled: c.enabled,
        sharesExpected: rows.length,
        sharesAttested: attested,
        ...(last === undefined
          ? {}
          : {
              lastChallenge: {
                challengeId: last.challenge_id,
                createdAt: sec(last.created_at),
                notAfter: last.not_after,
                ...(last.answered_at === null ? {} : { answeredAt: sec(last.answered_at) }),
                state: last.answered_at !== null ? ('answered' as const) : nowMs > last.not_after * 1000 ? ('expired' as const) : ('open' as const),
              },
            }),
        ...(lastProven === undefined ? {} : { lastProvenAt: sec(lastProven) }),
        ...(overdue === undefined ? {} : { overdue }),
      };
    });
  }

  // ── internals ──

  #attested(d: DeliveryRow, nowMs: number, maxAge: number): boolean {
    return d.last_proven_at !== null && d.inventory_result === 'proven' && nowMs - d.last_proven_at <= maxAge;
  }

  /** Why the custodian of a delivered share is overdue, if it is (see OverdueCustodian). */
  #overdueOf(d: DeliveryRow, nowMs: number, maxAge: number): { reason: OverdueReason; since: number; challengeId?: string } | undefined {
    const latest = this.core.db
      .prepare(
        'SELECT c.challenge_id, c.not_after, c.answered_at, i.result FROM inventory_items i JOIN inventory_challenges c ON c.challenge_id = i.challenge_id WHERE i.set_id = ? AND i.share_index = ? AND c.custodian = ? ORDER BY c.created_at DESC, c.challenge_id LIMIT 1',
      )
      .get(d.set_id, d.share_index, d.custodian) as { challenge_id: string; not_after: number; answered_at: number | null; result: string | null } | undefined;
    if (latest !== undefined) {
      if (latest.answered_at === null && nowMs > latest.not_after * 1000) return { reason: 'challenge-unanswered', since: latest.not_after, challengeId: latest.challenge_id };
      if (latest.answered_at !== null && latest.result === 'not-answered') return { reason: 'challenge-unanswered', since: sec(latest.answered_at), challengeId: latest.challenge_id };
    }
    const ref = d.last_proven_at ?? d.confirmed_at ?? d.delivered_at ?? d.created_at;
    if (nowMs - ref > maxAge) return { reason: 'attestation-stale', since: sec(ref + maxAge) };
    return undefined;
  }

  /** The inventory of one backup set (also part of the backup status). */
  of(set: BackupSetRow): InventoryStatus {
    const nowMs = this.core.now();
    const maxAge = this.peers.settings.maxAgeMs();
    const deliveries = this.peers.deliveries.ofSet(set.set_id);
    const labels = this.peers.registry.custodianLabels();
    const overdue: OverdueCustodian[] = [];
    const shares: InventoryShare[] = deliveries.map((d) => {
      const holds = d.status === 'delivered' || d.status === 'confirmed';
      const o = holds ? this.#overdueOf(d, nowMs, maxAge) : undefined;
      const label = labels.get(d.custodian) ?? '?';
      if (o !== undefined) {
        const existing = overdue.find((x) => x.custodian === d.custodian && x.reason === o.reason);
        if (existing === undefined) overdue.push({ custodian: d.custodian, label, reason: o.reason, since: o.since, shareIndexes: [d.share_index], ...(o.challengeId === undefined ? {} : { challengeId: o.challengeId }) });
        else overdue.splice(overdue.indexOf(existing), 1, { ...existing, since: Math.min(existing.since, o.since), shareIndexes: [...existing.shareIndexes, d.share_index] });
      }
      return {
        shareIndex: d.share_index,
        custodian: d.custodian,
        label,
        delivery: d.status,
        ...(d.last_proven_at === null ? {} : { lastProvenAt: sec(d.last_proven_at) }),
        ...(d.inventory_result === null ? {} : { lastResult: d.inventory_result }),
        ...(d.inventory_at === null ? {} : { lastCheckedAt: sec(d.inventory_at) }),
        attested: holds && this.#attested(d, nowMs, maxAge),
        ...(o === undefined ? {} : { overdue: o.reason }),
      };
    });
    const held = this.peers.shares.heldIndexes(set.set_id).length;
    const attested = shares.filter((s) => s.attested).length;
    return {
      ...setScope(set),
      threshold: set.threshold,
      serverSharesHeld: held,
      externalDelivered: deliveries.filter((d) => d.status === 'delivered' || d.status === 'confirmed').length,
      externalConfirmed: deliveries.filter((d) => d.status === 'confirmed').length,
      externalAttested: attested,
      externalFailed: shares.filter((s) => s.lastResult === 'missing' || s.lastResult === 'bad-proof').length,
      recoverable: held + attested >= set.threshold,
      overdueCustodians: overdue,
      shares,
      maxAgeSeconds: sec(maxAge),
    };
  }

  #attestationResult(row: ChallengeRow): AttestationResult {
    const sets = new Map<string, BackupSetRow | undefined>();
    const setOf = (id: string): BackupSetRow | undefined => {
      if (!sets.has(id)) sets.set(id, this.peers.backup.setByIdOrUndefined(id));
      return sets.get(id);
    };
    const items = (this.core.stmt('SELECT set_id, share_index, result FROM inventory_items WHERE challenge_id = ?').all(row.challenge_id) as { set_id: string; share_index: number; result: InventoryVerdict | null }[])
      .flatMap((i) => {
        const s = setOf(i.set_id);
        return s === undefined ? [] : [{ ...i, key_id: s.key_id, node_id: s.node_id, epoch: s.epoch }];
      })
      .sort((x, y) => compare(x.key_id, y.key_id) || compare(x.node_id, y.node_id) || x.share_index - y.share_index);
    return {
      challengeId: row.challenge_id,
      custodian: row.custodian,
      answeredAt: sec(row.answered_at ?? this.core.now()),
      items: items.map((i): InventoryItemRef & { result: InventoryVerdict } => ({ keyId: i.key_id, nodeId: i.node_id, setId: i.set_id, epoch: i.epoch, shareIndex: i.share_index, result: i.result ?? 'not-answered' })),
      proven: row.proven ?? 0,
      missing: row.missing ?? 0,
      badProof: row.bad_proof ?? 0,
      notAnswered: row.not_answered ?? 0,
    };
  }
}
