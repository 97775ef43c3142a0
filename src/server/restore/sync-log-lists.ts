import { cached, type Db } from '../db/db-handle.ts';

/**
 * The parsed case lists of recently used sync logs. Every form submitted with a sync
 * token reads its log (HQ's `_update_sync_logs`); parsing the stored JSON list and
 * building a set of it cost each form time in proportion to the phone's case count
 * (a 100k-case phone: a 4 MB parse per form). A log's lists change only when its row is
 * rewritten or deleted, and a trigger then gives it a new random token; a cached entry
 * is used only while its token is the row's. Random tokens, not counters: a rewrite
 * rolled back (a group commit that failed) leaves the old token, and the next rewrite
 * draws a new one, so an entry parsed inside a rolled-back transaction is never taken
 * for a later version.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS sync_log_list_tokens (log_id TEXT PRIMARY KEY, token BLOB NOT NULL) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS sync_log_list_token_on_rewrite AFTER UPDATE OF case_ids_on_phone, dependent_case_ids ON sync_logs
  BEGIN INSERT OR REPLACE INTO sync_log_list_tokens (log_id, token) VALUES (OLD.id, randomblob(8)); END;
CREATE TRIGGER IF NOT EXISTS sync_log_list_token_on_delete AFTER DELETE ON sync_logs
  BEGIN INSERT OR REPLACE INTO sync_log_list_tokens (log_id, token) VALUES (OLD.id, randomblob(8)); END;
`;

export function ensureSyncLogListsSchema(db: Db): void {
  db.exec(SCHEMA);
}

export interface StoredLists {
  /** Token of the row's lists (null: never rewritten since it was inserted). */
  token: string | null;
  /** The stored lists, shared: callers must not change them. */
  onPhone: readonly string[];
  dependent: readonly string[];
  /** `onPhone` as a set, built on first use. */
  set(): ReadonlySet<string>;
}

/** Bounds on what is kept: entries and ids over all entries. */
const MAX_ENTRIES = 256;
const MAX_IDS = 500_000;

interface Cache {
  entries: Map<string, StoredLists>;
  ids: number;
}
const caches = new WeakMap<Db, Cache>();

function cacheOf(db: Db): Cache {
  let c = caches.get(db);
  if (!c) {
    c = { entries: new Map(), ids: 0 };
    caches.set(db, c);
  }
  return c;
}

/** The log's stored lists at `token` (the row's, read with it), parsed once per version. */
export function storedLists(db: Db, logId: string, token: string | null): StoredLists {
  const cache = cacheOf(db);
  const hit = cache.entries.get(logId);
  if (hit && hit.token === token) {
    // Most recently used last, so eviction drops the oldest.
    cache.entries.delete(logId);
    cache.entries.set(logId, hit);
    return hit;
  }
  if (hit) {
    cache.entries.delete(logId);
    cache.ids -= hit.onPhone.length;
  }
  const r = cached(db, 'SELECT case_ids_on_phone, dependent_case_ids FROM sync_logs WHERE id = ?').get(
    logId,
  ) as { case_ids_on_phone: string; dependent_case_ids: string } | undefined;
  const onPhone = r ? (JSON.parse(r.case_ids_on_phone) as string[]) : [];
  const dependent = r ? (JSON.parse(r.dependent_case_ids) as string[]) : [];
  let set: Set<string> | undefined;
  const entry: StoredLists = {
    token,
    onPhone,
    dependent,
    set() {
      set ??= new Set(onPhone);
      return set;
    },
  };
  if (r && onPhone.length <= MAX_IDS) {
    cache.entries.set(logId, entry);
    cache.ids += onPhone.length;
    for (const [id, e] of cache.entries) {
      if (cache.entries.size <= MAX_ENTRIES && cache.ids <= MAX_IDS) break;
      cache.entries.delete(id);
      cache.ids -= e.onPhone.length;
    }
  }
  return entry;
}
