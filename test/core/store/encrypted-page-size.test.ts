import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { streamOfChunks, synthId, synthRestoreChunks } from '../../../bench/restore-synth.ts';
import { CaseDb } from '../../../src/core/store/case-db.ts';
import {
  CASE_PAGE_SIZE,
  ENCRYPTED_CASE_PAGE_SIZE,
  forgetCatalog,
  loadCatalog,
  readCaseState,
} from '../../../src/core/store/case-writer.ts';
import { unlockData } from '../../../src/core/store/data-encryption.ts';
import { type CasePageRow, FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../../../src/core/store/restore-ingest.ts';
import { isSealed, openPage, type SealedPageRow } from '../../../src/core/store/sealed-rows.ts';

/**
 * An encrypted database packs ENCRYPTED_CASE_PAGE_SIZE cases a record (half the records
 * to seal and store of 16 a page); databases written before, at 16 a page, still read and
 * write: the page size is not part of a record's format.
 */

const open: FieldsimDb[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

function connect(factory: IDBFactory, name: string): FieldsimDb {
  const db = new FieldsimDb(name, { indexedDB: factory, IDBKeyRange });
  open.push(db);
  return db;
}

const N = 200;
const restoreOf = (n: number) => streamOfChunks(synthRestoreChunks(n).chunks);

async function pageSizes(db: FieldsimDb): Promise<number[]> {
  const c = db.vault.cipher();
  const out: number[] = [];
  for (const row of await db.casePages.toArray()) {
    expect(isSealed(row)).toBe(c !== null);
    const page = c === null ? (row as CasePageRow) : await openPage(c, row as SealedPageRow);
    out.push(page?.ids.length ?? 0);
  }
  return out;
}

async function newCase(db: CaseDb, i: number): Promise<void> {
  await db.applyBlocks([
    {
      caseId: `added-${i}`,
      actions: [
        { kind: 'create', caseType: 'patient', caseName: `Added ${i}`, ownerId: 'u1' },
        { kind: 'update', fields: [['village', `v${i}`]] },
      ],
    },
  ]);
}

describe('encrypted page size', () => {
  it('an encrypted restore writes pages of up to 32 cases, half the records of a plain one', async () => {
    const f = new IDBFactory();
    const plain = connect(f, 'plain');
    await ingestRestore(plain, restoreOf(N), { mode: 'full', purge: false });
    expect(await pageSizes(plain)).toEqual([
      ...Array(Math.floor(N / CASE_PAGE_SIZE)).fill(CASE_PAGE_SIZE),
      N % CASE_PAGE_SIZE,
    ]);

    const enc = connect(f, 'enc');
    await unlockData(enc, 'pw', { encrypt: true, iterations: 1000 });
    await ingestRestore(enc, restoreOf(N), { mode: 'full', purge: false });
    const sizes = await pageSizes(enc);
    expect(sizes).toEqual([
      ...Array(Math.floor(N / ENCRYPTED_CASE_PAGE_SIZE)).fill(ENCRYPTED_CASE_PAGE_SIZE),
      N % ENCRYPTED_CASE_PAGE_SIZE,
    ]);
    expect(await enc.caseSums.count()).toBe(sizes.length);
    const cases = new CaseDb(enc);
    expect(await cases.count()).toBe(N);
    expect((await cases.get(synthId(N - 1)))?.caseId).toBe(synthId(N - 1));
  });

  it('a database of 16-case pages migrated to encryption reads, saves and grows as before', async () => {
    const f = new IDBFactory();
    const db = connect(f, 'old');
    await ingestRestore(db, restoreOf(N), { mode: 'full', purge: false });
    // Encrypted in place: its sealed pages keep 16 cases, as every database written
    // before the encrypted page size existed.
    expect(await unlockData(db, 'pw', { encrypt: true, iterations: 1000 })).toBe('migrated');
    const before = await pageSizes(db);
    expect(Math.max(...before)).toBe(CASE_PAGE_SIZE);
    const tail = N % CASE_PAGE_SIZE;

    const cases = new CaseDb(db);
    expect(await cases.count()).toBe(N);
    await cases.applyBlocks([{ caseId: synthId(3), actions: [{ kind: 'update', fields: [['x', 'y']] }] }]);
    expect((await cases.get(synthId(3)))?.properties.x).toBe('y');
    // New cases fill the old tail page up to the encrypted size, then start the next.
    const added = ENCRYPTED_CASE_PAGE_SIZE - tail + 3;
    for (let i = 0; i < added; i++) await newCase(cases, i);
    const after = await pageSizes(db);
    expect(after.slice(0, before.length - 1)).toEqual(before.slice(0, -1));
    expect(after.slice(before.length - 1)).toEqual([ENCRYPTED_CASE_PAGE_SIZE, 3]);
    const state = await readCaseState(db);
    expect(state.tailCount).toBe(3);

    // A fresh connection (an unlock) rebuilds the same catalog from both page sizes.
    const again = connect(f, 'old');
    await unlockData(again, 'pw', { encrypt: true, iterations: 1000 });
    forgetCatalog(again);
    const { cat } = await loadCatalog(again);
    expect(cat.entries.size).toBe(N + added);
    const reread = new CaseDb(again);
    expect((await reread.get(`added-${added - 1}`))?.caseName).toBe(`Added ${added - 1}`);
    expect((await reread.get(synthId(0)))?.caseId).toBe(synthId(0));
  });
});
