/**
 * The plain (unencrypted) shapes of the store's rows (the tables are declared in
 * fieldsim-db.ts). Their own module so sealed-rows.ts, which maps them to their encrypted
 * forms, and fieldsim-db.ts, which stores either, do not import each other.
 */

/** Key-value rows: sync token, registration, owner ids, last sync time... */
export interface MetaRow {
  key: string;
  value: unknown;
}

/**
 * One page of cases of one generation (see case-writer.ts): the case ids and, in the
 * same order, each case as JSON. Strings clone much faster than trees of small objects
 * and take half the memory (fake-indexeddb keeps the whole database in the JS heap);
 * one string per case lets a case-list page parse only the rows it shows.
 */
export interface CasePageRow {
  gen: number;
  page: number;
  ids: string[];
  data: string[];
}

/**
 * Per page, what the in-memory catalog needs of each case (JSON of `CaseSummary[]`, see
 * case-writer.ts), so reopening the database rebuilds the catalog without reading and
 * parsing every full case.
 */
export interface CaseSumRow {
  gen: number;
  page: number;
  sums: string;
}

export interface StoredFixture {
  /** `${id}|${userId}` */
  key: string;
  id: string;
  userId: string;
  indexed: boolean;
  /**
   * The fixture's root element as a plain tree (XmlNode). For an indexed fixture the
   * root's children (the rows) are in `fixtureRows` and `root.children` is empty.
   */
  root: unknown;
  /** Index expressions from the fixture's `<schema>`, for indexed fixtures. */
  indices?: string[];
}

export interface FixtureRow {
  fixtureId: string;
  rowIndex: number;
  /** Values of the schema's index expressions, by expression. */
  keys: Record<string, string>;
  node: unknown;
}

export interface LedgerRow {
  /** Case generation the balance belongs to (replaced together with the cases). */
  gen: number;
  entityId: string;
  sectionId: string;
  entryId: string;
  quantity: number;
  date: string;
}
