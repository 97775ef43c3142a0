import { CryptoError } from '../crypto/crypto-error.ts';
import type { RecordCipher } from '../crypto/record-cipher.ts';
import type { CaseRecord } from '../protocol/casexml/case-types.ts';
import type { CaseSummaryTuple } from '../protocol/restore/restore-types.ts';
import { clearPagesOf, isBatchSums, openBatchSums } from './batch-summaries.ts';
import type { CaseEntry } from './case-catalog.ts';
import type { FieldsimDb } from './fieldsim-db.ts';
import type { CaseSumRow } from './row-types.ts';
import { openPage, openSums, type SealedSumRow } from './sealed-rows.ts';

/**
 * The encrypted catalog load's side of batch summary records (batch-summaries.ts): opens
 * a slice of `caseSums` rows of either kind, rebuilding from the pages what fails its
 * integrity check, and merges them into the catalog with the format's precedence.
 */

type Summaries = CaseSummaryTuple[];

/** A slice row opened: a page's summaries, or a batch's pages with theirs (JSON until used). */
export type OpenedSums =
  | { kind: 'page'; page: number; sums: Summaries }
  | { kind: 'batch'; pages: number[]; sums: (string | Summaries | null)[] };

/** Keys of the records already in each damage list: a page two batch records name is reported once. */
const reported = new WeakMap<CryptoError[], Set<string>>();

function noteDamage(damage: CryptoError[], e: CryptoError): void {
  let keys = reported.get(damage);
  if (keys === undefined) {
    keys = new Set();
    reported.set(damage, keys);
  }
  const key = `${e.table ?? ''}/${e.recordKey ?? ''}`;
  if (keys.has(key)) return;
  keys.add(key);
  damage.push(e);
}

function summaryOf(c: CaseRecord): CaseSummaryTuple {
  return [c.caseId, c.caseType, c.caseName, c.ownerId, c.closed ? 1 : 0, c.lastModified, c.indices];
}

/**
 * A page's summaries rebuilt from the page itself (its summary record failed); null if
 * the page fails too (both errors kept in `damage`), [] if it is gone.
 */
async function summariesFromPage(
  db: FieldsimDb,
  c: RecordCipher,
  gen: number,
  page: number,
  damage: CryptoError[],
): Promise<Summaries | null> {
  try {
    const row = await openPage(c, await db.casePages.get([gen, page]));
    return row === undefined ? [] : row.data.map((d) => summaryOf(JSON.parse(d) as CaseRecord));
  } catch (e) {
    if (!(e instanceof CryptoError)) throw e;
    noteDamage(damage, e);
    return null;
  }
}

async function openOne(
  db: FieldsimDb,
  c: RecordCipher,
  row: CaseSumRow | SealedSumRow,
  damage: CryptoError[],
): Promise<OpenedSums> {
  if (isBatchSums(row)) {
    try {
      return { kind: 'batch', ...(await openBatchSums(c, row)) };
    } catch (e) {
      if (!(e instanceof CryptoError)) throw e;
      noteDamage(damage, e);
      const pages = clearPagesOf(row);
      const sums = await Promise.all(pages.map((p) => summariesFromPage(db, c, row.gen, p, damage)));
      return { kind: 'batch', pages, sums };
    }
  }
  try {
    const opened = await openSums(c, row);
    return { kind: 'page', page: row.page, sums: JSON.parse(opened.sums) as Summaries };
  } catch (e) {
    if (!(e instanceof CryptoError)) throw e;
    damage.push(e);
    return {
      kind: 'page',
      page: row.page,
      sums: (await summariesFromPage(db, c, row.gen, row.page, damage)) ?? [],
    };
  }
}

/** Opens a slice of summary rows, in parallel; failures are rebuilt from pages and kept in `damage`. */
export function openSummarySlice(
  db: FieldsimDb,
  c: RecordCipher,
  rows: readonly (CaseSumRow | SealedSumRow)[],
  damage: CryptoError[],
): Promise<OpenedSums[]> {
  return Promise.all(rows.map((row) => openOne(db, c, row, damage)));
}

/**
 * Builds catalog entries from opened rows taken in key order (batch records newest
 * first, then per-page records): per page, the first batch record naming it wins over
 * older ones, and a per-page record replaces whatever a batch record said of its page, so
 * a case a save moved off a page or removed (a tombstone) never comes back.
 */
export class SummaryMerge {
  /** Pages a batch record already spoke for (the newest one naming each). */
  private readonly claimed = new Set<number>();
  /** Per page, the ids a batch record put in the catalog. */
  private readonly fromBatch = new Map<number, string[]>();
  /** Per page, its ids in page order, once a batch record was seen (for `finish`). */
  private readonly pageIds = new Map<number, string[]>();
  private readonly entries: Map<string, CaseEntry>;
  private readonly entryOf: (sum: CaseSummaryTuple, page: number) => CaseEntry;

  constructor(entries: Map<string, CaseEntry>, entryOf: (sum: CaseSummaryTuple, page: number) => CaseEntry) {
    this.entries = entries;
    this.entryOf = entryOf;
  }

  take(o: OpenedSums): void {
    if (o.kind === 'page') {
      this.ownPage(o.page, o.sums);
      return;
    }
    o.pages.forEach((page, i) => {
      if (this.claimed.has(page)) return;
      this.claimed.add(page);
      const s = o.sums[i];
      if (s === null || s === undefined) return;
      const sums = typeof s === 'string' ? (JSON.parse(s) as Summaries) : s;
      const ids: string[] = [];
      for (const sum of sums) {
        // A newer batch record already placed this case on another page: it stays there.
        if (this.entries.has(sum[0])) continue;
        this.entries.set(sum[0], this.entryOf(sum, page));
        ids.push(sum[0]);
      }
      this.fromBatch.set(page, ids);
      this.pageIds.set(page, ids);
    });
  }

  private ownPage(page: number, sums: Summaries): void {
    const stale = this.fromBatch.get(page);
    if (stale !== undefined) {
      for (const id of stale) if (this.entries.get(id)?.page === page) this.entries.delete(id);
      this.fromBatch.delete(page);
    }
    const ids: string[] = [];
    for (const sum of sums) {
      this.entries.set(sum[0], this.entryOf(sum, page));
      ids.push(sum[0]);
    }
    if (this.claimed.size > 0) this.pageIds.set(page, ids);
  }

  /**
   * Puts the entries in page order, as a load of per-page records leaves them and as a
   * restore hands its catalog over: batch records come newest first, and the catalog's
   * order is what children lists and ties follow (case-catalog.ts).
   */
  finish(): void {
    if (this.claimed.size === 0) return;
    const ordered: [string, CaseEntry][] = [];
    const pages = [...this.pageIds.keys()].sort((a, b) => a - b);
    for (const page of pages)
      for (const id of this.pageIds.get(page) ?? []) {
        const e = this.entries.get(id);
        if (e !== undefined && e.page === page) ordered.push([id, e]);
      }
    if (ordered.length !== this.entries.size) return;
    this.entries.clear();
    for (const [id, e] of ordered) this.entries.set(id, e);
  }
}
