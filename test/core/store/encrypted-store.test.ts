import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { CryptoError } from '../../../src/core/crypto/crypto-error.ts';
import { createDataKey } from '../../../src/core/crypto/data-key.ts';
import { RecordCipher } from '../../../src/core/crypto/record-cipher.ts';
import { fromString } from '../../../src/core/protocol/restore/restore-parser.ts';
import { CaseDb } from '../../../src/core/store/case-db.ts';
import { FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';
import { getFixture, getFixtureRows } from '../../../src/core/store/fixtures.ts';
import { getLedger } from '../../../src/core/store/ledgers.ts';
import { ingestRestore } from '../../../src/core/store/restore-ingest.ts';

/** The store with encryption at rest on: same answers, nothing readable on disk. */

const open: FieldsimDb[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

const NAMES = ['Amina Okafor', 'Joseph Banda', 'Zoë Nakamura'];

function caseXml(i: number, name: string, extra = ''): string {
  return `<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="c${i}" date_modified="2024-01-0${(i % 9) + 1}T10:00:00Z" user_id="u1">
  <create><case_type>patient</case_type><case_name>${name}</case_name><owner_id>owner-secret-7</owner_id></create>
  <update><village>Village-${i}-Kisumu</village>${extra}</update></case>`;
}

function restoreXml(count: number): string {
  const cases: string[] = [];
  for (let i = 0; i < count; i++) cases.push(caseXml(i, NAMES[i % NAMES.length] ?? 'x'));
  return `<OpenRosaResponse xmlns="http://openrosa.org/http/response">
<Sync xmlns="http://commcarehq.org/sync"><restore_id>tok-1</restore_id></Sync>
<fixture id="item-list:clinics" user_id="u1"><clinics><clinic><name>Clinic Nyando Secret</name></clinic></clinics></fixture>
<fixture id="products" user_id="u1" indexed="true"><products><product id="p1"><name>Amoxicillin Secret</name></product></products></fixture>
${cases.join('\n')}
<ns0:balance xmlns:ns0="http://commcarehq.org/ledger/v1" entity-id="c0" date="2024-01-01" section-id="stock"><ns0:entry id="p1" quantity="417"/></ns0:balance>
</OpenRosaResponse>`;
}

function newFactory(): IDBFactory {
  return new IDBFactory();
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

/** Every stored value of every table, as raw bytes (what a disk image would hold). */
async function rawDump(db: FieldsimDb): Promise<Buffer> {
  const parts: Buffer[] = [];
  const push = (v: unknown): void => {
    if (v instanceof Uint8Array) parts.push(Buffer.from(v));
    else if (typeof v === 'string') parts.push(Buffer.from(v, 'utf8'), Buffer.from(v, 'utf16le'));
    else if (Array.isArray(v)) for (const x of v) push(x);
    else if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) push(x);
    else if (typeof v === 'number') parts.push(Buffer.from(String(v)));
  };
  for (const t of db.tables) push(await t.toArray());
  return Buffer.concat(parts);
}

const SECRETS = [
  ...NAMES,
  'Kisumu',
  'owner-secret-7',
  'patient',
  'Clinic Nyando Secret',
  'Amoxicillin Secret',
  '417',
];

function leaks(dump: Buffer): string[] {
  return SECRETS.filter(
    (s) => dump.includes(Buffer.from(s, 'utf8')) || dump.includes(Buffer.from(s, 'utf16le')),
  );
}

describe('encrypted store', () => {
  it('restores, queries and reads back; no case, fixture or ledger value on disk', async () => {
    const f = newFactory();
    const c = await cipher();
    const db = connect(f, 'enc-1', c);
    await ingestRestore(db, fromString(restoreXml(40)), { mode: 'full', purge: false });
    const cases = new CaseDb(db);
    expect(await cases.count()).toBe(40);
    expect((await cases.get('c1'))?.caseName).toBe('Joseph Banda');
    const page = await cases.query({ namePrefix: 'zo', limit: 100 });
    expect(page.total).toBe(13);
    expect(
      (await cases.query({ property: { name: 'village', value: 'Village-7-Kisumu' } })).cases[0]?.caseId,
    ).toBe('c7');
    expect((await cases.query({ text: 'kisumu' })).total).toBe(40);
    expect((await getFixture(db, 'item-list:clinics'))?.root.children[0]?.children[0]?.text).toBe(
      'Clinic Nyando Secret',
    );
    expect((await getFixtureRows(db, 'products', { '@id': 'p1' })).length).toBe(1);
    expect(await getLedger(db, 'c0')).toEqual([
      { sectionId: 'stock', entryId: 'p1', quantity: 417, date: '2024-01-01' },
    ]);

    expect(leaks(await rawDump(db))).toEqual([]);
    // The same restore without encryption does hold them: the scan can see them.
    const plain = connect(newFactory(), 'plain-1', null);
    await ingestRestore(plain, fromString(restoreXml(40)), { mode: 'full', purge: false });
    expect(leaks(await rawDump(plain)).length).toBeGreaterThan(5);
  });

  it('saves, incremental syncs and a fresh connection rebuild the catalog from decrypted summaries', async () => {
    const f = newFactory();
    const c = await cipher();
    const db = connect(f, 'enc-2', c);
    await ingestRestore(db, fromString(restoreXml(20)), { mode: 'full', purge: false });
    const cases = new CaseDb(db);
    await cases.applyBlocks([
      {
        caseId: 'c3',
        dateModified: '2024-02-01T00:00:00Z',
        userId: 'u1',
        actions: [{ kind: 'update', fields: [['village', 'Moved-Eldoret']] }],
      },
    ]);
    await ingestRestore(
      db,
      fromString(
        `<OpenRosaResponse><Sync xmlns="http://commcarehq.org/sync"><restore_id>tok-2</restore_id></Sync>${caseXml(99, 'Late Arrival Wanjiru')}</OpenRosaResponse>`,
      ),
      { mode: 'incremental', purge: false },
    );
    const again = connect(f, 'enc-2', c);
    const other = new CaseDb(again);
    expect(await other.count()).toBe(21);
    expect((await other.get('c3'))?.properties.village).toBe('Moved-Eldoret');
    expect((await other.query({ namePrefix: 'late' })).cases.map((x) => x.caseId)).toEqual(['c99']);
    const dump = await rawDump(again);
    expect(dump.includes(Buffer.from('Eldoret'))).toBe(false);
    expect(dump.includes(Buffer.from('Wanjiru'))).toBe(false);
  });

  it('locked: every read fails with data-locked; another key opens nothing', async () => {
    const f = newFactory();
    const db = connect(f, 'enc-3', await cipher());
    await ingestRestore(db, fromString(restoreXml(5)), { mode: 'full', purge: false });
    const locked = connect(f, 'enc-3', null);
    locked.vault.markEncrypted();
    await expect(new CaseDb(locked).count()).rejects.toMatchObject({ code: 'data-locked' });
    await expect(getFixture(locked, 'item-list:clinics')).rejects.toMatchObject({ code: 'data-locked' });
    const wrong = connect(f, 'enc-3', await cipher());
    // Summaries and pages both fail: no case is served, each record reported.
    const wc = new CaseDb(wrong);
    expect(await wc.count()).toBe(0);
    expect((await wc.damaged()).every((e) => e instanceof CryptoError && e.code === 'record-integrity')).toBe(
      true,
    );
    await expect(getFixture(wrong, 'item-list:clinics')).rejects.toMatchObject({ code: 'record-integrity' });
  });

  it('one tampered page: a typed error for its cases, the rest still opens; swapped pages are refused', async () => {
    const f = newFactory();
    const c = await cipher();
    const db = connect(f, 'enc-4', c);
    await ingestRestore(db, fromString(restoreXml(40)), { mode: 'full', purge: false });
    const rows = (await db.casePages.toArray()) as { gen: number; page: number; enc: Uint8Array }[];
    expect(rows.length).toBe(3);
    const [p0, p1] = rows as [(typeof rows)[0], (typeof rows)[0]];
    const bad = p0.enc.slice();
    bad[bad.length - 3] = (bad[bad.length - 3] as number) ^ 0x40;
    await db.casePages.put({ ...p0, enc: bad });
    const fresh = new CaseDb(connect(f, 'enc-4', c));
    const err = await fresh.get('c0').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CryptoError);
    expect(err).toMatchObject({
      code: 'record-integrity',
      table: 'casePages',
      recordKey: `${p0.gen}:${p0.page}`,
    });
    expect((await fresh.get('c20'))?.caseName).toBe(NAMES[20 % 3]);
    expect(await fresh.count()).toBe(40);

    // Page 1's record stored under page 0's key: authentication fails (key bound as AAD).
    await db.casePages.put({ ...p1, page: p0.page });
    const swapped = new CaseDb(connect(f, 'enc-4', c));
    await expect(swapped.get('c0')).rejects.toMatchObject({ code: 'record-integrity' });
  });

  it('a tampered summary is rebuilt from its page and reported', async () => {
    const f = newFactory();
    const c = await cipher();
    const db = connect(f, 'enc-5', c);
    await ingestRestore(db, fromString(restoreXml(20)), { mode: 'full', purge: false });
    const sums = (await db.caseSums.toArray()) as { gen: number; page: number; enc: Uint8Array }[];
    const s0 = sums[0] as (typeof sums)[0];
    await db.caseSums.put({ ...s0, enc: s0.enc.slice(0, 30) });
    const fresh = new CaseDb(connect(f, 'enc-5', c));
    expect(await fresh.count()).toBe(20);
    expect((await fresh.query({ namePrefix: 'amina' })).total).toBe(7);
    expect(await fresh.damaged()).toEqual([
      expect.objectContaining({ code: 'record-integrity', table: 'caseSums' }),
    ]);
  });
});
