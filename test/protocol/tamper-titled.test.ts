/**
 * Tamper sweep over the titled vectors (issue 13: session details with an incident_title): every
 * single-byte change (xor 0x01 and 0x80 at every position) of approval-titled.cbor is refused by
 * openApproval for the titled session, with a frame code, never accepted and never anything but a
 * CustosError. A change inside the title's UTF-8 that still decodes is caught by the signature.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../shared/errors';
import { openApproval } from '../../shared/protocol';
import { readTitledMessages, loadVectors, type LoadedVectors } from '../vectors/load';
import { allowedCodes, refusal } from './tamper-helpers';

let v: LoadedVectors;
beforeAll(async () => {
  v = await loadVectors();
});

describe('tamper sweep: the titled approval', () => {
  it('every single-byte change is refused', async () => {
    const original = readTitledMessages(v.file).approval;
    const approvers = v.world.approvers.map((a) => a.publicKey);
    const open = (bytes: Uint8Array) => Promise.resolve(openApproval(bytes, v.world.titledSession, approvers));
    await open(original);
    const allowed = allowedCodes('approval');
    const seen = new Map<ErrorCode, number>();
    for (const mask of [0x01, 0x80]) {
      for (let i = 0; i < original.length; i++) {
        const bad = Uint8Array.from(original);
        bad[i] = (bad[i] ?? 0) ^ mask;
        const where = `approval-titled: byte ${String(i)} xor 0x${mask.toString(16)}`;
        const code = await refusal(() => open(bad), where);
        if (!allowed.has(code)) throw new Error(`${where} gave ${code}, expected one of ${[...allowed].join(', ')}`);
        seen.set(code, (seen.get(code) ?? 0) + 1);
      }
    }
    expect(seen.get('SIGNATURE_INVALID') ?? 0).toBeGreaterThan(100);
  });
});
