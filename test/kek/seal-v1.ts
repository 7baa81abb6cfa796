// A version-1 sealer written from docs/storage.md §2 (the agent writes version 2 since), for the
// tests that "version 1 is still read" and that a rotation upgrades such files once.
import { randomBytes } from 'node:crypto';
import { gcm } from '@noble/ciphers/aes.js';
import type { KekProvider } from '../../agent/kek/provider';
import type { SecretRef } from '../../agent/secret-store';
import { concatBytes, utf8 } from '../../shared/bytes';
import { taggedHash } from '../../shared/crypto/hash';

/** A version-1 sealer written from docs/storage.md §2 (the agent writes version 2 since): for "v1 is still read". */
export async function sealV1(kek: KekProvider, ref: SecretRef, plaintext: Uint8Array): Promise<Uint8Array> {
  const parts: (string | number)[] =
    ref.kind === 'retained-share'
      ? [ref.kind, ref.keyId, ref.nodeId, ref.setId, ref.index]
      : ref.kind === 'share' || ref.kind === 'keydata'
        ? [ref.kind, ref.keyId, ref.nodeId]
        : ref.kind === 'session-identity'
          ? [ref.kind, ref.sessionId]
          : [ref.kind];
  const context = taggedHash('agent/secret-file', ...parts);
  const dataKey = new Uint8Array(randomBytes(32));
  const wrapped = await kek.wrapKey(dataKey, context);
  const id = utf8(kek.id);
  const kind = { share: 1, keydata: 2, 'retained-share': 3, 'agent-identity': 4, 'session-identity': 5 }[ref.kind];
  const header = concatBytes(utf8('CSTS'), new Uint8Array([1, kind, id.length]), id, new Uint8Array([wrapped.length]), wrapped, new Uint8Array(randomBytes(12)));
  return concatBytes(header, gcm(dataKey, header.subarray(header.length - 12), concatBytes(header, context)).encrypt(plaintext));
}

