import { FieldsimError } from './fieldsim-error.ts';

/**
 * Wraps IndexedDB/Dexie failures. A quota error becomes `storage-full` so the UI can say
 * "the device is full" instead of a stack trace; the original error stays as `cause`.
 */
export class StorageError extends FieldsimError {
  override readonly name = 'StorageError';
  constructor(code: 'storage-full' | 'storage-blocked' | 'storage-error', message: string, cause?: unknown) {
    super(code, message, { cause, retryable: code !== 'storage-error' });
  }

  static from(error: unknown, context: string): StorageError {
    if (error instanceof StorageError) return error;
    const name =
      typeof error === 'object' && error !== null ? String((error as { name?: unknown }).name) : '';
    const inner =
      typeof error === 'object' && error !== null
        ? (error as { inner?: { name?: unknown } }).inner
        : undefined;
    const innerName = inner ? String(inner.name) : '';
    const msg = error instanceof Error ? error.message : String(error);
    if (name === 'QuotaExceededError' || innerName === 'QuotaExceededError')
      return new StorageError('storage-full', `${context}: the device storage is full (${msg})`, error);
    if (
      [
        'DatabaseClosedError',
        'InvalidStateError',
        'VersionError',
        'BlockedError',
        'OpenFailedError',
      ].includes(name)
    )
      return new StorageError(
        'storage-blocked',
        `${context}: the database is closed or blocked (${msg})`,
        error,
      );
    return new StorageError('storage-error', `${context}: ${msg}`, error);
  }
}
