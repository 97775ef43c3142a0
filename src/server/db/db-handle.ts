import type Database from 'better-sqlite3';

/**
 * The emulator's database handle. Its own module so that schema modules called from
 * database.ts (forwarding, indexed_on, ...) can name the type without importing
 * database.ts back (an import cycle).
 */
export type Db = Database.Database;

const statements = new WeakMap<Db, Map<string, Database.Statement>>();

/** A prepared statement, prepared once per database (preparing costs more than running). */
export function cached(db: Db, sql: string): Database.Statement {
  let map = statements.get(db);
  if (!map) {
    map = new Map();
    statements.set(db, map);
  }
  let st = map.get(sql);
  if (!st) {
    st = db.prepare(sql);
    map.set(sql, st);
  }
  return st;
}

const runners = new WeakMap<Db, (fn: () => unknown) => unknown>();

/**
 * Runs `fn` in a transaction (a savepoint when one is open), as `db.transaction(fn)()`
 * does, through one wrapper made once per database: better-sqlite3 builds four wrapper
 * functions and defines their properties on every `db.transaction(fn)` call (6-12 µs
 * per call against ~1 µs, measured; the receiver made two per form).
 */
export function inTransaction<T>(db: Db, fn: () => T): T {
  let run = runners.get(db);
  if (!run) {
    run = db.transaction((f: () => unknown) => f());
    runners.set(db, run);
  }
  return run(fn) as T;
}
