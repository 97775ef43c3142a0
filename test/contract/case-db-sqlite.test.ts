import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { FieldsimDb } from '../../src/core/store/fieldsim-db.ts';
import { SqliteStore } from '../../src/node-store/sqlite-store.ts';
import { runCaseDbContract } from './case-db.contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'fieldsim-contract-'));
const stores: SqliteStore[] = [];
afterAll(() => {
  for (const s of stores) s.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
runCaseDbContract('SQLite in memory (Node)', () => {
  const store = SqliteStore.open(':memory:');
  stores.push(store);
  return {
    newDb: () => new FieldsimDb(`contract-${++n}`, store.deps()),
    reopen: (db) => new FieldsimDb(db.name, store.deps()),
  };
});

runCaseDbContract('SQLite file (Node)', () => {
  const file = join(dir, `db-${++n}.sqlite`);
  const store = SqliteStore.open(file);
  stores.push(store);
  return {
    newDb: () => new FieldsimDb('contract', store.deps()),
    // Another open of the same file (in one process, the same connection underneath).
    reopen: (db) => {
      const again = SqliteStore.open(file);
      stores.push(again);
      return new FieldsimDb(db.name, again.deps());
    },
  };
});
