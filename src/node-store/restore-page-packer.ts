import type { CaseSummaryTuple } from '../core/protocol/restore/restore-types.ts';
import { V8RowWriter } from './v8-row-writer.ts';

/**
 * The parse thread's side of packed pages (src/core/store/packed-pages.ts has the
 * contract): new cases of a full restore into a plain database are gathered 16 to a page,
 * and each page leaves the thread as its `casePages` and `caseSums` rows already
 * serialized as the SQLite store keeps them (V8 structured-clone bytes, the same objects
 * `CaseWriter.prepareFlush` writes), plus the summaries' JSON for the catalog. The main
 * thread then only makes catalog entries and runs one INSERT per row: no record string
 * crosses into its heap, nothing is encoded twice.
 */

/** What a batch carries of packed pages; the bytes are moved to the main thread. */
export interface PackedOut {
  pages: number[];
  /** The rows' bytes, every row of the batch in one buffer. */
  rows: V8RowWriter;
  /** Per page, [start, end) of its `casePages` row, then of its `caseSums` row. */
  bounds: number[];
  /** Per page, the `caseSums` row's JSON (an array of `CaseSummaryTuple`). */
  sums: string[];
}

export const emptyPacked = (): PackedOut => ({ pages: [], rows: new V8RowWriter(), bounds: [], sums: [] });

export class PagePacker {
  readonly #gen: number;
  /** `CASE_PAGE_SIZE`, given by the main thread (the thread does not load the store). */
  readonly #size: number;
  #ids: string[] = [];
  #data: string[] = [];
  #sums: CaseSummaryTuple[] = [];
  /** Number of the open page, or -1. */
  #open = -1;
  /** Last page closed (-1: none yet). */
  #last = -1;
  #next = 0;
  /** Case blocks sent raw since the last page was closed. */
  #raw = 0;

  constructor(gen: number, pageSize: number) {
    this.#gen = gen;
    this.#size = pageSize;
  }

  /** A new case, its record as stored and its summary; true if it filled (closed) a page. */
  add(out: PackedOut, json: string, sum: CaseSummaryTuple): boolean {
    if (this.#open < 0) {
      if (this.#raw > 0) {
        // The main thread may append one case per raw block to the last page (if it has
        // room) and the pages after it: keep clear of them.
        this.#next = this.#last + 1 + Math.ceil(this.#raw / this.#size);
        this.#raw = 0;
      }
      this.#open = this.#next++;
    }
    this.#ids.push(sum[0]);
    this.#data.push(json);
    this.#sums.push(sum);
    return this.#ids.length >= this.#size && this.close(out);
  }

  /** A case block goes raw to the main thread (after the open page is closed). */
  raw(): void {
    this.#raw++;
  }

  /** Closes the open page, full or not, into `out`; false if none was open. */
  close(out: PackedOut): boolean {
    if (this.#open < 0) return false;
    const gen = this.#gen;
    const page = this.#open;
    const sums = JSON.stringify(this.#sums);
    out.pages.push(page);
    out.bounds.push(
      ...out.rows.pageRow(gen, page, this.#ids, this.#data),
      ...out.rows.sumRow(gen, page, sums),
    );
    out.sums.push(sums);
    this.#last = page;
    this.#open = -1;
    this.#ids = [];
    this.#data = [];
    this.#sums = [];
    return true;
  }
}
