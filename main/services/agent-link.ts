/**
 * The link check (issue 13, "The rough edges"): whether the linked agent answers and takes the
 * API token for what the recovery station does, shown by one indicator in Settings, in the
 * station's header and in the navigation, so no two places disagree.
 *
 * States:
 *   - `not-configured`: no agent URL in Settings, or no token given this run (AGENT_NOT_LINKED);
 *     nothing is sent.
 *   - `unreachable`: no answer from a Custos agent (network error, TLS, timeout, or a server that
 *     does not speak the agent's API), with the reason (AGENT_UNREACHABLE).
 *   - `rejected`: the agent answered and refused the token, UNAUTHENTICATED (not valid, revoked)
 *     or PERMISSION_DENIED (without the "recover" scope the station needs), or a proxy's HTTP 401/
 *     403, which Connect reads as those two codes (AGENT_TOKEN_REJECTED).
 *   - `authenticated`: the agent took the token for a station call.
 *
 * The probe is RecoverMPCShare (the station's own call, scope "recover") for a key id no agent
 * holds, without a session id or any share: the agent authenticates and checks the scope before
 * reading the request (agent/rpc/gate.ts), then answers NOT_FOUND ("no open recovery session")
 * without changing or auditing anything. A read-only call (GetBackupStatus) would call a
 * recover-only station token rejected and a read-only token linked. The one cost: the call counts
 * against the token's recovery rate limit (default 10 a minute, burst 5), so the check runs when
 * the URL or the token changes and when the person asks, never on a timer; RATE_LIMITED itself
 * proves the token passed (the limit is spent only after authentication and the scope check).
 */
import { Code, ConnectError } from '@connectrpc/connect';
import { agentFailure, printableText, type AgentClients } from './agent-client';
import { ServiceError } from './errors';
import { explain, type Explained } from './messages';

export const LINK_STATES = ['not-configured', 'unreachable', 'rejected', 'authenticated'] as const;
export type LinkState = (typeof LINK_STATES)[number];

export interface LinkCheck {
  readonly state: LinkState;
  /** The agent URL checked (null: none set). */
  readonly url: string | null;
  readonly tokenSet: boolean;
  /** Unix seconds of the check. */
  readonly checkedAt: number;
  /** Why it is not `authenticated`: AGENT_NOT_LINKED, AGENT_UNREACHABLE (details.reason) or AGENT_TOKEN_REJECTED. */
  readonly problem?: Explained;
}

/** A key id the probe names: valid for the agent's schema, and no agent holds a key by that name. */
export const PROBE_KEY_ID = 'custos-link-check';
/** The probe waits at most this long for an answer: an unreachable agent must not hang Settings. */
export const PROBE_TIMEOUT_MS = 10_000;

/** The classification of one probe's outcome (`undefined`: the call succeeded). */
export function classifyProbe(error: unknown): { state: LinkState; problem?: ServiceError } {
  if (error === undefined) return { state: 'authenticated' };
  if (error instanceof ServiceError && error.code === 'AGENT_NOT_LINKED') return { state: 'not-configured', problem: error };
  const e = ConnectError.from(error);
  const agentCode = e.metadata.get('custos-error-code');
  // The agent's own answers after authentication and the scope check.
  if ((e.code === Code.NotFound && agentCode === 'NOT_FOUND') || agentCode === 'RATE_LIMITED') return { state: 'authenticated' };
  if (e.code === Code.Unauthenticated || e.code === Code.PermissionDenied) return { state: 'rejected', problem: agentFailure(error) };
  const rpcCode = Code[e.code];
  const reason = printableText(e.rawMessage, 200);
  // Anything else: no Custos agent answered (refused connection, TLS, timeout, another server).
  const said = agentCode === null ? `${rpcCode}: ${reason}` : `${agentCode}: ${reason}`;
  return {
    state: 'unreachable',
    problem: new ServiceError('AGENT_UNREACHABLE', `The linked agent could not be reached (${said}).`, { cause: error, details: { rpcCode, reason, reasonKind: reasonKindOf(e.code, agentCode, e.rawMessage) } }),
  };
}

/** Why nothing answered, in a word the window says in each language (the raw reason stays in `reason`). */
export type ReasonKind = 'refused' | 'no-host' | 'timeout' | 'tls' | 'not-agent' | 'other';

const TRANSPORT = new Set([Code.Unavailable, Code.DeadlineExceeded, Code.Canceled, Code.Aborted, Code.Unknown, Code.Internal]);

export function reasonKindOf(code: Code, agentCode: string | null, raw: string): ReasonKind {
  if (/ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH/.test(raw)) return 'refused';
  if (/ENOTFOUND|EAI_AGAIN/.test(raw)) return 'no-host';
  if (code === Code.DeadlineExceeded || /ETIMEDOUT|timed out|timeout/i.test(raw)) return 'timeout';
  if (/certificate|CERT_|SSL|TLS|self[- ]signed|EPROTO/i.test(raw)) return 'tls';
  // An HTTP answer that is not the agent's (a 404 page, another service: Connect maps its status),
  // or a server that does not speak HTTP/2 as the agent does.
  if (/Protocol error|ERR_HTTP2/i.test(raw)) return 'not-agent';
  if (agentCode === null && !TRANSPORT.has(code)) return 'not-agent';
  return 'other';
}

/** Probes the link; `clients` throws AGENT_NOT_LINKED when no URL or token is set. */
export async function checkLink(clients: () => Promise<AgentClients>, facts: { url: string | null; tokenSet: boolean; now: () => number }): Promise<LinkCheck> {
  let outcome: { state: LinkState; problem?: ServiceError };
  try {
    const agent = await clients();
    await agent.backup.recoverMPCShare({ keyId: PROBE_KEY_ID, nodeId: PROBE_KEY_ID, sessionId: '', shareData: [], complete: false }, { timeoutMs: PROBE_TIMEOUT_MS });
    outcome = classifyProbe(undefined);
  } catch (error) {
    outcome = classifyProbe(error);
  }
  return {
    state: outcome.state,
    url: facts.url,
    tokenSet: facts.tokenSet,
    checkedAt: facts.now(),
    ...(outcome.problem === undefined ? {} : { problem: explain(outcome.problem) }),
  };
}
