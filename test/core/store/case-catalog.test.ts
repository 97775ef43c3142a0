import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { fromString } from '../../../src/core/protocol/restore/restore-parser.ts';
import { CaseDb } from '../../../src/core/store/case-db.ts';
import { CASE_PAGE_SIZE } from '../../../src/core/store/case-writer.ts';
import { FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../../../src/core/store/restore-ingest.ts';

describe('catalog rebuild on reopen', () => {
  it('reads every page summary when there are more pages than one read slice (500 pages)', async () => {
    const n = CASE_PAGE_SIZE * 520 + 7;
    let xml = '<OpenRosaResponse>';
    for (let i = 0; i < n; i++)
      xml += `<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="c${i}" date_modified="2024-01-01" user_id="u"><create><case_type>${i % 2 ? 'a' : 'b'}</case_type><case_name>N${i}</case_name><owner_id>u</owner_id></create>${i > 0 && i % 5 === 0 ? `<index><parent case_type="b">c${i - 1}</parent></index>` : ''}</case>`;
    xml += '</OpenRosaResponse>';
    const indexedDB = new IDBFactory();
    const db = new FieldsimDb('catalog-slices', { indexedDB, IDBKeyRange });
    await ingestRestore(db, fromString(xml), { mode: 'full', purge: false });
    const reopened = new FieldsimDb('catalog-slices', { indexedDB, IDBKeyRange });
    const cdb = new CaseDb(reopened);
    expect(await cdb.count()).toBe(n);
    expect((await cdb.query({ caseType: 'a', limit: 1 })).total).toBe(Math.floor(n / 2));
    expect((await cdb.get(`c${n - 1}`))?.caseName).toBe(`N${n - 1}`);
    expect((await cdb.children(`c${n - 2}`)).map((c) => c.caseId)).toEqual(n % 5 === 1 ? [`c${n - 1}`] : []);
    expect((await cdb.children('c4999')).map((c) => c.caseId)).toEqual(['c5000']);
    expect(await cdb.caseStateHash()).toBe(await new CaseDb(db).caseStateHash());
    db.close();
    reopened.close();
  }, 60_000);
});
