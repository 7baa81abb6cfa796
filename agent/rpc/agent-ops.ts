/**
 * The core's `Agent` (agent/service.ts) seen as the RPC's `AgentOps`: argument shapes adapted,
 * the caller recorded as the audit log's operator. No logic of its own beyond finding the one
 * open session of a key and node.
 */
import type { Agent } from '../service';
import { AgentError } from '../errors';
import type { SessionView } from '../api';
import type { AgentOps, OpsContext } from './ops';

/** The part of Agent the RPC uses (so a test can hand in something narrower). */
export type AgentForRpc = Pick<
  Agent,
  | 'getBackupStatus'
  | 'listBackupShares'
  | 'requestShareDelivery'
  | 'confirmShareDelivery'
  | 'queryShareStatus'
  | 'getSession'
  | 'listSessions'
  | 'submitExports'
  | 'completeRecovery'
>;

const OPEN: readonly SessionView['state'][] = ['awaiting-approvals', 'collecting'];

const op = (ctx: OpsContext) => ({ operator: ctx.operator });

export function agentOps(agent: AgentForRpc): AgentOps {
  return {
    getBackupStatus: (keyId, nodeId) => agent.getBackupStatus(keyId, nodeId),
    listBackupShares: (keyId, nodeId) => agent.listBackupShares(keyId, nodeId),
    requestShareDelivery: (keyId, nodeId, shareIndex, ctx) => agent.requestShareDelivery({ keyId, nodeId, shareIndex }, op(ctx)),
    confirmShareDelivery: (receipt, ctx) => agent.confirmShareDelivery(receipt, op(ctx)),
    queryShareStatus: (keyId, nodeId, setId) => agent.queryShareStatus({ keyId, nodeId, ...(setId === undefined ? {} : { setId }) }),
    getSession: (sessionId) => agent.getSession(sessionId),
    findOpenSession: (keyId, nodeId) => {
      const open = agent.listSessions({ keyId, nodeId }).filter((s) => OPEN.includes(s.state));
      if (open.length > 1) {
        throw new AgentError(
          'FAILED_PRECONDITION',
          `${String(open.length)} recovery sessions are open for key ${keyId} node ${nodeId} (${open.map((s) => s.sessionId).join(', ')}); name one with session_id.`,
        );
      }
      return open[0];
    },
    submitExports: (sessionId, files, ctx) => agent.submitExports(sessionId, files, op(ctx)),
    completeRecovery: (sessionId, options, ctx) => agent.completeRecovery(sessionId, options, op(ctx)),
  };
}
