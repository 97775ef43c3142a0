import Dexie, { type Table } from 'dexie';
import type { IndexedDbDeps } from '../platform.ts';
import type { CaseRecord } from '../protocol/casexml/case-types.ts';

/**
 * One Dexie database per domain+user (DESIGN.md section 3): a user never sees another
 * user's data, and cases, outbox and sync state share one database so that saving a
 * form can apply its case changes and queue it in one transaction.
 *
 * Table ownership: `cases`, `meta`, `fixtures`, `fixtureRows`, `ledgers` belong to
 * store/ (restore and case rules); `outbox` and `outboxBlobs` to outbox/.
 */

/** Key-value rows: sync token, registration, owner ids, last sync time... */
export interface MetaRow {
  key: string;
  value: unknown;
}

export interface StoredFixture {
  /** `${id}|${userId}` */
  key: string;
  id: string;
  userId: string;
  indexed: boolean;
  /** The fixture's root element as a plain tree (XmlNode). */
  root: unknown;
}

export interface FixtureRow {
  fixtureId: string;
  rowIndex: number;
  /** Values of the schema's index expressions, by expression. */
  keys: Record<string, string>;
  node: unknown;
}

export interface LedgerRow {
  /** `${entityId}|${sectionId}|${entryId}` */
  key: string;
  entityId: string;
  sectionId: string;
  entryId: string;
  quantity: number;
  date: string;
}

export type StoredCase = CaseRecord;

export function databaseName(domain: string, username: string): string {
  return `fieldsim:${domain.toLowerCase()}:${username.toLowerCase()}`;
}

export class FieldsimDb extends Dexie {
  cases!: Table<StoredCase, string>;
  meta!: Table<MetaRow, string>;
  fixtures!: Table<StoredFixture, string>;
  fixtureRows!: Table<FixtureRow, [string, number]>;
  ledgers!: Table<LedgerRow, string>;
  // outbox tables are declared by outbox/ (see outbox-schema.ts) in the same version.

  constructor(name: string, deps?: IndexedDbDeps) {
    super(name, deps ? { indexedDB: deps.indexedDB, IDBKeyRange: deps.IDBKeyRange } : {});
    this.version(1).stores({
      cases: '&caseId, caseType, ownerId',
      meta: '&key',
      fixtures: '&key, id',
      fixtureRows: '[fixtureId+rowIndex], fixtureId',
      ledgers: '&key, entityId',
      outbox: '++seq, &instanceId, state',
      outboxBlobs: '[instanceId+name], instanceId',
    });
  }
}
