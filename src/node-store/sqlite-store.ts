import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { DBCore, Dexie, Middleware } from 'dexie';
import type { DexieBackend, IndexedDbDeps, RestoreParserFn } from '../core/platform.ts';
import { tightHeapGrowth } from './heap-growth.ts';
import { nodeRecordAead } from './node-record-aead.ts';
import { fullRestoreParserFor } from './restore-parse-thread.ts';
import { schemaIndexedDb } from './schema-idb.ts';
import { schemaKeyRange } from './schema-key-range.ts';
import { createSqliteCore } from './sqlite-dbcore.ts';
import { SqliteStoreError } from './sqlite-store-error.ts';
import { TxQueue } from './sqlite-tx-queue.ts';
import { WalPresync } from './wal-presync.ts';
import { capYoungGeneration } from './young-gen-cap.ts';

/**
 * The phone's databases in one SQLite file (or in memory), for Node: the CLI's state
 * folder (`<userdir>/db.sqlite`) and the QA runner's workers. Core code is unchanged: it
 * opens its Dexie databases with `store.deps()`, and every table request goes to SQLite
 * through the DBCore in sqlite-dbcore.ts.
 *
 * Dexie still opens an IndexedDB database to learn the schema (its open handshake reads
 * object stores and indexes from it); that one is schema-idb.ts, which keeps only the
 * definitions, in memory, and refuses any data request. Data-moving `upgrade()` functions of later schema
 * versions would run against it and are not supported here (schema changes are: tables
 * and indexes are created, new indexes filled from the stored rows).
 *
 * File settings: WAL (a reader never blocks the writer, a commit is one append), and
 * synchronous=FULL (each commit fsyncs the WAL, so a form the worker saw saved survives a
 * power loss, as the outbox's strict IndexedDB durability asks). `application_id` marks
 * the file as fieldsim's, so a foreign SQLite file is refused, never written to.
 */

/** 'FSIM' */
export const APPLICATION_ID = 0x4653494d;
export const FORMAT_VERSION = 1;

/**
 * Open files of this process, shared: two SQLite connections on one file in one thread
 * would wait on each other's write lock with no way to make progress (the holder commits
 * only when the event loop turns), so a second `open` of the same file gets the same
 * connection, and its transactions queue behind the first's as in one IndexedDB.
 */
const openFiles = new Map<string, { store: SqliteStore; refs: number }>();

export interface SqliteStoreOptions {
  /** Open read-only (no schema changes); default false. */
  readonly?: boolean;
}

export class SqliteStore implements DexieBackend {
  readonly file: string;
  readonly db: Database.Database;
  readonly #queue: TxQueue;
  readonly #prefixes = new Map<string, string>();
  #closed = false;
  #shared: string | null = null;
  /** Flushes the WAL while a restore stages its pages (file stores only). */
  readonly presync: WalPresync | null;
  /** A file store's full restores: parsed in a worker thread, which checkpoints this file's WAL. */
  readonly restoreParser: RestoreParserFn | undefined;

  private constructor(file: string, db: Database.Database) {
    this.file = file;
    this.db = db;
    const tunable = !db.memory && !db.readonly;
    this.#queue = new TxQueue(db, tunable);
    this.presync = tunable ? new WalPresync(db.name) : null;
    this.restoreParser = db.memory ? undefined : fullRestoreParserFor(db.name);
    const presync = this.presync;
    if (presync !== null) this.#queue.onStagedCommit = () => presync.kick();
  }

  /** Opens (or creates) the store at `file`; `':memory:'` for a private in-memory one. */
  static open(file: string, opts: SqliteStoreOptions = {}): SqliteStore {
    const shared = file === ':memory:' || file === '' ? null : resolve(file);
    const held = shared === null ? undefined : openFiles.get(shared);
    if (held !== undefined) {
      held.refs++;
      return held.store;
    }
    const store = SqliteStore.#openNew(file, opts);
    if (shared !== null) openFiles.set(shared, { store, refs: 1 });
    store.#shared = shared;
    return store;
  }

  static #openNew(file: string, opts: SqliteStoreOptions): SqliteStore {
    let db: Database.Database;
    try {
      db = new Database(file, { readonly: opts.readonly === true });
    } catch (e) {
      throw SqliteStoreError.wrap(e, file, 'open');
    }
    try {
      checkAndInit(db, file);
    } catch (e) {
      db.close();
      throw e instanceof SqliteStoreError ? e : SqliteStoreError.wrap(e, file, 'open');
    }
    // A file store is the CLI's (one user's database, up to hundreds of thousands of
    // cases): while it is open, the heap grows little past what is live (heap-growth.ts),
    // for a restore as for loading the catalog of a large database. The QA runner's
    // in-memory stores keep V8's own growth (fewer full GCs across many small workers).
    // The young generation is capped too (young-gen-cap.ts): the CLI's restore peak.
    if (!db.memory) {
      tightHeapGrowth(true);
      capYoungGeneration(true);
    }
    return new SqliteStore(file, db);
  }

  /**
   * What the core's Dexie databases are opened with to live in this store; encrypted
   * records are sealed with node:crypto's synchronous AES-GCM (node-record-aead.ts).
   */
  deps(): IndexedDbDeps {
    return {
      indexedDB: schemaIndexedDb(),
      IDBKeyRange: schemaKeyRange,
      backend: this,
      recordAead: nodeRecordAead,
      // A file store is the CLI's: its full restores parse in a worker thread, on another
      // core than the writes. The QA runner's in-memory stores restore tens of cases each,
      // hundreds at once: a thread apiece would cost more than it saves.
      ...(this.restoreParser === undefined ? {} : { restoreParser: this.restoreParser }),
    };
  }

  #prefix(name: string): string {
    let p = this.#prefixes.get(name);
    if (p !== undefined) return p;
    this.db.prepare('INSERT OR IGNORE INTO _fieldsim_dbs (name) VALUES (?)').run(name);
    const row = this.db.prepare('SELECT id FROM _fieldsim_dbs WHERE name = ?').get(name) as { id: number };
    p = `d${row.id}:`;
    this.#prefixes.set(name, p);
    return p;
  }

  /** DexieBackend: puts this store under `db` as its lowest DBCore layer. */
  install(db: Dexie): void {
    const mw: Middleware<DBCore> = {
      stack: 'dbcore',
      name: 'fieldsim-sqlite',
      // Below Dexie's own middlewares (the lowest is at -1): they see SQLite as IndexedDB.
      level: -10,
      create: (down) => {
        if (this.#closed)
          throw new SqliteStoreError('storage-blocked', null, `${this.file} is closed`, this.file);
        return createSqliteCore(this.db, this.#queue, this.#prefix(down.schema.name), down);
      },
    };
    db.use(mw);
  }

  /** DexieBackend: a full restore's staged generation is being written (see TxQueue). */
  stagedWrites(on: boolean): void {
    this.#queue.staged = Math.max(0, this.#queue.staged + (on ? 1 : -1));
  }

  /** Names of the Dexie databases stored here. */
  databaseNames(): string[] {
    return (this.db.prepare('SELECT name FROM _fieldsim_dbs ORDER BY name').all() as { name: string }[]).map(
      (r) => r.name,
    );
  }

  /** Gives back this handle; the connection closes with the last one. */
  close(): void {
    if (this.#closed) return;
    if (this.#shared !== null) {
      const held = openFiles.get(this.#shared);
      if (held !== undefined && --held.refs > 0) return;
      openFiles.delete(this.#shared);
    }
    this.#closed = true;
    if (!this.db.memory) {
      tightHeapGrowth(false);
      capYoungGeneration(false);
    }
    this.#queue.abortAll();
    this.presync?.stop();
    this.db.close();
  }
}

function checkAndInit(db: Database.Database, file: string): void {
  // The first read of a file that is not SQLite fails here with SQLITE_NOTADB.
  const appId = db.pragma('application_id', { simple: true }) as number;
  const tables = (
    db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }
  ).n;
  if (appId !== APPLICATION_ID && (appId !== 0 || tables > 0))
    throw new SqliteStoreError(
      'state-corrupt',
      'foreign',
      `${file} is an SQLite database that fieldsim did not write (application_id ${appId}); move it aside`,
      file,
    );
  const version = db.pragma('user_version', { simple: true }) as number;
  if (appId === APPLICATION_ID && version > FORMAT_VERSION)
    throw new SqliteStoreError(
      'state-corrupt',
      'newer',
      `${file} was written by a newer fieldsim (format ${version}, this one reads ${FORMAT_VERSION})`,
      file,
    );
  if (db.readonly) return;
  if (file !== ':memory:' && file !== '') {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
  } else {
    db.pragma('journal_mode = MEMORY');
    db.pragma('synchronous = OFF');
  }
  if (appId === 0) {
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${FORMAT_VERSION}`);
  }
  db.exec(
    'CREATE TABLE IF NOT EXISTS _fieldsim_dbs (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);' +
      'CREATE TABLE IF NOT EXISTS _fieldsim_autoinc (tbl TEXT PRIMARY KEY, next INTEGER NOT NULL)',
  );
  // A quick structural check: a damaged file fails now, naming the file, not mid-command.
  const ok = db.pragma('quick_check(1)', { simple: true });
  if (ok !== 'ok')
    throw new SqliteStoreError(
      'state-corrupt',
      'corrupt',
      `${file} is damaged (${String(ok)}); move it aside`,
      file,
    );
}
