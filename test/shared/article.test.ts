// Sentences that name a kind of file from a variable take the right article (issue 13: no "a agent").
import { describe, expect, it } from 'vitest';
import { aOrAn } from '../../shared/article';
import { openAgentCard, openApproverCard } from '../../shared/protocol';
import { makeAgent } from '../custodian/helpers';

describe('articles', () => {
  it('an before a vowel, a before a consonant, through an opening quote', () => {
    expect(aOrAn('agent card')).toBe('an agent card');
    expect(aOrAn('inventory challenge')).toBe('an inventory challenge');
    expect(aOrAn('"envelope"')).toBe('an "envelope"');
    expect(aOrAn('share envelope')).toBe('a share envelope');
    expect(aOrAn('"receipt"')).toBe('a "receipt"');
  });

  it('a file of the wrong kind: "Expected an approver card but this file is an agent card."', () => {
    const agent = makeAgent();
    expect(() => openApproverCard(agent.card)).toThrow('Expected an approver card but this file is an agent card.');
    expect(() => openAgentCard(agent.card)).not.toThrow();
  });
});
