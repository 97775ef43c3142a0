import { createInProcessLock, type LockFn } from '../platform.ts';
import { CaseDb, caseTables } from '../store/case-db.ts';
import type { FieldsimDb } from '../store/fieldsim-db.ts';
import { type CaseApplier, Outbox, type OutboxOptions } from './outbox.ts';

/**
 * The outbox of one phone database, saving each form's case changes into that database's
 * CaseDb: the case tables join the save's transaction (`applyBlocks`), an encrypted
 * database prepares and seals them first (`prepareBlocks`), and the outbox seals its
 * rows with the database's vault. The session, the encryption benchmark and the browser
 * tests open it this one way, so the two-phase encrypted save is wired once.
 */

/** The case side of a save, over `caseDb` (CaseDb of `db`). */
export function caseApplierFor(db: FieldsimDb, caseDb: CaseDb): CaseApplier {
  return {
    tables: () => caseTables(db),
    applyBlocks: (b, o) => caseDb.applyBlocks(b, o),
    prepareBlocks: (b, o) => caseDb.prepareBlocks(b, o),
  };
}

export interface OutboxForCaseDbOptions extends Omit<OutboxOptions, 'db' | 'cases' | 'vault' | 'lock'> {
  /** The CaseDb the saves write (default: a new one on `db`). */
  caseDb?: CaseDb;
  /** Default: a lock for this JS realm only (createInProcessLock). */
  lock?: LockFn;
}

export function outboxForCaseDb(db: FieldsimDb, opts: OutboxForCaseDbOptions = {}): Outbox {
  const { caseDb = new CaseDb(db), lock = createInProcessLock(), ...rest } = opts;
  return new Outbox({ ...rest, db, vault: db.vault, cases: caseApplierFor(db, caseDb), lock });
}
