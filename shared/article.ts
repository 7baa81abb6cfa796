/**
 * "a" or "an" before an English noun phrase, by its first letter (after an opening quote): "an
 * agent card", "a share envelope", 'an "envelope"'. For the sentences that name a kind of file or
 * command from a variable (issue 13: no "a agent"). Pure: no Node, no DOM.
 */
export const aOrAn = (phrase: string): string => `${/^["'“]?[aeiou]/i.test(phrase) ? 'an' : 'a'} ${phrase}`;
