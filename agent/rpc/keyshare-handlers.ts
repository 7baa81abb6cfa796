/**
 * KeyshareService (proto/infra/v1/keyshare.proto, issue 11 §2): the MPC node hands the keydata
 * tss-lib persisted after DKG or a resharing, and the agent backs it up by its policy
 * (agent/keyshare/from-node.ts). Same shape as ./handlers.ts: validate with zod, call the module
 * function, convert. Authorisation is the gate's (./gate.ts): the call needs the `admin` scope.
 */
import type { ConnectRouter, HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { z } from 'zod';
import { fromHex } from '../../shared/bytes';
import { identifier } from '../../shared/protocol/schema';
import { ImportOutcome, KeyshareService } from '../../proto/gen/infra/v1/keyshare_pb';
import type { NodeImportOutcome } from '../keyshare/from-node';
import { MAX_KEYDATA_BYTES } from '../keyshare/keyshare';
import { operatorKey } from './auth';
import type { AgentOps } from './ops';
import { parseRequest } from './validate';

export const importKeyshareRequest = z.object({
  keyId: identifier,
  nodeId: identifier,
  keydata: z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.length >= 1 && v.length <= MAX_KEYDATA_BYTES, `must be 1 to ${String(MAX_KEYDATA_BYTES)} bytes`),
});

const OUTCOME: Record<NodeImportOutcome, ImportOutcome> = {
  created: ImportOutcome.CREATED,
  unchanged: ImportOutcome.UNCHANGED,
  reshared: ImportOutcome.RESHARED,
};

export function createKeyshareHandlers(ops: Pick<AgentOps, 'importKeyshare'>): ServiceImpl<typeof KeyshareService> {
  return {
    async importKeyshare(req, hc: HandlerContext) {
      const r = parseRequest(importKeyshareRequest, req);
      const res = await ops.importKeyshare(r.keyId, r.nodeId, r.keydata, { operator: hc.values.get(operatorKey) });
      return {
        outcome: OUTCOME[res.outcome],
        keyId: res.keyId,
        nodeId: res.nodeId,
        keydataSha256: fromHex(res.keydataSha256),
        setId: res.setId,
        epoch: res.epoch,
        threshold: res.threshold,
        total: res.total,
        envelopesQueued: res.envelopesQueued,
        staleSetId: res.stale?.setId ?? '',
        staleEpoch: res.stale?.epoch ?? 0,
      };
    },
  };
}

export function registerKeyshareService(router: ConnectRouter, ops: Pick<AgentOps, 'importKeyshare'>): void {
  router.service(KeyshareService, createKeyshareHandlers(ops));
}
