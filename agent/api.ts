/**
 * The agent's operations as one transport-neutral interface. The CLI (agent/cli.ts) and the RPC
 * handlers (agent/rpc/) both call this; neither knows about the other. Implemented by
 * agent/service.ts (`Agent`). Errors are CustosError (shared/errors.ts) or AgentError
 * (agent/errors.ts) with a code; the RPC layer maps codes to gRPC status codes and never sends
 * causes.
 *
 * Byte fields are Uint8Array; ids that are bytes on the wire (set_id, session_id) are hex strings
 * here, because they are also what operators type.
 */
import type { Curve, RecoveryMode } from '../shared/protocol/schema';

export type CustodianRole = 'security-team' | 'independent-custodian' | 'cold-storage';

export interface CustodianRecord {
  readonly fingerprint: string; // hex
  readonly code: string; // 24-digit comparison code
  readonly label: string;
  readonly role: CustodianRole;
  readonly enabled: boolean;
  readonly addedAt: number;
}

export interface ApproverRecord {
  readonly fingerprint: string;
  readonly code: string;
  readonly name: string;
  readonly enabled: boolean;
  readonly addedAt: number;
}

export interface BackupParams {
  readonly threshold: number; // default 3
  readonly total: number; // default 5
  readonly retain: number; // default 2
}

export interface BackupResult {
  readonly keyId: string;
  readonly nodeId: string;
  readonly setId: string;
  readonly epoch: number;
  readonly threshold: number;
  readonly total: number;
  readonly retainedIndexes: readonly number[];
  readonly envelopes: readonly { readonly shareIndex: number; readonly custodian: string; readonly file: string; readonly sha256: string; readonly qrFrames: readonly string[] }[];
  readonly manifestFile: string;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'confirmed' | 'rejected';

export interface ShareStatus {
  readonly keyId: string;
  readonly nodeId: string;
  readonly setId: string;
  readonly epoch: number;
  readonly shareIndex: number;
  readonly custodian: string; // fingerprint hex
  readonly status: DeliveryStatus;
  readonly envelopeSha256: string;
  readonly reason?: string;
  readonly updatedAt: number;
}

export interface BackupStatus {
  readonly keyId: string;
  readonly nodeId: string;
  readonly setId: string;
  readonly epoch: number;
  readonly curve: Curve;
  readonly threshold: number;
  readonly total: number;
  readonly serverSharesHeld: number;
  readonly externalDelivered: number;
  readonly externalConfirmed: number;
  readonly recoverable: boolean;
  readonly lastDrill?: { readonly at: number; readonly ok: boolean; readonly mode: RecoveryMode; readonly durationMs: number };
}

export interface ServerShareRecord {
  readonly keyId: string;
  readonly nodeId: string;
  readonly setId: string;
  readonly epoch: number;
  readonly shareIndex: number;
  readonly commitment: string; // hex
  readonly state: 'held' | 'soft-deleted' | 'deleted';
  readonly createdAt: number;
}

export type SessionState = 'awaiting-approvals' | 'collecting' | 'completed' | 'failed' | 'expired' | 'cancelled';

export interface SessionView {
  readonly sessionId: string;
  readonly incidentId: string;
  readonly keyId: string;
  readonly nodeId: string;
  readonly setId: string;
  readonly epoch: number;
  readonly mode: RecoveryMode;
  readonly state: SessionState;
  readonly notAfter: number;
  readonly approvals: readonly { readonly approver: string; readonly name: string; readonly at: number }[];
  readonly threshold: number;
  readonly received: readonly number[]; // share indexes accepted so far
  readonly missing: readonly number[]; // external indexes not yet received
}

export interface SubmitResult {
  readonly accepted: readonly number[];
  readonly refused: readonly { readonly shareIndex?: number; readonly code: string; readonly message: string }[];
  readonly session: SessionView;
}

export interface RecoveryOutcome {
  readonly success: boolean;
  readonly session: SessionView;
  readonly sharesUsed: { readonly server: number; readonly external: number };
  readonly keydataSha256: string;
  readonly selfCheck: readonly { readonly name: string; readonly ok: boolean; readonly detail?: string }[];
}
