/** Issue 12: inbox refusals in three classes, attacks never advised to "ask the sender again". */
import { describe, expect, it } from 'vitest';
import { classifyImportResult, classifyRefusal, looksLikeCustosFrame } from '../../main/services/refusal-class';

describe('classifyRefusal', () => {
  it('a tampered, badly signed or unpinned file is a possible attack, advised to report to security and not to ask the sender', () => {
    for (const code of ['SIGNATURE_INVALID', 'UNTRUSTED_SIGNER', 'FRAME_MISMATCH', 'SHARE_COMMITMENT_MISMATCH', 'DECRYPT_FAILED']) {
      const c = classifyRefusal(code, true);
      expect(c.class, code).toBe('possible-attack');
      expect(c.advice.en).toContain('report it to security');
      expect(c.advice.en).toContain('do not ask the sender');
      expect(c.advice['zh-CN']).toContain('安全团队');
      expect(c.offerSignedRejection).toBe(true);
    }
    // Bytes that read as a Custos frame but no longer decode were altered after signing.
    expect(classifyRefusal('MALFORMED', true).class).toBe('possible-attack');
    // Anything the inbox does not know is treated with the most care.
    expect(classifyRefusal('SOMETHING_NEW', true).class).toBe('possible-attack');
  });

  it('a correctly signed file for another custodian, superseded or expired is not for you / out of date', () => {
    for (const code of ['WRONG_RECIPIENT', 'EXPIRED', 'NOT_YET_VALID', 'SET_SUPERSEDED', 'ALREADY_DESTROYED']) expect(classifyRefusal(code, true).class, code).toBe('not-for-you-or-outdated');
  });

  it('a duplicate or a stray non-Custos file (notes.txt) is harmless and never offered a signed rejection', () => {
    const dup = classifyRefusal('DUPLICATE_ENVELOPE', true);
    const notes = classifyRefusal('MALFORMED', false);
    for (const c of [dup, notes]) {
      expect(c.class).toBe('harmless');
      expect(c.offerSignedRejection).toBe(false);
    }
  });

  it('another envelope of a share already held, or a Custos message of another kind, is harmless too', () => {
    expect(classifyRefusal('DUPLICATE_SHARE', true)).toMatchObject({ class: 'harmless', offerSignedRejection: false });
    expect(classifyRefusal('WRONG_TYPE', true)).toMatchObject({ class: 'harmless', offerSignedRejection: false });
  });

  it('an import result: refused ones get a class, and bytes that begin like a frame (a truncated envelope) are not noise', () => {
    const frameStart = Uint8Array.of(0xa5, 0x61, 0x62, 0x59, 0x05);
    const notes = new TextEncoder().encode('Lunch on Friday.');
    expect(looksLikeCustosFrame(frameStart)).toBe(true);
    expect(looksLikeCustosFrame(notes)).toBe(false);
    expect(looksLikeCustosFrame('a5 61 62')).toBe(false);
    expect(classifyImportResult({ outcome: 'accepted', kind: 'envelope' }, frameStart)).toBeUndefined();
    expect(classifyImportResult({ outcome: 'refused', code: 'MALFORMED', kind: 'other' }, frameStart)?.class).toBe('possible-attack');
    expect(classifyImportResult({ outcome: 'refused', code: 'MALFORMED', kind: 'other' }, notes)?.class).toBe('harmless');
    expect(classifyImportResult({ outcome: 'refused', code: 'SIGNATURE_INVALID', kind: 'supersede' }, notes)?.class).toBe('possible-attack');
    expect(classifyImportResult({ outcome: 'refused', code: 'EXPIRED', kind: 'envelope', share: {} }, frameStart)?.class).toBe('not-for-you-or-outdated');
  });
});
