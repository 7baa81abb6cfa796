/**
 * The RPC's operations (./ops.ts) bound from an opened `Agent`'s capability modules. Nothing of
 * its own: the same functions the `Agent` facade calls, without its in-process rate limit (the
 * RPC interceptor charges each recovery call once).
 */
import type { Agent } from '../service';
import type { AgentOps } from './ops';

/** The part of Agent the RPC uses. */
export type AgentForRpc = Pick<Agent, 'capabilities'>;

export function agentOps(agent: AgentForRpc): AgentOps {
  const { backup, shares, deliveries, sessions, recovery, nodeImports } = agent.capabilities;
  return {
    getBackupStatus: (keyId, nodeId) => ({ ...backup.status(keyId, nodeId), staleSetIds: nodeImports.staleSets(keyId, nodeId).map((s) => s.setId) }),
    listBackupShares: (keyId, nodeId) => shares.list(keyId, nodeId),
    requestShareDelivery: (ref, ctx) => deliveries.request(ref, ctx),
    confirmShareDelivery: (receipt, ctx) => deliveries.confirm(receipt, ctx),
    queryShareStatus: (query) => deliveries.query(query),
    getSession: (sessionId) => sessions.get(sessionId),
    findOpenSession: (keyId, nodeId) => sessions.findOpen(keyId, nodeId),
    submitExports: (sessionId, files, ctx) => recovery.submit(sessionId, files, ctx),
    completeRecovery: (sessionId, options, ctx) => recovery.complete(sessionId, options, ctx),
    importKeyshare: (keyId, nodeId, keydata, ctx) => nodeImports.importFromNode(keyId, nodeId, keydata, ctx),
  };
}
