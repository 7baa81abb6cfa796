/**
 * zod schemas for every request, applied after protobuf decoding (handbook: "everything that
 * arrives from outside is `unknown` until a zod schema has parsed it"). protobuf guarantees the
 * field types; these check identifiers, hex ids, ranges and sizes. A failure is INVALID_ARGUMENT
 * naming the proto field and the rule, never echoing the value.
 */
import { z } from 'zod';
import { Code } from '@connectrpc/connect';
import { identifier, shareIndex } from '../../shared/protocol/schema';
import { rpcError } from './errors';

/** Recovery export files per call; more are sent over several calls to the same session. */
export const MAX_SHARE_FILES = 16;
/**
 * One export file: a signed message whose sealed payload is at most 64 KiB
 * (shared/protocol/recovery-export.ts); the core accepts up to 128 KiB.
 */
export const MAX_SHARE_FILE_BYTES = 128 * 1024;
/** A receipt is a small signed message (a hash, ids, a note of at most 500 characters). */
export const MAX_RECEIPT_BYTES = 8 * 1024;
/** The core's limit for a keydata file (agent/service.ts). */
export const MAX_PEER_KEYDATA_BYTES = 1024 * 1024;
/** The server's per-message read limit: everything above, with room for framing. */
export const MAX_REQUEST_BYTES = MAX_SHARE_FILES * MAX_SHARE_FILE_BYTES + MAX_PEER_KEYDATA_BYTES + 1024 * 1024;

const hexId = z.string().regex(/^[0-9a-f]{32}$/, 'must be 32 lower-case hex digits');
const optionalHexId = z.union([z.literal(''), hexId], { error: 'must be empty or 32 lower-case hex digits' });
const bytesOf = (min: number, max: number) =>
  z.custom<Uint8Array>(
    (v) => v instanceof Uint8Array && v.length >= min && v.length <= max,
    min === 0 ? `must be at most ${String(max)} bytes` : `must be ${String(min)} to ${String(max)} bytes`,
  );

const keyNode = { keyId: identifier, nodeId: identifier };

export const getBackupStatusRequest = z.object(keyNode);
export const listBackupSharesRequest = z.object(keyNode);
export const requestShareDeliveryRequest = z.object({ ...keyNode, shareIndex });
export const confirmShareDeliveryRequest = z.object({ receipt: bytesOf(1, MAX_RECEIPT_BYTES) });
export const queryShareStatusRequest = z.object({ ...keyNode, setId: optionalHexId });
export const recoverMPCShareRequest = z
  .object({
    ...keyNode,
    sessionId: optionalHexId,
    shareData: z.array(bytesOf(1, MAX_SHARE_FILE_BYTES)).max(MAX_SHARE_FILES, `must hold at most ${String(MAX_SHARE_FILES)} files`),
    complete: z.boolean(),
    peerKeydata: bytesOf(0, MAX_PEER_KEYDATA_BYTES),
    drill: z.boolean(),
  })
  .refine((r) => r.complete || r.peerKeydata.length === 0, { path: ['peerKeydata'], message: 'is only read with complete=true' })
  .refine((r) => r.complete || !r.drill, { path: ['drill'], message: 'needs complete=true' });

const snake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The proto-style path of a zod issue: `share_data[3]`, `key_id`. */
function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${String(p)}]`;
    else out += (out === '' ? '' : '.') + snake(String(p));
  }
  return out === '' ? '(request)' : out;
}

/** Parses a decoded request or throws INVALID_ARGUMENT naming the first bad field. */
export function parseRequest<S extends z.ZodType>(schema: S, message: unknown): z.output<S> {
  const result = schema.safeParse(message);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue ? fieldPath(issue.path) : '(request)';
  throw rpcError(Code.InvalidArgument, `Invalid argument: ${field} ${issue?.message ?? 'is not valid'}.`, 'INVALID_ARGUMENT', { 'custos-field': field });
}
