import Dexie, { type Transaction } from 'dexie';
import type { CryptoError } from '../crypto/crypto-error.ts';
import type { RecordCipher } from '../crypto/record-cipher.ts';
import { StorageError } from '../errors/storage-error.ts';
import type { CaseRecord } from '../protocol/casexml/case-types.ts';
import type { CaseSummaryTuple } from '../protocol/restore/restore-types.ts';
import { sealBatchSums, tombstoneSums } from './batch-summaries.ts';
import { CaseCatalog, type CaseEntry, type CatalogDelta, entryOf } from './case-catalog.ts';
import type { CasePageRow, CaseSumRow, FieldsimDb } from './fieldsim-db.ts';
import { openPage, type SealedPageRow, type SealedSumRow, sealPage, sealSums } from './sealed-rows.ts';
import { openSummarySlice, SummaryMerge } from './summary-merge.ts';

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

/** [caseId, caseType, caseName, ownerId, closed, lastModified, indices] */
export type CaseSummary = CaseSummaryTuple;

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

export function entryFromSummary(sum: CaseSummary, page: number): CaseEntry {
  const [, caseType, caseName, ownerId, closed, lastModified, indices] = sum;
  for (const ix of indices) {
    ix.identifier = intern(ix.identifier);
    ix.caseType = intern(ix.caseType);
    ix.relationship = intern(ix.relationship);
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

function summaryOf(c: CaseRecord): CaseSummary {
  return [c.caseId, c.caseType, c.caseName, c.ownerId, c.closed ? 1 : 0, c.lastModified, c.indices];
}

const catalogs = new WeakMap<FieldsimDb, CaseCatalog>();

/**
 * The stored state each catalog was last known to match (its tail page in particular), so
 * a writer can guess which pages a save needs before the state row is read. Only trusted
 * while its gen and version equal the catalog's.
 */
const knownStates = new WeakMap<CaseCatalog, CaseGenState>();

function knownState(cat: CaseCatalog): CaseGenState | undefined {
  const s = knownStates.get(cat);
  return s !== undefined && s.gen === cat.gen && s.version === cat.version ? s : undefined;
}

/**
 * Recently read or written pages, as stored at the catalog's current version: a save
 * whose pages are all here (the tail page a new case goes to; the page of a case the
 * worker just opened) writes without reading first (see `openLiveWriter`). Dropped as a
 * whole when the catalog moves to a version it did not write itself.
 */
interface PageCache {
  version: number;
  rows: Map<number, CasePageRow>;
}

const pageCaches = new WeakMap<CaseCatalog, PageCache>();

/** ~10 KB a page: a few hundred KB at most. */
const PAGE_CACHE_SIZE = 32;

function cacheOf(cat: CaseCatalog): PageCache {
  let c = pageCaches.get(cat);
  if (c === undefined || c.version !== cat.version) {
    c = { version: cat.version, rows: new Map() };
    pageCaches.set(cat, c);
  }
  return c;
}

function cachePut(c: PageCache, row: CasePageRow): void {
  c.rows.delete(row.page);
  c.rows.set(row.page, row);
  if (c.rows.size > PAGE_CACHE_SIZE) c.rows.delete(c.rows.keys().next().value as number);
}

/**
 * Keeps pages a read transaction got at `version` (the state it read), if the catalog is
 * still at that version. Only small reads: a case's detail, not a list's 50 pages.
 */
export function rememberPages(
  cat: CaseCatalog,
  version: number,
  rows: readonly (CasePageRow | undefined)[],
): void {
  if (cat.version !== version || rows.length > 4) return;
  const c = cacheOf(cat);
  for (const row of rows) if (row !== undefined) cachePut(c, row);
}

/** The cached rows of `nums`, or undefined unless every one is cached. */
function cachedRows(cat: CaseCatalog, nums: readonly number[]): CasePageRow[] | undefined {
  const c = pageCaches.get(cat);
  if (c === undefined || c.version !== cat.version) return undefined;
  const out: CasePageRow[] = [];
  for (const p of nums) {
    const row = c.rows.get(p);
    if (row === undefined) return undefined;
    out.push(row);
  }
  return out;
}

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
  // Summaries of an encrypted database are opened outside transactions: `loadCatalog`.
  if (db.vault.cipher() !== null) throw new Error('ensureCatalog on an encrypted database: use loadCatalog');
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
      for (const sum of JSON.parse((row as CaseSumRow).sums) as CaseSummary[])
        cat.entries.set(sum[0], entryFromSummary(sum, row.page));
    if (rows.length < SLICE_PAGES) break;
    from = (rows[rows.length - 1] as CaseSumRow).page + 1;
  }
  catalogs.set(db, cat);
  knownStates.set(cat, { ...state });
  return cat;
}

/** Records an encrypted database's catalog could not open (see `loadCatalog`). */
const catalogDamage = new WeakMap<CaseCatalog, CryptoError[]>();

export function damageOf(cat: CaseCatalog): readonly CryptoError[] {
  return catalogDamage.get(cat) ?? [];
}

/**
 * The live state and its catalog, for callers outside any transaction. An encrypted
 * database's summaries are read in slices of `CATALOG_SLICE` records, each in a read
 * transaction of its own and decrypted after it (WebCrypto is async and would let an
 * IndexedDB transaction commit under it), so at most one slice of sealed and decrypted
 * summaries is held besides the catalog, never a copy of all of them (the CLI's `cases`
 * on 50k cases: issue 15). Each slice checks the state is the one the first read: if
 * another connection wrote in between, the load starts over. A summary record that
 * fails its integrity check is rebuilt from its page; if the page fails too, its cases
 * are left out and the error kept (`damageOf`), so one bad record does not close the
 * database.
 */
export async function loadCatalog(db: FieldsimDb): Promise<{ state: CaseGenState; cat: CaseCatalog }> {
  const c = db.vault.cipher();
  if (c === null)
    return db.transaction('r', [db.caseSums, db.meta], async () => {
      const state = await readCaseState(db);
      return { state, cat: await ensureCatalog(db, state) };
    });
  for (let attempt = 0; ; attempt++) {
    const loaded = await loadSealedCatalog(db, c);
    if (loaded !== undefined) return loaded;
    if (attempt >= 8)
      throw new StorageError('storage-error', 'The cases kept changing while their catalog was being read');
  }
}

/** Summary records per read transaction of an encrypted catalog load (~3 KB each). */
export const CATALOG_SLICE = 256;

/** Batch summary records per read transaction (up to ~125 pages' summaries each). */
export const BATCH_SUMS_SLICE = 8;

/** One attempt of `loadCatalog` on an encrypted database; undefined if the state moved meanwhile. */
async function loadSealedCatalog(
  db: FieldsimDb,
  c: RecordCipher,
): Promise<{ state: CaseGenState; cat: CaseCatalog } | undefined> {
  let state: CaseGenState | undefined;
  let cat: CaseCatalog | undefined;
  let merge: SummaryMerge | undefined;
  const damage: CryptoError[] = [];
  for (let from = Number.NEGATIVE_INFINITY; ; ) {
    // Batch summary records (negative keys, first) hold a restore batch's pages each.
    const limit = from < 0 ? BATCH_SUMS_SLICE : CATALOG_SLICE;
    const read = await db.transaction('r', [db.caseSums, db.meta], async () => {
      const now = await readCaseState(db);
      if (state === undefined) {
        const cur = catalogs.get(db);
        if (cur !== undefined && cur.gen === now.gen && cur.version === now.version)
          return { now, cur, rows: [] };
      } else if (!sameState(now, state)) return undefined;
      const rows = await db.caseSums
        .where('[gen+page]')
        .between([now.gen, from], pageRange(now.gen)[1], true, true)
        .limit(limit)
        .toArray();
      return { now, cur: undefined, rows };
    });
    if (read === undefined) return undefined;
    if (read.cur !== undefined) return { state: read.now, cat: read.cur };
    state ??= read.now;
    cat ??= new CaseCatalog(state.gen, state.version);
    merge ??= new SummaryMerge(cat.entries, entryFromSummary);
    // In key order: the merge's precedence depends on it (summary-merge.ts).
    for (const o of await openSummarySlice(db, c, read.rows, damage)) merge.take(o);
    const last = read.rows[read.rows.length - 1];
    if (read.rows.length < limit || last === undefined) break;
    from = last.page + 1;
  }
  if (state === undefined || cat === undefined) return undefined;
  merge?.finish();
  if (damage.length > 0) catalogDamage.set(cat, damage);
  // Another caller may have installed a newer catalog meanwhile: keep the newest.
  const now = catalogs.get(db);
  if (now !== undefined && now.gen === state.gen && now.version >= state.version) return { state, cat: now };
  catalogs.set(db, cat);
  knownStates.set(cat, { ...state });
  return { state, cat };
}

/** Installs a catalog built elsewhere (a staged generation that just became live as `state`). */
export function adoptCatalog(db: FieldsimDb, cat: CaseCatalog, state: CaseGenState): void {
  catalogs.set(db, cat);
  knownStates.set(cat, { ...state });
}

/** Drops the cached catalog, e.g. after the database was deleted. */
export function forgetCatalog(db: FieldsimDb): void {
  catalogs.delete(db);
}

/**
 * A page as a writer holds it: the stored JSON of each case, parsed only when a block
 * reads that case. `data[i] === null` means `recs[i]` changed and is encoded at flush, so
 * a save parses and encodes the one case it touches, not the 16 of its page.
 */
interface PageBuf {
  ids: string[];
  data: (string | null)[];
  recs: (CaseRecord | undefined)[];
}

function bufOf(row: CasePageRow | undefined): PageBuf {
  return row === undefined
    ? { ids: [], data: [], recs: [] }
    : // Copies: the row may be shared with the page cache, and the writer edits the arrays.
      { ids: [...row.ids], data: [...row.data], recs: new Array<CaseRecord | undefined>(row.ids.length) };
}

/** What a flush writes: plain rows, and the rows as stored (sealed when encrypted). */
export interface PreparedFlush {
  puts: CasePageRow[];
  sums: CaseSumRow[];
  dels: [number, number][];
  /** Sealed, the summaries go out as this restore batch record (batch-summaries.ts). */
  batch?: { gen: number; seq: number };
  stored: {
    pages: (CasePageRow | SealedPageRow)[];
    sums: (CaseSumRow | SealedSumRow)[];
    /** Summary rows to delete; `dels` when absent (an encrypted flush writes tombstones instead). */
    sumDels?: [number, number][];
  };
}

/**
 * Seals a prepared flush for an encrypted database (`c`); before the write transaction.
 * A restore batch's summaries become one batch record; a deleted page gets an empty
 * summary record (a tombstone) rather than none, so no batch record's copy of it counts.
 */
export async function sealFlush(c: RecordCipher | null, p: PreparedFlush): Promise<PreparedFlush> {
  if (c === null) return p;
  const { batch } = p;
  const tombs = p.dels.map(([g, pg]) => tombstoneSums(g, pg));
  const [pages, sums] = await Promise.all([
    Promise.all(p.puts.map((r) => sealPage(c, r))),
    batch === undefined || p.sums.length === 0
      ? Promise.all([...p.sums, ...tombs].map((r) => sealSums(c, r)))
      : Promise.all([sealBatchSums(c, batch.gen, batch.seq, p.sums), ...tombs.map((r) => sealSums(c, r))]),
  ]);
  return { ...p, stored: { pages, sums, sumDels: [] } };
}

/**
 * Reads and writes cases by page inside one transaction. Lookups see this writer's own
 * changes first (`delta`), then the catalog. `prefetch` must cover every id read or
 * written, so the synchronous `get`/`put` never touch IndexedDB.
 */
export class CaseWriter {
  readonly delta: CatalogDelta = new Map();
  readonly state: CaseGenState;
  private readonly pages = new Map<number, PageBuf>();
  private readonly dirty = new Set<number>();
  /** Dirty pages with an entry made by `put` (from parsed records), re-made at flush. */
  private readonly putPages = new Set<number>();
  written = 0;
  /**
   * A full restore's writer of its staged generation: an encrypted database stores each
   * flush's summaries as one batch record (batch-summaries.ts). Never for a live
   * generation: a batch record must not follow a per-page record of the same page.
   */
  summariesByBatch = false;
  private batchSeq = 0;
  /** What the last `flush` stored: page rows put, and page numbers deleted. */
  flushed: { rows: CasePageRow[]; deleted: number[] } = { rows: [], deleted: [] };
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

  /**
   * Page numbers `prefetch(ids)` reads: the known ids' pages, and the tail page if it has
   * room and some id is new (new cases are appended to it).
   */
  pagesToRead(ids: Iterable<string>): number[] {
    const want = new Set<number>();
    let anyNew = false;
    for (const id of ids) {
      const e = this.entry(id);
      if (e === undefined) anyNew = true;
      else if (!this.pages.has(e.page)) want.add(e.page);
    }
    if (anyNew && this.state.tailCount < CASE_PAGE_SIZE && !this.pages.has(this.state.tailPage))
      want.add(this.state.tailPage);
    return [...want];
  }

  /** Takes page rows read elsewhere in this transaction (see `openLiveWriter`). */
  adoptPages(nums: readonly number[], rows: readonly (CasePageRow | undefined)[]): void {
    nums.forEach((p, i) => {
      if (!this.pages.has(p)) this.pages.set(p, bufOf(rows[i]));
    });
  }

  async prefetch(ids: Iterable<string>): Promise<void> {
    const nums = this.pagesToRead(ids);
    if (nums.length === 0) return;
    this.adoptPages(nums, await readPages(this.db, this.state.gen, nums));
  }

  private page(p: number, id: string, what: string): PageBuf {
    const page = this.pages.get(p);
    if (page === undefined) throw new Error(`case ${id} ${what} before its page was fetched`);
    return page;
  }

  get(id: string): CaseRecord | undefined {
    const e = this.entry(id);
    if (e === undefined) return undefined;
    const page = this.page(e.page, id, 'read');
    const i = page.ids.indexOf(id);
    if (i < 0) return undefined;
    let rec = page.recs[i];
    if (rec === undefined) {
      rec = JSON.parse(page.data[i] as string) as CaseRecord;
      page.recs[i] = rec;
    }
    return rec;
  }

  put(rec: CaseRecord): void {
    const [page, i, pageNo] = this.slotOf(rec.caseId);
    page.recs[i] = rec;
    page.data[i] = null;
    this.putPages.add(pageNo);
    this.delta.set(rec.caseId, entryOf(rec, pageNo));
  }

  /**
   * Puts a case already encoded as stored, with its summary (a full restore's case the
   * parse thread applied; see `AppliedCase`): nothing to parse or encode here.
   */
  putEncoded(json: string, sum: CaseSummaryTuple): void {
    const [page, i, pageNo] = this.slotOf(sum[0]);
    page.recs[i] = undefined;
    page.data[i] = json;
    this.delta.set(sum[0], entryFromSummary(sum, pageNo));
  }

  /** The page and position `id` is written to: its own, or the next free one on the tail page. */
  private slotOf(id: string): [PageBuf, number, number] {
    const e = this.entry(id);
    let pageNo: number;
    let page: PageBuf;
    if (e !== undefined) {
      pageNo = e.page;
      page = this.page(pageNo, id, 'written');
    } else {
      if (this.state.tailCount >= CASE_PAGE_SIZE) {
        this.state.tailPage++;
        this.state.tailCount = 0;
        this.pages.set(this.state.tailPage, bufOf(undefined));
      }
      pageNo = this.state.tailPage;
      const tail = this.pages.get(pageNo);
      if (tail === undefined) throw new Error('tail page not fetched');
      page = tail;
      this.state.tailCount++;
    }
    let i = page.ids.indexOf(id);
    if (i < 0) {
      i = page.ids.length;
      page.ids.push(id);
    }
    this.dirty.add(pageNo);
    this.written++;
    return [page, i, pageNo];
  }

  remove(id: string): void {
    const e = this.entry(id);
    if (e === undefined) return;
    const page = this.page(e.page, id, 'removed');
    const i = page.ids.indexOf(id);
    if (i >= 0) {
      page.ids.splice(i, 1);
      page.data.splice(i, 1);
      page.recs.splice(i, 1);
    }
    this.dirty.add(e.page);
    this.delta.set(id, null);
  }

  /** The stored summary of a case on a dirty page: from its entry, or its record. */
  private summary(page: PageBuf, i: number): CaseSummary {
    const id = page.ids[i] as string;
    const e = this.entry(id);
    if (e !== undefined)
      return [id, e.caseType, e.caseName, e.ownerId, e.closed ? 1 : 0, e.lastModified, e.indices];
    // Not in the catalog (only if pages and summaries disagree): trust the page.
    const rec = page.recs[i] ?? (JSON.parse(page.data[i] as string) as CaseRecord);
    return summaryOf(rec);
  }

  /**
   * Encodes the changed pages and their summaries (plain rows; `sealFlush` encrypts them
   * for an encrypted database, before the write transaction opens).
   */
  prepareFlush(): PreparedFlush {
    const puts: CasePageRow[] = [];
    const sums: CaseSumRow[] = [];
    const dels: [number, number][] = [];
    const { gen } = this.state;
    for (const p of this.dirty) {
      const page = this.pages.get(p) ?? bufOf(undefined);
      if (page.ids.length === 0 && p !== this.state.tailPage) {
        dels.push([gen, p]);
        continue;
      }
      for (let i = 0; i < page.ids.length; i++)
        if (page.data[i] === null) page.data[i] = JSON.stringify(page.recs[i]);
      // Copies: the tail page stays cached and keeps changing after this write.
      puts.push({ gen, page: p, ids: [...page.ids], data: [...(page.data as string[])] });
      const rows: CaseSummary[] = [];
      for (let i = 0; i < page.ids.length; i++) rows.push(this.summary(page, i));
      sums.push({ gen, page: p, sums: JSON.stringify(rows) });
    }
    const batch = this.summariesByBatch && sums.length > 0 ? { gen, seq: this.batchSeq++ } : undefined;
    return { puts, sums, dels, ...(batch === undefined ? {} : { batch }), stored: { pages: puts, sums } };
  }

  /**
   * Writes changed pages and their summaries, all requests issued together (IndexedDB
   * runs them in order; waiting for each would cost a round trip to the storage process
   * per request). Keeps only the tail page cached, so memory stays bounded. A plain
   * database only: an encrypted one goes through `prepareFlush`, `sealFlush`, `writeFlush`.
   */
  async flush(): Promise<void> {
    await this.writeFlush(this.prepareFlush());
  }

  /** Writes a prepared (and, if encrypted, sealed) flush; call inside the write transaction. */
  async writeFlush(p: PreparedFlush): Promise<void> {
    this.flushed = { rows: p.puts, deleted: p.dels.map(([, pg]) => pg) };
    await putFlush(this.db, p);
    this.settleFlush(p);
  }

  /**
   * Takes a prepared flush as written without waiting for its writes: for a staged
   * generation, whose pages nobody else reads, the restore writes the flush (`putFlush`)
   * in a transaction it does not wait for, and parses the next batch meanwhile. Later
   * reads of these pages are ordered after that transaction by IndexedDB itself.
   */
  settleFlush(p: PreparedFlush): void {
    const { sums } = p;
    // Catalog entries and keys are re-made from the encoded summaries: strings that came
    // from the parser are slices of the payload's text chunks and would keep all of it
    // alive (measured: a 100k-case catalog held ~100 MB instead of ~36 MB). Only pages
    // with entries from `put`: those of `putEncoded` were made from a summary already.
    for (const row of sums) {
      if (!this.putPages.has(row.page)) continue;
      for (const sum of JSON.parse(row.sums) as CaseSummary[]) {
        const id = sum[0];
        if (this.delta.get(id) == null) continue;
        // delete + set: Map.set on an existing key keeps the old key string (a slice of
        // the payload), and the keys outlive everything else in the catalog.
        this.delta.delete(id);
        this.delta.set(id, entryFromSummary(sum, row.page));
      }
    }
    this.dirty.clear();
    this.putPages.clear();
    for (const pg of [...this.pages.keys()]) if (pg !== this.state.tailPage) this.pages.delete(pg);
  }

  /** Applies and clears the delta now (a staged generation nobody else reads). */
  applyDeltaNow(): void {
    this.catalog.apply(this.delta, this.catalog.version);
    this.delta.clear();
  }
}

/** Issues a prepared flush's writes together; call inside a write transaction over the case tables. */
export async function putFlush(db: FieldsimDb, p: PreparedFlush): Promise<void> {
  const { dels } = p;
  try {
    const writes: Promise<unknown>[] = [];
    const sumDels = p.stored.sumDels ?? dels;
    if (p.stored.pages.length > 0) writes.push(db.casePages.bulkPut(p.stored.pages));
    if (p.stored.sums.length > 0) writes.push(db.caseSums.bulkPut(p.stored.sums));
    if (dels.length > 0) writes.push(db.casePages.bulkDelete(dels));
    if (sumDels.length > 0) writes.push(db.caseSums.bulkDelete(sumDels));
    await Promise.all(writes);
  } catch (e) {
    throw StorageError.from(e, 'Writing cases');
  }
}

/**
 * Pages by number. An encrypted database's pages are decrypted after the read: call this
 * outside write transactions there (see `prepareLiveWrite`).
 */
export function readPages(
  db: FieldsimDb,
  gen: number,
  nums: readonly number[],
): Promise<(CasePageRow | undefined)[]> {
  // Not an async function: a plain database's read stays Dexie's own promise, which keeps
  // the transaction zone through the caller's awaits.
  const c = db.vault.encrypted ? db.vault.cipher() : null;
  const rows = db.casePages.bulkGet(nums.map((p) => [gen, p] as [number, number]));
  if (c === null) return rows as Promise<(CasePageRow | undefined)[]>;
  return rows.then((got) => Promise.all(got.map((r) => openPage(c, r))));
}

function sameState(a: CaseGenState, b: CaseGenState): boolean {
  return (
    a.gen === b.gen && a.version === b.version && a.tailPage === b.tailPage && a.tailCount === b.tailCount
  );
}

/** The transaction a Dexie scope runs in, walked up to the one that commits. */
function rootTransaction(): Transaction | null {
  let tx: Transaction | null = Dexie.currentTransaction ?? null;
  while (tx?.parent) tx = tx.parent;
  return tx;
}

/** Set by an optimistic save (see `openLiveWriter`) when its guess turned out stale. */
export interface GuessProbe {
  stale: boolean;
}

export interface LiveWriter {
  writer: CaseWriter;
  /** Writes pages, summaries and the state row; the catalog takes them on commit. */
  commit: () => Promise<void>;
  /** Resolves once the state this writer started from is confirmed as the stored one. */
  verified: () => Promise<void>;
}

/**
 * Optimistic start: the state row is read with a raw request whose success handler aborts
 * the transaction at once if the stored state is not the one guessed. IndexedDB runs a
 * transaction's requests in order, so that handler runs before any later write of this
 * transaction completes and before it can commit: a stale guess never reaches the disk.
 */
function verifyGuess(guess: CaseGenState, probe: GuessProbe): Promise<void> | undefined {
  const idb = rootTransaction()?.idbtrans;
  if (idb === undefined) return undefined;
  let req: IDBRequest;
  try {
    req = idb.objectStore('meta').get(CASE_STATE_KEY);
  } catch {
    return undefined;
  }
  const check = new Promise<void>((resolve, reject) => {
    req.onsuccess = () => {
      const row = req.result as { value?: CaseGenState } | undefined;
      const stored = row?.value ?? EMPTY_CASE_STATE;
      if (sameState(stored, guess)) {
        resolve();
        return;
      }
      probe.stale = true;
      reject(
        new StorageError('storage-error', 'Another tab or connection changed the cases during this save'),
      );
      try {
        idb.abort();
      } catch {
        // Already aborting for another reason: nothing of it is kept either way.
      }
    };
    req.onerror = () => reject(StorageError.from(req.error, 'Reading the case state'));
  });
  // Handled here too: a save that fails for another reason may never await it.
  check.catch(() => undefined);
  return check;
}

/**
 * Opens a writer on the live generation inside the current transaction. `commit()`
 * flushes pages, bumps the version and arranges for the shared catalog to take the
 * changes once IndexedDB reports the transaction complete (so an abort changes nothing).
 *
 * With `ids` (the cases about to be written), the pages they need are read together with
 * the state row, guessed from this connection's catalog: one round trip to the storage
 * process instead of two in a row. The guess is used only if the state read in this
 * transaction is exactly the one the catalog matched (same generation and version), so
 * another tab's or connection's write in between just costs the second read.
 *
 * With `optimistic`, and every needed page in the page cache, nothing is read first: the
 * writes go out at once and `verifyGuess` aborts the whole transaction if another
 * connection wrote since (then `optimistic.stale` is set and the caller, who owns the
 * transaction, runs it again without this option). Only for callers that can retry.
 */
export async function openLiveWriter(
  db: FieldsimDb,
  ids: readonly string[] = [],
  opts: { optimistic?: GuessProbe } = {},
): Promise<LiveWriter> {
  const guessCat = catalogs.get(db);
  const guessState = guessCat === undefined ? undefined : knownState(guessCat);
  if (guessCat !== undefined && guessState !== undefined && opts.optimistic !== undefined && ids.length > 0) {
    const writer = new CaseWriter(db, guessCat, guessState);
    const nums = writer.pagesToRead(ids);
    const rows = cachedRows(guessCat, nums);
    const check = rows === undefined ? undefined : verifyGuess(guessState, opts.optimistic);
    if (rows !== undefined && check !== undefined) {
      writer.adoptPages(nums, rows);
      return liveWriter(db, guessCat, guessState, writer, check);
    }
  }
  const statePromise = readCaseState(db);
  let guess: { state: CaseGenState; nums: number[]; rows: Promise<(CasePageRow | undefined)[]> } | undefined;
  if (guessCat !== undefined && guessState !== undefined && ids.length > 0) {
    const nums = new CaseWriter(db, guessCat, guessState).pagesToRead(ids);
    if (nums.length > 0) {
      const rows = readPages(db, guessState.gen, nums);
      // Marked handled now: if the state read fails first, this rejection is not news.
      rows.catch(() => undefined);
      guess = { state: { ...guessState }, nums, rows };
    }
  }
  const state = await statePromise;
  const catalog = await ensureCatalog(db, state);
  const writer = new CaseWriter(db, catalog, state);
  if (guess !== undefined) {
    const rows = await guess.rows;
    if (catalog === guessCat && sameState(guess.state, state)) writer.adoptPages(guess.nums, rows);
  }
  return liveWriter(db, catalog, state, writer, undefined);
}

function liveWriter(
  db: FieldsimDb,
  catalog: CaseCatalog,
  state: CaseGenState,
  writer: CaseWriter,
  check: Promise<void> | undefined,
): LiveWriter {
  const verified = (): Promise<void> => check ?? Promise.resolve();
  const commit = async (): Promise<void> => {
    if (writer.delta.size === 0) {
      await verified();
      return;
    }
    const next = { ...writer.state, version: state.version + 1 };
    // `put` already moved the tail, so the state row can go out with the pages.
    await Promise.all([writer.flush(), writeCaseState(db, next), verified()]);
    onCommitted(catalog, state, next, writer);
  };
  return { writer, commit, verified };
}

/**
 * Arranges for the shared catalog and page cache to take a writer's changes once the
 * current (root) transaction commits; an abort changes nothing.
 */
function onCommitted(
  catalog: CaseCatalog,
  state: CaseGenState,
  next: CaseGenState,
  writer: CaseWriter,
): void {
  const delta = new Map(writer.delta);
  const { rows, deleted } = writer.flushed;
  const onDone = (): void => {
    if (catalog.gen !== next.gen || catalog.version !== state.version) return;
    const cache = cacheOf(catalog);
    catalog.apply(delta, next.version);
    knownStates.set(catalog, next);
    // Pages this commit did not touch are unchanged at the new version.
    cache.version = next.version;
    for (const p of deleted) cache.rows.delete(p);
    for (const row of rows) cachePut(cache, row);
  };
  // The root transaction's Dexie `complete` event: it fires once IndexedDB committed,
  // and before the code awaiting the transaction goes on (a native `complete` listener
  // would run after it, so the next save would start from a stale catalog and could
  // not use its page guess). A sub-transaction's own `complete` fires at the end of its
  // scope, before anything is committed, hence the walk to the root.
  rootTransaction()?.on('complete', onDone);
}

/** The stored case state moved between `prepareLiveWrite` and its `write`: prepare again. */
export class StaleCaseState extends StorageError {
  /** Checked by the outbox, which does not import the store (class names do not survive bundling). */
  readonly staleCaseState = true;
  constructor() {
    super('storage-error', 'Another tab or connection changed the cases during this write');
  }
}

export interface PreparedLiveWrite {
  writer: CaseWriter;
  /**
   * Call inside a read-write transaction over the case tables: checks the stored state is
   * still the one the write was prepared from (else throws `StaleCaseState`, and the
   * caller prepares again), then writes the sealed pages, summaries and state row.
   */
  write: () => Promise<void>;
}

/**
 * A case write in two phases, for an encrypted database (WebCrypto is async, and awaiting
 * it inside an IndexedDB transaction would commit the transaction): outside any
 * transaction, the catalog and the pages of `ids` are read and decrypted, `mutate` runs
 * on the writer (it may `prefetch` more pages), and the changed pages are encrypted; then
 * `write()` stores them in the caller's transaction, guarded by the state check.
 */
export async function prepareLiveWrite(
  db: FieldsimDb,
  ids: readonly string[],
  mutate: (w: CaseWriter) => Promise<void> | void,
  opts: { fresh?: boolean } = {},
): Promise<PreparedLiveWrite> {
  const c = db.vault.cipher();
  // The state this connection last wrote or read stands in for reading it: `write()`
  // checks it against the stored one anyway, and a caller whose write went stale
  // prepares again with `fresh` (read from the database). With the pages in the page
  // cache too, a save reads nothing before its one write transaction.
  const guessCat = opts.fresh ? undefined : catalogs.get(db);
  const guessState = guessCat === undefined ? undefined : knownState(guessCat);
  const { state, cat } =
    guessCat !== undefined && guessState !== undefined
      ? { state: { ...guessState }, cat: guessCat }
      : await loadCatalog(db);
  const writer = new CaseWriter(db, cat, state);
  const nums = writer.pagesToRead(ids);
  if (nums.length > 0)
    writer.adoptPages(nums, cachedRows(cat, nums) ?? (await readPages(db, state.gen, nums)));
  await mutate(writer);
  const next: CaseGenState = { ...writer.state, version: state.version + 1 };
  const flush = writer.delta.size === 0 ? null : await sealFlush(c, writer.prepareFlush());
  return {
    writer,
    write: async () => {
      const stale = (): StaleCaseState => {
        // Whoever prepares next reads the state instead of guessing this one again.
        knownStates.delete(cat);
        return new StaleCaseState();
      };
      // The state check goes out with the writes, not before them: IndexedDB runs the
      // transaction's requests in order, so `verifyGuess` aborts it before any write can
      // commit if the state moved. Waiting for the read first cost a round trip to the
      // storage process per save (most of the encrypted save's extra time in Chromium).
      const probe: GuessProbe = { stale: false };
      const check = flush === null ? undefined : verifyGuess(state, probe);
      if (flush === null || check === undefined) {
        const now = await readCaseState(db);
        if (!sameState(now, state)) throw stale();
        if (flush === null) return;
        await Promise.all([writer.writeFlush(flush), writeCaseState(db, next)]);
      } else {
        try {
          await Promise.all([writer.writeFlush(flush), writeCaseState(db, next), check]);
        } catch (e) {
          if (probe.stale) throw stale();
          throw e;
        }
      }
      onCommitted(cat, state, next, writer);
    },
  };
}
