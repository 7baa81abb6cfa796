/**
 * Delivery receipts (docs/protocol.md §4.4): the custodian signs `accepted` for an envelope it
 * imported, or `rejected` with a reason code (REJECTION_REASONS) and an optional note, per
 * envelope or in batch. An accepted receipt moves the share from `received` to `confirmed`.
 *
 * A `rejected` receipt can also answer an envelope the inbox refused: its key, node, set and index
 * are then read from the envelope without trusting it (the agent matches the receipt by the
 * envelope hash it sent), and the reason defaults to the refusal's code mapped to a rejection reason.
 *
 * Receipts are exported as `.custos` files and, on request, QR frames (`custos-receipt`); a whole
 * batch can be laid out as one animated QR sequence (`receiptSequence`, issue 13).
 */
import { fromHex, toHex } from '../../shared/bytes';
import { fileHash } from '../../shared/crypto/hash';
import { CustosError } from '../../shared/errors';
import { makeReceipt, openReceipt, REJECTION_REASONS, type Receipt, type RejectionReason } from '../../shared/protocol/receipt';
import { DENSITIES, encoderAt } from '../../shared/qr/loop';
import { urTypeOf } from '../../shared/qr/types';
import { ServiceError, type AnyErrorCode } from './errors';
import { writeMessageFiles, type QrOptions, type WrittenFiles } from './qr-files';
import { classifyRefusal } from './refusal-class';
import { findShareOrRefusal } from './shares';
import type { ReceiptRef, RefusalRecord, ShareRecord, VaultState } from './state';
import type { Vault, VaultTx } from './vault';

/** The rejection reason that answers an inbox refusal code. */
export function reasonForCode(code: string): RejectionReason {
  const map: Partial<Record<AnyErrorCode, RejectionReason>> = {
    MALFORMED: 'MALFORMED',
    VERSION_UNSUPPORTED: 'MALFORMED',
    WRONG_TYPE: 'MALFORMED',
    TOO_LARGE: 'MALFORMED',
    SIGNATURE_INVALID: 'SIGNATURE_INVALID',
    UNTRUSTED_SIGNER: 'UNTRUSTED_SIGNER',
    WRONG_RECIPIENT: 'WRONG_RECIPIENT',
    EXPIRED: 'EXPIRED',
    SHARE_COMMITMENT_MISMATCH: 'SHARE_COMMITMENT_MISMATCH',
    DECRYPT_FAILED: 'DECRYPT_FAILED',
    DUPLICATE_SHARE: 'DUPLICATE_SHARE',
    ALREADY_DESTROYED: 'DUPLICATE_SHARE',
    CONFLICTING_SET: 'SET_MISMATCH',
    SET_SUPERSEDED: 'SET_MISMATCH',
    SET_MISMATCH: 'SET_MISMATCH',
  };
  return map[code as AnyErrorCode] ?? 'OTHER';
}

export interface ReceiptRequest {
  /** Envelope ids (or unique prefixes), or 'all': every share still `received` with no receipt yet (accepted), or every refusal without a receipt (rejected). */
  readonly ids: readonly string[] | 'all';
  readonly status: 'accepted' | 'rejected';
  /** Required to reject a held share; for a refusal it defaults to the refusal's own reason. */
  readonly reason?: RejectionReason;
  readonly note?: string;
}

export interface SignedReceipt {
  readonly id: string;
  readonly bytes: Uint8Array;
  /** SHA-256 of the receipt file, hex. */
  readonly hash: string;
  readonly body: Receipt;
  /** A suggested file name (without extension). */
  readonly baseName: string;
}

function checkReason(reason: unknown): asserts reason is RejectionReason | undefined {
  if (reason !== undefined && !(REJECTION_REASONS as readonly unknown[]).includes(reason)) {
    throw new ServiceError('USAGE', `The rejection reason must be one of ${REJECTION_REASONS.join(', ')}.`);
  }
}

function signOne(tx: VaultTx, target: { share: ShareRecord } | { refusal: RefusalRecord }, req: ReceiptRequest): SignedReceipt {
  const note = req.note;
  if (note !== undefined && note.length > 500) throw new ServiceError('USAGE', 'A receipt note is at most 500 characters.');
  let body: Receipt;
  let receipts: ReceiptRef[];
  if ('share' in target) {
    const r = target.share;
    if (req.status === 'accepted' && !['received', 'confirmed', 'exported'].includes(r.status)) {
      throw new ServiceError('INVALID_STATE', `Share ${String(r.shareIndex)} of ${r.keyId}/${r.nodeId} is ${r.status}; only a received share can be accepted.`);
    }
    if (req.status === 'rejected' && req.reason === undefined) {
      throw new ServiceError('USAGE', 'Rejecting a share you hold needs a reason code (for example OTHER with a note).');
    }
    body = {
      envelope_hash: fromHex(r.id),
      key_id: r.keyId,
      node_id: r.nodeId,
      set_id: fromHex(r.setId),
      epoch: r.epoch,
      share_index: r.shareIndex,
      status: req.status,
      ...(req.status === 'rejected' ? { reason: req.reason } : {}),
      ...(note === undefined ? {} : { note }),
      received_at: r.receivedAt,
    };
    receipts = r.receipts;
  } else {
    const f = target.refusal;
    if (req.status === 'accepted') {
      throw new ServiceError('INVALID_STATE', 'This envelope was refused at import; only a rejected receipt can be signed for it.');
    }
    if (f.fields === undefined) {
      throw new ServiceError('INVALID_STATE', 'This refused file could not be read as an envelope at all, so no receipt can name its key, node and share. Tell the agent operator.');
    }
    body = {
      envelope_hash: fromHex(f.id),
      key_id: f.fields.keyId,
      node_id: f.fields.nodeId,
      set_id: fromHex(f.fields.setId),
      epoch: f.fields.epoch,
      share_index: f.fields.shareIndex,
      status: 'rejected',
      reason: req.reason ?? reasonForCode(f.code),
      ...(note === undefined ? {} : { note }),
      received_at: f.at,
    };
    receipts = f.receipts;
  }
  const bytes = makeReceipt(body, tx.identity.signing);
  const hash = toHex(fileHash(bytes));
  const id = toHex(body.envelope_hash);
  receipts.push({ status: body.status, ...(body.reason === undefined ? {} : { reason: body.reason }), ...(note === undefined ? {} : { note }), signedAt: tx.now, hash });
  if ('share' in target) {
    const r = target.share;
    if (req.status === 'accepted' && r.status === 'received') r.status = 'confirmed';
    r.history.push({ at: tx.now, event: `receipt-${req.status}`, ...(body.reason === undefined ? {} : { detail: body.reason }) });
  }
  tx.audit({
    event: 'receipt',
    result: 'ok',
    key_id: body.key_id,
    node_id: body.node_id,
    set_id: toHex(body.set_id),
    share_index: body.share_index,
    envelope_hash: id,
    signature: hash,
    detail: `${body.status}${body.reason === undefined ? '' : ` (${body.reason})`}`,
  });
  return { id, bytes, hash, body, baseName: `receipt-${body.key_id}-${body.node_id}-s${String(body.share_index)}-${id.slice(0, 12)}` };
}

/** Signs receipts (one vault save for the whole batch). */
export async function signReceipts(vault: Vault, req: ReceiptRequest): Promise<SignedReceipt[]> {
  checkReason(req.reason);
  if (req.status === 'accepted' && req.reason !== undefined) throw new ServiceError('USAGE', 'A reason is only for rejected receipts.');
  return vault.update((tx) => {
    let targets: ({ share: ShareRecord } | { refusal: RefusalRecord })[];
    if (req.ids === 'all') {
      targets =
        req.status === 'accepted'
          ? // Shares still awaiting a receipt: a share the person already rejected is not accepted by "all".
            tx.state.shares.filter((r) => r.status === 'received' && r.receipts.length === 0).map((share) => ({ share }))
          : // Issue 12: a harmless refusal (another envelope of a share already held) is never rejected by "all".
            tx.state.refusals.filter((f) => f.receipts.length === 0 && f.fields !== undefined && classifyRefusal(f.code, true).offerSignedRejection).map((refusal) => ({ refusal }));
    } else {
      targets = req.ids.map((id) => findShareOrRefusal(vault, id));
    }
    // Check everything before signing anything, so a bad id in a batch changes nothing.
    const seen = new Set<string>();
    for (const t of targets) {
      const id = 'share' in t ? t.share.id : t.refusal.id;
      if (seen.has(id)) throw new ServiceError('USAGE', `Envelope ${id.slice(0, 12)}… is named twice.`);
      seen.add(id);
    }
    const out: SignedReceipt[] = [];
    for (const t of targets) {
      // signOne throws only on a wrong state or usage, checked before it changes anything for that target.
      out.push(signOne(tx, t, req));
    }
    return out;
  });
}

/** Writes receipts as files (and QR frames on request). */
export async function writeReceipts(receipts: readonly SignedReceipt[], outDir: string, qr?: QrOptions): Promise<WrittenFiles[]> {
  const written: WrittenFiles[] = [];
  for (const r of receipts) written.push(await writeMessageFiles(outDir, r.baseName, 'receipt', r.bytes, qr));
  return written;
}

/** One receipt of a sequence (receiptSequence): what it answers, and its frame count at each density. */
export interface SequenceMessage {
  readonly name: string;
  /** The envelope it answers (SHA-256, hex). */
  readonly id: string;
  readonly status: 'accepted' | 'rejected';
  /** The UR type its frames carry (`custos-receipt`). */
  readonly type: string;
  readonly payload: Uint8Array;
  /** Its pure frames at each density of DENSITIES. */
  readonly lens: { version: number; frames: number }[];
}

/** Receipts checked between two yields to the event loop (and progress reports). */
const SEQUENCE_CHUNK = 50;

/** Every receipt the vault signed, by the SHA-256 of its file: what it answers and how. */
function signedByHash(state: Readonly<VaultState>): Map<string, { id: string; status: 'accepted' | 'rejected' }> {
  const known = new Map<string, { id: string; status: 'accepted' | 'rejected' }>();
  for (const r of [...state.shares, ...state.refusals]) for (const x of r.receipts) known.set(x.hash, { id: r.id, status: x.status });
  return known;
}

/**
 * Receipt files laid out as one animated QR sequence (issue 13; the window plays it, drawing only
 * the frame on screen). A file whose SHA-256 the vault recorded when it signed it is this vault's
 * receipt, byte for byte; any other file must open as a receipt signed by `signKey` (UNTRUSTED_SIGNER,
 * WRONG_TYPE, … naming the file). Yields to the event loop every SEQUENCE_CHUNK receipts, so a
 * batch of thousands never holds up main, and reports `onProgress(done, total)` there.
 */
export async function receiptSequence(
  vault: Vault,
  files: readonly { name: string; bytes: Uint8Array }[],
  signKey: Uint8Array,
  onProgress?: (done: number, total: number) => void,
): Promise<SequenceMessage[]> {
  const known = vault.unlocked ? signedByHash(vault.state) : new Map<string, { id: string; status: 'accepted' | 'rejected' }>();
  const type = urTypeOf('receipt');
  const out: SequenceMessage[] = [];
  for (const [i, f] of files.entries()) {
    if (i > 0 && i % SEQUENCE_CHUNK === 0) {
      onProgress?.(i, files.length);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    let what = known.get(toHex(fileHash(f.bytes)));
    if (what === undefined) {
      try {
        const body = openReceipt(f.bytes, signKey).body;
        what = { id: toHex(body.envelope_hash), status: body.status };
      } catch (error) {
        // Name the file in the sentence; keep the protocol's code (UNTRUSTED_SIGNER, WRONG_TYPE, …).
        if (error instanceof CustosError) throw new CustosError(error.code, `"${f.name}": ${error.message}`, { cause: error, details: error.details });
        throw error;
      }
    }
    const lens = DENSITIES.map((d) => ({ version: d.version, frames: encoderAt(f.bytes, type, d.version).seqLen }));
    out.push({ name: f.name, ...what, type, payload: f.bytes, lens });
  }
  onProgress?.(files.length, files.length);
  return out;
}
