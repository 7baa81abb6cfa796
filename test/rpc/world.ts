/**
 * A real agent for the RPC tests: the core's `Agent` (agent/service.ts) in a temporary data
 * directory, with the tss-lib ECDSA fixture imported as key-1/node-1, three registered
 * custodians, two approvers and a 3-of-5 backup (the server keeps shares 1 and 2). The
 * custodians and approvers are played here with the protocol core, as their own apps would.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, readApiToken } from '../../agent/service';
import type { BackupResult, ImportResult } from '../../agent/api';
import type { AgentOps } from '../../agent/rpc/ops';
import { agentOps } from '../../agent/rpc/agent-ops';
import { toHex } from '../../shared/bytes';
import type { RecoveryMode } from '../../shared/protocol/schema';
import { decodeCanonical, encodeCanonical } from '../../shared/protocol/cbor';
import {
  createApproverIdentity,
  createCustodianIdentity,
  custodianIdentityFingerprint,
  makeApproval,
  makeApproverCard,
  makeCustodianCard,
  makeReceipt,
  makeRecoveryExport,
  openEnvelope,
  openRecoveryRequest,
  type ApproverIdentity,
  type CustodianIdentity,
  type RejectionReason,
} from '../../shared/protocol';

export const FIXTURES = new URL('../fixtures/tss-lib/', import.meta.url);
export const fixture = (curve: 'ecdsa' | 'eddsa', party: number): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`${curve}/keygen_data_${String(party)}.json`, FIXTURES)));

const sec = (): number => Math.floor(Date.now() / 1000);

export interface World {
  readonly dir: string;
  readonly agent: Agent;
  readonly token: string;
  readonly imported: ImportResult;
  readonly backup: BackupResult;
  readonly custodians: readonly CustodianIdentity[];
  readonly approvers: readonly ApproverIdentity[];
  /** The share index's custodian (external shares 3, 4, 5 go to custodians 0, 1, 2). */
  custodianOf(shareIndex: number): CustodianIdentity;
  /** The envelope file the backup wrote for an external share. */
  envelope(shareIndex: number): Uint8Array;
  /** The custodian of `shareIndex` opens its envelope and signs a receipt. */
  receipt(shareIndex: number, reject?: RejectionReason): Promise<Uint8Array>;
  /** Opens a session, has both approvers sign it, issues the recovery request: what the CLI does. */
  /** `incidentTitle`: the session's free-text title (issue 13), signed in its details. */
  openApprovedSession(mode: RecoveryMode, incident?: string, incidentTitle?: string): Promise<string>;
  /** The share the custodian of `shareIndex` holds, from its opened envelope. */
  heldShare(shareIndex: number): Promise<Uint8Array>;
  /** The custodian of `shareIndex` exports its share for a session. */
  exportFor(sessionId: string, shareIndex: number): Promise<Uint8Array>;
  close(): void;
}

export async function createWorld(options: { keyId?: string; nodeId?: string; deletionCooldownMs?: number } = {}): Promise<World> {
  const keyId = options.keyId ?? 'key-1';
  const nodeId = options.nodeId ?? 'node-1';
  const dir = mkdtempSync(join(tmpdir(), 'custos-rpc-'));
  const data = join(dir, 'data');
  await Agent.init(data, { operator: 'rpc-test' });
  const agent = await Agent.open(data, { operator: 'rpc-test', recoveryRateLimit: false, ...(options.deletionCooldownMs === undefined ? {} : { deletionCooldownMs: options.deletionCooldownMs }) });
  try {
    const imported = await agent.importKeyshare(keyId, nodeId, fixture('ecdsa', 0));
    const custodians: CustodianIdentity[] = [];
    const roles = ['security-team', 'independent-custodian', 'cold-storage'] as const;
    for (const role of roles) {
      const c = await createCustodianIdentity(`Custodian ${role}`);
      custodians.push(c);
      await agent.addCustodian(makeCustodianCard(c, sec()), `Custodian ${role}`, role);
    }
    const approvers = [createApproverIdentity('Alice (security)'), createApproverIdentity('Bob (business owner)')];
    for (const a of approvers) await agent.addApprover(makeApproverCard(a, sec()));
    const backup = await agent.backup(keyId, nodeId, {}, custodians.map((c) => toHex(custodianIdentityFingerprint(c))), join(dir, 'out'), { qr: false });
    const byIndex = new Map(backup.envelopes.map((e, i) => [e.shareIndex, { file: e.file, custodian: custodians[i]! }]));
    const slot = (i: number) => {
      const s = byIndex.get(i);
      if (!s) throw new Error(`share ${String(i)} is not external`);
      return s;
    };
    const envelope = (i: number) => new Uint8Array(readFileSync(slot(i).file));
    const opened = (i: number) => {
      const c = slot(i).custodian;
      return openEnvelope(envelope(i), agent.publicKey, { fingerprint: custodianIdentityFingerprint(c), ageIdentity: c.age.identity }, sec());
    };

    return {
      dir,
      agent,
      token: readApiToken(data),
      imported,
      backup,
      custodians,
      approvers,
      custodianOf: (i) => slot(i).custodian,
      envelope,
      receipt: async (i, reject) => {
        const env = await opened(i);
        const m = env.manifest.body;
        return makeReceipt(
          {
            envelope_hash: env.hash,
            key_id: m.key_id,
            node_id: m.node_id,
            set_id: m.set_id,
            epoch: m.epoch,
            share_index: i,
            status: reject ? 'rejected' : 'accepted',
            ...(reject ? { reason: reject } : {}),
            received_at: sec(),
          },
          slot(i).custodian.signing,
        );
      },
      openApprovedSession: async (mode, incident = 'INC-2026-0042', incidentTitle) => {
        const s = await agent.openSession({ incidentId: incident, ...(incidentTitle === undefined ? {} : { incidentTitle }), keyId, nodeId, mode });
        for (const a of approvers) await agent.addApproval(s.session.sessionId, makeApproval({ session: s.details, approver_name: a.name, approved_at: sec() }, a.signing));
        await agent.recoveryRequest(s.session.sessionId);
        return s.session.sessionId;
      },
      heldShare: async (i) => (await opened(i)).share,
      exportFor: async (sessionId, i) => {
        const req = openRecoveryRequest(await agent.recoveryRequest(sessionId), agent.publicKey, sec());
        const env = await opened(i);
        const c = slot(i).custodian;
        return makeRecoveryExport(req, i, env.share, { signing: c.signing, fingerprint: custodianIdentityFingerprint(c) }, sec());
      },
      close: () => {
        agent.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    agent.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** AgentOps over the world's Agent that records every call (to prove refused calls never reach it). */
export function recordingOps(ops: AgentOps): { ops: AgentOps; calls: string[] } {
  const calls: string[] = [];
  const wrapped = Object.fromEntries(
    Object.entries(ops).map(([name, fn]) => [
      name,
      (...args: unknown[]) => {
        calls.push(name);
        return (fn as (...a: unknown[]) => unknown)(...args);
      },
    ]),
  ) as unknown as AgentOps;
  return { ops: wrapped, calls };
}

export const opsOf = (w: World): AgentOps => agentOps(w.agent);

/** The same signed file with one bit of its signature flipped (still canonical CBOR). */
export function tamperSignature(file: Uint8Array): Uint8Array {
  const frame = decodeCanonical(file) as { s: Uint8Array };
  const s = Uint8Array.from(frame.s);
  s[0]! ^= 0x01;
  return encodeCanonical({ ...frame, s });
}
