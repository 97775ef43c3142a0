import Dexie, { type Table } from 'dexie';
import { Vault } from '../crypto/vault.ts';
import type { DexieBackend, IndexedDbDeps, RestoreParserFn } from '../platform.ts';
import type { CaseRecord } from '../protocol/casexml/case-types.ts';
import type {
  SealedFixture,
  SealedFixtureRow,
  SealedLedgerRow,
  SealedPageRow,
  SealedSumRow,
} from './sealed-rows.ts';

/**
 * One Dexie database per domain+user (DESIGN.md section 3): a user never sees another
 * user's data, and cases, outbox and sync state share one database so that saving a
 * form can apply its case changes and queue it in one transaction.
 *
 * Table ownership: `casePages`, `caseSums`, `meta`, `fixtures`, `fixtureRows`, `ledgers` belong to
 * store/ (restore and case rules); `outbox` and `outboxBlobs` to outbox/.
 *
 * Cases are not one record each: IndexedDB's cost is per record (DESIGN.md section 8), so
 * cases are packed into pages of up to CASE_PAGE_SIZE records, keyed by generation and
 * page number. A full restore writes a new generation and switches to it by changing
 * one meta row, so an interrupted restore leaves the old generation untouched. Queries
 * go through CaseDb (case-db.ts), which keeps a compact in-memory catalog of the current
 * generation; never read `casePages` directly.
 */

export type { CasePageRow, CaseSumRow, FixtureRow, LedgerRow, MetaRow, StoredFixture } from './row-types.ts';

import type { CasePageRow, CaseSumRow, FixtureRow, LedgerRow, MetaRow, StoredFixture } from './row-types.ts';

export type StoredCase = CaseRecord;

export function databaseName(domain: string, username: string): string {
  return `fieldsim:${domain.toLowerCase()}:${username.toLowerCase()}`;
}

export class FieldsimDb extends Dexie {
  // Rows are plain, or sealed (store/sealed-rows.ts) once the database is encrypted.
  casePages!: Table<CasePageRow | SealedPageRow, [number, number]>;
  caseSums!: Table<CaseSumRow | SealedSumRow, [number, number]>;
  meta!: Table<MetaRow, string>;
  fixtures!: Table<StoredFixture | SealedFixture, string>;
  fixtureRows!: Table<FixtureRow | SealedFixtureRow, [string, number]>;
  ledgers!: Table<LedgerRow | SealedLedgerRow, [number, string, string, string]>;
  // outbox tables are declared by outbox/ (see outbox-schema.ts) in the same version.
  /**
   * Encryption at rest (docs/core.md): whether this database's records are encrypted, and
   * the record cipher while unlocked. Encrypted rows keep only their keys in clear and hold
   * the rest in `enc` (see store/sealed-rows.ts); they are sealed before a write
   * transaction opens and opened after a read one ends, never inside one.
   */
  readonly vault: Vault;
  /** The storage engine under Dexie, when not IndexedDB itself (see `IndexedDbDeps`). */
  readonly backend: DexieBackend | undefined;
  /** The parser of full restores, when the host runs it elsewhere (see `IndexedDbDeps`). */
  readonly restoreParser: RestoreParserFn | undefined;

  constructor(name: string, deps?: IndexedDbDeps) {
    super(name, deps ? { indexedDB: deps.indexedDB, IDBKeyRange: deps.IDBKeyRange } : {});
    this.vault = new Vault(deps?.recordAead);
    this.backend = deps?.backend;
    this.restoreParser = deps?.restoreParser;
    deps?.backend?.install(this);
    this.version(1).stores({
      casePages: '[gen+page]',
      caseSums: '[gen+page]',
      meta: '&key',
      fixtures: '&key, id',
      fixtureRows: '[fixtureId+rowIndex], fixtureId',
      ledgers: '[gen+entityId+sectionId+entryId], [gen+entityId]',
      outbox: '++seq, &instanceId, state',
      outboxBlobs: '[instanceId+name], instanceId',
    });
    // Dexie's liveQuery support (the optimistic cache, and the observability layer that
    // records every write's key ranges and posts them to other tabs over a
    // BroadcastChannel at each commit) costs every read-write transaction main-thread time:
    // measured in Chromium, about a tenth of a form save. fieldsim never uses liveQuery:
    // views read through CaseDb/Session and listen to `Outbox.onChange`, and other tabs
    // notice changes through the stored case-state version (case-writer.ts). So both
    // layers are left out; a liveQuery on this database would not update by itself.
    this.unuse({ stack: 'dbcore', name: 'Cache' });
    this.unuse({ stack: 'dbcore', name: 'Observability' });
  }
}
