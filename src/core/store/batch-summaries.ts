import { CryptoError } from '../crypto/crypto-error.ts';
import type { RecordCipher } from '../crypto/record-cipher.ts';
import type { CaseSumRow } from './row-types.ts';
import { isSealed, pageKey, type SealedSumRow } from './sealed-rows.ts';

/**
 * Batch summary records: an encrypted full restore seals the summaries of all the pages a
 * batch wrote as ONE `caseSums` record, instead of one record per page (docs/core.md,
 * "Encrypted restore: one summary record per batch"). In Chromium every record is a
 * WebCrypto call and a stored value, and a restore sealed a page and its summary per 16
 * cases; this halves the records of a restore without touching the pages a save rewrites.
 *
 * Record kinds in `caseSums`, told apart by their clear key:
 *   - page >= 0: a per-page summary record, as before (saves, incremental syncs, the
 *     restore's last steps, databases written before this format). An empty list is a
 *     tombstone: the page was deleted (`tombstoneSums`).
 *   - page < 0: a batch record, `page = -1 - seq` for the `seq`-th batch of the restore
 *     that wrote the generation. Its plaintext is a header line
 *     `{"kind":"batch-sums","v":1,"pages":[...]}` then, line by line in the same order, each
 *     page's summary JSON (`CaseSummary[]`: JSON never holds a raw line break).
 *
 * Precedence, per page: a per-page record beats every batch record; among batch records
 * the later batch (higher `seq`) wins. Keys sort batch records newest first (-1 - seq),
 * then per-page records, so `SummaryMerge` takes rows in key order.
 */

export const BATCH_SUMS_KIND = 'batch-sums';
export const BATCH_SUMS_VERSION = 1;

/** The clear key page of a restore's `seq`-th batch record. */
export const batchSumsPage = (seq: number): number => -1 - seq;

export function isBatchSums(row: { page: number }): boolean {
  return row.page < 0;
}

/**
 * A stored batch record. `pages` in clear (page numbers are keys in `casePages` anyway)
 * says which pages to rebuild from if the record fails its integrity check; once opened,
 * the authenticated list in the header is the one used.
 */
export interface SealedBatchSumRow extends SealedSumRow {
  pages: number[];
}

/** Seals the per-page summary rows of one batch (all of generation `gen`) as one record. */
export async function sealBatchSums(
  c: RecordCipher,
  gen: number,
  seq: number,
  sums: readonly CaseSumRow[],
): Promise<SealedBatchSumRow> {
  const page = batchSumsPage(seq);
  const pages = sums.map((s) => s.page);
  const header = JSON.stringify({ kind: BATCH_SUMS_KIND, v: BATCH_SUMS_VERSION, pages });
  const lines = [header];
  for (const s of sums) lines.push(s.sums);
  return { gen, page, pages, enc: await c.sealText('caseSums', pageKey(gen, page), lines) };
}

/** A batch record's pages and, in the same order, each page's summary JSON. */
export interface OpenedBatchSums {
  pages: number[];
  sums: string[];
}

function malformed(key: string, what: string): CryptoError {
  return new CryptoError('record-integrity', `Stored record caseSums/${key} ${what}`, {
    table: 'caseSums',
    recordKey: key,
  });
}

/**
 * Opens a batch record. An authentic record whose header is not one this code writes (a
 * newer format) fails as `record-integrity` too, so the catalog load rebuilds its pages'
 * summaries from the pages rather than guess.
 */
export async function openBatchSums(
  c: RecordCipher,
  row: CaseSumRow | SealedSumRow,
): Promise<OpenedBatchSums> {
  const key = pageKey(row.gen, row.page);
  if (!isSealed(row)) throw malformed(key, 'is not encrypted');
  const text = await c.openText('caseSums', key, row.enc);
  const lines = text.split('\n');
  let header: unknown;
  try {
    header = JSON.parse(lines[0] ?? '');
  } catch {
    throw malformed(key, 'has no batch header');
  }
  const h = header as { kind?: unknown; v?: unknown; pages?: unknown };
  if (h.kind !== BATCH_SUMS_KIND || h.v !== BATCH_SUMS_VERSION)
    throw malformed(key, `is of an unknown kind (${String(h.kind)} v${String(h.v)})`);
  const pages = h.pages;
  if (!Array.isArray(pages) || !pages.every((p) => Number.isSafeInteger(p) && p >= 0))
    throw malformed(key, 'lists no valid pages');
  if (lines.length !== pages.length + 1) throw malformed(key, 'does not hold a summary per page');
  return { pages: pages as number[], sums: lines.slice(1) };
}

/** The pages a batch record names in clear (for salvage when it cannot be opened). */
export function clearPagesOf(row: CaseSumRow | SealedSumRow): number[] {
  const pages = (row as Partial<SealedBatchSumRow>).pages;
  return Array.isArray(pages) ? pages.filter((p) => Number.isSafeInteger(p) && p >= 0) : [];
}

/** An encrypted database's record for a deleted page: it hides every batch record's copy. */
export function tombstoneSums(gen: number, page: number): CaseSumRow {
  return { gen, page, sums: '[]' };
}
