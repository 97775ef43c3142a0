import { cached, type Db } from '../db/db-handle.ts';

/**
 * Cases a form put on the phone, kept apart from the sync log's case list. HQ updates
 * the log a form was submitted against (`_update_sync_logs`, hq:corehq/ex-submodules/
 * casexml/apps/case/xform.py); rewriting the whole JSON list for that made every form of
 * a phone's drain cost in proportion to the phone's case count (a JSON parse, a
 * stringify and the list's overflow pages in the form's commit). A form that only adds
 * cases now appends a row per case here; `getSyncLog` reads the list as the stored one
 * followed by these, and any rewrite of the list (saveSyncLog: a purge, a new log)
 * drops them, by trigger, as the rewritten list holds them.
 */
const SCHEMA = `
-- (log_id, case_id): a form asks whether each case it touched is on the phone already.
CREATE TABLE IF NOT EXISTS sync_log_phone_adds (
  log_id TEXT NOT NULL,
  case_id TEXT NOT NULL
);
DROP INDEX IF EXISTS sync_log_phone_adds_log;
CREATE INDEX IF NOT EXISTS sync_log_phone_adds_log_case ON sync_log_phone_adds(log_id, case_id);
CREATE TRIGGER IF NOT EXISTS sync_log_phone_adds_on_rewrite AFTER UPDATE OF case_ids_on_phone ON sync_logs
  BEGIN DELETE FROM sync_log_phone_adds WHERE log_id = OLD.id; END;
CREATE TRIGGER IF NOT EXISTS sync_log_phone_adds_on_delete AFTER DELETE ON sync_logs
  BEGIN DELETE FROM sync_log_phone_adds WHERE log_id = OLD.id; END;
`;

export function ensureSyncLogAddsSchema(db: Db): void {
  db.exec(SCHEMA);
}

/** The cases added to the log's phone list since the list was last written, in order. */
export function phoneAdds(db: Db, logId: string): string[] {
  return cached(db, 'SELECT case_id FROM sync_log_phone_adds WHERE log_id = ? ORDER BY rowid')
    .pluck()
    .all(logId) as string[];
}

/**
 * Whether a form appended the case to the log's phone list: one index lookup. A drained
 * phone's forms each asked this of a list read whole, which grew with every registration.
 */
export function inPhoneAdds(db: Db, logId: string, caseId: string): boolean {
  return (
    cached(db, 'SELECT 1 FROM sync_log_phone_adds WHERE log_id = ? AND case_id = ? LIMIT 1').get(
      logId,
      caseId,
    ) !== undefined
  );
}

/** Appends cases to the log's phone list (ids not on it yet: the caller checks). */
export function addToPhoneList(db: Db, logId: string, caseIds: Iterable<string>): void {
  const insert = cached(db, 'INSERT INTO sync_log_phone_adds (log_id, case_id) VALUES (?, ?)');
  for (const id of caseIds) insert.run(logId, id);
}
