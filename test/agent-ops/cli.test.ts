// The agent CLI's commands for issue 5, in this process through its `main`: inventory challenge,
// submit and status; soft delete, a deletion request signed by two approvers with `approver sign
// --deletion` (approver keys made on "other machines"), the hard delete refused during the
// cooling-off period, rollback; settings. Real time (the CLI's clock): the cooling-off period is
// never over here, the clock-driven cases are in deletion.test.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileHash } from '../../shared/crypto/hash';
import { provePossession } from '../../shared/crypto/possession';
import { custodianIdentityFingerprint, makeAttestation, openChallenge } from '../../shared/protocol';
import { agentKeyOf, approver, approverCode, approverJson, APPROVER_TEST_KDF, cli, cliJson, FIXTURE, makeCustodians, openEnvelopes, removeTempDirs, tempDir, writeReceipt, type Custodian, type Held } from '../agent-cli/helpers';

afterAll(removeTempDirs);

const data = tempDir('custos-ops-data-');
const work = tempDir('custos-ops-work-');
const machineA = tempDir('custos-approver-a-');
const machineB = tempDir('custos-approver-b-');
const D = ['--data', data];
const KN = ['--key-id', 'key-1', '--node-id', 'node-0'];
let custodians: Custodian[] = [];
let held: Held[] = [];

/** The custodian app's answer to a challenge file: a proof for each share it holds (or a forged one). */
function answer(challengeFile: string, h: Held, forge?: Uint8Array): string {
  const now = Math.floor(Date.now() / 1000);
  const opened = openChallenge(new Uint8Array(readFileSync(challengeFile)), agentKeyOf(data), custodianIdentityFingerprint(h.custodian.identity), now);
  const hash = fileHash(opened.bytes);
  const items = opened.body.items.map((i) => ({ ...i, status: 'held' as const, proof: provePossession(hash, { setId: i.set_id, epoch: i.epoch }, i.share_index, forge ?? h.share) }));
  const file = `${challengeFile}.attestation`;
  writeFileSync(file, makeAttestation({ challenge_id: opened.body.challenge_id, challenge_hash: hash, items, answered_at: now }, h.custodian.identity.signing));
  return file;
}

beforeAll(async () => {
  expect((await cli('init', ...D)).code).toBe(0);
  custodians = await makeCustodians(work, 3);
  for (const [i, c] of custodians.entries()) expect((await cli('custodian', 'add', ...D, '--card', c.cardFile, '--label', `Custodian ${String(i + 1)}`, '--role', 'cold-storage', '--confirm-code', c.code)).code).toBe(0);
  for (const [dir, name] of [
    [machineA, 'Alice (security)'],
    [machineB, 'Bob (compliance)'],
  ] as const) {
    expect((await approver('keygen', '--out', dir, '--name', name, ...APPROVER_TEST_KDF)).code).toBe(0);
    expect((await cli('approver', 'add', ...D, '--card', join(dir, 'approver.card'), '--confirm-code', approverCode(join(dir, 'approver.card')))).code).toBe(0);
  }
  expect((await cli('keyshare', 'import', ...D, ...KN, '--keydata', FIXTURE)).code).toBe(0);
  const backup = await cliJson('backup', ...D, ...KN, '--custodians', custodians.map((c) => c.fingerprint.slice(0, 8)).join(','), '--out', join(work, 'out'));
  expect(backup.code, backup.stderr).toBe(0);
  const b = backup.json['backup'] as { envelopes: { shareIndex: number; custodian: string; file: string }[] };
  held = await openEnvelopes(data, custodians, b.envelopes);
  for (const h of held) {
    expect((await cli('delivery', 'request', ...D, ...KN, '--share-index', String(h.shareIndex))).code).toBe(0);
    expect((await cli('delivery', 'confirm', ...D, '--receipt', writeReceipt(join(work, `r${String(h.shareIndex)}.cbor`), 'key-1', 'node-0', h))).code).toBe(0);
  }
});

describe('agent CLI: inventory', () => {
  it('challenges custodians, takes their attestations (exit 3 when a proof fails), and reports per node and per custodian', async () => {
    const c1 = join(work, 'challenge-1.cbor');
    const issued = await cliJson('inventory', 'challenge', ...D, '--custodian', custodians[0]!.fingerprint.slice(0, 10), '--out', c1);
    expect(issued.code, issued.stderr).toBe(0);
    expect(issued.json['challenge']).toMatchObject({ custodian: custodians[0]!.fingerprint, items: [{ keyId: 'key-1', nodeId: 'node-0', shareIndex: 3 }], file: c1 });
    expect(JSON.stringify(issued.json)).not.toMatch(/"challenge":\{"0"/); // the bytes stay in the file
    const again = await cli('inventory', 'challenge', ...D, '--custodian', custodians[0]!.fingerprint, '--out', c1);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists already.*\(CONFLICT\)/);

    const ok = await cli('inventory', 'submit', ...D, answer(c1, held[0]!));
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^Custodian 1: 1 proven, 0 missing, 0 bad proof, 0 not answered/m);

    const c2 = join(work, 'challenge-2.cbor');
    expect((await cli('inventory', 'challenge', ...D, '--custodian', custodians[1]!.fingerprint, '--out', c2)).code).toBe(0);
    const bad = await cli('inventory', 'submit', ...D, answer(c2, held[1]!, held[0]!.share));
    expect(bad.code).toBe(3);
    expect(bad.stdout).toMatch(/bad-proof\s+key-1 \/ node-0 share 4 \(epoch 1\)/);

    const node = await cliJson('inventory', 'status', ...D, ...KN);
    expect(node.code).toBe(3); // a failed proof
    expect(node.json['inventory']).toMatchObject({ serverSharesHeld: 2, externalConfirmed: 3, externalAttested: 1, externalFailed: 1, recoverable: true, overdueCustodians: [] });
    const text = await cli('inventory', 'status', ...D, ...KN);
    expect(text.stdout).toMatch(/^key-1 \/ node-0 \(epoch 1\): recoverable from proven shares$/m);
    expect(text.stdout).toMatch(/^\s+SHARE\s+CUSTODIAN\s+DELIVERY\s+LAST PROVEN\s+LAST RESULT\s+STATE$/m);
    expect(text.stdout).toMatch(/^\s+4\s+Custodian 2\s+confirmed\s+never\s+bad-proof\s+FAILED$/m);
    const all = await cli('inventory', 'status', ...D);
    expect(all.code).toBe(0);
    expect(all.stdout.split('\n')[0]).toMatch(/^CUSTODIAN\s+LABEL\s+SHARES\s+ATTESTED\s+LAST CHALLENGE\s+ANSWERED\s+LAST PROVEN\s+OVERDUE$/);
    expect(all.stdout).toMatch(/1 of 1 backed-up node\(s\) recoverable from proven shares; 0 custodian\(s\) overdue\./);
    const status = await cliJson('status', ...D, ...KN);
    expect(status.json['status']).toMatchObject({ inventory: { externalAttested: 1, externalFailed: 1, recoverable: true, overdueCustodians: [] }, zeroRetention: false });
    expect((await cli('status', ...D, ...KN)).stdout).toMatch(/inventory\s+1 external share\(s\) proven lately, recoverable from proven shares, 1 missing or badly proven/);
  });
});

describe('agent CLI: deletion with two approvers, settings', () => {
  it('soft-deletes, asks for a hard delete that two approvers sign on their machines, refuses it during the cooling-off period, rolls back', async () => {
    const soft = await cli('delete', 'soft', ...D, ...KN, '--operator', 'ops-alice');
    expect(soft.code, soft.stderr).toBe(0);
    expect(soft.stdout).toMatch(/^2 server share\(s\) of key-1 \/ node-0 soft-deleted/);
    const detailsFile = join(work, 'deletion.cbor');
    const req = await cliJson('delete', 'request', ...D, ...KN, '--out', detailsFile);
    expect(req.code, req.stderr).toBe(0);
    const deletion = req.json['deletion'] as { deletionId: string; purpose: string; blockers: { code: string }[] };
    expect(deletion).toMatchObject({ purpose: 'zero-retention', shareIndexes: [1, 2], state: 'awaiting-approvals' });
    expect(deletion.blockers.map((b) => b.code)).toEqual(['COOLING_OFF', 'APPROVAL_REQUIRED', 'DRILL_REQUIRED']);

    // On the approvers' machines: read first (nothing signed without --yes), then sign.
    const look = await approver('sign', '--key', join(machineA, 'approver.key'), '--deletion', detailsFile, '--out', join(machineA, 'd.cbor'));
    expect(look.code).toBe(1);
    expect(look.stdout).toMatch(/^Deletion to approve/);
    expect(look.stdout).toMatch(/action\s+DESTROY server-retained backup shares \(cannot be undone\)/);
    expect(look.stdout).toMatch(/purpose\s+zero retention: afterwards the server keeps NO share/);
    expect(look.stdout).toMatch(/shares\s+1, 2/);
    expect(look.stderr).toMatch(/to approve exactly this deletion, run again with --yes\. \(CONFIRMATION_REQUIRED\)/);
    const files: string[] = [];
    for (const dir of [machineA, machineB]) {
      const signed = await approverJson('sign', '--key', join(dir, 'approver.key'), '--deletion', detailsFile, '--out', join(dir, 'd.cbor'), '--yes');
      expect(signed.code, signed.stderr).toBe(0);
      expect(signed.json['deletion']).toMatchObject({ deletionId: deletion.deletionId, purpose: 'zero-retention', shareIndexes: [1, 2] });
      files.push(join(dir, 'd.cbor'));
    }
    // --session takes a deletion's details file too (the kind is read from the file).
    const viaSession = await approver('sign', '--key', join(machineA, 'approver.key'), '--session', detailsFile, '--out', join(machineA, 'd2.cbor'), '--yes');
    expect(viaSession.code, viaSession.stderr).toBe(0);

    const id = deletion.deletionId.slice(0, 8);
    const approved = await cliJson('delete', 'approve', ...D, '--deletion-id', id, '--approval', files[0]!, '--approval', files[1]!);
    expect(approved.code, approved.stderr).toBe(0);
    const approvedView = approved.json['deletion'] as { state: string; approvals: { name: string }[] };
    expect(approvedView.state).toBe('approved');
    expect(approvedView.approvals.map((a) => a.name).sort()).toEqual(['Alice (security)', 'Bob (compliance)']);
    const twice = await cli('delete', 'approve', ...D, '--deletion-id', id, '--approval', join(machineA, 'd2.cbor'));
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/^error: Alice \(security\) has approved this deletion already; .+\(DUPLICATE_APPROVER\)$/m);

    const purge = await cli('delete', 'purge', ...D, '--deletion-id', id);
    expect(purge.code).toBe(1);
    expect(purge.stderr).toMatch(/cooling-off period until .* \(COOLING_OFF\)$/m);
    const show = await cli('delete', 'show', ...D, '--deletion-id', id);
    expect(show.stdout).toMatch(/^Deletion [0-9a-f]{32}: approved$/m);
    expect(show.stdout).toMatch(/waiting: .*\(COOLING_OFF\)/);
    expect(show.stdout).toMatch(/waiting: Zero retention needs a passed external-only recovery drill .*\(DRILL_REQUIRED\)/);
    expect((await cli('shares', ...D, ...KN)).stdout).toMatch(/\s1\s+soft-deleted\s/);

    const rollback = await cli('delete', 'rollback', ...D, ...KN, '--operator', 'ops-bob');
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(rollback.stdout).toMatch(/^2 server share\(s\) of key-1 \/ node-0 restored\./);
    const list = await cliJson('delete', 'list', ...D);
    expect(list.json['deletions']).toMatchObject([{ deletionId: deletion.deletionId, state: 'cancelled' }]);
    expect((await cliJson('status', ...D, ...KN)).json['status']).toMatchObject({ serverSharesHeld: 2, serverSharesSoftDeleted: 0 });
    const audit = await cli('audit', 'show', ...D, '--limit', '1000');
    expect(audit.stdout).toMatch(/delete\/soft-delete\s+ok\s+key-1\/node-0\s+share 1\s+ops-alice/);
    expect(audit.stdout).toMatch(/delete\/approval-add\s+ok/);
    expect(audit.stdout).toMatch(/delete\/hard-delete\s+refused/);
    expect(audit.stdout).toMatch(/rollback\/restore\s+ok\s+key-1\/node-0\s+share 2\s+ops-bob/);
  });

  it('shows and changes settings, with durations people type', async () => {
    const show = await cliJson('settings', 'show', ...D);
    expect(show.json['settings']).toEqual({ deletionCoolingSeconds: 604800, inventoryMaxAgeSeconds: 7776000, inventoryChallengeTtlSeconds: 604800 });
    const set = await cliJson('settings', 'set', ...D, '--deletion-cooling', '3d', '--inventory-max-age', '2160h', '--operator', 'sec-carol');
    expect(set.code, set.stderr).toBe(0);
    expect(set.json['settings']).toMatchObject({ deletionCoolingSeconds: 3 * 86400, inventoryMaxAgeSeconds: 90 * 86400 });
    expect((await cli('settings', 'show', ...D)).stdout).toMatch(/deletion cooling-off\s+3 day\(s\)/);
    const bad = await cli('settings', 'set', ...D, '--deletion-cooling', 'soon');
    expect(bad.code).toBe(2);
    const tooShort = await cli('settings', 'set', ...D, '--deletion-cooling', '5m');
    expect(tooShort.code).toBe(1);
    expect(tooShort.stderr).toMatch(/deletionCoolingSeconds is whole seconds from 3600/);
  });
});
