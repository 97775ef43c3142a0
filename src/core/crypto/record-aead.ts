/**
 * A synchronous AES-256-GCM the host may supply for record sealing (encryption at rest,
 * docs/core.md). WebCrypto is the reference and the default; it is async only, and in
 * Node each `subtle.encrypt` is a job on libuv's thread pool: ~70 µs of main-thread
 * bookkeeping plus a hop back through the event loop, for records of a few KB that
 * AES-GCM seals in a few µs. Node hosts inject node:crypto's cipher here (the core never
 * imports `node:`); browsers keep WebCrypto.
 *
 * The scheme is WebCrypto's exactly: same key, a 12-byte IV, the additional data, and the
 * ciphertext followed by its 16-byte tag, so either side opens what the other sealed.
 */
export interface RecordAead {
  /**
   * The engine for one data key (a non-extractable AES-GCM CryptoKey), or null when this
   * host cannot use that key synchronously (WebCrypto is used for it then). Called once
   * per unlock; the engine holds the key privately and never exports it.
   */
  bind(key: CryptoKey): BoundRecordAead | null;
}

export interface BoundRecordAead {
  /** Ciphertext with its 16-byte tag appended, written into `out` at `offset`. */
  seal(iv: Uint8Array, aad: Uint8Array, plain: Uint8Array, out: Uint8Array, offset: number): void;
  /** Plaintext of `sealed` (ciphertext + tag); throws when authentication fails. */
  open(iv: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array;
}
