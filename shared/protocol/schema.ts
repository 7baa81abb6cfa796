/**
 * zod building blocks for every Custos message body (docs/protocol.md §4). Field rules live here
 * once, so a key_id is checked the same way in a manifest, a receipt and a recovery request.
 */
import { z } from 'zod';
import { CustosError } from '../errors';

export const bytes = (length?: number) =>
  z.custom<Uint8Array>(
    (v) => v instanceof Uint8Array && (length === undefined || v.length === length),
    length === undefined ? 'expected bytes' : `expected ${String(length)} bytes`,
  );

export const boundedBytes = (max: number) =>
  z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.length > 0 && v.length <= max, `expected 1..${String(max)} bytes`);

/** Identifiers that also name files on disk: no separators, no dot-only names. */
export const identifier = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'letters, digits and . _ : - only, starting with a letter or digit');

/** Seconds since the Unix epoch (UTC). */
export const timestamp = z.number().int().min(0).max(2 ** 40);

export const fingerprint = bytes(32);
export const publicKey = bytes(32);
export const sha256Digest = bytes(32);
export const setId = bytes(16);
export const sessionId = bytes(16);
export const epoch = z.number().int().min(1).max(2 ** 32 - 1);
export const shareIndex = z.number().int().min(1).max(255);
export const curve = z.enum(['secp256k1', 'ed25519']);
export type Curve = z.infer<typeof curve>;
export const recoveryMode = z.enum(['mixed', 'external-only']);
export type RecoveryMode = z.infer<typeof recoveryMode>;

/** An age X25519 recipient (`age1...`, Bech32, lower case). */
export const ageRecipient = z.string().regex(/^age1[02-9ac-hj-np-z]{58}$/, 'an age X25519 recipient (age1...)');

function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** A human label (a name on a card): 1..200 characters, no control characters. */
export const label = z.string().min(1).max(200).refine((s) => !hasControl(s), 'must not contain control characters');

/** Characters an incident title may not hold: controls, line/paragraph separators, bidirectional overrides and isolates. */
const TITLE_FORBIDDEN = /[\p{Cc}\p{Zl}\p{Zp}\u202A-\u202E\u2066-\u2069]/u;
/** The most characters (Unicode code points) an incident title has. */
export const MAX_INCIDENT_TITLE = 200;

/**
 * A free-text incident title (docs/protocol.md §4.5, issue 13), any script: 1..200 characters
 * (code points) in Unicode NFC, no control characters, line separators or bidirectional controls
 * (it is shown to approvers and custodians to compare, so its text must read as it is stored), no
 * white space at either end. Decoding refuses a title that is not already NFC instead of
 * normalising it, so the signed bytes are the one spelling; a maker normalises first
 * (`normalizeIncidentTitle`).
 */
export const incidentTitle = z
  .string()
  .refine((s) => s === s.normalize('NFC'), 'must be in Unicode NFC')
  .refine((s) => {
    const n = Array.from(s).length;
    return n >= 1 && n <= MAX_INCIDENT_TITLE;
  }, `must be 1 to ${String(MAX_INCIDENT_TITLE)} characters`)
  .refine((s) => !TITLE_FORBIDDEN.test(s), 'must not contain control characters, line separators or bidirectional controls')
  .refine((s) => s.trim() === s, 'must not start or end with white space');

/** What a person typed as an incident title, in the form the protocol accepts (NFC, trimmed); the schema still checks it. */
export const normalizeIncidentTitle = (typed: string): string => typed.normalize('NFC').trim();

/** Turns a zod failure into a MALFORMED error that names the field and never echoes its value. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
  throw new CustosError('MALFORMED', `The ${what} is not valid: field "${path}" ${issue?.message ?? 'is wrong'}.`, {
    details: { field: path },
  });
}
