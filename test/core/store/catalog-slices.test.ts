import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { streamOfChunks, synthRestoreChunks } from '../../../bench/restore-synth.ts';
import { createDataKey } from '../../../src/core/crypto/data-key.ts';
import { RecordCipher } from '../../../src/core/crypto/record-cipher.ts';
import { CaseDb } from '../../../src/core/store/case-db.ts';
import {
  BATCH_SUMS_SLICE,
  CASE_PAGE_SIZE,
  CATALOG_SLICE,
  forgetCatalog,
  loadCatalog,
} from '../../../src/core/store/case-writer.ts';
import { migrateToSealed } from '../../../src/core/store/data-encryption.ts';
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

function connect(factory: IDBFactory, c: RecordCipher | null): FieldsimDb {
  const db = new FieldsimDb('slices', { indexedDB: factory, IDBKeyRange });
  if (c !== null) db.vault.open(c);
  open.push(db);
  return db;
}

const N = CATALOG_SLICE * CASE_PAGE_SIZE * 2 + 100;
/** Restore batches of 4 pages: N cases make ~130 batch summary records (batch-summaries.ts). */
const SMALL_BATCH = 4 * CASE_PAGE_SIZE;

describe('encrypted catalog load in slices', () => {
  /**
   * Both kinds of summary record: batch records (an encrypted restore in small batches)
   * and per-page records (the format before them, here from a plain database migrated at
   * its first encrypted unlock).
   */
  it.each([
    ['batch summary records', BATCH_SUMS_SLICE],
    ['per-page summary records', CATALOG_SLICE],
  ])(
    '%s: loads every case over several read transactions; a write between slices restarts it',
    async (kind, slice) => {
      const f = new IDBFactory();
      const key = await createDataKey('pw', { iterations: 1000 });
      const c = new RecordCipher(key.key);
      // Chunks of 2 KB: the parser cuts its batches between chunks only.
      const small = synthRestoreChunks(N).chunks.flatMap((ch) =>
        Array.from({ length: Math.ceil(ch.length / 2048) }, (_, i) => ch.subarray(i * 2048, (i + 1) * 2048)),
      );
      const body = streamOfChunks(small);
      let db: FieldsimDb;
      if (kind === 'batch summary records') {
        db = connect(f, c);
        await ingestRestore(db, body, { mode: 'full', purge: false, batchSize: SMALL_BATCH });
      } else {
        db = connect(f, null);
        await ingestRestore(db, body, { mode: 'full', purge: false });
        await migrateToSealed(db, c, key.wrapped);
        db.close();
        db = connect(f, c);
      }
      // Enough records for several slices of their kind.
      const records = await db.caseSums.count();
      expect(records).toBeGreaterThan(2 * slice);

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
      expect(reads.n).toBeGreaterThanOrEqual(1 + Math.ceil(records / slice));
      expect(cat.entries.get(first)?.closed).toBe(true);
      expect(state.version).toBe((await loadCatalog(db)).state.version);

      forgetCatalog(reader);
      reads.n = 2; // no more writes
      const again = await loadCatalog(reader);
      expect(again.cat.entries.size).toBe(N);
      expect(again.cat.entries.get(first)?.closed).toBe(true);
    },
  );
});
