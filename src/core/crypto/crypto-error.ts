import { FieldsimError } from '../errors/fieldsim-error.ts';

/**
 * Failures of encryption at rest. `data-locked`: the database is encrypted and no key is
 * in memory (offline start without a password, after lock/logout). `wrong-password`: the
 * password does not unwrap the data key, so nothing decrypts. `record-integrity`: one
 * stored record failed AES-GCM authentication (damaged, tampered with, or moved to
 * another table or key); `table` and `recordKey` name it, and the rest still opens.
 * `password-changed`: the server accepted a password that does not open the data key and
 * no key escrow could (data-encryption.ts): the password used before is needed once.
 */
export class CryptoError extends FieldsimError {
  override readonly name = 'CryptoError';
  readonly table: string | undefined;
  readonly recordKey: string | undefined;

  constructor(
    code: 'data-locked' | 'wrong-password' | 'password-changed' | 'record-integrity',
    message: string,
    opts: { table?: string; recordKey?: string; cause?: unknown } = {},
  ) {
    super(code, message, opts.cause === undefined ? {} : { cause: opts.cause });
    this.table = opts.table;
    this.recordKey = opts.recordKey;
  }
}
