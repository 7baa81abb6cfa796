/**
 * The optional `incident_title` of the session details (docs/protocol.md §4.5, issue 13): any
 * script, 1..200 characters in NFC, no control characters; an approval is valid only for the same
 * title; a signed message with a bad title is refused on decode (not only when made); a reader that
 * does not know the field refuses it as MALFORMED.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { randomBytes } from '../../shared/bytes';
import { generateAgeKeyPair } from '../../shared/crypto/seal';
import { isCustosError } from '../../shared/errors';
import {
  approvalSchema,
  encodeCanonical,
  generateSigningKey,
  makeApproval,
  makeRecoveryRequest,
  MAX_INCIDENT_TITLE,
  normalizeIncidentTitle,
  openApproval,
  openMessage,
  openRecoveryRequest,
  PROTOCOL_VERSION,
  sessionDetailsSchema,
  signBytes,
  TRUST_SELF,
  type SessionDetails,
} from '../../shared/protocol';
import { makeWorld, NOW } from './helpers';

const TITLE = '交易所热钱包事故 2026/12';

const details = (extra: Partial<SessionDetails> = {}): SessionDetails => ({
  session_id: randomBytes(16),
  incident_id: 'INC-2026-0042',
  key_id: 'key-1',
  node_id: 'node-1',
  set_id: randomBytes(16),
  epoch: 1,
  mode: 'external-only',
  not_after: NOW + 3600,
  ...extra,
});

/** A correctly signed approval frame whose body skips the schema (what a foreign or hostile maker could send). */
function forgedApproval(body: Record<string, unknown>): Uint8Array {
  const key = generateSigningKey();
  const b = encodeCanonical(body);
  return encodeCanonical({ v: PROTOCOL_VERSION, t: 'approval', k: key.publicKey, b, s: signBytes('approval', b, key) });
}

const BAD: readonly (readonly [string, string])[] = [
  ['empty', ''],
  ['too long', 'x'.repeat(MAX_INCIDENT_TITLE + 1)],
  ['a control character', 'hot wallet\u0007incident'],
  ['a newline', 'hot wallet\nincident'],
  ['a line separator', 'hot wallet\u2028incident'],
  ['a bidirectional override', 'invoice\u202Egpj.exe'],
  ['a leading space', ' hot wallet'],
  ['not NFC (decomposed é)', 'cafe\u0301 outage'],
];

describe('incident_title in the session details', () => {
  it('an approval with a Chinese title round-trips and binds the title', () => {
    const approver = generateSigningKey();
    const session = details({ incident_title: TITLE });
    const bytes = makeApproval({ session, approver_name: 'Alice (security)', approved_at: NOW }, approver);
    const opened = openApproval(bytes, session, [approver.publicKey]);
    expect(opened.body.session.incident_title).toBe(TITLE);
    // The same details with another title, or with none, are other details.
    for (const other of [{ ...session, incident_title: '交易所热钱包事故 2026/11' }, (({ incident_title: _t, ...rest }) => rest)(session)]) {
      expect(() => openApproval(bytes, other, [approver.publicKey])).toThrow(expect.objectContaining({ code: 'SESSION_MISMATCH' }) as Error);
    }
    // And an approval without a title does not approve a titled session.
    const { incident_title: _drop, ...untitled } = session;
    const plain = makeApproval({ session: untitled, approver_name: 'Alice (security)', approved_at: NOW }, approver);
    expect(() => openApproval(plain, session)).toThrow(expect.objectContaining({ code: 'SESSION_MISMATCH' }) as Error);
    expect(openApproval(plain, untitled).body.session.incident_title).toBeUndefined();
  });

  it('exactly 200 characters of any script are accepted (counted in code points, not UTF-16 units)', () => {
    const approver = generateSigningKey();
    // 𝔸 is one character and two UTF-16 units: 200 of them are 400 units and still a valid title.
    for (const title of ['事'.repeat(MAX_INCIDENT_TITLE), '𝔸'.repeat(MAX_INCIDENT_TITLE), 'Ålesund-Störung №7 — Ωμέγα']) {
      const session = details({ incident_title: title });
      expect(openApproval(makeApproval({ session, approver_name: 'A', approved_at: NOW }, approver), session).body.session.incident_title).toBe(title);
    }
  });

  it.each(BAD)('refuses a title with %s when made (MALFORMED naming the field)', (_what, title) => {
    const approver = generateSigningKey();
    expect(() => makeApproval({ session: details({ incident_title: title }), approver_name: 'A', approved_at: NOW }, approver)).toThrow(
      expect.objectContaining({ code: 'MALFORMED', details: { field: 'session.incident_title' } }) as Error,
    );
  });

  it.each(BAD)('refuses a signed approval whose title has %s when opened', (_what, title) => {
    const session = details({ incident_title: title });
    const bytes = forgedApproval({ session, approver_name: 'A', approved_at: NOW });
    let error: unknown;
    try {
      openApproval(bytes, session);
    } catch (e) {
      error = e;
    }
    expect(isCustosError(error, 'MALFORMED')).toBe(true);
    expect(isCustosError(error) && error.details['field']).toBe('session.incident_title');
    // The sentence names the field and never echoes the text.
    expect(isCustosError(error) && error.message).not.toContain(title === '' ? '\u0000' : title);
  });

  it('normalizeIncidentTitle gives the accepted spelling of what a person typed', () => {
    expect(normalizeIncidentTitle('  cafe\u0301 outage \n')).toBe('caf\u00e9 outage');
    expect(sessionDetailsSchema.safeParse(details({ incident_title: normalizeIncidentTitle(' cafe\u0301 ') })).success).toBe(true);
  });

  it('a recovery request carries the title, and its approvals must be over the same title', async () => {
    const w = await makeWorld();
    const key = await generateAgeKeyPair();
    const session: SessionDetails = { ...details({ incident_title: TITLE }), set_id: w.backup.manifest.set_id };
    const approvers = w.approvers.map((a) => a.signing.publicKey);
    const sign = (s: SessionDetails) => w.approvers.map((a) => makeApproval({ session: s, approver_name: a.name, approved_at: NOW }, a.signing));
    const request = (approvals: Uint8Array[]) =>
      makeRecoveryRequest({ session, approvals, recipient: key.recipient, manifest: w.backup.manifestBytes, created_at: NOW }, w.agent.signing);
    const opened = openRecoveryRequest(request(sign(session)), w.agent.signing.publicKey, NOW, approvers);
    expect(opened.session.incident_title).toBe(TITLE);
    const [first, second] = sign(session) as [Uint8Array, Uint8Array];
    const otherTitle = sign({ ...session, incident_title: '另一起事故' })[1] as Uint8Array;
    expect(() => openRecoveryRequest(request([first, otherTitle]), w.agent.signing.publicKey, NOW, approvers)).toThrow(
      expect.objectContaining({ code: 'SESSION_MISMATCH' }) as Error,
    );
    expect(openRecoveryRequest(request([first, second]), w.agent.signing.publicKey, NOW, approvers).approvals).toHaveLength(2);
  });

  it('a reader that does not know the field (the strict schema before it) refuses a titled approval as MALFORMED', () => {
    const approver = generateSigningKey();
    const titled = makeApproval({ session: details({ incident_title: TITLE }), approver_name: 'A', approved_at: NOW }, approver);
    const olderSchema = z.strictObject({ ...approvalSchema.shape, session: sessionDetailsSchema.omit({ incident_title: true }) });
    expect(() => openMessage(titled, 'approval', olderSchema, TRUST_SELF)).toThrow(expect.objectContaining({ code: 'MALFORMED', details: { field: 'session' } }) as Error);
    // The same older reader opens an untitled approval made today: its bytes have no new field.
    const { incident_title: _t, ...plain } = details({ incident_title: TITLE });
    expect(openMessage(makeApproval({ session: plain, approver_name: 'A', approved_at: NOW }, approver), 'approval', olderSchema, TRUST_SELF).body.session.incident_id).toBe('INC-2026-0042');
  });
});
