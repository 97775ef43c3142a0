import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { createDataKey } from '../../src/core/crypto/data-key.ts';
import { RecordCipher } from '../../src/core/crypto/record-cipher.ts';
import { FieldsimDb } from '../../src/core/store/fieldsim-db.ts';
import { runCaseDbContract } from './case-db.contract.ts';

/** The same contract with encryption at rest on: one data key, every connection unlocked. */
const c = new RecordCipher((await createDataKey('pw', { iterations: 1000 })).key);

let n = 0;
function unlocked(name: string, indexedDB: IDBFactory): FieldsimDb {
  const db = new FieldsimDb(name, { indexedDB, IDBKeyRange });
  db.vault.open(c);
  return db;
}

/**
 * These four check how a plain database's save joins the caller's transaction (and its
 * optimistic single round trip). An encrypted database cannot decrypt inside a
 * transaction, so its saves are two-phase instead (`CaseDb.prepareBlocks`): covered by
 * test/core/store/encrypted-store.test.ts and the outbox tests with encryption on.
 */
const TRANSACTION_JOINING = [
  'joins an outer transaction with the outbox: both commit or neither',
  'an aborted save leaves the catalog and the next save on the same page intact',
  'saves in a row read their pages once and never rebuild the catalog',
  'optimistic saves from two connections: a stale guess is aborted, retried, nothing lost',
];

runCaseDbContract(
  'fake-indexeddb (Node), encrypted',
  () => {
    const indexedDB = new IDBFactory();
    return {
      newDb: () => unlocked(`contract-enc-${++n}`, indexedDB),
      reopen: (db) => unlocked(db.name, indexedDB),
    };
  },
  { notApplicable: TRANSACTION_JOINING },
);
