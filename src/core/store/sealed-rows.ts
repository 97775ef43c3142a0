import { CryptoError } from '../crypto/crypto-error.ts';
import type { RecordCipher } from '../crypto/record-cipher.ts';
import type { CasePageRow, CaseSumRow, FixtureRow, LedgerRow, StoredFixture } from './row-types.ts';

/**
 * The encrypted form of each store table's rows (encryption at rest, docs/core.md).
 *
 * A sealed row keeps in clear only what IndexedDB needs for its keys and indexes, all
 * non-sensitive (generation and page numbers, fixture ids, case and product ids of ledger
 * keys); every value (case JSON, summaries with names, owners and types, fixture trees and
 * their index values, ledger quantities) is in `enc`, sealed with the table name and the
 * row's key as additional data. Callers seal before opening a write transaction and open
 * after the read transaction ended (WebCrypto is async: awaiting it inside an IndexedDB
 * transaction lets the transaction commit).
 */

export interface SealedPageRow {
  gen: number;
  page: number;
  enc: Uint8Array;
}

export interface SealedSumRow {
  gen: number;
  page: number;
  enc: Uint8Array;
}

export interface SealedFixture {
  key: string;
  id: string;
  enc: Uint8Array;
}

export interface SealedFixtureRow {
  fixtureId: string;
  rowIndex: number;
  enc: Uint8Array;
}

export interface SealedLedgerRow {
  gen: number;
  entityId: string;
  sectionId: string;
  entryId: string;
  enc: Uint8Array;
}

export function isSealed(row: unknown): row is { enc: Uint8Array } {
  return typeof row === 'object' && row !== null && (row as { enc?: unknown }).enc instanceof Uint8Array;
}

/** A plain row where a sealed one belongs: written without the key, or planted. */
function notSealed(table: string, recordKey: string): CryptoError {
  return new CryptoError('record-integrity', `Stored record ${table}/${recordKey} is not encrypted`, {
    table,
    recordKey,
  });
}

export const pageKey = (gen: number, page: number): string => `${gen}:${page}`;

/**
 * Case JSON never holds a raw line break (JSON.stringify escapes control characters), so a
 * page is its ids as JSON, then its cases, one per line: no second round of escaping.
 */
export async function sealPage(c: RecordCipher, row: CasePageRow): Promise<SealedPageRow> {
  // As lines: the cipher encodes them one by one, without building the page's text
  // (two ~10 KB strings per page, most of a restore's extra garbage in Chromium).
  // An empty page was always stored as its ids and a line break: kept byte for byte.
  const lines =
    row.data.length === 0 ? [JSON.stringify(row.ids), ''] : [JSON.stringify(row.ids), ...row.data];
  return {
    gen: row.gen,
    page: row.page,
    enc: await c.sealText('casePages', pageKey(row.gen, row.page), lines),
  };
}

export async function openPage(
  c: RecordCipher,
  row: CasePageRow | SealedPageRow | undefined,
): Promise<CasePageRow | undefined> {
  if (row === undefined) return undefined;
  const key = pageKey(row.gen, row.page);
  if (!isSealed(row)) throw notSealed('casePages', key);
  const text = await c.openText('casePages', key, row.enc);
  const nl = text.indexOf('\n');
  const ids = JSON.parse(nl < 0 ? text : text.slice(0, nl)) as string[];
  const data = ids.length === 0 ? [] : text.slice(nl + 1).split('\n');
  return { gen: row.gen, page: row.page, ids, data };
}

export async function sealSums(c: RecordCipher, row: CaseSumRow): Promise<SealedSumRow> {
  return {
    gen: row.gen,
    page: row.page,
    enc: await c.sealText('caseSums', pageKey(row.gen, row.page), row.sums),
  };
}

export async function openSums(c: RecordCipher, row: CaseSumRow | SealedSumRow): Promise<CaseSumRow> {
  const key = pageKey(row.gen, row.page);
  if (!isSealed(row)) throw notSealed('caseSums', key);
  return { gen: row.gen, page: row.page, sums: await c.openText('caseSums', key, row.enc) };
}

type FixtureBody = Omit<StoredFixture, 'key' | 'id'>;

export async function sealFixture(c: RecordCipher, f: StoredFixture): Promise<SealedFixture> {
  const { key, id, ...body } = f;
  return { key, id, enc: await c.sealJson('fixtures', key, body) };
}

export async function openFixture(
  c: RecordCipher,
  row: StoredFixture | SealedFixture,
): Promise<StoredFixture> {
  if (!isSealed(row)) throw notSealed('fixtures', row.key);
  const body = await c.openJson<FixtureBody>('fixtures', row.key, row.enc);
  return { ...body, key: row.key, id: row.id };
}

const fixtureRowKey = (fixtureId: string, rowIndex: number): string => `${fixtureId}\u0000${rowIndex}`;

export async function sealFixtureRow(c: RecordCipher, r: FixtureRow): Promise<SealedFixtureRow> {
  return {
    fixtureId: r.fixtureId,
    rowIndex: r.rowIndex,
    enc: await c.sealJson('fixtureRows', fixtureRowKey(r.fixtureId, r.rowIndex), {
      keys: r.keys,
      node: r.node,
    }),
  };
}

export async function openFixtureRow(c: RecordCipher, r: FixtureRow | SealedFixtureRow): Promise<FixtureRow> {
  const key = fixtureRowKey(r.fixtureId, r.rowIndex);
  if (!isSealed(r)) throw notSealed('fixtureRows', key);
  const body = await c.openJson<Pick<FixtureRow, 'keys' | 'node'>>('fixtureRows', key, r.enc);
  return { fixtureId: r.fixtureId, rowIndex: r.rowIndex, keys: body.keys, node: body.node };
}

const ledgerKey = (r: { gen: number; entityId: string; sectionId: string; entryId: string }): string =>
  JSON.stringify([r.gen, r.entityId, r.sectionId, r.entryId]);

export async function sealLedger(c: RecordCipher, r: LedgerRow): Promise<SealedLedgerRow> {
  const { gen, entityId, sectionId, entryId } = r;
  return {
    gen,
    entityId,
    sectionId,
    entryId,
    enc: await c.sealJson('ledgers', ledgerKey(r), { quantity: r.quantity, date: r.date }),
  };
}

export async function openLedger(c: RecordCipher, r: LedgerRow | SealedLedgerRow): Promise<LedgerRow> {
  if (!isSealed(r)) throw notSealed('ledgers', ledgerKey(r));
  const body = await c.openJson<{ quantity: number; date: string }>('ledgers', ledgerKey(r), r.enc);
  return { gen: r.gen, entityId: r.entityId, sectionId: r.sectionId, entryId: r.entryId, ...body };
}

/** Seals rows when the database is encrypted, leaves them as they are otherwise. */
export async function sealAll<P, S>(
  c: RecordCipher | null,
  rows: readonly P[],
  seal: (c: RecordCipher, r: P) => Promise<S>,
): Promise<(P | S)[]> {
  return c === null ? [...rows] : Promise.all(rows.map((r) => seal(c, r)));
}

/** Opens rows when the database is encrypted; a plain database's rows are returned as they are. */
export async function openAll<P, S>(
  c: RecordCipher | null,
  rows: readonly (P | S)[],
  open: (c: RecordCipher, r: P | S) => Promise<P>,
): Promise<P[]> {
  return c === null ? (rows as P[]) : Promise.all(rows.map((r) => open(c, r)));
}
