import type { Db } from '../db/db-handle.ts';

/**
 * Restore case blocks kept per case version: a full restore's `<case>` block (with
 * `<create>`) is a pure function of the case row, so the emulator keeps it after the
 * first restore that writes it and the next restores read one text column instead of
 * eleven, with no JSON parse or XML escaping (a 100k-case restore spent most of its
 * time there). HQ keeps whole payloads instead (`RestorePayloadPathCache`, see
 * restore-cache.ts), which hides others' changes; this cache never serves a stale
 * block: triggers drop a case's block whenever its row is inserted, replaced, updated
 * or deleted, whichever code path writes it.
 *
 * Keyed by the case's rowid, not its id: restores page cases in rowid order, so the
 * join walks both tables in step and keeping a restore's blocks is an append. Any row
 * that takes a rowid (an insert, the new row of an `INSERT OR REPLACE`) clears that
 * rowid's block, so a block can never outlive the row it was written from.
 *
 * The blocks live in SQLite, not in memory, so the emulator's memory stays flat in
 * case count. `FORMAT` names the writer's output: a row written by another format is a
 * miss (and is replaced), so a changed writer never serves old bytes.
 */
export const CASE_XML_FORMAT = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS case_restore_xml (
  case_rowid INTEGER PRIMARY KEY,
  format INTEGER NOT NULL,
  xml TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS case_restore_xml_on_insert AFTER INSERT ON cases
  BEGIN DELETE FROM case_restore_xml WHERE case_rowid = NEW.rowid; END;
CREATE TRIGGER IF NOT EXISTS case_restore_xml_on_update AFTER UPDATE ON cases
  BEGIN DELETE FROM case_restore_xml WHERE case_rowid IN (OLD.rowid, NEW.rowid); END;
CREATE TRIGGER IF NOT EXISTS case_restore_xml_on_delete AFTER DELETE ON cases
  BEGIN DELETE FROM case_restore_xml WHERE case_rowid = OLD.rowid; END;
`;

/** Creates the table and its triggers (idempotent; called when the database opens). */
export function ensureCaseXmlCacheSchema(db: Db): void {
  db.exec(SCHEMA);
}

/**
 * The SQL expression list a restore query selects for each case: the kept block when
 * its format is current, else NULL; the row's columns are read only for a miss (SQLite
 * returns NULL for the others, which costs nothing to hand to JavaScript).
 */
export function cachedBlockColumns(
  rawColumns: readonly string[],
  caseAlias: string,
  xmlAlias: string,
): string {
  const hit = `${xmlAlias}.format = ${CASE_XML_FORMAT}`;
  const cols = rawColumns.map((c) => `CASE WHEN ${hit} THEN NULL ELSE ${caseAlias}.${c} END`);
  return `${cols.join(', ')}, CASE WHEN ${hit} THEN ${xmlAlias}.xml END`;
}

/**
 * Keeps the blocks a restore just wrote. A failure (a read-only or busy database) only
 * costs the next restore the same work again, so it is swallowed.
 */
export function keepCaseBlocks(db: Db, blocks: [caseRowid: number, xml: string][]): void {
  if (blocks.length === 0) return;
  let insert = statements.get(db);
  if (!insert) {
    insert = db.prepare('INSERT OR REPLACE INTO case_restore_xml (case_rowid, format, xml) VALUES (?, ?, ?)');
    statements.set(db, insert);
  }
  const stmt = insert;
  try {
    db.transaction(() => {
      for (const [id, xml] of blocks) stmt.run(id, CASE_XML_FORMAT, xml);
    })();
  } catch {
    // Next restore recomputes them.
  }
}

const statements = new WeakMap<Db, import('better-sqlite3').Statement>();
