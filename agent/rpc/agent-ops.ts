/**
 * The RPC's operations (./ops.ts) bound from an opened `Agent`'s capability modules. Nothing of
 * its own: the same functions the `Agent` facade (agent/service.ts) and so the agent CLI call,
 * without the facade's in-process rate limit (the RPC interceptor charges each recovery call once).
 */
import type { Agent } from '../service';
import type { AgentOps } from './ops';

/** The part of Agent the RPC uses. */
export type AgentForRpc = Pick<Agent, 'capabilities' | 'recordAudit'>;

export function agentOps(agent: AgentForRpc): AgentOps {
  const { backup, shares, deliveries, sessions, recovery, nodeImports, deletions, inventory, settings } = agent.capabilities;
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
    softDeleteServerShares: (sel, ctx) => shares.softDelete(sel, ctx),
    rollbackServerShares: (sel, ctx) => shares.rollback(sel, ctx),
    requestDeletion: (sel, options) => deletions.request(sel, options),
    approveDeletion: (deletionId, approval, ctx) => deletions.approve(deletionId, approval, ctx),
    purgeServerShares: (deletionId, ctx) => deletions.purge(deletionId, ctx),
    cancelDeletion: (deletionId, ctx) => deletions.cancel(deletionId, ctx),
    getDeletion: (deletionId) => deletions.get(deletionId),
    deletionDetails: (deletionId) => deletions.details(deletionId),
    listDeletions: (filter) => deletions.list(filter),
    openSession: (input, ctx) => sessions.open(input, ctx),
    approveSession: (sessionId, approval, ctx) => sessions.addApproval(sessionId, approval, ctx),
    recoveryRequest: (sessionId, ctx) => sessions.request(sessionId, ctx),
    cancelSession: (sessionId, ctx) => sessions.cancel(sessionId, ctx),
    sessionDetails: (sessionId) => sessions.details(sessionId),
    listSessions: (filter) => sessions.list(filter),
    issueInventoryChallenge: (custodian, options) => inventory.issueChallenge(custodian, options),
    submitInventoryAttestation: (attestation, ctx) => inventory.submitAttestation(attestation, ctx),
    inventoryStatus: (keyId, nodeId) => inventory.status(keyId, nodeId),
    getSettings: () => settings.get(),
    updateSettings: (patch, ctx) => settings.update(patch, ctx),
  };
}
