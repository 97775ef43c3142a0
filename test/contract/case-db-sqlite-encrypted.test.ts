import { afterAll } from 'vitest';
import { createDataKey } from '../../src/core/crypto/data-key.ts';
import { RecordCipher } from '../../src/core/crypto/record-cipher.ts';
import { FieldsimDb } from '../../src/core/store/fieldsim-db.ts';
import { SqliteStore } from '../../src/node-store/sqlite-store.ts';
import { runCaseDbContract } from './case-db.contract.ts';

/**
 * The contract on the CLI's store with encryption at rest on, as the CLI runs it: SQLite,
 * records sealed by node:crypto's synchronous AES-GCM (SqliteStore.deps' recordAead).
 */
const key = (await createDataKey('pw', { iterations: 1000 })).key;
const stores: SqliteStore[] = [];
afterAll(() => {
  for (const s of stores) s.close();
});

function unlocked(name: string, store: SqliteStore): FieldsimDb {
  const db = new FieldsimDb(name, store.deps());
  db.vault.open(new RecordCipher(key));
  if (db.vault.cipher()?.synchronous !== true) throw new Error('expected the node:crypto record AEAD');
  return db;
}

/** As in case-db-encrypted.test.ts: an encrypted save is two-phase, never joins a transaction. */
const TRANSACTION_JOINING = [
  'joins an outer transaction with the outbox: both commit or neither',
  'an aborted save leaves the catalog and the next save on the same page intact',
  'saves in a row read their pages once and never rebuild the catalog',
  'optimistic saves from two connections: a stale guess is aborted, retried, nothing lost',
];

let n = 0;
runCaseDbContract(
  'SQLite in memory (Node), encrypted with node:crypto',
  () => {
    const store = SqliteStore.open(':memory:');
    stores.push(store);
    return {
      newDb: () => unlocked(`contract-enc-${++n}`, store),
      reopen: (db) => unlocked(db.name, store),
    };
  },
  { notApplicable: TRANSACTION_JOINING },
);
