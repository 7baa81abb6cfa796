/**
 * The key-encryption key interface (envelope encryption, seeds "信封加密/KMS/HSM"): every secret
 * file has its own random data key, and only the data key is wrapped by the KEK. The interface is
 * asynchronous and sees nothing but data keys, so a KMS (a network call) or a PKCS#11 HSM (a
 * session on a token) can replace the local key file without touching any caller.
 */
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
   * be moved to another file.
   */
  wrapKey(dataKey: Uint8Array, context: Uint8Array): Promise<Uint8Array>;
  /**
   * Unwraps a data key wrapped by `wrapKey` under `kekId` with the same `context`. Must throw a
   * coded error (CORRUPT_FILE when the wrapped key does not authenticate or names a key this
   * provider never had; FAILED_PRECONDITION when the key exists but cannot be used now, e.g. a
   * KMS key that is disabled or unreachable) and must never return a key it did not authenticate.
   */
  unwrapKey(wrapped: Uint8Array, context: Uint8Array, kekId: string): Promise<Uint8Array>;
  /** Releases the key material or the session. */
  close(): void;
}
