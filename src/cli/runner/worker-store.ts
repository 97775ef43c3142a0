import { FieldsimError } from '../../core/errors/fieldsim-error.ts';
import type { IndexedDbDeps } from '../../core/platform.ts';
import { MemoryStore } from '../../node-store/memory-store.ts';
import { nodeRecordAead } from '../../node-store/node-record-aead.ts';
import { SqliteStore } from '../../node-store/sqlite-store.ts';
import { loadFakeIndexedDb } from './fake-idb-loader.ts';

/**
 * Where a QA-runner worker keeps its phone database: JS Maps behind the SQLite store's
 * semantics (`memory`, the default: the lightest per worker, bench/RESULTS.md session 6),
 * a private in-memory SQLite database (`sqlite`), or fake-indexeddb (`fake-indexeddb`),
 * chosen with FIELDSIM_RUNNER_STORE. Either way nothing is written to disk and no two
 * workers share a database. fake-indexeddb is a development dependency, loaded only when
 * chosen (fake-idb-loader.ts): without it, that choice is a MissingPackageError.
 */
export type RunnerStoreKind = 'memory' | 'sqlite' | 'fake-indexeddb';

export const RUNNER_STORE_ENV = 'FIELDSIM_RUNNER_STORE';

export function runnerStoreKind(env: NodeJS.ProcessEnv = process.env): RunnerStoreKind {
  const v = env[RUNNER_STORE_ENV];
  if (v === undefined || v === '' || v === 'memory') return 'memory';
  if (v === 'sqlite' || v === 'fake-indexeddb') return v;
  throw new FieldsimError(
    'invalid-argument',
    `${RUNNER_STORE_ENV} must be memory, sqlite or fake-indexeddb, not ${v}`,
  );
}

export interface WorkerStore {
  readonly deps: IndexedDbDeps;
  close(): void;
}

export async function openWorkerStore(kind: RunnerStoreKind): Promise<WorkerStore> {
  if (kind === 'fake-indexeddb') {
    const fake = await loadFakeIndexedDb(`${RUNNER_STORE_ENV}=fake-indexeddb`);
    return {
      deps: { indexedDB: new fake.IDBFactory(), IDBKeyRange: fake.IDBKeyRange, recordAead: nodeRecordAead },
      close() {},
    };
  }
  if (kind === 'memory') {
    const store = new MemoryStore();
    return { deps: store.deps(), close: () => store.close() };
  }
  const store = SqliteStore.open(':memory:');
  return { deps: store.deps(), close: () => store.close() };
}
