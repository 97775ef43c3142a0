import { CryptoError } from './crypto-error.ts';
import type { RecordAead } from './record-aead.ts';
import type { RecordCipher } from './record-cipher.ts';

/**
 * Whether one open database is encrypted, and its record cipher while unlocked. The key
 * lives here only, in memory: `lock()` (logout, lock screen) drops it, and every read or
 * write of an encrypted table then fails with `data-locked` instead of touching the disk.
 * A database without a stored data key (encryption never turned on) stays plain.
 */
export class Vault {
  #cipher: RecordCipher | null = null;
  #encrypted = false;
  readonly #aead: RecordAead | undefined;

  /** `aead`: the host's synchronous AES-GCM (IndexedDbDeps.recordAead), given to every cipher opened here. */
  constructor(aead?: RecordAead) {
    this.#aead = aead;
  }

  /** The database has a stored data key: its records are encrypted. Locked until `open`. */
  markEncrypted(): void {
    this.#encrypted = true;
  }

  open(cipher: RecordCipher): void {
    this.#encrypted = true;
    this.#cipher = this.#aead === undefined ? cipher : cipher.withAead(this.#aead);
  }

  lock(): void {
    this.#cipher = null;
  }

  get encrypted(): boolean {
    return this.#encrypted;
  }

  get unlocked(): boolean {
    return this.#cipher !== null;
  }

  /** The cipher for records; null for a plain database; throws `data-locked` while locked. */
  cipher(): RecordCipher | null {
    if (!this.#encrypted) return null;
    if (this.#cipher === null)
      throw new CryptoError('data-locked', 'The data on this device is locked; enter the password');
    return this.#cipher;
  }
}
