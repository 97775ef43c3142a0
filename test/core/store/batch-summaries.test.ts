import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { CryptoError } from '../../../src/core/crypto/crypto-error.ts';
import { createDataKey } from '../../../src/core/crypto/data-key.ts';
import { RecordCipher } from '../../../src/core/crypto/record-cipher.ts';
import { openBatchSums } from '../../../src/core/store/batch-summaries.ts';
import { CaseDb, caseTables } from '../../../src/core/store/case-db.ts';
import { loadCatalog, prepareLiveWrite } from '../../../src/core/store/case-writer.ts';
import { FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../../../src/core/store/restore-ingest.ts';
import { pageKey, sealSums } from '../../../src/core/store/sealed-rows.ts';
import { SqliteStore } from '../../../src/node-store/sqlite-store.ts';

/**
 * Batch summary records (src/core/store/batch-summaries.ts): an encrypted full restore
 * seals one summary record per batch; saves write per-page records over them; deleted
 * pages leave tombstones; a damaged batch record is rebuilt from its pages.
 */

const open: FieldsimDb[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

type Row = { gen: number; page: number; enc: Uint8Array; pages?: number[] };

function caseXml(i: number, name: string): string {
  return `<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="c${i}" date_modified="2024-01-01T10:00:00Z" user_id="u1">
  <create><case_type>patient</case_type><case_name>${name}</case_name><owner_id>u1</owner_id></create>
  <update><village>V${i}</village></update></case>`;
}

/** `count` cases, then (optionally) an update of c0 late in the payload, in a later batch. */
function restoreXml(count: number, renameFirst?: string): string {
  const cases: string[] = [];
  for (let i = 0; i < count; i++) cases.push(caseXml(i, `Name ${i}`));
  if (renameFirst !== undefined)
    cases.push(
      `<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="c0" date_modified="2024-01-02T10:00:00Z" user_id="u1"><update><case_name>${renameFirst}</case_name></update></case>`,
    );
  return `<OpenRosaResponse xmlns="http://openrosa.org/http/response">
<Sync xmlns="http://commcarehq.org/sync"><restore_id>tok-1</restore_id></Sync>
${cases.join('\n')}
</OpenRosaResponse>`;
}

/** The payload line by line: the parser cuts batches only between chunks. */
async function* byLine(text: string): AsyncGenerator<string> {
  for (const line of text.split('\n')) yield `${line}\n`;
}

async function cipher(): Promise<RecordCipher> {
  return new RecordCipher((await createDataKey('pw', { iterations: 1000 })).key);
}

function connect(factory: IDBFactory, name: string, c: RecordCipher | null): FieldsimDb {
  const db = new FieldsimDb(name, { indexedDB: factory, IDBKeyRange });
  if (c !== null) db.vault.open(c);
  open.push(db);
  return db;
}

async function sumRows(db: FieldsimDb): Promise<Row[]> {
  return (await db.caseSums.toArray()) as Row[];
}

/** Restores `count` cases in batches of 40 events (pages of 16: the tail page spans batches). */
async function restored(name: string, count = 100, renameFirst?: string) {
  const f = new IDBFactory();
  const c = await cipher();
  const db = connect(f, name, c);
  await ingestRestore(db, byLine(restoreXml(count, renameFirst)), {
    mode: 'full',
    purge: false,
    batchSize: 40,
  });
  return { f, c, db, reopen: () => new CaseDb(connect(f, name, c)) };
}

async function removeCases(db: FieldsimDb, ids: string[]): Promise<void> {
  const prep = await prepareLiveWrite(db, ids, (w) => {
    for (const id of ids) w.remove(id);
  });
  await db.transaction('rw', caseTables(db), () => prep.write());
}

function flip(enc: Uint8Array): Uint8Array {
  const bad = enc.slice();
  bad[bad.length - 3] = (bad[bad.length - 3] as number) ^ 0x40;
  return bad;
}

describe('batch summary records', () => {
  it('an encrypted restore stores one summary record per batch, and a new connection reads every case', async () => {
    const { db, c, reopen } = await restored('bs-1');
    const rows = await sumRows(db);
    // 100 cases in batches of 40 events (the first holds the sync token too): 3 batch
    // records, no per-page record; 7 pages, the tail page of each batch rewritten by the next.
    expect(rows.map((r) => r.page).sort((a, b) => a - b)).toEqual([-3, -2, -1]);
    expect(await db.casePages.count()).toBe(7);
    const newest = await openBatchSums(c, rows.find((r) => r.page === -3) as Row);
    expect(newest.pages).toEqual([4, 5, 6]);
    expect((rows.find((r) => r.page === -1) as Row).pages).toEqual([0, 1, 2]);
    const cases = reopen();
    expect(await cases.count()).toBe(100);
    // In page order, as the restore handed its catalog over (children lists follow it).
    const handed = [...(await loadCatalog(db)).cat.entries.keys()];
    expect([...(await loadCatalog(cases.db)).cat.entries.keys()]).toEqual(handed);
    expect(handed.slice(0, 3)).toEqual(['c0', 'c1', 'c2']);
    expect((await cases.query({ namePrefix: 'name 9', limit: 100 })).total).toBe(11);
    expect((await cases.get('c37'))?.properties.village).toBe('V37');
    expect(await cases.damaged()).toEqual([]);
  });

  it('a later batch record wins over an earlier one for the page both wrote', async () => {
    const { db, reopen } = await restored('bs-2', 100, 'Renamed Late');
    // c0 (page 0) was written by the first batch and renamed by the last one.
    const rows = await sumRows(db);
    expect(rows.length).toBe(3);
    const cases = reopen();
    expect(await cases.count()).toBe(100);
    expect((await cases.query({ namePrefix: 'renamed' })).cases.map((x) => x.caseId)).toEqual(['c0']);
    expect((await cases.query({ namePrefix: 'name 0' })).total).toBe(0);
  });

  it('saves write per-page records that take precedence; removed cases and deleted pages stay gone', async () => {
    const { db, reopen } = await restored('bs-3');
    const live = new CaseDb(db);
    await live.applyBlocks([
      {
        caseId: 'c20',
        dateModified: '2024-03-01T00:00:00Z',
        userId: 'u1',
        actions: [{ kind: 'update', fields: [['case_name', 'Saved Over']] }],
      },
    ]);
    // One case off page 2 (a per-page record without it); all of page 0 (a tombstone).
    await removeCases(db, ['c33']);
    await removeCases(
      db,
      Array.from({ length: 16 }, (_, i) => `c${i}`),
    );
    expect(await db.casePages.get([2, 0])).toBeUndefined();
    const pageRows = (await sumRows(db)).filter((r) => r.page >= 0).map((r) => r.page);
    expect(pageRows.sort((a, b) => a - b)).toEqual([0, 1, 2]);
    const cases = reopen();
    expect(await cases.count()).toBe(100 - 17);
    expect(await cases.get('c0')).toBeUndefined();
    expect(await cases.get('c33')).toBeUndefined();
    expect((await cases.ids()).filter((id) => id === 'c33' || id === 'c5')).toEqual([]);
    expect((await cases.query({ namePrefix: 'saved' })).cases.map((x) => x.caseId)).toEqual(['c20']);
    expect((await cases.query({ namePrefix: 'name 20' })).total).toBe(0);
    expect((await cases.get('c34'))?.caseName).toBe('Name 34');
    expect(await cases.damaged()).toEqual([]);
    const order = [...(await loadCatalog(cases.db)).cat.entries.keys()];
    expect(order).toEqual(
      Array.from({ length: 100 }, (_, i) => `c${i}`).filter(
        (id) => id !== 'c33' && Number(id.slice(1)) >= 16,
      ),
    );
    // A later save on the fresh connection still finds its page.
    await cases.applyBlocks([
      {
        caseId: 'c34',
        dateModified: '2024-03-02T00:00:00Z',
        userId: 'u1',
        actions: [{ kind: 'update', fields: [['village', 'After Reopen']] }],
      },
    ]);
    expect((await reopen().get('c34'))?.properties.village).toBe('After Reopen');
  });

  it('a tampered batch record: a typed error for it, its pages rebuilt from the pages, the rest opens', async () => {
    const { db, reopen } = await restored('bs-4');
    const rows = await sumRows(db);
    const first = rows.find((r) => r.page === -1) as Row;
    await db.caseSums.put({ ...first, enc: flip(first.enc) });
    const cases = reopen();
    expect(await cases.count()).toBe(100);
    expect((await cases.query({ namePrefix: 'name 1', limit: 100 })).total).toBe(11);
    const damage = await cases.damaged();
    expect(damage).toEqual([
      expect.objectContaining({ code: 'record-integrity', table: 'caseSums', recordKey: pageKey(2, -1) }),
    ]);
    expect(damage[0]).toBeInstanceOf(CryptoError);
  });

  it('a tampered batch record and one of its pages: that page is left out and reported, the rest opens', async () => {
    const { db, reopen } = await restored('bs-5');
    const batch = (await sumRows(db)).find((r) => r.page === -1) as Row;
    await db.caseSums.put({ ...batch, enc: flip(batch.enc) });
    const page1 = (await db.casePages.get([2, 1])) as unknown as Row;
    await db.casePages.put({ ...page1, enc: flip(page1.enc) });
    const cases = reopen();
    // Page 1 held c16..c31; the next batch record covers page 2 onwards.
    expect(await cases.count()).toBe(100 - 16);
    expect(await cases.get('c16')).toBeUndefined();
    expect((await cases.get('c15'))?.caseName).toBe('Name 15');
    expect((await cases.get('c32'))?.caseName).toBe('Name 32');
    expect((await cases.damaged()).map((e) => `${e.table}/${e.recordKey}`)).toEqual([
      'caseSums/2:-1',
      'casePages/2:1',
    ]);
  });

  it('an authentic batch record of an unknown version is rebuilt from its pages, never guessed at', async () => {
    const { db, c, reopen } = await restored('bs-6');
    const row = (await sumRows(db)).find((r) => r.page === -2) as Row;
    const enc = await c.sealText('caseSums', pageKey(2, -2), [
      JSON.stringify({ kind: 'batch-sums', v: 2, pages: row.pages }),
      '[]',
      '[]',
    ]);
    await db.caseSums.put({ ...row, enc });
    const cases = reopen();
    expect(await cases.count()).toBe(100);
    expect(await cases.damaged()).toEqual([
      expect.objectContaining({ code: 'record-integrity', recordKey: '2:-2' }),
    ]);
  });

  it('another key opens nothing: every batch record and page reported, no case served', async () => {
    const { f } = await restored('bs-7');
    const wrong = new CaseDb(connect(f, 'bs-7', await cipher()));
    expect(await wrong.count()).toBe(0);
    const damage = await wrong.damaged();
    // Each record once, though pages 2 and 4 are named by two batch records each.
    expect(damage.length).toBe(3 + 7);
    expect(damage.every((e) => e instanceof CryptoError && e.code === 'record-integrity')).toBe(true);
  });

  it('opens a database of per-page summary records (the format before batch records) as it is', async () => {
    const { db, c, reopen } = await restored('bs-8', 100, 'Renamed Late');
    // Rewrite the stored summaries as the previous format had them: one sealed record per page.
    const cases = reopen();
    const expected = new Map<number, unknown[]>();
    for (const id of await cases.ids()) {
      const rec = await cases.get(id);
      if (rec === undefined) continue;
      const page = Number(id.slice(1)) >> 4;
      const list = expected.get(page) ?? [];
      list.push([
        rec.caseId,
        rec.caseType,
        rec.caseName,
        rec.ownerId,
        rec.closed ? 1 : 0,
        rec.lastModified,
        rec.indices,
      ]);
      expected.set(page, list);
    }
    await db.caseSums.clear();
    for (const [page, sums] of expected)
      await db.caseSums.put(await sealSums(c, { gen: 2, page, sums: JSON.stringify(sums) }));
    const old = reopen();
    expect(await old.count()).toBe(100);
    expect((await old.query({ namePrefix: 'renamed' })).cases.map((x) => x.caseId)).toEqual(['c0']);
    expect(await old.damaged()).toEqual([]);
  });

  it('a plain database keeps one summary record per page', async () => {
    const f = new IDBFactory();
    const db = connect(f, 'bs-9', null);
    await ingestRestore(db, byLine(restoreXml(100)), { mode: 'full', purge: false, batchSize: 40 });
    expect((await db.caseSums.toArray()).map((r) => r.page)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(await new CaseDb(connect(f, 'bs-9', null)).count()).toBe(100);
  });

  it('a restore that purges writes tombstones for the pages it empties', async () => {
    const f = new IDBFactory();
    const c = await cipher();
    const db = connect(f, 'bs-10', c);
    // Owner u1 is the user; page 1's cases (c16..c31) belong to someone else and are purged.
    const xml = restoreXml(64).replace(
      /case_id="c(\d+)"([\s\S]*?)<owner_id>u1</g,
      (m, n: string, mid: string) =>
        Number(n) >= 16 && Number(n) < 32 ? `case_id="c${n}"${mid}<owner_id>other<` : m,
    );
    await ingestRestore(
      db,
      byLine(
        xml.replace(
          '<Sync',
          '<Registration xmlns="http://openrosa.org/user/registration"><username>w</username><password>x</password><uuid>u1</uuid><date>2024-01-01</date></Registration><Sync',
        ),
      ),
      { mode: 'full', batchSize: 40 },
    );
    expect(await db.casePages.get([2, 1])).toBeUndefined();
    // The emptied page's summary record is a tombstone (an empty list), not a deletion.
    expect(await db.caseSums.get([2, 1])).toBeDefined();
    const cases = new CaseDb(connect(f, 'bs-10', c));
    expect(await cases.count()).toBe(48);
    expect(await cases.get('c20')).toBeUndefined();
    expect(await cases.damaged()).toEqual([]);
  });

  it('the CLI store (SQLite, node:crypto): batch records under negative keys, saves over them, reopened', async () => {
    const store = SqliteStore.open(':memory:');
    try {
      const c = new RecordCipher((await createDataKey('pw', { iterations: 1000 })).key);
      const unlocked = (): FieldsimDb => {
        const db = new FieldsimDb('bs-sqlite', store.deps());
        db.vault.open(c);
        open.push(db);
        return db;
      };
      const db = unlocked();
      await ingestRestore(db, byLine(restoreXml(100, 'Renamed Late')), {
        mode: 'full',
        purge: false,
        batchSize: 40,
      });
      expect((await sumRows(db)).map((r) => r.page)).toEqual([-3, -2, -1]);
      await removeCases(db, ['c40']);
      const cases = new CaseDb(unlocked());
      expect(await cases.count()).toBe(99);
      expect(await cases.get('c40')).toBeUndefined();
      expect((await cases.query({ namePrefix: 'renamed' })).cases.map((x) => x.caseId)).toEqual(['c0']);
      expect(await cases.damaged()).toEqual([]);
    } finally {
      for (const db of open.splice(0)) db.close();
      store.close();
    }
  });
});
