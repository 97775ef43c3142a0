import Dexie from 'dexie';
import { StorageError } from '../errors/storage-error.ts';
import type { CaseIndex, CaseRecord } from '../protocol/casexml/case-types.ts';
import { CaseCatalog, type CaseEntry, type CatalogDelta, entryOf } from './case-catalog.ts';
import type { CasePageRow, CaseSumRow, FieldsimDb } from './fieldsim-db.ts';

/**
 * Page-level storage of cases (see fieldsim-db.ts): reading and writing packed pages,
 * the generation pointer, and the catalog shared by every CaseDb on one FieldsimDb.
 */

/**
 * Cases per stored record. DESIGN.md section 8 measured 10 per record at ~118k cases/s
 * and 50 at ~222k cases/s in Chromium, far above what parsing allows (~20-40k/s), so the
 * page size is set by reads instead: a 50-row case list touches up to 50 pages, and 32
 * cases per page made that ~1 MB of records in Chromium (10-57 ms); 16 halves it, and a
 * form save rewrites one page of ~10 KB.
 */
export const CASE_PAGE_SIZE = 16;

export const CASE_STATE_KEY = 'cases.state';

/** The generation pointer and page allocation of the live case data. */
export interface CaseGenState {
  gen: number;
  /** Bumped by every committed change; the catalog compares it to know it is current. */
  version: number;
  /** Last page new cases are appended to, -1 before the first. */
  tailPage: number;
  /** Cases appended to `tailPage` so far. */
  tailCount: number;
}

export const EMPTY_CASE_STATE: CaseGenState = { gen: 1, version: 0, tailPage: -1, tailCount: CASE_PAGE_SIZE };

export async function readCaseState(db: FieldsimDb): Promise<CaseGenState> {
  const row = await db.meta.get(CASE_STATE_KEY);
  return row === undefined ? { ...EMPTY_CASE_STATE } : { ...(row.value as CaseGenState) };
}

export async function writeCaseState(db: FieldsimDb, state: CaseGenState): Promise<void> {
  await db.meta.put({ key: CASE_STATE_KEY, value: { ...state } });
}

export function decodePage(row: CasePageRow | undefined): CaseRecord[] {
  return row === undefined ? [] : row.data.map((d) => JSON.parse(d) as CaseRecord);
}

/** The named cases of a page, parsing only those. */
export function pickFromPage(
  row: CasePageRow | undefined,
  want: ReadonlySet<string>,
  into: Map<string, CaseRecord>,
): void {
  if (row === undefined) return;
  for (let i = 0; i < row.ids.length; i++) {
    const id = row.ids[i] as string;
    if (want.has(id)) into.set(id, JSON.parse(row.data[i] as string) as CaseRecord);
  }
}

export function encodePage(gen: number, page: number, cases: readonly CaseRecord[]): CasePageRow {
  return { gen, page, ids: cases.map((c) => c.caseId), data: cases.map((c) => JSON.stringify(c)) };
}

/** [caseId, caseType, caseName, ownerId, closed, lastModified, indices] */
type CaseSummary = [string, string, string, string, 0 | 1, string, CaseIndex[]];

/**
 * Case types, owners, index identifiers and relationships repeat across thousands of
 * cases; sharing one string each keeps the 100k-case catalog tens of MB smaller.
 */
const interned = new Map<string, string>();
function intern(v: string): string {
  const hit = interned.get(v);
  if (hit !== undefined) return hit;
  if (interned.size > 50_000) interned.clear();
  interned.set(v, v);
  return v;
}

function entryFromSummary(sum: CaseSummary, page: number): CaseEntry {
  const [, caseType, caseName, ownerId, closed, lastModified, indices] = sum;
  for (const ix of indices) {
    ix.identifier = intern(ix.identifier);
    ix.caseType = intern(ix.caseType);
    ix.relationship = ix.relationship === 'extension' ? 'extension' : 'child';
  }
  return {
    page,
    caseType: intern(caseType),
    caseName,
    ownerId: intern(ownerId),
    closed: closed === 1,
    lastModified: intern(lastModified),
    indices,
  };
}

export function encodeSums(gen: number, page: number, cases: readonly CaseRecord[]): CaseSumRow {
  const sums: CaseSummary[] = cases.map((c) => [
    c.caseId,
    c.caseType,
    c.caseName,
    c.ownerId,
    c.closed ? 1 : 0,
    c.lastModified,
    c.indices,
  ]);
  return { gen, page, sums: JSON.stringify(sums) };
}

const catalogs = new WeakMap<FieldsimDb, CaseCatalog>();

/**
 * Key range of one generation's pages. Page numbers are numbers, so +-Infinity bound
 * them; Dexie.maxKey is avoided because without a global IDBKeyRange (the CLI and Node
 * tests inject fake-indexeddb) Dexie falls back to a string, which sorts below arrays.
 */
export function pageRange(gen: number): [[number, number], [number, number]] {
  return [
    [gen, Number.NEGATIVE_INFINITY],
    [gen, Number.POSITIVE_INFINITY],
  ];
}

/** The catalog of the live generation; rebuilt from the pages if stale. Call inside a transaction. */
export async function ensureCatalog(db: FieldsimDb, state: CaseGenState): Promise<CaseCatalog> {
  const cur = catalogs.get(db);
  if (cur !== undefined && cur.gen === state.gen && cur.version === state.version) return cur;
  const cat = new CaseCatalog(state.gen, state.version);
  const [lo, hi] = pageRange(state.gen);
  // getAll in slices rather than a cursor: a cursor costs one IndexedDB request per row.
  const SLICE_PAGES = 500;
  for (let from = lo[1]; ; ) {
    const rows = await db.caseSums
      .where('[gen+page]')
      .between([state.gen, from], hi, true, true)
      .limit(SLICE_PAGES)
      .toArray();
    for (const row of rows)
      for (const sum of JSON.parse(row.sums) as CaseSummary[])
        cat.entries.set(sum[0], entryFromSummary(sum, row.page));
    if (rows.length < SLICE_PAGES) break;
    from = (rows[rows.length - 1] as CaseSumRow).page + 1;
  }
  catalogs.set(db, cat);
  return cat;
}

/** Installs a catalog built elsewhere (a staged generation that just became live). */
export function adoptCatalog(db: FieldsimDb, cat: CaseCatalog): void {
  catalogs.set(db, cat);
}

/** Drops the cached catalog, e.g. after the database was deleted. */
export function forgetCatalog(db: FieldsimDb): void {
  catalogs.delete(db);
}

/**
 * Reads and writes cases by page inside one transaction. Lookups see this writer's own
 * changes first (`delta`), then the catalog. `prefetch` must cover every id read or
 * written, so the synchronous `get`/`put` never touch IndexedDB.
 */
export class CaseWriter {
  readonly delta: CatalogDelta = new Map();
  readonly state: CaseGenState;
  private readonly pages = new Map<number, CaseRecord[]>();
  private readonly dirty = new Set<number>();
  written = 0;
  private readonly db: FieldsimDb;
  readonly catalog: CaseCatalog;

  constructor(db: FieldsimDb, catalog: CaseCatalog, state: CaseGenState) {
    this.db = db;
    this.catalog = catalog;
    this.state = { ...state };
  }

  entry(id: string): CaseEntry | undefined {
    if (this.delta.has(id)) return this.delta.get(id) ?? undefined;
    return this.catalog.entries.get(id);
  }

  has(id: string): boolean {
    return this.entry(id) !== undefined;
  }

  async prefetch(ids: Iterable<string>): Promise<void> {
    const want = new Set<number>();
    for (const id of ids) {
      const e = this.entry(id);
      if (e !== undefined && !this.pages.has(e.page)) want.add(e.page);
    }
    if (this.state.tailCount < CASE_PAGE_SIZE && !this.pages.has(this.state.tailPage))
      want.add(this.state.tailPage);
    if (want.size === 0) return;
    const nums = [...want];
    const rows = await this.db.casePages.bulkGet(nums.map((p) => [this.state.gen, p] as [number, number]));
    nums.forEach((p, i) => {
      this.pages.set(p, decodePage(rows[i]));
    });
  }

  get(id: string): CaseRecord | undefined {
    const e = this.entry(id);
    if (e === undefined) return undefined;
    const page = this.pages.get(e.page);
    if (page === undefined) throw new Error(`case ${id} read before its page was fetched`);
    return page.find((c) => c.caseId === id);
  }

  put(rec: CaseRecord): void {
    const e = this.entry(rec.caseId);
    let pageNo: number;
    if (e !== undefined) {
      pageNo = e.page;
      const page = this.pages.get(pageNo);
      if (page === undefined) throw new Error(`case ${rec.caseId} written before its page was fetched`);
      const i = page.findIndex((c) => c.caseId === rec.caseId);
      if (i >= 0) page[i] = rec;
      else page.push(rec);
    } else {
      if (this.state.tailCount >= CASE_PAGE_SIZE) {
        this.state.tailPage++;
        this.state.tailCount = 0;
        this.pages.set(this.state.tailPage, []);
      }
      pageNo = this.state.tailPage;
      const page = this.pages.get(pageNo);
      if (page === undefined) throw new Error('tail page not fetched');
      page.push(rec);
      this.state.tailCount++;
    }
    this.dirty.add(pageNo);
    this.delta.set(rec.caseId, entryOf(rec, pageNo));
    this.written++;
  }

  remove(id: string): void {
    const e = this.entry(id);
    if (e === undefined) return;
    const page = this.pages.get(e.page);
    if (page === undefined) throw new Error(`case ${id} removed before its page was fetched`);
    const i = page.findIndex((c) => c.caseId === id);
    if (i >= 0) page.splice(i, 1);
    this.dirty.add(e.page);
    this.delta.set(id, null);
  }

  /** Writes changed pages. Keeps only the tail page cached, so memory stays bounded. */
  async flush(): Promise<void> {
    const puts: CasePageRow[] = [];
    const sums: CaseSumRow[] = [];
    const dels: [number, number][] = [];
    for (const p of this.dirty) {
      const cases = this.pages.get(p) ?? [];
      if (cases.length === 0 && p !== this.state.tailPage) dels.push([this.state.gen, p]);
      else {
        puts.push(encodePage(this.state.gen, p, cases));
        sums.push(encodeSums(this.state.gen, p, cases));
      }
    }
    try {
      if (puts.length > 0) {
        await this.db.casePages.bulkPut(puts);
        await this.db.caseSums.bulkPut(sums);
      }
      if (dels.length > 0) {
        await this.db.casePages.bulkDelete(dels);
        await this.db.caseSums.bulkDelete(dels);
      }
    } catch (e) {
      throw StorageError.from(e, 'Writing cases');
    }
    // Catalog entries and keys are re-made from the encoded summaries: strings that came
    // from the parser are slices of the payload's text chunks and would keep all of it
    // alive (measured: a 100k-case catalog held ~100 MB instead of ~36 MB).
    for (const row of sums)
      for (const sum of JSON.parse(row.sums) as CaseSummary[]) {
        const id = sum[0];
        if (this.delta.get(id) == null) continue;
        // delete + set: Map.set on an existing key keeps the old key string (a slice of
        // the payload), and the keys outlive everything else in the catalog.
        this.delta.delete(id);
        this.delta.set(id, entryFromSummary(sum, row.page));
      }
    this.dirty.clear();
    for (const p of [...this.pages.keys()]) if (p !== this.state.tailPage) this.pages.delete(p);
  }

  /** Applies and clears the delta now (a staged generation nobody else reads). */
  applyDeltaNow(): void {
    this.catalog.apply(this.delta, this.catalog.version);
    this.delta.clear();
  }
}

/**
 * Opens a writer on the live generation inside the current transaction. `commit()`
 * flushes pages, bumps the version and arranges for the shared catalog to take the
 * changes once IndexedDB reports the transaction complete (so an abort changes nothing).
 */
export async function openLiveWriter(
  db: FieldsimDb,
): Promise<{ writer: CaseWriter; commit: () => Promise<void> }> {
  const state = await readCaseState(db);
  const catalog = await ensureCatalog(db, state);
  const writer = new CaseWriter(db, catalog, state);
  const commit = async (): Promise<void> => {
    if (writer.delta.size === 0) return;
    await writer.flush();
    const next = { ...writer.state, version: state.version + 1 };
    await writeCaseState(db, next);
    const delta = new Map(writer.delta);
    const tx = Dexie.currentTransaction;
    const onDone = (): void => {
      if (catalog.gen === next.gen && catalog.version === state.version) catalog.apply(delta, next.version);
    };
    const idb = (tx as unknown as { idbtrans?: IDBTransaction } | null)?.idbtrans;
    if (idb) idb.addEventListener('complete', onDone, { once: true });
  };
  return { writer, commit };
}
