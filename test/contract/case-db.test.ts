import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { FieldsimDb } from '../../src/core/store/fieldsim-db.ts';
import { runCaseDbContract } from './case-db.contract.ts';

let n = 0;
runCaseDbContract('fake-indexeddb (Node)', () => {
  const indexedDB = new IDBFactory();
  return {
    newDb: () => new FieldsimDb(`contract-${++n}`, { indexedDB, IDBKeyRange }),
    reopen: (db) => new FieldsimDb(db.name, { indexedDB, IDBKeyRange }),
  };
});
