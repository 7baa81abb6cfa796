/**
 * OperationsService (proto/infra/v1/operations.proto, issue 9 §3): the agent CLI's delete,
 * session, inventory and settings commands over the RPC, so an ops console on another machine can
 * drive a recovery. Same shape as ./handlers.ts: validate with zod, call the module function the
 * CLI calls (./ops.ts), convert. Scopes are the gate's (./gate.ts METHOD_SCOPES); the audit
 * operator is the token's. Unlike the CLI, ids are taken in full (no prefix lookup).
 */
import type { ConnectRouter, HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { Code } from '@connectrpc/connect';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { z } from 'zod';
import { identifier, shareIndex } from '../../shared/protocol/schema';
import { RecoveryMode } from '../../proto/gen/infra/v1/backup_pb';
import {
  DeletionState,
  InventoryVerdict,
  OperationsService,
  type DeletionSchema,
  type InventoryItemSchema,
  type SettingsSchema,
} from '../../proto/gen/infra/v1/operations_pb';
import type { AgentSettings, DeletionView, InventoryItemRef, InventoryVerdict as ApiVerdict, OpContext, ServerShareSelector } from '../api';
import { operatorKey } from './auth';
import * as convert from './convert';
import { rpcError } from './errors';
import { parseRequest } from './validate';
import type { AgentOps } from './ops';

/** A signed approval (session or deletion), as the CLI reads it. */
export const MAX_APPROVAL_BYTES = 4096;
/** A custodian's inventory attestation, as the CLI reads it. */
export const MAX_ATTESTATION_BYTES = 1024 * 1024;

const hexId = z.string().regex(/^[0-9a-f]{32}$/, 'must be 32 lower-case hex digits');
const optionalHexId = z.union([z.literal(''), hexId], { error: 'must be empty or 32 lower-case hex digits' });
const fingerprintHex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits');
const bytesOf = (max: number) => z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.length >= 1 && v.length <= max, `must be 1 to ${String(max)} bytes`);
const ttl = (max: number) => z.number().int().min(0).max(max);
const optionalId = z.union([z.literal(''), identifier]);

const selector = z.object(
  {
    keyId: identifier,
    nodeId: identifier,
    setId: optionalHexId,
    shareIndexes: z.array(shareIndex).max(255),
  },
  { error: 'is required' },
);
const withSelector = z.object({ selector });
const filter = z
  .object({ keyId: optionalId, nodeId: optionalId })
  .refine((f) => (f.keyId === '') === (f.nodeId === ''), { path: ['nodeId'], message: 'must be given together with key_id (or both left empty)' });
const deletionId = z.object({ deletionId: hexId });
const sessionId = z.object({ sessionId: hexId });

export const operationRequests = {
  selector: withSelector,
  requestDeletion: z.object({ selector, ttlSeconds: ttl(365 * 24 * 3600) }),
  approveDeletion: z.object({ deletionId: hexId, approval: bytesOf(MAX_APPROVAL_BYTES) }),
  deletionId,
  filter,
  openSession: z.object({
    incidentId: z.string().min(1, 'is required').max(200, 'must be at most 200 characters'),
    // Empty: no title. The protocol's rule (NFC, 1..200 characters, no controls) is the agent's check.
    incidentTitle: z.string().max(1000, 'must be at most 200 characters'),
    keyId: identifier,
    nodeId: identifier,
    mode: z.union([z.literal(RecoveryMode.MIXED), z.literal(RecoveryMode.EXTERNAL_ONLY)], { error: 'must be RECOVERY_MODE_MIXED or RECOVERY_MODE_EXTERNAL_ONLY' }),
    ttlSeconds: ttl(10 * 24 * 3600),
    setId: optionalHexId,
  }),
  approveSession: z.object({ sessionId: hexId, approval: bytesOf(MAX_APPROVAL_BYTES) }),
  sessionId,
  challenge: z.object({ custodian: fingerprintHex, ttlSeconds: ttl(365 * 24 * 3600) }),
  attestation: z.object({ attestation: bytesOf(MAX_ATTESTATION_BYTES) }),
  keyNode: z.object({ keyId: identifier, nodeId: identifier }),
  settings: z.object({
    settings: z.object(
      { deletionCoolingSeconds: z.number().int(), inventoryMaxAgeSeconds: z.number().int(), inventoryChallengeTtlSeconds: z.number().int() },
      { error: 'is required' },
    ),
  }),
} as const;

const DELETION_STATES: Readonly<Record<DeletionView['state'], DeletionState>> = {
  'awaiting-approvals': DeletionState.AWAITING_APPROVALS,
  approved: DeletionState.APPROVED,
  completed: DeletionState.COMPLETED,
  cancelled: DeletionState.CANCELLED,
  expired: DeletionState.EXPIRED,
};
const VERDICTS: Readonly<Record<ApiVerdict, InventoryVerdict>> = {
  proven: InventoryVerdict.PROVEN,
  missing: InventoryVerdict.MISSING,
  'bad-proof': InventoryVerdict.BAD_PROOF,
  'not-answered': InventoryVerdict.NOT_ANSWERED,
};
const verdict = (v: string | undefined): InventoryVerdict => (v !== undefined && Object.hasOwn(VERDICTS, v) ? VERDICTS[v as ApiVerdict] : InventoryVerdict.UNSPECIFIED);

export function deletion(d: DeletionView): MessageInitShape<typeof DeletionSchema> {
  return {
    deletionId: d.deletionId,
    keyId: d.keyId,
    nodeId: d.nodeId,
    setId: d.setId,
    epoch: d.epoch,
    shareIndexes: [...d.shareIndexes],
    purpose: d.purpose,
    state: Object.hasOwn(DELETION_STATES, d.state) ? DELETION_STATES[d.state] : DeletionState.UNSPECIFIED,
    coolingEndsAt: convert.timestamp(d.coolingEndsAt),
    notAfter: convert.timestamp(d.notAfter),
    approvals: d.approvals.map((a) => ({ approver: a.approver, name: a.name, at: convert.timestamp(a.at) })),
    operator: d.operator,
    createdAt: convert.timestamp(d.createdAt),
    endedAt: d.endedAt === undefined ? undefined : convert.timestamp(d.endedAt),
    blockers: d.blockers.map((b) => ({ code: b.code, message: b.message })),
  };
}

const item = (i: InventoryItemRef & { readonly result?: string }): MessageInitShape<typeof InventoryItemSchema> => ({
  keyId: i.keyId,
  nodeId: i.nodeId,
  setId: i.setId,
  epoch: i.epoch,
  shareIndex: i.shareIndex,
  result: verdict(i.result),
});

const settingsOut = (s: AgentSettings): MessageInitShape<typeof SettingsSchema> => ({
  deletionCoolingSeconds: convert.uint32(s.deletionCoolingSeconds),
  inventoryMaxAgeSeconds: convert.uint32(s.inventoryMaxAgeSeconds),
  inventoryChallengeTtlSeconds: convert.uint32(s.inventoryChallengeTtlSeconds),
});

const sel = (s: z.output<typeof selector>): ServerShareSelector => ({
  keyId: s.keyId,
  nodeId: s.nodeId,
  ...(s.setId === '' ? {} : { setId: s.setId }),
  ...(s.shareIndexes.length === 0 ? {} : { indexes: s.shareIndexes }),
});
const filterOf = (f: z.output<typeof filter>): { keyId?: string; nodeId?: string } => (f.keyId === '' ? {} : { keyId: f.keyId, nodeId: f.nodeId });
const ttlOf = (seconds: number): { ttlSeconds?: number } => (seconds === 0 ? {} : { ttlSeconds: seconds });

export function createOperationsHandlers(ops: AgentOps): ServiceImpl<typeof OperationsService> {
  const op = (hc: HandlerContext): OpContext => ({ operator: hc.values.get(operatorKey) });
  const R = operationRequests;
  return {
    async softDeleteServerShares(req, hc) {
      const r = parseRequest(R.selector, req);
      return { shares: (await ops.softDeleteServerShares(sel(r.selector), op(hc))).map(convert.serverShare) };
    },
    async rollbackServerShares(req, hc) {
      const r = parseRequest(R.selector, req);
      return { shares: (await ops.rollbackServerShares(sel(r.selector), op(hc))).map(convert.serverShare) };
    },
    async requestDeletion(req, hc) {
      const r = parseRequest(R.requestDeletion, req);
      const d = await ops.requestDeletion(sel(r.selector), { ...op(hc), ...ttlOf(r.ttlSeconds) });
      return { deletion: deletion(d.deletion), details: d.detailsCbor };
    },
    async approveDeletion(req, hc) {
      const r = parseRequest(R.approveDeletion, req);
      return { deletion: deletion(await ops.approveDeletion(r.deletionId, r.approval, op(hc))) };
    },
    async purgeServerShares(req, hc) {
      const r = parseRequest(R.deletionId, req);
      const p = await ops.purgeServerShares(r.deletionId, op(hc));
      return { deletion: deletion(p.deletion), shares: p.shares.map(convert.serverShare), zeroRetention: p.zeroRetention };
    },
    async cancelDeletion(req, hc) {
      const r = parseRequest(R.deletionId, req);
      return { deletion: deletion(await ops.cancelDeletion(r.deletionId, op(hc))) };
    },
    async getDeletion(req) {
      const r = parseRequest(R.deletionId, req);
      const d = await ops.getDeletion(r.deletionId);
      return { deletion: deletion(d), details: (await ops.deletionDetails(r.deletionId)).detailsCbor };
    },
    async listDeletions(req) {
      const r = parseRequest(R.filter, req);
      return { deletions: (await ops.listDeletions(filterOf(r))).map(deletion) };
    },
    async openRecoverySession(req, hc) {
      const r = parseRequest(R.openSession, req);
      const opened = await ops.openSession(
        {
          incidentId: r.incidentId,
          ...(r.incidentTitle === '' ? {} : { incidentTitle: r.incidentTitle }),
          keyId: r.keyId,
          nodeId: r.nodeId,
          mode: r.mode === RecoveryMode.MIXED ? 'mixed' : 'external-only',
          ...ttlOf(r.ttlSeconds),
          ...(r.setId === '' ? {} : { setId: r.setId }),
        },
        op(hc),
      );
      return { session: convert.session(opened.session), details: opened.detailsCbor };
    },
    async approveRecoverySession(req, hc) {
      const r = parseRequest(R.approveSession, req);
      return { session: convert.session(await ops.approveSession(r.sessionId, r.approval, op(hc))) };
    },
    async issueRecoveryRequest(req, hc) {
      const r = parseRequest(R.sessionId, req);
      const request = await ops.recoveryRequest(r.sessionId, op(hc));
      return { request, session: convert.session(await ops.getSession(r.sessionId)) };
    },
    async cancelRecoverySession(req, hc) {
      const r = parseRequest(R.sessionId, req);
      return { session: convert.session(await ops.cancelSession(r.sessionId, op(hc))) };
    },
    async getRecoverySession(req) {
      const r = parseRequest(R.sessionId, req);
      const s = await ops.getSession(r.sessionId);
      return { session: convert.session(s), details: (await ops.sessionDetails(r.sessionId)).detailsCbor };
    },
    async listRecoverySessions(req) {
      const r = parseRequest(R.filter, req);
      return { sessions: (await ops.listSessions(filterOf(r))).map(convert.session) };
    },
    async issueInventoryChallenge(req, hc) {
      const r = parseRequest(R.challenge, req);
      const c = await ops.issueInventoryChallenge(r.custodian, { ...op(hc), ...ttlOf(r.ttlSeconds) });
      return {
        challengeId: c.challengeId,
        custodian: c.custodian,
        items: c.items.map(item),
        createdAt: convert.timestamp(c.createdAt),
        notAfter: convert.timestamp(c.notAfter),
        challenge: c.challenge,
        challengeSha256: convert.digest(c.sha256),
      };
    },
    async submitInventoryAttestation(req, hc) {
      const r = parseRequest(R.attestation, req);
      const a = await ops.submitInventoryAttestation(r.attestation, op(hc));
      return {
        challengeId: a.challengeId,
        custodian: a.custodian,
        answeredAt: convert.timestamp(a.answeredAt),
        items: a.items.map(item),
        proven: a.proven,
        missing: a.missing,
        badProof: a.badProof,
        notAnswered: a.notAnswered,
      };
    },
    async getInventoryStatus(req) {
      const r = parseRequest(R.keyNode, req);
      const s = await ops.inventoryStatus(r.keyId, r.nodeId);
      return {
        keyId: s.keyId,
        nodeId: s.nodeId,
        setId: s.setId,
        epoch: s.epoch,
        threshold: s.threshold,
        serverSharesHeld: s.serverSharesHeld,
        externalDelivered: s.externalDelivered,
        externalConfirmed: s.externalConfirmed,
        externalAttested: s.externalAttested,
        externalFailed: s.externalFailed,
        recoverable: s.recoverable,
        overdueCustodians: s.overdueCustodians.map((o) => ({ custodian: o.custodian, label: o.label, reason: o.reason, since: convert.timestamp(o.since), shareIndexes: [...o.shareIndexes] })),
        shares: s.shares.map((x) => ({
          shareIndex: x.shareIndex,
          custodian: x.custodian,
          label: x.label,
          delivery: convert.deliveryStatus(x.delivery),
          lastProvenAt: x.lastProvenAt === undefined ? undefined : convert.timestamp(x.lastProvenAt),
          lastResult: verdict(x.lastResult),
          attested: x.attested,
          overdue: x.overdue ?? '',
        })),
        maxAgeSeconds: convert.uint32(s.maxAgeSeconds),
      };
    },
    async getSettings() {
      return { settings: settingsOut(await ops.getSettings()) };
    },
    async updateSettings(req, hc) {
      const r = parseRequest(R.settings, req);
      const s = r.settings;
      const patch: Partial<AgentSettings> = {
        ...(s.deletionCoolingSeconds === 0 ? {} : { deletionCoolingSeconds: s.deletionCoolingSeconds }),
        ...(s.inventoryMaxAgeSeconds === 0 ? {} : { inventoryMaxAgeSeconds: s.inventoryMaxAgeSeconds }),
        ...(s.inventoryChallengeTtlSeconds === 0 ? {} : { inventoryChallengeTtlSeconds: s.inventoryChallengeTtlSeconds }),
      };
      if (Object.keys(patch).length === 0) throw rpcError(Code.InvalidArgument, 'Invalid argument: settings names no setting to change (every field is 0).', 'INVALID_ARGUMENT', { 'custos-field': 'settings' });
      return { settings: settingsOut(await ops.updateSettings(patch, op(hc))) };
    },
  };
}

export function registerOperationsService(router: ConnectRouter, ops: AgentOps): void {
  router.service(OperationsService, createOperationsHandlers(ops));
}
