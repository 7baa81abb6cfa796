/**
 * fast-check arbitraries for valid message bodies (docs/protocol.md §4): what a correct sender may
 * put in each field, including the edges of every range.
 */
import fc from 'fast-check';
import { incidentTitle as incidentTitleSchema, normalizeIncidentTitle, signingKeyFromSeed, type DeletionDetails, type InventoryItem, type Manifest, type SessionDetails, type SigningKey } from '../../shared/protocol';
import type { AgeKeyPair } from '../../shared/crypto/seal';

export const bytesOf = (length: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: length, maxLength: length });

export const signingKey: fc.Arbitrary<SigningKey> = bytesOf(32).map((seed) => signingKeyFromSeed(seed));

/** Two or more signing keys with distinct public keys. */
export const distinctKeys = (min: number, max: number): fc.Arbitrary<SigningKey[]> =>
  fc.uniqueArray(bytesOf(32), { minLength: min, maxLength: max, selector: (s) => Array.from(s).join(',') }).map((seeds) => seeds.map((s) => signingKeyFromSeed(s)));

export const identifier: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,30}$/),
  fc.constantFrom('a', 'key-1', 'node.0', 'x'.repeat(128)),
);

/** The label schema refuses C0 control characters and DEL. */
const hasControl = (s: string): boolean => Array.from(s).some((c) => c.charCodeAt(0) < 0x20 || c === '\u007f');

/** A card or approver name: 1..200 UTF-16 units, any script, no control characters. */
export const labelText: fc.Arbitrary<string> = fc
  .oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
    fc.constantFrom('李华 (保管人)', 'Zoë', '👩‍💻 ops', 'n'.repeat(200)),
  )
  .filter((s) => s.length >= 1 && s.length <= 200 && !hasControl(s));

export const timestamp: fc.Arbitrary<number> = fc.oneof(fc.integer({ min: 0, max: 2 ** 40 }), fc.constantFrom(0, 2 ** 40, 1_790_000_000));
export const epoch: fc.Arbitrary<number> = fc.oneof(fc.integer({ min: 1, max: 2 ** 32 - 1 }), fc.constantFrom(1, 2 ** 32 - 1));

/** An incident title (issue 13): any script, NFC, 1..200 code points, no controls, no outer white space. */
export const incidentTitleText: fc.Arbitrary<string> = fc
  .oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }).map(normalizeIncidentTitle),
    fc.constantFrom('交易所热钱包事故 2026/12', 'Störung Zahlungsgateway', '事'.repeat(200), '𝔸'.repeat(200)),
  )
  .filter((s) => incidentTitleSchema.safeParse(s).success);

/** Session details, with the optional incident_title present or absent. */
export const session: fc.Arbitrary<SessionDetails> = fc.record(
  {
    session_id: bytesOf(16),
    incident_id: identifier,
    incident_title: incidentTitleText,
    key_id: identifier,
    node_id: identifier,
    set_id: bytesOf(16),
    epoch,
    mode: fc.constantFrom('mixed' as const, 'external-only' as const),
    not_after: timestamp,
  },
  { requiredKeys: ['session_id', 'incident_id', 'key_id', 'node_id', 'set_id', 'epoch', 'mode', 'not_after'] },
);

/** Deletion details (docs/protocol.md §4.11): share indexes unique and increasing, not_after ≥ cooling_ends_at. */
export const deletion: fc.Arbitrary<DeletionDetails> = fc
  .record({
    deletion_id: bytesOf(16),
    key_id: identifier,
    node_id: identifier,
    set_id: bytesOf(16),
    epoch,
    share_indexes: fc.uniqueArray(fc.integer({ min: 1, max: 255 }), { minLength: 1, maxLength: 8 }).map((xs) => [...xs].sort((a, b) => a - b)),
    purpose: fc.constantFrom('zero-retention' as const, 'superseded-set' as const, 'reduce-retention' as const),
    cooling_ends_at: timestamp,
    extra: fc.integer({ min: 0, max: 30 * 86400 }),
  })
  .map(({ extra, ...d }) => ({ ...d, not_after: Math.min(d.cooling_ends_at + extra, 2 ** 40) }));

export const inventoryItem: fc.Arbitrary<InventoryItem> = fc.record({
  key_id: identifier,
  node_id: identifier,
  set_id: bytesOf(16),
  epoch,
  share_index: fc.integer({ min: 1, max: 255 }),
});

/**
 * A valid manifest body: threshold ≤ total, shares numbered 1..total, the first `retain` (fewer than
 * threshold) held by the server, the others by distinct custodians.
 */
export const manifest: fc.Arbitrary<Manifest> = fc
  .record({ threshold: fc.integer({ min: 2, max: 6 }), extra: fc.integer({ min: 0, max: 4 }), retainPick: fc.nat() })
  .chain(({ threshold, extra, retainPick }) => {
    const total = threshold + extra;
    const retain = retainPick % threshold;
    return fc.record({
      key_id: identifier,
      node_id: identifier,
      set_id: bytesOf(16),
      epoch,
      curve: fc.constantFrom('secp256k1' as const, 'ed25519' as const),
      threshold: fc.constant(threshold),
      total: fc.constant(total),
      secret_length: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.constantFrom(1, 16384)),
      secret_commitment: bytesOf(32),
      public_context_hash: bytesOf(32),
      shares: fc
        .tuple(
          fc.uniqueArray(bytesOf(32), { minLength: total - retain, maxLength: total - retain, selector: (b) => Array.from(b).join(',') }),
          fc.array(fc.tuple(bytesOf(32), bytesOf(32)), { minLength: total, maxLength: total }),
        )
        .map(([custodians, keys]) =>
          keys.map(([commitment, possession_key], i) => ({
            index: i + 1,
            custodian: i < retain ? null : (custodians[i - retain] ?? null),
            commitment,
            possession_key,
          })),
        ),
      created_at: timestamp,
    });
  });

/** Picks one of a few age key pairs made before the run (X25519 key generation is async). */
export const ageKeyFrom = (pool: readonly AgeKeyPair[]): fc.Arbitrary<AgeKeyPair> => fc.constantFrom(...pool);
