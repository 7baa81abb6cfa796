/**
 * From the transport-neutral api types (agent/api.ts) to the wire messages of
 * proto/infra/v1/backup.proto. Pure mapping. api times are Unix seconds (agent/api.ts).
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromMs, type Timestamp } from '@bufbuild/protobuf/wkt';
import { fromHex } from '../../shared/bytes';
import type { Curve as ApiCurve, RecoveryMode as ApiRecoveryMode } from '../../shared/protocol/schema';
import type { BackupStatus, DeliveryStatus as ApiDeliveryStatus, ServerShareRecord, SessionState as ApiSessionState, SessionView, ShareStatus as ApiShareStatus } from '../api';
import {
  Curve,
  DeliveryStatus,
  RecoveryMode,
  ServerShareState,
  SessionState,
  type GetBackupStatusResponseSchema,
  type RecoverySessionSchema,
  type RefusedShareSchema,
  type ServerShareSchema,
  type ShareStatusSchema,
} from '../../proto/gen/infra/v1/backup_pb';

const CURVES: Readonly<Record<ApiCurve, Curve>> = { secp256k1: Curve.SECP256K1, ed25519: Curve.ED25519 };
const MODES: Readonly<Record<ApiRecoveryMode, RecoveryMode>> = { mixed: RecoveryMode.MIXED, 'external-only': RecoveryMode.EXTERNAL_ONLY };
const DELIVERY: Readonly<Record<ApiDeliveryStatus, DeliveryStatus>> = {
  pending: DeliveryStatus.PENDING,
  delivered: DeliveryStatus.DELIVERED,
  confirmed: DeliveryStatus.CONFIRMED,
  rejected: DeliveryStatus.REJECTED,
};
const SHARE_STATES: Readonly<Record<ServerShareRecord['state'], ServerShareState>> = {
  held: ServerShareState.HELD,
  'soft-deleted': ServerShareState.SOFT_DELETED,
  deleted: ServerShareState.DELETED,
};
const SESSION_STATES: Readonly<Record<ApiSessionState, SessionState>> = {
  'awaiting-approvals': SessionState.AWAITING_APPROVALS,
  collecting: SessionState.COLLECTING,
  completed: SessionState.COMPLETED,
  failed: SessionState.FAILED,
  expired: SessionState.EXPIRED,
  cancelled: SessionState.CANCELLED,
};

/** Unknown enum text (a core newer than this mapping) becomes UNSPECIFIED rather than a crash. */
const lookup = <K extends string, V>(table: Readonly<Record<K, V>>, key: string, unspecified: V): V =>
  Object.hasOwn(table, key) ? table[key as K] : unspecified;

/** From the api's Unix seconds. */
export const timestamp = (unixSeconds: number): Timestamp => timestampFromMs(Math.round(unixSeconds * 1000));
const optionalTimestamp = (unixSeconds: number | undefined): Timestamp | undefined => (unixSeconds === undefined ? undefined : timestamp(unixSeconds));

/** A hex digest from the core as raw bytes; an empty string stays empty. */
export const digest = (hex: string): Uint8Array => (hex === '' ? new Uint8Array(0) : fromHex(hex, 'digest'));

export const deliveryStatus = (s: string): DeliveryStatus => lookup(DELIVERY, s, DeliveryStatus.UNSPECIFIED);
export const curve = (c: string): Curve => lookup(CURVES, c, Curve.UNSPECIFIED);
export const recoveryMode = (m: string): RecoveryMode => lookup(MODES, m, RecoveryMode.UNSPECIFIED);

export function backupStatus(s: BackupStatus): MessageInitShape<typeof GetBackupStatusResponseSchema> {
  return {
    keyId: s.keyId,
    nodeId: s.nodeId,
    setId: s.setId,
    epoch: s.epoch,
    curve: curve(s.curve),
    threshold: s.threshold,
    total: s.total,
    serverSharesHeld: s.serverSharesHeld,
    externalDelivered: s.externalDelivered,
    externalConfirmed: s.externalConfirmed,
    recoverable: s.recoverable,
    lastDrill: s.lastDrill
      ? {
          at: timestamp(s.lastDrill.at),
          ok: s.lastDrill.ok,
          mode: recoveryMode(s.lastDrill.mode),
          durationMs: uint32(s.lastDrill.durationMs),
          setId: s.lastDrill.setId ?? '',
          sessionId: s.lastDrill.sessionId ?? '',
          note: s.lastDrill.note ?? '',
        }
      : undefined,
    retain: s.retain ?? 0,
    externalOnlyRecoverable: s.externalOnlyRecoverable ?? false,
    serverSharesSoftDeleted: s.serverSharesSoftDeleted ?? 0,
    zeroRetention: s.zeroRetention ?? false,
    zeroRetentionSince: s.zeroRetentionSince === undefined ? undefined : timestamp(s.zeroRetentionSince),
    externalAttested: s.inventory?.externalAttested ?? 0,
    externalFailed: s.inventory?.externalFailed ?? 0,
    inventoryRecoverable: s.inventory?.recoverable ?? false,
    overdueCustodians: [...(s.inventory?.overdueCustodians ?? [])],
    lastAttestedAt: s.inventory?.lastAttestedAt === undefined ? undefined : timestamp(s.inventory.lastAttestedAt),
    staleSetIds: [...(s.staleSetIds ?? [])],
    ...(s.tssThreshold === undefined ? {} : { tssThreshold: s.tssThreshold }),
    parties: s.parties ?? 0,
    groupKeyFingerprint: s.groupKeyFingerprint ?? '',
  };
}

export function serverShare(r: ServerShareRecord): MessageInitShape<typeof ServerShareSchema> {
  return {
    keyId: r.keyId,
    nodeId: r.nodeId,
    setId: r.setId,
    epoch: r.epoch,
    shareIndex: r.shareIndex,
    commitment: digest(r.commitment),
    state: lookup(SHARE_STATES, r.state, ServerShareState.UNSPECIFIED),
    createdAt: timestamp(r.createdAt),
    superseded: r.setState === 'superseded',
    softDeletedAt: optionalTimestamp(r.softDeletedAt),
    deletedAt: optionalTimestamp(r.deletedAt),
  };
}

export function shareStatus(s: ApiShareStatus): MessageInitShape<typeof ShareStatusSchema> {
  return {
    keyId: s.keyId,
    nodeId: s.nodeId,
    setId: s.setId,
    epoch: s.epoch,
    shareIndex: s.shareIndex,
    custodian: s.custodian,
    status: lookup(DELIVERY, s.status, DeliveryStatus.UNSPECIFIED),
    envelopeSha256: digest(s.envelopeSha256),
    reason: s.reason ?? '',
    updatedAt: timestamp(s.updatedAt),
  };
}

export function session(v: SessionView): MessageInitShape<typeof RecoverySessionSchema> {
  return {
    sessionId: v.sessionId,
    incidentId: v.incidentId,
    incidentTitle: v.incidentTitle ?? '',
    keyId: v.keyId,
    nodeId: v.nodeId,
    setId: v.setId,
    epoch: v.epoch,
    mode: recoveryMode(v.mode),
    state: lookup(SESSION_STATES, v.state, SessionState.UNSPECIFIED),
    notAfter: timestamp(v.notAfter),
    approvals: v.approvals.map((a) => ({ approver: a.approver, name: a.name, at: timestamp(a.at) })),
    threshold: v.threshold,
    receivedShareIndexes: [...v.received],
    missingShareIndexes: [...v.missing],
    serverShareIndexes: [...(v.serverAvailable ?? [])],
    requestIssued: v.requestIssued ?? false,
    createdAt: optionalTimestamp(v.createdAt),
    endedAt: optionalTimestamp(v.endedAt),
  };
}

/** A duration or count for a uint32 field: whole, not negative, saturated. */
export const uint32 = (n: number): number => (Number.isFinite(n) ? Math.min(0xffffffff, Math.max(0, Math.round(n))) : 0);

export function refusedShare(r: { readonly shareIndex?: number; readonly code: string; readonly message: string }): MessageInitShape<typeof RefusedShareSchema> {
  return { shareIndex: r.shareIndex ?? 0, code: r.code, message: r.message };
}
