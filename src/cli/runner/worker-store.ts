import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { FieldsimError } from '../../core/errors/fieldsim-error.ts';
import type { IndexedDbDeps } from '../../core/platform.ts';
import { nodeRecordAead } from '../../node-store/node-record-aead.ts';
import { SqliteStore } from '../../node-store/sqlite-store.ts';

/**
 * Where a QA-runner worker keeps its phone database: a private in-memory SQLite database
 * (default), or fake-indexeddb with `FIELDSIM_RUNNER_STORE=fake-indexeddb` (to compare).
 * Either way nothing is written to disk and no two workers share a database.
 */
export type RunnerStoreKind = 'sqlite' | 'fake-indexeddb';

export const RUNNER_STORE_ENV = 'FIELDSIM_RUNNER_STORE';

export function runnerStoreKind(env: NodeJS.ProcessEnv = process.env): RunnerStoreKind {
  const v = env[RUNNER_STORE_ENV];
  if (v === undefined || v === '' || v === 'sqlite') return 'sqlite';
  if (v === 'fake-indexeddb') return 'fake-indexeddb';
  throw new FieldsimError(
    'invalid-argument',
    `${RUNNER_STORE_ENV} must be sqlite or fake-indexeddb, not ${v}`,
  );
}

export interface WorkerStore {
  readonly deps: IndexedDbDeps;
  close(): void;
}

export function openWorkerStore(kind: RunnerStoreKind): WorkerStore {
  if (kind === 'fake-indexeddb')
    return { deps: { indexedDB: new IDBFactory(), IDBKeyRange, recordAead: nodeRecordAead }, close() {} };
  const store = SqliteStore.open(':memory:');
  return { deps: store.deps(), close: () => store.close() };
}
