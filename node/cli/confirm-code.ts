/**
 * The read-aloud comparison code, checked on the side that registers a card (issue 12: the
 * comparison must not be one-sided). The code shown by the card's owner (custodian app, approver
 * program) is read out over a separate channel and typed here, by `--confirm-code "…"` or at a
 * prompt when stdin is a terminal. This side never prints the card's code before it was typed,
 * so the comparison cannot become copy-paste of what the (possibly swapped) card itself says.
 */
import { timingSafeEqual } from 'node:crypto';
import { createInterface } from 'node:readline/promises';
import { CliError } from './errors';

/** Digits only: "1234 5678 …", "1234-5678…" and "12345678…" compare equal. */
export const codeDigits = (code: string): string => code.replace(/[\s-]/g, '');

/** True when `typed` is the same 24-digit code as `expected`, compared in constant time. */
export function sameCode(expected: string, typed: string): boolean {
  const a = Buffer.from(codeDigits(expected), 'utf8');
  const b = Buffer.from(codeDigits(typed), 'utf8');
  return /^[0-9]{24}$/.test(codeDigits(typed)) && a.length === b.length && timingSafeEqual(a, b);
}

async function prompt(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

/**
 * Refuses unless the person typed the card's code as its owner read it out: CONFIRMATION_REQUIRED
 * when no code was given and stdin is no terminal, CODE_MISMATCH when it differs. `who` names the
 * card's owner in the sentences ("the custodian"), `where` where they read it ("on their screen").
 */
export async function requireConfirmCode(cardCode: string, typed: string | undefined, who: string, where: string, stdinIsTty: boolean = process.stdin.isTTY): Promise<void> {
  let given = typed;
  if (given === undefined) {
    if (!stdinIsTty) {
      throw new CliError(
        'CONFIRMATION_REQUIRED',
        `Ask ${who} to read out the comparison code shown ${where}, over a separate channel (phone, in person), and run again with --confirm-code "…" typed from what they read. This card's code is not printed here: it must come from them.`,
      );
    }
    given = await prompt(`Comparison code as ${who} reads it out ${where}: `);
  }
  if (!sameCode(cardCode, given)) {
    throw new CliError('CODE_MISMATCH', `The code typed does not match this card. Nothing was registered. Do not use this card: ask ${who} to read the code out again, and if it still differs, report it to security (the card may have been swapped).`);
  }
}
