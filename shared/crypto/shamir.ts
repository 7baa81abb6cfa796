/**
 * Shamir secret sharing over GF(2^8) (through the audited `shamir-secret-sharing` library) with the
 * commitments that make recovery safe (docs/protocol.md §6).
 *
 * A share is the library's format: `secret.length` bytes of y-values followed by one x-coordinate
 * byte. Custos numbers shares 1..total ("share_index"); the x-coordinate is the library's own,
 * random and distinct.
 *
 *   share commitment  = taggedHash("share-commitment", set_id, epoch, index, share)
 *   secret commitment = taggedHash("secret-commitment", set_id, epoch, secret)
 *
 * Before combining, every share's set and epoch must be the manifest's (SET_MISMATCH), no index may
 * appear twice (DUPLICATE_SHARE), every share must match its commitment (SHARE_COMMITMENT_MISMATCH,
 * naming the index), and there must be at least `threshold` of them (BELOW_THRESHOLD). The combined
 * secret must match the secret commitment (SECRET_COMMITMENT_MISMATCH).
 */
import { combine, split } from 'shamir-secret-sharing';
import { assertBytes, constantTimeEqual, wipe } from '../bytes';
import { CustosError } from '../errors';
import { taggedHash } from './hash';

export const MAX_SECRET_BYTES = 16 * 1024;

export interface ShamirParams {
  readonly threshold: number;
  readonly total: number;
}

/** Checks threshold and total and says what is wrong in words. */
export function checkShamirParams(p: ShamirParams, retained?: number): void {
  const { threshold, total } = p;
  if (!Number.isInteger(total) || total < 2 || total > 255) {
    throw new CustosError('INVALID_PARAMETERS', `The total number of shares must be a whole number from 2 to 255; got ${String(total)}.`);
  }
  if (!Number.isInteger(threshold) || threshold < 2) {
    throw new CustosError(
      'INVALID_PARAMETERS',
      `The threshold must be at least 2 (with 1, every share would be the whole secret); got ${String(threshold)}.`,
    );
  }
  if (threshold > total) {
    throw new CustosError('INVALID_PARAMETERS', `The threshold (${String(threshold)}) cannot be larger than the total (${String(total)}).`);
  }
  if (retained !== undefined) {
    if (!Number.isInteger(retained) || retained < 0 || retained > total) {
      throw new CustosError('INVALID_PARAMETERS', `The server can retain 0 to ${String(total)} shares; got ${String(retained)}.`);
    }
    if (retained >= threshold) {
      throw new CustosError(
        'INVALID_PARAMETERS',
        `The server would retain ${String(retained)} shares, enough to recover alone (threshold ${String(threshold)}). Retain at most ${String(threshold - 1)}.`,
      );
    }
    if (total - retained < threshold) {
      throw new CustosError(
        'INVALID_PARAMETERS',
        `Only ${String(total - retained)} shares would go to custodians, fewer than the threshold (${String(threshold)}): losing the server would lose the key. Lower the retained count or raise the total.`,
      );
    }
  }
}

export interface SetBinding {
  readonly setId: Uint8Array;
  readonly epoch: number;
}

export const shareCommitment = (b: SetBinding, index: number, share: Uint8Array): Uint8Array =>
  taggedHash('share-commitment', b.setId, b.epoch, index, share);

export const secretCommitment = (b: SetBinding, secret: Uint8Array): Uint8Array =>
  taggedHash('secret-commitment', b.setId, b.epoch, secret);

export interface IndexedShare {
  readonly index: number;
  readonly share: Uint8Array;
}

export interface SplitResult {
  readonly shares: readonly IndexedShare[];
  readonly shareCommitments: readonly Uint8Array[];
  readonly secretCommitment: Uint8Array;
}

export async function splitSecret(secret: Uint8Array, params: ShamirParams, binding: SetBinding): Promise<SplitResult> {
  assertBytes(secret, 'secret');
  if (secret.length === 0 || secret.length > MAX_SECRET_BYTES) {
    throw new CustosError('INVALID_PARAMETERS', `A secret must be 1 to ${String(MAX_SECRET_BYTES)} bytes; got ${String(secret.length)}.`);
  }
  checkShamirParams(params);
  assertBytes(binding.setId, 'set id', 16);
  const raw = await split(secret, params.total, params.threshold);
  const shares = raw.map((share, i) => ({ index: i + 1, share }));
  return {
    shares,
    shareCommitments: shares.map((s) => shareCommitment(binding, s.index, s.share)),
    secretCommitment: secretCommitment(binding, secret),
  };
}

/** What the manifest says about the set a share must belong to. */
export interface CombineExpectation extends SetBinding {
  readonly threshold: number;
  readonly total: number;
  readonly secretLength: number;
  readonly secretCommitment: Uint8Array;
  /** share_index → commitment. */
  readonly shareCommitments: ReadonlyMap<number, Uint8Array>;
}

export interface ProvidedShare extends IndexedShare, SetBinding {}

/** Checks one share against the manifest without combining anything. */
export function checkShare(expect: CombineExpectation, s: ProvidedShare): void {
  if (!constantTimeEqual(s.setId, expect.setId) || s.epoch !== expect.epoch) {
    throw new CustosError(
      'SET_MISMATCH',
      `Share ${String(s.index)} belongs to another backup set or epoch (epoch ${String(s.epoch)}, expected ${String(expect.epoch)}). Shares of different backups can never be combined.`,
      { details: { shareIndex: s.index } },
    );
  }
  const commitment = expect.shareCommitments.get(s.index);
  if (commitment === undefined) {
    throw new CustosError('SHARE_COMMITMENT_MISMATCH', `Share index ${String(s.index)} is not part of this backup set.`, {
      details: { shareIndex: s.index },
    });
  }
  if (s.share.length !== expect.secretLength + 1 || !constantTimeEqual(shareCommitment(expect, s.index, s.share), commitment)) {
    throw new CustosError(
      'SHARE_COMMITMENT_MISMATCH',
      `Share ${String(s.index)} does not match its commitment in the manifest: it is damaged or not the share that was issued. Set it aside and use another custodian's share.`,
      { details: { shareIndex: s.index } },
    );
  }
}

/**
 * Verifies every share, then combines exactly `threshold` of them (lowest indexes first) and checks
 * the result against the secret commitment.
 */
export async function combineShares(expect: CombineExpectation, provided: readonly ProvidedShare[]): Promise<Uint8Array> {
  checkShamirParams(expect);
  const seen = new Set<number>();
  for (const s of provided) {
    if (seen.has(s.index)) {
      throw new CustosError('DUPLICATE_SHARE', `Share ${String(s.index)} was given twice.`, { details: { shareIndex: s.index } });
    }
    seen.add(s.index);
  }
  for (const s of provided) checkShare(expect, s);
  if (provided.length < expect.threshold) {
    throw new CustosError(
      'BELOW_THRESHOLD',
      `${String(provided.length)} valid share(s) of the ${String(expect.threshold)} needed. Collect ${String(expect.threshold - provided.length)} more.`,
      { details: { have: provided.length, need: expect.threshold } },
    );
  }
  const chosen = [...provided].sort((a, b) => a.index - b.index).slice(0, expect.threshold);
  const secret = await combine(chosen.map((s) => s.share));
  if (!constantTimeEqual(secretCommitment(expect, secret), expect.secretCommitment)) {
    wipe(secret);
    throw new CustosError(
      'SECRET_COMMITMENT_MISMATCH',
      'The shares combined into a value that does not match the backup: they are not from the same split. Nothing was written.',
    );
  }
  return secret;
}
