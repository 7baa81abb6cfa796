/**
 * What a key-level view needs of one key share (issue 11 §3), derived from the public context
 * every party of a tss-lib key holds alike (shared/keydata/public-context.ts), so it is stored per
 * node at import and can be backfilled from the database without opening any sealed file:
 *
 * - the tss-lib threshold t (t+1 parties sign). tss-lib's `LocalPartySaveData` does not store t,
 *   but it is derivable: the group public key is the Lagrange interpolation at 0 of the parties'
 *   `BigXj` (x = `Ks`) over any t+1 of them, and no t of them interpolate to it (but with
 *   negligible probability), so t+1 is the smallest m such that the first m parties interpolate
 *   to the key. The import's self-check (shared/keydata/selfcheck.ts) finds the same m and also
 *   checks every cyclic window of m parties; this module reuses its result at import.
 * - the party count (`Ks`);
 * - the group public key fingerprint: lower-case hex SHA-256 of the group key's standard encoding,
 *   SEC1 compressed (33 bytes, 02/03 ‖ X) for secp256k1 (tss-lib ECDSA) and RFC 8032 (32 bytes,
 *   Y little-endian with X's low bit in the top bit) for edwards25519 (tss-lib EdDSA). Anyone with
 *   the public key computes it with standard tools; docs/metrics.md gives an example.
 *
 * `migrateKeyView` is migration 4 of agent/db.ts: it adds the columns (and moves the stale marks
 * that lived in `meta` rows into `backup_sets`), then fills them in for every stored node.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type Database from 'better-sqlite3';
import { toHex } from '../../shared/bytes';
import { decodePublicContext, type EcPoint, type PublicContext } from '../../shared/keydata';
import { groupOf, lagrangeAtZero, type CurveName } from '../../shared/keydata/curves';

export interface KeyView {
  readonly curve: CurveName;
  /** tss-lib threshold t: t+1 parties sign. */
  readonly tssThreshold: number;
  readonly parties: number;
  readonly groupKeyFingerprint: string;
}

const bigEndian32 = (v: bigint): Uint8Array => {
  const out = new Uint8Array(32);
  let x = v;
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  if (x !== 0n) throw new RangeError('a coordinate does not fit in 32 bytes');
  return out;
};

/** The standard encoding of a group public key (see the header). */
export function groupKeyEncoding(curve: CurveName, p: EcPoint): Uint8Array {
  const [x, y] = p.Coords;
  if (curve === 'secp256k1') {
    const out = new Uint8Array(33);
    out[0] = (y & 1n) === 0n ? 0x02 : 0x03;
    out.set(bigEndian32(x), 1);
    return out;
  }
  const out = bigEndian32(y).reverse();
  if ((x & 1n) === 1n) out[31] = (out[31] ?? 0) | 0x80;
  return out;
}

export function groupKeyFingerprint(curve: CurveName, p: EcPoint): string {
  return toHex(sha256(groupKeyEncoding(curve, p)));
}

export const groupKeyOf = (c: PublicContext): EcPoint => (c.curve === 'secp256k1' ? c.ECDSAPub : c.EDDSAPub);

/**
 * tss-lib's t from public data: the fewest parties (in `Ks` order) whose `BigXj` interpolate to
 * the group key, minus one; undefined when no prefix does (an inconsistent context).
 */
export function tssThresholdOf(c: PublicContext): number | undefined {
  const g = groupOf(c.curve);
  const point = (p: EcPoint): unknown => g.fromCoords(p.Coords[0], p.Coords[1]);
  const pub = point(groupKeyOf(c));
  const pts = c.BigXj.map((p) => point(p));
  if (pub === null || pts.some((p) => p === null)) return undefined;
  for (let m = 1; m <= c.Ks.length; m++) {
    const lambdas = lagrangeAtZero(c.Ks.slice(0, m), g.order);
    let acc = g.zero;
    for (let j = 0; j < m; j++) acc = g.add(acc, g.mulPublic(pts[j], lambdas[j] ?? 0n));
    if (g.equals(acc, pub)) return m - 1;
  }
  return undefined;
}

/**
 * The key view of a public context. `minSigners` is the self-check's t+1 when the caller ran it
 * (the import does), which saves the interpolation; it is checked against the party count.
 */
export function keyViewOf(c: PublicContext, minSigners?: number): KeyView | undefined {
  const t = minSigners !== undefined && minSigners >= 1 && minSigners <= c.Ks.length ? minSigners - 1 : tssThresholdOf(c);
  if (t === undefined) return undefined;
  return { curve: c.curve, tssThreshold: t, parties: c.Ks.length, groupKeyFingerprint: groupKeyFingerprint(c.curve, groupKeyOf(c)) };
}

const STALE_PREFIX = 'stale_set:';

/**
 * Migration 4 (issue 11 §2–§3): the key view per node and the stale status per backup set.
 * Runs inside the migration's transaction. Nodes of one key share a public context, so each
 * distinct context is interpolated once.
 */
export function migrateKeyView(db: Database.Database): void {
  db.exec(`
ALTER TABLE nodes ADD COLUMN tss_threshold INTEGER CHECK (tss_threshold IS NULL OR tss_threshold >= 0);
ALTER TABLE nodes ADD COLUMN group_key_fingerprint TEXT CHECK (group_key_fingerprint IS NULL OR length(group_key_fingerprint) = 64);
ALTER TABLE backup_sets ADD COLUMN stale_reason TEXT CHECK (stale_reason IS NULL OR stale_reason = 'reshared');
ALTER TABLE backup_sets ADD COLUMN stale_at INTEGER;
ALTER TABLE backup_sets ADD COLUMN stale_replaced_by TEXT CHECK (stale_replaced_by IS NULL OR length(stale_replaced_by) = 32);
`);
  const rows = db.prepare('SELECT key_id, node_id, public_context, public_context_hash FROM nodes').all() as { key_id: string; node_id: string; public_context: Uint8Array; public_context_hash: Uint8Array }[];
  const views = new Map<string, KeyView | undefined>();
  const update = db.prepare('UPDATE nodes SET tss_threshold = ?, group_key_fingerprint = ? WHERE key_id = ? AND node_id = ?');
  for (const r of rows) {
    const id = toHex(new Uint8Array(r.public_context_hash));
    if (!views.has(id)) {
      let view: KeyView | undefined;
      try {
        view = keyViewOf(decodePublicContext(new Uint8Array(r.public_context)));
      } catch {
        view = undefined; // left NULL: status and metrics say "unknown" rather than guess
      }
      views.set(id, view);
    }
    const v = views.get(id);
    if (v !== undefined) update.run(v.tssThreshold, v.groupKeyFingerprint, r.key_id, r.node_id);
  }
  // The stale marks ImportKeyshare wrote as `meta` rows before this migration.
  const marks = db.prepare('SELECT name, value FROM meta WHERE name LIKE ?').all(`${STALE_PREFIX}%`) as { name: string; value: string }[];
  const mark = db.prepare("UPDATE backup_sets SET stale_reason = 'reshared', stale_at = ?, stale_replaced_by = ? WHERE set_id = ?");
  for (const m of marks) {
    const setId = m.name.slice(STALE_PREFIX.length);
    let v: unknown;
    try {
      v = JSON.parse(m.value);
    } catch {
      v = undefined;
    }
    const at = typeof v === 'object' && v !== null && typeof (v as { at?: unknown }).at === 'number' ? (v as { at: number }).at : Date.now();
    const by = typeof v === 'object' && v !== null && typeof (v as { replacedBy?: unknown }).replacedBy === 'string' ? (v as { replacedBy: string }).replacedBy : null;
    mark.run(Math.trunc(at), by !== null && /^[0-9a-f]{32}$/.test(by) ? by : null, setId);
  }
  db.prepare('DELETE FROM meta WHERE name LIKE ?').run(`${STALE_PREFIX}%`);
}
