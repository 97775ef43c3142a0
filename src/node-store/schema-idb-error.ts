import { FieldsimError } from '../core/errors/fieldsim-error.ts';

/**
 * A call the schema-only IndexedDB (schema-idb.ts) does not serve: it holds object store
 * and index definitions for Dexie's open handshake and never a record, so any request that
 * would read or write data (or a key-range test it has no use for) lands here instead of
 * silently doing nothing. Seeing one means a code path reached past the store's DBCore.
 */
export class SchemaIdbError extends FieldsimError {
  override readonly name = 'SchemaIdbError';
  /** The IndexedDB member that was called, e.g. `IDBObjectStore.put`. */
  readonly operation: string;

  constructor(operation: string) {
    super(
      'storage-error',
      `${operation} is not available: the Node stores keep only the schema in IndexedDB form, and every record goes through their DBCore`,
    );
    this.operation = operation;
  }
}
