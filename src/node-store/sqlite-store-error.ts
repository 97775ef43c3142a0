import { FieldsimError } from '../core/errors/fieldsim-error.ts';

/** Why a store file was refused. */
export type StoreFileProblem = 'corrupt' | 'foreign' | 'newer';

/**
 * A store file that cannot be used, code `state-corrupt` ("damaged or not written by
 * fieldsim"), with `problem`: damaged or not a database (`corrupt`), another program's
 * SQLite database (`foreign`), written by a newer fieldsim (`newer`). The file is named
 * in `path` and the message, and left as it is: never overwritten.
 */
export class SqliteStoreError extends FieldsimError {
  override readonly name = 'SqliteStoreError';
  readonly path: string;
  readonly problem: StoreFileProblem | null;

  constructor(
    code: 'state-corrupt' | 'storage-error' | 'storage-blocked',
    problem: StoreFileProblem | null,
    message: string,
    path: string,
    cause?: unknown,
  ) {
    super(code, message, { cause, retryable: false });
    this.path = path;
    this.problem = problem;
  }

  static wrap(e: unknown, path: string, doing: string): SqliteStoreError {
    if (e instanceof SqliteStoreError) return e;
    const code = typeof e === 'object' && e !== null ? String((e as { code?: unknown }).code ?? '') : '';
    const msg = e instanceof Error ? e.message : String(e);
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT')
      return new SqliteStoreError(
        'state-corrupt',
        'corrupt',
        `${path} is not a readable SQLite database (${msg}); move it aside`,
        path,
        e,
      );
    return new SqliteStoreError('storage-error', null, `Could not ${doing} ${path}: ${msg}`, path, e);
  }
}
