// Runs the whole protocol loop in the browser: identities, backup, envelope opening with age,
// receipts, a recovery session with approvals, exports and Shamir recombination. The result is
// published on `window.__custos` for the Playwright test to read, and shown on the page.
import { randomBytes, toHex } from '../../../shared/bytes';
import { combineShares } from '../../../shared/crypto/shamir';
import { generateAgeKeyPair } from '../../../shared/crypto/seal';
import { isCustosError } from '../../../shared/errors';
import { encodeFrames, FrameAssembler } from '../../../shared/qr/ur';
import { renderSvg } from '../../../shared/qr/render';
import {
  combineExpectation,
  createAgentIdentity,
  createApproverIdentity,
  createBackup,
  createCustodianIdentity,
  custodianIdentityFingerprint,
  makeApproval,
  makeCustodianCard,
  makeRecoveryExport,
  makeRecoveryRequest,
  openCustodianCard,
  openEnvelope,
  openRecoveryExport,
  openRecoveryRequest,
  type SessionDetails,
} from '../../../shared/protocol';

declare global {
  interface Window {
    __custos?: { ok: boolean; steps: string[]; frame?: string; error?: string };
  }
}

let firstFrame = '';

async function run(): Promise<string[]> {
  const steps: string[] = [];
  const now = Math.floor(Date.now() / 1000);
  const agent = createAgentIdentity('agent');
  const custodians = [await createCustodianIdentity('A'), await createCustodianIdentity('B'), await createCustodianIdentity('C')];
  const card = openCustodianCard(makeCustodianCard(custodians[0]!, now));
  steps.push(`card ${card.code}`);
  const secret = randomBytes(70);
  const backup = await createBackup(
    {
      keyId: 'k', nodeId: 'n', curve: 'ed25519', secret, publicContextHash: randomBytes(32), threshold: 3, total: 5, retain: 2,
      custodians: custodians.map((c) => ({ fingerprint: custodianIdentityFingerprint(c), ageRecipient: c.age.recipient })),
      setId: randomBytes(16), epoch: 1, now,
    },
    agent.signing,
  );
  steps.push(`backup ${String(backup.envelopes.length)} envelopes`);
  const shares = [];
  for (const [i, e] of backup.envelopes.entries()) {
    const c = custodians[i]!;
    const opened = await openEnvelope(e.bytes, agent.signing.publicKey, { fingerprint: custodianIdentityFingerprint(c), ageIdentity: c.age.identity }, now);
    shares.push({ c, index: opened.envelope.body.share_index, share: opened.share });
  }
  steps.push('envelopes opened');
  const sessionKey = await generateAgeKeyPair();
  const session: SessionDetails = { session_id: randomBytes(16), incident_id: 'INC-1', key_id: 'k', node_id: 'n', set_id: backup.manifest.set_id, epoch: 1, mode: 'external-only', not_after: now + 600 };
  const approvers = [createApproverIdentity('Alice'), createApproverIdentity('Bob')];
  const approvals = approvers.map((a) => makeApproval({ session, approver_name: a.name, approved_at: now }, a.signing));
  const req = openRecoveryRequest(makeRecoveryRequest({ session, approvals, recipient: sessionKey.recipient, manifest: backup.manifestBytes, created_at: now }, agent.signing), agent.signing.publicKey, now);
  const registered = custodians.map((c) => ({ signKey: c.signing.publicKey, ageRecipient: c.age.recipient }));
  const provided = [];
  for (const s of shares) {
    const exported = await makeRecoveryExport(req, s.index, s.share, { signing: s.c.signing, fingerprint: custodianIdentityFingerprint(s.c) }, now);
    // Through QR frames and back, as on the recovery station.
    const frames = encodeFrames(exported, { type: 'custos-recovery-export' });
    const assembler = new FrameAssembler({ type: 'custos-recovery-export' });
    for (const f of frames) assembler.add(f);
    const exp = assembler.result().payload;
    if (provided.length === 0) {
      const qr = document.getElementById('qr');
      firstFrame = frames[0] ?? '';
      if (qr) qr.innerHTML = await renderSvg(firstFrame, { scale: 4 });
      steps.push(`export ${String(exported.length)} bytes in ${String(frames.length)} QR frame(s)`);
    }
    const o = await openRecoveryExport(exp, req, registered, sessionKey.identity);
    provided.push({ index: o.shareIndex, share: o.share, setId: session.set_id, epoch: 1 });
  }
  const recovered = await combineShares(combineExpectation(backup.manifest), provided);
  if (toHex(recovered) !== toHex(secret)) throw new Error('recovered secret differs');
  steps.push('recovered');
  try {
    await combineShares(combineExpectation(backup.manifest), provided.slice(0, 2));
    throw new Error('below threshold accepted');
  } catch (e) {
    if (!isCustosError(e, 'BELOW_THRESHOLD')) throw e;
    steps.push('below threshold refused');
  }
  return steps;
}

const log = document.getElementById('log');
run().then(
  (steps) => {
    window.__custos = { ok: true, steps, frame: firstFrame };
    if (log) log.textContent = steps.join('\n') + '\nOK';
  },
  (error: unknown) => {
    window.__custos = { ok: false, steps: [], error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
    if (log) log.textContent = `FAILED: ${window.__custos.error ?? ''}`;
  },
);
