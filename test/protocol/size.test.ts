/**
 * Byte budget: an EdDSA recovery export (a secret record of about 70 bytes) must fit one QR code at
 * error-correction level M, which holds at most 2331 bytes in binary mode (version 40).
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../shared/bytes';
import { generateAgeKeyPair, sealTo } from '../../shared/crypto/seal';
import {
  custodianIdentityFingerprint,
  makeApproval,
  makeRecoveryExport,
  makeRecoveryRequest,
  openEnvelope,
  openRecoveryRequest,
  recoveryExportSchema,
  sealMessage,
  type SessionDetails,
} from '../../shared/protocol';
import { at } from '../vectors/build';
import { makeWorld, NOW } from './helpers';

const QR_LEVEL_M_BINARY_BYTES = 2331;

describe('an EdDSA recovery export fits one QR code at level M', () => {
  it('with a 70-byte secret record', async () => {
    const w = await makeWorld({ secret: randomBytes(70) });
    const c = at(w.custodians, 0);
    const me = custodianIdentityFingerprint(c);
    const env = await openEnvelope(at(w.backup.envelopes, 0).bytes, w.agent.signing.publicKey, { fingerprint: me, ageIdentity: c.age.identity }, NOW);
    const sessionKey = await generateAgeKeyPair();
    const session: SessionDetails = {
      session_id: randomBytes(16),
      incident_id: 'INC-2026-0042',
      key_id: 'key-1',
      node_id: 'node-1',
      set_id: w.backup.manifest.set_id,
      epoch: 1,
      mode: 'external-only',
      not_after: NOW + 3600,
    };
    const approvals = w.approvers.map((a) => makeApproval({ session, approver_name: a.name, approved_at: NOW }, a.signing));
    const request = makeRecoveryRequest({ session, approvals, recipient: sessionKey.recipient, manifest: w.backup.manifestBytes, created_at: NOW }, w.agent.signing);
    const req = openRecoveryRequest(request, w.agent.signing.publicKey, NOW);
    const exported = await makeRecoveryExport(req, env.envelope.body.share_index, env.share, { signing: c.signing, fingerprint: me }, NOW + 60);
    console.log(`EdDSA recovery export (70-byte secret record): ${String(exported.length)} bytes of ${String(QR_LEVEL_M_BINARY_BYTES)} (QR level M, binary)`);
    expect(exported.length).toBeLessThanOrEqual(QR_LEVEL_M_BINARY_BYTES);
  });

  it('even with every field at its longest (128-character key and node ids, largest epoch and time)', async () => {
    const custodian = await makeWorld({ secret: randomBytes(70) });
    const sessionKey = await generateAgeKeyPair();
    const payload = await sealTo(sessionKey.recipient, randomBytes(71));
    const exported = sealMessage(
      'recovery-export',
      recoveryExportSchema,
      {
        session_id: randomBytes(16),
        request_hash: randomBytes(32),
        key_id: 'k'.repeat(128),
        node_id: 'n'.repeat(128),
        set_id: randomBytes(16),
        epoch: 2 ** 32 - 1,
        share_index: 255,
        payload,
        created_at: 2 ** 40,
      },
      at(custodian.custodians, 0).signing,
    );
    console.log(`EdDSA recovery export, longest fields: ${String(exported.length)} bytes of ${String(QR_LEVEL_M_BINARY_BYTES)}`);
    expect(exported.length).toBeLessThanOrEqual(QR_LEVEL_M_BINARY_BYTES);
  });
});
