import { readCaseState } from './case-writer.ts';
import type { FieldsimDb, LedgerRow } from './fieldsim-db.ts';
import { openAll, openLedger } from './sealed-rows.ts';

/**
 * Ledger balances (commtrack stock) as the restore's `<balance>` blocks left them
 * (core: org/commcare/xml/LedgerXmlParsers.java): one quantity per (entity, section,
 * entry). They belong to the live case generation and are replaced with it.
 */
export interface LedgerEntry {
  sectionId: string;
  entryId: string;
  quantity: number;
  date: string;
}

/** Balances of one entity (usually a case id), sorted by section then entry. */
export async function getLedger(db: FieldsimDb, entityId: string): Promise<LedgerEntry[]> {
  const c = db.vault.cipher();
  const stored = await db.transaction('r', [db.meta, db.ledgers], async () => {
    const { gen } = await readCaseState(db);
    return db.ledgers.where('[gen+entityId]').equals([gen, entityId]).toArray();
  });
  // Opened after the read transaction: decryption is async (see sealed-rows.ts).
  const rows: LedgerRow[] = await openAll(c, stored, openLedger);
  return rows
    .map((r) => ({ sectionId: r.sectionId, entryId: r.entryId, quantity: r.quantity, date: r.date }))
    .sort((a, b) =>
      a.sectionId !== b.sectionId
        ? a.sectionId < b.sectionId
          ? -1
          : 1
        : a.entryId < b.entryId
          ? -1
          : a.entryId > b.entryId
            ? 1
            : 0,
    );
}

/** Number of stored (entity, section, entry) balances. */
export async function countLedgerEntries(db: FieldsimDb): Promise<number> {
  return db.transaction('r', [db.meta, db.ledgers], async () => {
    const { gen } = await readCaseState(db);
    return db.ledgers.filter((l) => l.gen === gen).count();
  });
}

/** Every balance of the live generation, by entity, section and entry (for the ledgerdb instance). */
export async function listLedgerBalances(
  db: FieldsimDb,
): Promise<{ entityId: string; sectionId: string; entryId: string; quantity: number }[]> {
  const c = db.vault.cipher();
  const stored = await db.transaction('r', [db.meta, db.ledgers], async () => {
    const { gen } = await readCaseState(db);
    return db.ledgers.filter((l) => l.gen === gen).toArray();
  });
  const rows: LedgerRow[] = await openAll(c, stored, openLedger);
  return rows.map((r) => ({
    entityId: r.entityId,
    sectionId: r.sectionId,
    entryId: r.entryId,
    quantity: r.quantity,
  }));
}
