/** Issue 12: inbox refusals in three classes, attacks never advised to "ask the sender again". */
import { describe, expect, it } from 'vitest';
import { classifyRefusal } from '../../main/services/refusal-class';

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
});
