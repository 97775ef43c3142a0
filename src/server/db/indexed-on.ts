import type { Db } from './db-handle.ts';

/**
 * `indexed_on` for forms and cases: the time HQ's pillow wrote the document into its search
 * index, a `datetime.utcnow()` with microseconds taken once per document
 * (hq:corehq/pillows). commcare-export pages by it (`order_by=indexed_on` and
 * `indexed_on_start=<last object's indexed_on>`, commcare_export/commcare_minilinq.py
 * DatePaginator), so a page whose objects all share one stamp repeats forever. The emulator
 * therefore hands out stamps that are unique and strictly increasing across both tables:
 * the wall clock in microseconds, or one microsecond after the previous stamp when the
 * clock has not moved on (thousands of cases in one form, or seeded in one transaction).
 *
 * Stored as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (27 characters), so that text order is time order.
 */

const clocks = new WeakMap<Db, { last: number }>();

/** Microseconds since the epoch of an ISO UTC datetime (any fraction length), or 0. */
export function isoToMicros(iso: string): number {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(iso);
  if (!m) return 0;
  const seconds = Date.parse(`${m[1]}Z`);
  if (Number.isNaN(seconds)) return 0;
  const frac = (m[2] ?? '').padEnd(6, '0').slice(0, 6);
  return seconds * 1000 + Number(frac);
}

/** `YYYY-MM-DDTHH:MM:SS.ffffffZ` for microseconds since the epoch. */
export function microsToIso(us: number): string {
  const ms = Math.floor(us / 1000);
  return `${new Date(ms).toISOString().slice(0, 23)}${String(us - ms * 1000).padStart(3, '0')}Z`;
}

function clockOf(db: Db): { last: number } {
  let clock = clocks.get(db);
  if (!clock) {
    const max = db
      .prepare(
        "SELECT MAX(m) AS m FROM (SELECT MAX(indexed_on) AS m FROM cases UNION ALL SELECT MAX(indexed_on) FROM forms WHERE indexed_on <> '')",
      )
      .get() as { m: string | null };
    clock = { last: max.m ? isoToMicros(max.m) : 0 };
    clocks.set(db, clock);
  }
  return clock;
}

/** The next `indexed_on` stamp for this database: unique and after every earlier one. */
export function nextIndexedOn(db: Db): string {
  const clock = clockOf(db);
  clock.last = Math.max(Date.now() * 1000, clock.last + 1);
  return microsToIso(clock.last);
}

/** Rewrites one table's stamps in place so they are unique, increasing, 27-char. */
function uniquify(db: Db, table: 'cases' | 'forms'): void {
  const rows = db
    .prepare(`SELECT rowid AS r, indexed_on AS v FROM ${table} ORDER BY indexed_on, rowid`)
    .all() as { r: number; v: string }[];
  const update = db.prepare(`UPDATE ${table} SET indexed_on = ? WHERE rowid = ?`);
  let last = 0;
  for (const row of rows) {
    last = Math.max(isoToMicros(row.v), last + 1);
    const v = microsToIso(last);
    if (v !== row.v) update.run(v, row.r);
  }
}

/**
 * Schema for `indexed_on` (called once from `openDatabase`): forms get their own column,
 * filled by a trigger on every insert that leaves it empty, so that every writer (receiver,
 * other modules) stamps forms without knowing about it (a writer that knows, such as the
 * seeder, passes `nextIndexedOn` itself and spares the row a second write); an edit replaces the row and is
 * re-stamped, as HQ re-indexes an edited form. Databases from before get their forms
 * stamped from `server_modified_on` and every duplicate stamp spread out, once.
 */
export function applyIndexedOnSchema(db: Db): void {
  db.function('fieldsim_next_indexed_on', { deterministic: false }, () => nextIndexedOn(db));
  const have = db.prepare("SELECT 1 FROM pragma_table_info('forms') WHERE name = 'indexed_on'").get();
  if (!have) db.exec("ALTER TABLE forms ADD COLUMN indexed_on TEXT NOT NULL DEFAULT ''");
  db.exec(`
    CREATE INDEX IF NOT EXISTS forms_indexed_on ON forms(domain, indexed_on);
    CREATE INDEX IF NOT EXISTS cases_indexed_on ON cases(domain, indexed_on);
    DROP TRIGGER IF EXISTS forms_stamp_indexed_on;
    CREATE TRIGGER IF NOT EXISTS forms_stamp_indexed_on_v2 AFTER INSERT ON forms WHEN NEW.indexed_on = '' BEGIN
      UPDATE forms SET indexed_on = fieldsim_next_indexed_on() WHERE rowid = NEW.rowid;
    END;`);
  const done = db.prepare("SELECT 1 FROM meta WHERE key = 'indexed-on-unique'").get();
  if (!done) migrate(db);
  // Read the clock's start now: the trigger asks for stamps while an INSERT runs, when this
  // connection cannot prepare the query that reads it.
  clockOf(db);
}

function migrate(db: Db): void {
  db.transaction(() => {
    db.exec("UPDATE forms SET indexed_on = server_modified_on WHERE indexed_on = ''");
    uniquify(db, 'cases');
    uniquify(db, 'forms');
    db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('indexed-on-unique', '1')").run();
  })();
  clocks.delete(db);
}
