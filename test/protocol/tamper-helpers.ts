/**
 * Shared by the tamper tests: which refusal codes a damaged message may produce, and a runner that
 * fails on acceptance or on anything thrown that is not a CustosError.
 */
import { isCustosError, type ErrorCode } from '../../shared/errors';
import type { MessageType } from '../../shared/protocol';
import type { LoadedVectors } from '../vectors/load';

/** The three largest messages, swept in tamper-large.test.ts so the two halves run in parallel. */
export const LARGE: readonly MessageType[] = ['manifest', 'envelope', 'recovery-request'];

/** Messages whose signer is named by the body (cards, approvals) cannot be "untrusted", only invalid. */
const SELF_SIGNED = new Set<MessageType>(['agent-card', 'custodian-card', 'approver-card', 'approval', 'deletion-approval', 'roster-change']);
const FRAME_CODES: readonly ErrorCode[] = ['MALFORMED', 'VERSION_UNSUPPORTED', 'WRONG_TYPE', 'SIGNATURE_INVALID'];

export function allowedCodes(type: MessageType): ReadonlySet<ErrorCode> {
  return new Set<ErrorCode>(SELF_SIGNED.has(type) ? FRAME_CODES : [...FRAME_CODES, 'UNTRUSTED_SIGNER']);
}

/** Runs `fn` and returns the error code it refused with; fails the test on success or on any other throw. */
export async function refusal(fn: () => Promise<unknown>, where: string): Promise<ErrorCode> {
  let result: unknown;
  try {
    result = await fn();
  } catch (error) {
    if (isCustosError(error)) return error.code;
    throw new Error(`${where}: threw something other than a CustosError`, { cause: error });
  }
  throw new Error(`${where}: a tampered message was accepted (${typeof result})`);
}

/**
 * Flips every byte of `type`'s vector (xor 0x01, then xor 0x80) and opens each result; returns how
 * often each refusal code came up. Throws on any acceptance, foreign exception or unexpected code.
 */
export async function sweep(v: LoadedVectors, type: MessageType): Promise<Map<ErrorCode, number>> {
  const original = v.messages[type];
  const allowed = allowedCodes(type);
  const seen = new Map<ErrorCode, number>();
  for (const mask of [0x01, 0x80]) {
    for (let i = 0; i < original.length; i++) {
      const bad = Uint8Array.from(original);
      bad[i] = (bad[i] ?? 0) ^ mask;
      const where = `${type}: byte ${String(i)} xor 0x${mask.toString(16)}`;
      const code = await refusal(() => v.open(type, bad), where);
      if (!allowed.has(code)) throw new Error(`${where} gave ${code}, expected one of ${[...allowed].join(', ')}`);
      seen.set(code, (seen.get(code) ?? 0) + 1);
    }
  }
  return seen;
}
