import { FieldsimError } from '../../core/errors/fieldsim-error.ts';

/**
 * fake-indexeddb, loaded only when a run asks for it (FIELDSIM_RUNNER_STORE=fake-indexeddb).
 * It is a development dependency: an install without dev dependencies has no copy, and
 * every other path of the CLI and runner works without it (the Node stores open Dexie on
 * the schema-only IndexedDB of src/node-store/schema-idb.ts). Nothing imports it
 * statically (test/scripts/no-fake-indexeddb-import.test.ts checks).
 */

export const FAKE_INDEXEDDB_PACKAGE = 'fake-indexeddb';

/** The chosen store needs a package this install does not have. */
export class MissingPackageError extends FieldsimError {
  override readonly name = 'MissingPackageError';
  readonly packageName: string;

  constructor(packageName: string, why: string, cause?: unknown) {
    super(
      'invalid-argument',
      `${why} needs the npm package ${packageName}, which is not installed (it is a development dependency: npm install --include=dev, or choose another store)`,
      { cause },
    );
    this.packageName = packageName;
  }
}

export interface FakeIndexedDb {
  readonly IDBFactory: new () => IDBFactory;
  readonly IDBKeyRange: typeof IDBKeyRange;
}

let loading: Promise<FakeIndexedDb> | null = null;

function isNotFound(e: unknown): boolean {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    e instanceof Error &&
    e.message.includes(FAKE_INDEXEDDB_PACKAGE)
  );
}

/** Loads the package once per thread; a MissingPackageError naming it when absent. */
export function loadFakeIndexedDb(why: string): Promise<FakeIndexedDb> {
  loading ??= import('fake-indexeddb').then(
    (m) => ({ IDBFactory: m.IDBFactory, IDBKeyRange: m.IDBKeyRange }),
    (e: unknown) => {
      loading = null;
      throw isNotFound(e) ? new MissingPackageError(FAKE_INDEXEDDB_PACKAGE, why, e) : e;
    },
  );
  return loading;
}
