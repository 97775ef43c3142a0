import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { streamOfChunks, synthRestoreChunks } from '../../../bench/restore-synth.ts';
import { createDataKey } from '../../../src/core/crypto/data-key.ts';
import { RecordCipher } from '../../../src/core/crypto/record-cipher.ts';
import { CaseDb } from '../../../src/core/store/case-db.ts';
import {
  CASE_PAGE_SIZE,
  CATALOG_SLICE,
  forgetCatalog,
  loadCatalog,
} from '../../../src/core/store/case-writer.ts';
import { FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../../../src/core/store/restore-ingest.ts';

/**
 * An encrypted catalog loads in slices of summary records, one read transaction each, so
 * the whole set of sealed and decrypted summaries is never held at once (issue 15, the
 * CLI's `cases` on 50k cases); a write by another connection between slices starts the
 * load over, so the catalog is never a mix of two states.
 */

const open: FieldsimDb[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

function connect(factory: IDBFactory, c: RecordCipher): FieldsimDb {
  const db = new FieldsimDb('slices', { indexedDB: factory, IDBKeyRange });
  db.vault.open(c);
  open.push(db);
  return db;
}

const N = CATALOG_SLICE * CASE_PAGE_SIZE * 2 + 100;

describe('encrypted catalog load in slices', () => {
  it('loads every case over several read transactions; a write between slices restarts it', async () => {
    const f = new IDBFactory();
    const c = new RecordCipher((await createDataKey('pw', { iterations: 1000 })).key);
    const db = connect(f, c);
    await ingestRestore(db, streamOfChunks(synthRestoreChunks(N).chunks), { mode: 'full', purge: false });

    const reader = connect(f, c);
    const reads = { n: 0 };
    const tx = reader.transaction.bind(reader) as (...a: unknown[]) => Promise<unknown>;
    const writer = new CaseDb(db);
    const first = (await loadCatalog(db)).cat.entries.keys().next().value as string;
    (reader as unknown as { transaction: unknown }).transaction = async (...a: unknown[]) => {
      const out = await tx(...a);
      // After the first slice, another connection closes a case.
      if (++reads.n === 1) await writer.applyBlocks([{ caseId: first, actions: [{ kind: 'close' }] }]);
      return out;
    };
    const { state, cat } = await loadCatalog(reader);
    expect(cat.entries.size).toBe(N);
    // The stale attempt read one slice and saw the moved state in its second read; then a
    // whole pass over the new state.
    expect(reads.n).toBeGreaterThanOrEqual(1 + Math.ceil(N / CASE_PAGE_SIZE / CATALOG_SLICE));
    expect(cat.entries.get(first)?.closed).toBe(true);
    expect(state.version).toBe((await loadCatalog(db)).state.version);

    forgetCatalog(reader);
    reads.n = 2; // no more writes
    const again = await loadCatalog(reader);
    expect(again.cat.entries.size).toBe(N);
    expect(again.cat.entries.get(first)?.closed).toBe(true);
  });
});
