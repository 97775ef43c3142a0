import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { fromString } from '../../../src/core/protocol/restore/restore-parser.ts';
import { CaseCatalog, type CaseEntry } from '../../../src/core/store/case-catalog.ts';
import { CaseDb } from '../../../src/core/store/case-db.ts';
import { forgetCatalog, loadCatalog } from '../../../src/core/store/case-writer.ts';
import {
  adoptCatalogSnapshot,
  BadCatalogSnapshot,
  type CatalogSnapshot,
  catalogFromSnapshot,
  snapshotCatalog,
} from '../../../src/core/store/catalog-snapshot.ts';
import { FieldsimDb } from '../../../src/core/store/fieldsim-db.ts';
import { ingestRestore } from '../../../src/core/store/restore-ingest.ts';

function entry(over: Partial<CaseEntry>): CaseEntry {
  return {
    page: 0,
    caseType: 'person',
    caseName: 'x',
    ownerId: 'u1',
    closed: false,
    lastModified: '2024-01-01T00:00:00Z',
    indices: [],
    ...over,
  };
}

function sample(): CaseCatalog {
  const cat = new CaseCatalog(3, 7);
  cat.entries.set('b', entry({ page: 0, caseName: 'Zoë', closed: true }));
  cat.entries.set(
    'a',
    entry({
      page: 0,
      caseName: 'Ann',
      ownerId: 'g1',
      indices: [
        { identifier: 'parent', caseType: 'household', caseId: 'h', relationship: 'child' },
        { identifier: 'host', caseType: 'household', caseId: 'b', relationship: 'extension' },
      ],
    }),
  );
  cat.entries.set('h', entry({ page: 1, caseType: 'household', caseName: 'Ann', lastModified: '' }));
  cat.entries.set('e', entry({ page: 1, caseName: '' }));
  return cat;
}

/** A snapshot as it arrives after postMessage: its own copies of the typed arrays. */
function cloned(s: CatalogSnapshot): CatalogSnapshot {
  return structuredClone(s);
}

describe('catalog snapshot (restore worker -> page)', () => {
  it('round-trips every entry, index and the name order', () => {
    const cat = sample();
    const back = catalogFromSnapshot(cloned(snapshotCatalog(cat)));
    expect(back.gen).toBe(3);
    expect(back.version).toBe(7);
    expect([...back.entries]).toEqual([...cat.entries]);
    expect(back.byName()).toEqual(['e', 'a', 'h', 'b']);
    expect(back.incoming('h').map((x) => x.caseId)).toEqual(['a']);
    expect(back.stateHash()).toBe(cat.stateHash());
  });

  it('repeated values are shared once each (as the loader interns them)', () => {
    const cat = new CaseCatalog(1, 1);
    for (let i = 0; i < 50; i++) cat.entries.set(`c${i}`, entry({ caseName: `n${i}` }));
    const snap = snapshotCatalog(cat);
    expect(snap.strings.split('\u0000')).toEqual(['person', 'u1', '2024-01-01T00:00:00Z']);
    const back = catalogFromSnapshot(snap);
    expect(back.entries.size).toBe(50);
  });

  it('an empty catalog', () => {
    const back = catalogFromSnapshot(cloned(snapshotCatalog(new CaseCatalog(2, 1))));
    expect(back.entries.size).toBe(0);
    expect(back.byName()).toEqual([]);
  });

  it('a NUL in an id or name shows as a count mismatch; in a repeated value it refuses to snapshot', () => {
    const cat = new CaseCatalog(1, 1);
    cat.entries.set('a\u0000b', entry({}));
    expect(() => catalogFromSnapshot(snapshotCatalog(cat))).toThrow(BadCatalogSnapshot);
    const named = new CaseCatalog(1, 1);
    named.entries.set('a', entry({ caseName: 'x\u0000y' }));
    expect(() => catalogFromSnapshot(snapshotCatalog(named))).toThrow(BadCatalogSnapshot);
    const owner = new CaseCatalog(1, 1);
    owner.entries.set('a', entry({ ownerId: 'o\u0000p' }));
    expect(() => snapshotCatalog(owner)).toThrow(BadCatalogSnapshot);
  });

  it('malformed snapshots throw BadCatalogSnapshot, never a wrong catalog', () => {
    const good = snapshotCatalog(sample());
    const bad: CatalogSnapshot[] = [
      { ...good, count: good.count + 1 },
      { ...good, cols: good.cols.slice(0, -1) },
      { ...good, cols: good.cols.map((v, i) => (i === 1 ? 99 : v)) },
      { ...good, cols: good.cols.map((v, i) => (i === 5 ? 9 : v)) },
      { ...good, idx: good.idx.slice(0, -3) },
      { ...good, nameOrder: good.nameOrder.map(() => 42) },
    ];
    for (const s of bad)
      expect(() => catalogFromSnapshot(s), JSON.stringify(s.cols)).toThrow(BadCatalogSnapshot);
  });

  it('a name order that is not the catalog order is ignored and recomputed', () => {
    const good = snapshotCatalog(sample());
    const back = catalogFromSnapshot({ ...good, nameOrder: good.nameOrder.slice().reverse() });
    expect(back.byName()).toEqual(['e', 'a', 'h', 'b']);
  });

  it('adopted only while its generation is live; the adopted catalog answers queries like a reload', async () => {
    const indexedDB = new IDBFactory();
    let xml = '<OpenRosaResponse>';
    for (let i = 0; i < 100; i++)
      xml += `<case xmlns="http://commcarehq.org/case/transaction/v2" case_id="c${i}" date_modified="2024-01-01" user_id="u"><create><case_type>${i % 2 ? 'a' : 'b'}</case_type><case_name>N${i % 7}</case_name><owner_id>u</owner_id></create>${i > 0 && i % 5 === 0 ? `<index><parent case_type="b">c${i - 1}</parent></index>` : ''}</case>`;
    xml += '</OpenRosaResponse>';
    const writer = new FieldsimDb('snap-writer', { indexedDB, IDBKeyRange });
    await ingestRestore(writer, fromString(xml), { mode: 'full', purge: false });
    const snap = cloned(snapshotCatalog((await loadCatalog(writer)).cat));

    // The page's own connection to the same database.
    const page = new FieldsimDb('snap-writer', { indexedDB, IDBKeyRange });
    expect(await adoptCatalogSnapshot(page, snap)).toBe(true);
    const adopted = (await loadCatalog(page)).cat;
    const reloaded = new FieldsimDb('snap-writer', { indexedDB, IDBKeyRange });
    const fresh = (await loadCatalog(reloaded)).cat;
    expect(adopted).not.toBe(fresh);
    expect([...adopted.entries]).toEqual([...fresh.entries]);
    expect(adopted.byName()).toEqual(fresh.byName());
    const q = { caseType: 'a', limit: 10, offset: 5 };
    expect(await new CaseDb(page).query(q)).toEqual(await new CaseDb(reloaded).query(q));

    // Another restore since: the snapshot is stale and not adopted.
    await ingestRestore(writer, fromString(xml), { mode: 'full', purge: false });
    forgetCatalog(page);
    expect(await adoptCatalogSnapshot(page, snap)).toBe(false);
    for (const db of [writer, page, reloaded]) db.close();
  });
});
