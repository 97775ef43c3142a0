import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { caseStateHashOf } from '../../../src/core/lib/md5.ts';
import { fromString } from '../../../src/core/protocol/restore/restore-parser.ts';
import { CaseCatalog, type CaseEntry, type CatalogDelta } from '../../../src/core/store/case-catalog.ts';
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

describe('case-state hash kept up to date', () => {
  const entry = (name: string): CaseEntry => ({
    page: 0,
    caseType: 't',
    caseName: name,
    ownerId: 'u',
    closed: false,
    lastModified: '2024-01-01',
    indices: [],
  });

  it('creates, updates and removals change it as a full recomputation would', () => {
    const cat = new CaseCatalog(1, 0);
    const seed: CatalogDelta = new Map();
    for (let i = 0; i < 300; i++) seed.set(`c${i}`, entry(`N${i}`));
    cat.apply(seed, 1);
    expect(cat.stateHash()).toBe(caseStateHashOf(cat.entries.keys()));
    // Deterministic pseudo-random steps: create new ids, update, remove (some unknown).
    let x = 7;
    const next = (n: number): number => {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      return x % n;
    };
    for (let step = 0; step < 200; step++) {
      const d: CatalogDelta = new Map();
      for (let k = 0; k < 1 + next(5); k++) {
        const id = `c${next(400)}`;
        const r = next(3);
        d.set(id, r === 0 ? null : entry(r === 1 ? `N${step}` : `M${step}`));
      }
      cat.apply(d, step + 2);
      expect(cat.stateHash(), `step ${step}`).toBe(caseStateHashOf(cat.entries.keys()));
    }
    // Down to no cases: the empty hash, then up again.
    cat.apply(new Map([...cat.entries.keys()].map((id) => [id, null])), 1000);
    expect(cat.stateHash()).toBe('');
    cat.apply(new Map([['again', entry('A')]]), 1001);
    expect(cat.stateHash()).toBe(caseStateHashOf(['again']));
  });
});

describe('derived data kept up to date through small changes', () => {
  type Rule = { keep: (e: CaseEntry) => boolean; order: 'name' | 'lastModified' };
  const rules: Record<string, Rule> = {
    all: { keep: () => true, order: 'name' },
    typeA: { keep: (e) => e.caseType === 'a', order: 'name' },
    openB: { keep: (e) => e.caseType === 'b' && !e.closed, order: 'lastModified' },
    prefix: { keep: (e) => e.caseName.toLowerCase().startsWith('n1'), order: 'name' },
    recent: { keep: () => true, order: 'lastModified' },
  };

  /** What CaseDb.query computes for a rule on a fresh catalog. */
  function fresh(cat: CaseCatalog, rule: Rule): string[] {
    if (rule.order === 'name')
      return cat.byName().filter((id) => rule.keep(cat.entries.get(id) as CaseEntry));
    const ids = [...cat.entries.keys()].filter((id) => rule.keep(cat.entries.get(id) as CaseEntry));
    const k = (id: string) => (cat.entries.get(id) as CaseEntry).lastModified;
    return ids.sort((a, b) => (k(a) > k(b) ? -1 : k(a) < k(b) ? 1 : a < b ? -1 : a > b ? 1 : 0));
  }

  it('cached lists, the name order and the reverse index match a catalog built from scratch', () => {
    let x = 11;
    const next = (n: number): number => {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      return x % n;
    };
    const entry = (): CaseEntry => ({
      page: 0,
      caseType: next(2) === 0 ? 'a' : 'b',
      caseName: `N${next(30)}`,
      ownerId: 'u',
      closed: next(4) === 0,
      lastModified: `2024-01-${String(1 + next(9)).padStart(2, '0')}`,
      indices:
        next(3) === 0
          ? []
          : [
              {
                identifier: 'parent',
                caseType: 'a',
                caseId: `c${next(60)}`,
                relationship: next(5) ? 'child' : 'extension',
              },
            ],
    });
    const cat = new CaseCatalog(1, 0);
    const seed: CatalogDelta = new Map();
    for (let i = 0; i < 200; i++) seed.set(`c${i}`, entry());
    cat.apply(seed, 1);
    const lists = () =>
      Object.fromEntries(
        Object.entries(rules).map(([k, r]) => [k, cat.cachedIds(k, () => fresh(cat, r), r)]),
      );
    lists();
    for (let i = 0; i < 60; i++) cat.incoming(`c${i}`);
    for (let step = 0; step < 300; step++) {
      const d: CatalogDelta = new Map();
      for (let k = 0; k < 1 + next(4); k++) {
        const id = `c${next(260)}`;
        const r = next(5);
        const old = cat.entries.get(id);
        // Removals, creations, and updates that keep or change the indices.
        d.set(id, r === 0 ? null : r === 1 && old ? { ...entry(), indices: old.indices } : entry());
      }
      cat.apply(d, step + 2);
      const scratch = new CaseCatalog(1, step + 2);
      scratch.apply(new Map(cat.entries), step + 2);
      const got = lists();
      for (const [k, r] of Object.entries(rules))
        expect(got[k], `${k} after step ${step}`).toEqual(fresh(scratch, r));
      expect(cat.byName()).toEqual(scratch.byName());
      for (let i = 0; i < 60; i++)
        expect(cat.incoming(`c${i}`), `edges to c${i} after step ${step}`).toEqual(scratch.incoming(`c${i}`));
    }
  });
});
