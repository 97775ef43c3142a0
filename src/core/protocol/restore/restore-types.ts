import type { CaseBlock, CaseIndex } from '../casexml/case-types.ts';

/** The user as the restore's `<Registration>` block describes them. */
export interface RegistrationRecord {
  username: string;
  /** The server's password hash. Kept as sent; fieldsim never uses it to log in. */
  passwordHash: string;
  uuid: string;
  date: string;
  userData: Record<string, string>;
}

/** A generic XML element tree, for fixtures. Attribute and text values are strings. */
export interface XmlNode {
  name: string;
  attributes: Record<string, string>;
  children: XmlNode[];
  text: string;
}

export interface FixtureRecord {
  id: string;
  userId: string;
  indexed: boolean;
  /** The single root element inside `<fixture>`. */
  root: XmlNode;
}

export interface FixtureSchema {
  id: string;
  /** Index expressions: `@attr` or `childName`. */
  indices: string[];
}

export interface LedgerBalance {
  entityId: string;
  sectionId: string;
  date: string;
  entries: { id: string; quantity: number }[];
}

/** What the restore parser reports, in document order. */
export type RestoreEvent =
  | { kind: 'items'; count: number }
  | { kind: 'sync'; restoreId: string }
  | { kind: 'registration'; registration: RegistrationRecord }
  | { kind: 'schema'; schema: FixtureSchema }
  | { kind: 'fixture'; fixture: FixtureRecord }
  | { kind: 'case'; block: CaseBlock }
  | { kind: 'case-applied'; applied: AppliedCase }
  | { kind: 'case-page'; page: PackedCasePage }
  | { kind: 'ledger'; balance: LedgerBalance };

/** [caseId, caseType, caseName, ownerId, closed, lastModified, indices]: a case's catalog summary as stored. */
export type CaseSummaryTuple = [string, string, string, string, 0 | 1, string, CaseIndex[]];

/**
 * A case whose first block in a full restore was already applied by the parser's host
 * (src/node-store/restore-parse-worker.ts runs the case rules in the parse thread for a
 * case id the payload has not named before): the record as stored (`JSON.stringify` of
 * the `CaseRecord`) and its summary. `parseRestore` itself never emits it; a full ingest
 * stores it as `applyCaseBlock(undefined, block)` would have.
 */
export interface AppliedCase {
  json: string;
  summary: CaseSummaryTuple;
}

/**
 * A whole page of new cases a host parser packed for a full restore's staged generation
 * (`RestoreParserFn`'s `staged`; src/node-store/restore-parse-worker.ts): the cases'
 * first blocks applied with the case rules, the page numbered by the parser, and its two
 * rows already encoded the way the store writes them (opaque to the core, for `bulkPut`
 * only). `summaries` gives the catalog its entries (store/packed-pages.ts).
 */
export interface PackedCasePage {
  page: number;
  summaries: CaseSummaryTuple[];
  /** The `casePages` row as the store's engine takes it (its `gen` and `page` readable). */
  pageRow: { readonly gen: number; readonly page: number };
  /** The `caseSums` row, likewise. */
  sumRow: { readonly gen: number; readonly page: number };
}
