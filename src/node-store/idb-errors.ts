/**
 * Errors with the DOMException names IndexedDB raises, which Dexie and the core's
 * StorageError.from map by name (ConstraintError, DataError, QuotaExceededError...).
 */
export class IdbLikeError extends Error {
  override readonly name: string;

  constructor(name: string, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = name;
  }
}

/** An SQLite failure as the IndexedDB error a browser would raise in its place. */
export function fromSqlite(e: unknown, context: string): Error {
  const code = typeof e === 'object' && e !== null ? String((e as { code?: unknown }).code ?? '') : '';
  const msg = e instanceof Error ? e.message : String(e);
  if (code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR_WRITE') || code === 'SQLITE_IOERR_FSYNC')
    return new IdbLikeError('QuotaExceededError', `${context}: ${msg} (${code})`, e);
  if (code.startsWith('SQLITE_CONSTRAINT'))
    return new IdbLikeError('ConstraintError', `${context}: ${msg}`, e);
  if (e instanceof IdbLikeError) return e;
  if (e instanceof Error && (e.name === 'DataError' || e.name === 'DataCloneError')) return e;
  return new IdbLikeError('UnknownError', `${context}: ${msg}${code ? ` (${code})` : ''}`, e);
}
