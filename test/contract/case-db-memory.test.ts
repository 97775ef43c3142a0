import { afterAll } from 'vitest';
import { FieldsimDb } from '../../src/core/store/fieldsim-db.ts';
import { MemoryStore } from '../../src/node-store/memory-store.ts';
import { runCaseDbContract } from './case-db.contract.ts';

// The QA runner's default worker store (worker-store.ts) holds to the same case-database
// contract as the browser's IndexedDB and the CLI's SQLite store.
const stores: MemoryStore[] = [];
afterAll(() => {
  for (const s of stores) s.close();
});

let n = 0;
runCaseDbContract('JS Maps in memory (QA runner workers)', () => {
  const store = new MemoryStore();
  stores.push(store);
  return {
    newDb: () => new FieldsimDb(`contract-${++n}`, store.deps()),
    reopen: (db) => new FieldsimDb(db.name, store.deps()),
  };
});
