import { StorageError } from '../errors/storage-error.ts';
import type { PackedCasePage } from '../protocol/restore/restore-types.ts';
import { CASE_PAGE_SIZE, type CaseWriter, entryFromSummary } from './case-writer.ts';
import type { CasePageRow, CaseSumRow, FieldsimDb } from './fieldsim-db.ts';

/**
 * Pages of new cases packed by a host parser (`case-page` events; Node's parse thread,
 * src/node-store/restore-parse-worker.ts) for a full restore into a plain database. The
 * parser numbers the pages itself, so the writer here only takes their catalog entries and
 * moves its tail to them; the rows go to the store as they came.
 *
 * The parser's side of the contract (what keeps its numbering and the writer's apart):
 * - a packed page holds only cases the payload names for the first time, each stored as
 *   `applyCaseBlock(undefined, firstBlock)`;
 * - before any case event it does not pack (a later block of a case, or a first block it
 *   could not tell was one), it closes its open page and sends its batch, so such a block
 *   never comes before the page of a case it may read, and a batch holds its raw blocks
 *   before its pages;
 * - after a run of k raw blocks following its page P, its next page is
 *   `P + 1 + ceil(k / CASE_PAGE_SIZE)`: a raw block can create at most one case here,
 *   which the writer appends to P (if it has room) and the pages after it.
 * The writer's own appends thus never land on a page the parser packs.
 */

/** Takes a batch's packed pages into the staged catalog; call after the batch's raw blocks. */
export function adoptPackedPages(writer: CaseWriter, pages: readonly PackedCasePage[]): void {
  const entries = writer.catalog.entries;
  for (const p of pages) {
    const n = p.summaries.length;
    if (n === 0 || n > CASE_PAGE_SIZE || p.page <= writer.state.tailPage)
      throw new StorageError('storage-error', `The restore parser packed an out-of-order page (${p.page})`);
    // Straight into the staged catalog, not through the writer's delta: these cases are
    // new (never in the delta) and the staged catalog has no derived views (name order,
    // lists, reverse edges) before the switch, which `apply` would have to keep up.
    for (const sum of p.summaries) entries.set(sum[0], entryFromSummary(sum, p.page));
    writer.state.tailPage = p.page;
    writer.state.tailCount = n;
  }
}

/** Writes a batch's packed rows; call inside the batch's write transaction. */
export async function putPackedPages(db: FieldsimDb, pages: readonly PackedCasePage[]): Promise<void> {
  if (pages.length === 0) return;
  try {
    // The rows are the store's own encoding (see `PackedCasePage`): typed as rows for Dexie.
    await Promise.all([
      db.casePages.bulkPut(pages.map((p) => p.pageRow as CasePageRow)),
      db.caseSums.bulkPut(pages.map((p) => p.sumRow as CaseSumRow)),
    ]);
  } catch (e) {
    throw StorageError.from(e, 'Writing cases');
  }
}
