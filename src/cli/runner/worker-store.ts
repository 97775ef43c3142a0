import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { FieldsimError } from '../../core/errors/fieldsim-error.ts';
import type { IndexedDbDeps } from '../../core/platform.ts';
import { MemoryStore } from '../../node-store/memory-store.ts';
import { nodeRecordAead } from '../../node-store/node-record-aead.ts';
import { SqliteStore } from '../../node-store/sqlite-store.ts';

/**
 * Where a QA-runner worker keeps its phone database: JS Maps behind the SQLite store's
 * semantics (`memory`, the default: the lightest per worker, bench/RESULTS.md session 6),
 * a private in-memory SQLite database (`sqlite`), or fake-indexeddb (`fake-indexeddb`),
 * chosen with FIELDSIM_RUNNER_STORE. Either way nothing is written to disk and no two
 * workers share a database.
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

export function openWorkerStore(kind: RunnerStoreKind): WorkerStore {
  if (kind === 'fake-indexeddb')
    return { deps: { indexedDB: new IDBFactory(), IDBKeyRange, recordAead: nodeRecordAead }, close() {} };
  if (kind === 'memory') {
    const store = new MemoryStore();
    return { deps: store.deps(), close: () => store.close() };
  }
  const store = SqliteStore.open(':memory:');
  return { deps: store.deps(), close: () => store.close() };
}
