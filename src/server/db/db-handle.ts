import type Database from 'better-sqlite3';

/**
 * The emulator's database handle. Its own module so that schema modules called from
 * database.ts (forwarding, indexed_on, ...) can name the type without importing
 * database.ts back (an import cycle).
 */
export type Db = Database.Database;
