import type { DBCore, Dexie, Middleware } from 'dexie';
import type { DexieBackend, IndexedDbDeps } from '../core/platform.ts';
import { createMemoryCore, MemoryEngine, type MemoryTable } from './memory-dbcore.ts';
import { nodeRecordAead } from './node-record-aead.ts';
import { schemaIndexedDb } from './schema-idb.ts';
import { schemaKeyRange } from './schema-key-range.ts';
import { SqliteStoreError } from './sqlite-store-error.ts';
import { TxQueue } from './sqlite-tx-queue.ts';

/**
 * The phone's databases in plain JS Maps, for the QA runner's workers (worker-store.ts):
 * private, in memory, gone when closed, with the SQLite store's semantics (one queue of
 * transactions, rollback on abort, keys and values encoded alike) and none of its fixed
 * cost per database. Like the SQLite store, Dexie's open handshake reads the schema from
 * the schema-only IndexedDB of schema-idb.ts.
 */
export class MemoryStore implements DexieBackend {
  readonly #engine = new MemoryEngine();
  readonly #queue = new TxQueue(this.#engine);
  readonly #dbs = new Map<string, Map<string, MemoryTable>>();
  #closed = false;

  deps(): IndexedDbDeps {
    return {
      indexedDB: schemaIndexedDb(),
      IDBKeyRange: schemaKeyRange,
      backend: this,
      recordAead: nodeRecordAead,
    };
  }

  install(db: Dexie): void {
    const mw: Middleware<DBCore> = {
      stack: 'dbcore',
      name: 'fieldsim-memory',
      // Below Dexie's own middlewares, as the SQLite store.
      level: -10,
      create: (down) => {
        if (this.#closed)
          throw new SqliteStoreError('storage-blocked', null, 'the in-memory store is closed', ':memory:');
        let held = this.#dbs.get(down.schema.name);
        if (held === undefined) {
          held = new Map();
          this.#dbs.set(down.schema.name, held);
        }
        return createMemoryCore(this.#engine, this.#queue, down, held);
      },
    };
    db.use(mw);
  }

  databaseNames(): string[] {
    return [...this.#dbs.keys()].sort();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue.abortAll();
    this.#dbs.clear();
  }
}
