import {
  createAgentIdentity,
  createApproverIdentity,
  createCustodianIdentity,
  custodianIdentityFingerprint,
  type AgentIdentity,
  type ApproverIdentity,
  type CustodianIdentity,
} from '../../shared/protocol';
import { createBackup, type CreatedBackup } from '../../shared/protocol/backup';
import { randomBytes } from '../../shared/bytes';

/** list[i], or a test failure naming what is missing (instead of a non-null assertion). */
export function at<T>(list: ArrayLike<T>, i: number, what = 'item'): T {
  const v = list[i];
  if (v === undefined) throw new Error(`${what} ${String(i)} is missing`);
  return v;
}

export const NOW = 1_790_000_000; // 2026-09-21, fixed so tests do not depend on the clock

export interface World {
  agent: AgentIdentity;
  custodians: CustodianIdentity[];
  approvers: ApproverIdentity[];
  secret: Uint8Array;
  backup: CreatedBackup;
}

export async function makeWorld(opts: { threshold?: number; total?: number; retain?: number; secret?: Uint8Array } = {}): Promise<World> {
  const threshold = opts.threshold ?? 3;
  const total = opts.total ?? 5;
  const retain = opts.retain ?? 2;
  const agent = createAgentIdentity('agent node-1');
  const custodians: CustodianIdentity[] = [];
  for (let i = 0; i < total - retain; i++) custodians.push(await createCustodianIdentity(`custodian ${String(i + 1)}`));
  const approvers = [createApproverIdentity('Alice (security)'), createApproverIdentity('Bob (business owner)')];
  const secret = opts.secret ?? randomBytes(70);
  const backup = await createBackup(
    {
      keyId: 'key-1',
      nodeId: 'node-1',
      curve: 'ed25519',
      secret,
      publicContextHash: randomBytes(32),
      threshold,
      total,
      retain,
      custodians: custodians.map((c) => ({ fingerprint: custodianIdentityFingerprint(c), ageRecipient: c.age.recipient })),
      setId: randomBytes(16),
      epoch: 1,
      now: NOW,
    },
    agent.signing,
  );
  return { agent, custodians, approvers, secret, backup };
}
