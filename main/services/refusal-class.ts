/**
 * The three classes of an inbox refusal (issue 12): a person must tell an attack from noise.
 *
 * - possible-attack: the bytes were tampered with, the signature is bad, the signer is not the
 *   pinned agent (or a changed key), the commitments or the decryption fail. Advice: do not use it,
 *   report it to security, call the contact recorded for the agent. Never "ask the sender for a
 *   fresh copy" (the sender may be the attacker).
 * - not-for-you-or-outdated: correctly signed by the pinned agent (signatures are checked before
 *   the recipient and the time window) but addressed to another custodian, superseded, expired,
 *   not yet valid, for a destroyed share or a conflicting set, or of a newer protocol version.
 * - harmless: a duplicate of what the vault holds (the same file, or another envelope of a share
 *   already held), a Custos message of another kind (a receipt dropped on the inbox), or a file
 *   that is not a Custos message at all (a stray notes.txt). Never offered a signed rejection.
 *
 * Pure: the IPC handlers (main/handlers/shares.ts: each import result and each remembered refusal),
 * the receipts service ("sign rejected for all" skips harmless ones) and the custodian CLI's import
 * output call it with the refusal's code and whether the file read as a Custos frame at all.
 */
import type { RefusalClass } from '../../shared/ipc/schemas';
import type { Language } from '../../shared/languages';

export type { RefusalClass };

const ATTACK = new Set([
  'SIGNATURE_INVALID',
  'UNTRUSTED_SIGNER',
  'FRAME_MISMATCH',
  'SHARE_COMMITMENT_MISMATCH',
  'SECRET_COMMITMENT_MISMATCH',
  'DECRYPT_FAILED',
  'SET_MISMATCH',
  'SESSION_MISMATCH',
  'MALFORMED',
  'TOO_LARGE',
]);

const OUTDATED = new Set(['WRONG_RECIPIENT', 'EXPIRED', 'NOT_YET_VALID', 'SET_SUPERSEDED', 'ALREADY_DESTROYED', 'CONFLICTING_SET', 'VERSION_UNSUPPORTED', 'NO_MATCHING_SHARE']);

// DUPLICATE_SHARE: a second envelope (new encryption, same bytes inside) for a share the vault
// already holds, signed by the pinned agent: the receipt of the first one already answers it.
// WRONG_TYPE: a well-formed Custos message of another kind (a receipt, a card) dropped on the inbox;
// nothing in it claims to be a share.
const HARMLESS = new Set(['DUPLICATE_ENVELOPE', 'DUPLICATE_SHARE', 'WRONG_TYPE']);

export interface RefusalClassification {
  readonly class: RefusalClass;
  /** Whether a signed rejection receipt may be offered for it (never for harmless files). */
  readonly offerSignedRejection: boolean;
  /** What to do, in both languages. */
  readonly advice: Readonly<Record<Language, string>>;
}

const ADVICE: Readonly<Record<RefusalClass, Readonly<Record<Language, string>>>> = {
  'possible-attack': {
    en: 'Possible attack: do not use this file and do not ask the sender for another copy. Keep it, report it to security, and call the agent operator at the contact recorded when you pinned the agent.',
    'zh-CN': '可能是攻击：不要使用此文件，也不要向发送方索要新副本。保留文件，报告安全团队，并按固定代理时记录的联系方式致电代理运维。',
  },
  'not-for-you-or-outdated': {
    en: 'Not for you or out of date: it is signed by your agent but addressed to another custodian, superseded or outside its time window. Do not keep it; tell the agent operator so they can send the right one.',
    'zh-CN': '不属于您或已过期：它由您的代理签名，但发给了其他保管人、已被取代或不在有效期内。不要保留；请告知代理运维以便发送正确的文件。',
  },
  harmless: {
    en: 'Harmless: a copy of what the vault already holds, or not a Custos file. Nothing to do.',
    'zh-CN': '无害：保险库中已有的副本，或不是 Custos 文件。无需处理。',
  },
};

/**
 * Classifies one refusal. `readAsCustosFrame` says whether the file decoded as a Custos frame (the
 * inbox could read its coordinates); a MALFORMED file that did not is harmless noise, one that did
 * was altered after signing.
 */
export function classifyRefusal(code: string, readAsCustosFrame: boolean): RefusalClassification {
  let cls: RefusalClass;
  if (HARMLESS.has(code) || ((code === 'MALFORMED' || code === 'TOO_LARGE') && !readAsCustosFrame)) cls = 'harmless';
  else if (ATTACK.has(code)) cls = 'possible-attack';
  else if (OUTDATED.has(code)) cls = 'not-for-you-or-outdated';
  else cls = 'possible-attack'; // an unknown refusal is treated with the most care
  return { class: cls, offerSignedRejection: cls !== 'harmless', advice: ADVICE[cls] };
}

/**
 * Whether the bytes begin like a Custos frame: canonical CBOR of the frame map {b, k, s, t, v} (keys
 * in canonical order, so always map-of-5 then the key "b": A5 61 62). A truncated or garbled
 * envelope still begins this way; a stray text file, a PDF or a photo does not. Only a label for
 * the person: nothing is trusted from it.
 */
export function looksLikeCustosFrame(bytes: unknown): boolean {
  return bytes instanceof Uint8Array && bytes.length >= 3 && bytes[0] === 0xa5 && bytes[1] === 0x61 && bytes[2] === 0x62;
}

/** The class's short name, as the CLI prints it beside each refusal. */
export const CLASS_LABELS: Readonly<Record<RefusalClass, Readonly<Record<Language, string>>>> = {
  'possible-attack': { en: 'POSSIBLE ATTACK', 'zh-CN': '可能是攻击' },
  'not-for-you-or-outdated': { en: 'not for you / out of date', 'zh-CN': '不属于您或已过期' },
  harmless: { en: 'harmless', 'zh-CN': '无害' },
};

/**
 * The class of one inbox import result (undefined unless it was refused): the one rule the IPC
 * handler and the CLI share. It "read as a Custos frame" if the inbox could route it (envelope or
 * supersede notice) or read its coordinates, or its bytes begin like a frame.
 */
export function classifyImportResult(r: { readonly outcome: string; readonly code?: string; readonly kind: string; readonly share?: unknown }, bytes: unknown): RefusalClassification | undefined {
  if (r.outcome !== 'refused' || r.code === undefined) return undefined;
  return classifyRefusal(r.code, r.kind !== 'other' || r.share !== undefined || looksLikeCustosFrame(bytes));
}
