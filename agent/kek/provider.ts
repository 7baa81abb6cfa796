/**
 * The key-encryption key interface (envelope encryption, seeds "信封加密/KMS/HSM"): every secret
 * file has its own random data key, and only the data key is wrapped by the KEK. The interface is
 * asynchronous and sees nothing but data keys, so a KMS (a network call) or a PKCS#11 HSM (a
 * session on a token) can replace the local key file without touching any caller.
 *
 * Erase keys (issue 9 §1b "a hard delete does not make earlier copies unreadable"): the data key of
 * a retained backup share is wrapped under a key of its own that lives with the KEK — an AES key
 * object on the HSM token, or a small file sealed by the file KEK beside the KEK file — never in
 * the data directory. Destroying that key at the purge makes every copy of the share's file
 * (a backup of the data directory taken before the purge) undecryptable with what the agent keeps.
 * One erase key per retained share (not per set), so a deletion of some shares of a set erases
 * exactly those.
 */

/** The erase key a retained share's data key is wrapped under: its backup set and share index. */
export interface EraseScope {
  /** 32 lower-case hex digits. */
  readonly setId: string;
  /** 1..255. */
  readonly index: number;
}

export interface KekProvider {
  /**
   * Names the key-encryption key (and its version) new data keys are wrapped with. Stored in every
   * sealed file's header and passed back to {@link unwrapKey}, so a provider that rotates keys can
   * find the one a file needs. At most 200 printable ASCII characters.
   */
  readonly id: string;
  /**
   * Wraps a 32-byte data key. `context` (32 bytes) names the file the key belongs to; a provider
   * must bind it (as AES-GCM associated data, a KMS encryption context, …) so a wrapped key cannot
   * be moved to another file. With `scope`, the data key is wrapped under that scope's erase key
   * (created when it does not exist yet), so {@link destroyEraseKey} makes it unrecoverable.
   */
  wrapKey(dataKey: Uint8Array, context: Uint8Array, scope?: EraseScope): Promise<Uint8Array>;
  /**
   * Unwraps a data key wrapped by `wrapKey` under `kekId` with the same `context` (and `scope`).
   * Must throw a coded error (CORRUPT_FILE when the wrapped key does not authenticate or names a
   * key this provider never had — with `details.reason` 'erased' when the scope's erase key was
   * destroyed; FAILED_PRECONDITION or KEK_UNAVAILABLE when the key exists but cannot be used now)
   * and must never return a key it did not authenticate.
   */
  unwrapKey(wrapped: Uint8Array, context: Uint8Array, kekId: string, scope?: EraseScope): Promise<Uint8Array>;
  /**
   * Destroys the erase key of `scope` (C_DestroyObject on the token; overwrite and unlink for the
   * file KEK), durably. Returns false when there was none (already erased, or never made).
   */
  destroyEraseKey(scope: EraseScope): boolean;
  /** Releases the key material or the session. */
  close(): void;
}
