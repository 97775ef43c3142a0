import { deserialize, serialize } from 'node:v8';
import type Database from 'better-sqlite3';
import type { DBCore, DBCoreIndex, DBCoreKeyRange, DBCoreTableSchema } from 'dexie';
import { assembleCore } from './assemble-dbcore.ts';
import { EncodedRow } from './encoded-row.ts';
import { IdbLikeError } from './idb-errors.ts';
import { encodeKey, isValidKey } from './key-codec.ts';
import { type IndexRow, QueuedTable } from './queued-table.ts';
import type { TxQueue } from './sqlite-tx-queue.ts';

/**
 * A Dexie DBCore (the layer Dexie's tables, collections and middlewares call) over one
 * SQLite connection, with IndexedDB's semantics: one SQLite table per object store
 * (`k` the encoded primary key, `v` the value as V8 structured-clone bytes, the same
 * format IndexedDB implementations use), one per index (`ik` index key, `k` primary key),
 * keys encoded so that SQLite's BLOB order is IndexedDB's key order (key-codec.ts).
 *
 * Statements are prepared once per table and reused: a restore's bulk puts run as plain
 * prepared-statement loops inside the SQLite transaction the queue holds.
 */

export const MAX_KEY_MARKER = encodeKey([[]]);

/** Rows read at a time when a new index is filled from the stored rows. */
const BACKFILL_BATCH = 512;

interface Row {
  k: Buffer;
  v: Buffer;
}

function quote(id: string): string {
  return `"${id.replace(/"/g, '""')}"`;
}

/** The value with `key` at `path` (auto-increment keys are written into the stored value, as IndexedDB does). */
export function withKey(value: unknown, path: string, key: unknown): unknown {
  const parts = path.split('.');
  const root = { ...(value as Record<string, unknown>) };
  let cur: Record<string, unknown> = root;
  for (let i = 0; i < parts.length - 1; i++) {
    const p = parts[i] as string;
    const next = { ...((cur[p] as Record<string, unknown>) ?? {}) };
    cur[p] = next;
    cur = next;
  }
  cur[parts[parts.length - 1] as string] = key;
  return root;
}

export function encodeValue(v: unknown): Buffer {
  try {
    return serialize(v);
  } catch (e) {
    throw new IdbLikeError('DataCloneError', `The value cannot be stored: ${(e as Error).message}`, e);
  }
}

interface RangeSql {
  where: string;
  params: Buffer[];
  never: boolean;
}

function rangeSql(col: string, r: DBCoreKeyRange): RangeSql {
  if (r.type === 4) return { where: '0', params: [], never: true };
  if (r.type === 3) return { where: '1', params: [], never: false };
  if (r.type === 1) return { where: `${col} = ?`, params: [encodeKey(r.lower)], never: false };
  const parts: string[] = [];
  const params: Buffer[] = [];
  if (r.lower !== undefined && r.lower !== Number.NEGATIVE_INFINITY) {
    parts.push(`${col} ${r.lowerOpen ? '>' : '>='} ?`);
    params.push(encodeKey(r.lower));
  }
  if (r.upper !== undefined) {
    const upper = encodeKey(r.upper);
    // Dexie's maxKey ([[]]) stands for "no upper bound".
    if (!upper.equals(MAX_KEY_MARKER)) {
      parts.push(`${col} ${r.upperOpen ? '<' : '<='} ?`);
      params.push(upper);
    }
  }
  return { where: parts.length ? parts.join(' AND ') : '1', params, never: false };
}

/** Index keys of `value` for `index` (none when the key path does not yield a valid key). */
export function indexKeys(index: DBCoreIndex, value: unknown): Buffer[] {
  const key = index.extractKey ? index.extractKey(value) : undefined;
  if (key === undefined) return [];
  if (index.multiEntry && Array.isArray(key)) {
    const seen = new Map<string, Buffer>();
    for (const k of key) {
      if (!isValidKey(k)) continue;
      const b = encodeKey(k);
      seen.set(b.toString('latin1'), b);
    }
    return [...seen.values()];
  }
  return isValidKey(key) ? [encodeKey(key)] : [];
}

class SqliteTable extends QueuedTable {
  readonly #db: Database.Database;
  readonly #t: string;
  readonly #indexTables = new Map<string, string>();
  readonly #stmts = new Map<string, Database.Statement>();

  constructor(db: Database.Database, queue: TxQueue, prefix: string, schema: DBCoreTableSchema) {
    super(queue, schema);
    this.#db = db;
    this.#t = quote(`${prefix}${schema.name}`);
    db.exec(`CREATE TABLE IF NOT EXISTS ${this.#t} (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID`);
    for (const ix of schema.indexes) {
      const name = `${prefix}${schema.name}:${ix.name}`;
      const t = quote(name);
      const exists = db.prepare('SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?').get('table', name);
      db.exec(
        `CREATE TABLE IF NOT EXISTS ${t} (ik BLOB NOT NULL, k BLOB NOT NULL, PRIMARY KEY (ik, k)) WITHOUT ROWID;` +
          `CREATE INDEX IF NOT EXISTS ${quote(`${name}:k`)} ON ${t} (k)`,
      );
      this.#indexTables.set(ix.name as string, t);
      // An index added by a later schema version covers the rows already stored.
      if (!exists) this.#backfill(ix, t);
    }
  }

  #backfill(ix: DBCoreIndex, t: string): void {
    const ins = this.#db.prepare(`INSERT OR IGNORE INTO ${t} (ik, k) VALUES (?, ?)`);
    // In key order, a batch at a time: better-sqlite3 refuses a write on the connection
    // while a read statement is still iterating, and the whole table may not fit in memory.
    const first = this.#db.prepare(`SELECT k, v FROM ${this.#t} ORDER BY k LIMIT ${BACKFILL_BATCH}`);
    const next = this.#db.prepare(
      `SELECT k, v FROM ${this.#t} WHERE k > ? ORDER BY k LIMIT ${BACKFILL_BATCH}`,
    );
    let rows = first.all() as Row[];
    while (rows.length > 0) {
      for (const row of rows) for (const ik of indexKeys(ix, deserialize(row.v))) ins.run(ik, row.k);
      rows = rows.length < BACKFILL_BATCH ? [] : (next.all((rows[rows.length - 1] as Row).k) as Row[]);
    }
  }

  #stmt(sql: string): Database.Statement {
    let s = this.#stmts.get(sql);
    if (s === undefined) {
      s = this.#db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  // --- writes -------------------------------------------------------------------------

  #nextAuto(): number {
    const row = this.#stmt('SELECT next FROM _fieldsim_autoinc WHERE tbl = ?').get(this.#t) as
      | { next: number }
      | undefined;
    return row?.next ?? 1;
  }

  #bumpAuto(key: unknown): void {
    // IndexedDB's key generator: an explicit numeric key at or above the current value moves it.
    if (typeof key !== 'number') return;
    const next = Math.floor(key) + 1;
    if (next > this.#nextAuto())
      this.#stmt('INSERT OR REPLACE INTO _fieldsim_autoinc (tbl, next) VALUES (?, ?)').run(this.#t, next);
  }

  #deleteKey(k: Buffer): void {
    this.#stmt(`DELETE FROM ${this.#t} WHERE k = ?`).run(k);
    for (const t of this.#indexTables.values()) this.#stmt(`DELETE FROM ${t} WHERE k = ?`).run(k);
  }

  protected writeOne(type: 'add' | 'put', value0: unknown, outKey: unknown): unknown {
    const pk = this.schema.primaryKey;
    let value = value0;
    let key: unknown = pk.outbound ? outKey : pk.extractKey?.(value);
    if (key === undefined && pk.autoIncrement) {
      key = this.#nextAuto();
      if (!pk.outbound && typeof pk.keyPath === 'string') value = withKey(value, pk.keyPath, key);
    }
    if (!isValidKey(key)) throw new IdbLikeError('DataError', `${this.name}: the value has no valid key`);
    const k = encodeKey(key);
    if (value instanceof EncodedRow) {
      // Serialized elsewhere (a restore's packed pages): stored as they are.
      if (this.#indexTables.size > 0 || pk.autoIncrement || type !== 'put')
        throw new IdbLikeError('DataError', `${this.name}: an encoded row needs a plain put without indexes`);
      this.#stmt(`INSERT OR REPLACE INTO ${this.#t} (k, v) VALUES (?, ?)`).run(k, value.bytes);
      return key;
    }
    const ikeys: [string, Buffer[]][] = [];
    for (const ix of this.schema.indexes) ikeys.push([ix.name as string, indexKeys(ix, value)]);
    const v = encodeValue(value);
    if (type === 'add') {
      if (this.#stmt(`SELECT 1 FROM ${this.#t} WHERE k = ?`).get(k) !== undefined)
        throw new IdbLikeError('ConstraintError', `${this.name}: a record with this key already exists`);
    }
    for (const ix of this.schema.indexes) {
      if (!ix.unique) continue;
      const t = this.#indexTables.get(ix.name as string) as string;
      for (const ik of ikeys.find(([n]) => n === ix.name)?.[1] ?? [])
        if (this.#stmt(`SELECT 1 FROM ${t} WHERE ik = ? AND k <> ?`).get(ik, k) !== undefined)
          throw new IdbLikeError(
            'ConstraintError',
            `${this.name}: unique index ${ix.name} already has this key`,
          );
    }
    if (pk.autoIncrement) this.#bumpAuto(key);
    if (this.#indexTables.size > 0)
      for (const t of this.#indexTables.values()) this.#stmt(`DELETE FROM ${t} WHERE k = ?`).run(k);
    this.#stmt(`INSERT OR REPLACE INTO ${this.#t} (k, v) VALUES (?, ?)`).run(k, v);
    for (const [name, iks] of ikeys) {
      const ins = this.#stmt(`INSERT OR IGNORE INTO ${this.#indexTables.get(name)} (ik, k) VALUES (?, ?)`);
      for (const ik of iks) ins.run(ik, k);
    }
    return key;
  }

  protected deleteKeys(keys: readonly unknown[]): void {
    for (const key of keys) this.#deleteKey(encodeKey(key));
  }

  protected deleteRange(range: DBCoreKeyRange): void {
    const r = rangeSql('k', range);
    if (r.never) return;
    for (const t of this.#indexTables.values())
      this.#stmt(`DELETE FROM ${t} WHERE k IN (SELECT k FROM ${this.#t} WHERE ${r.where})`).run(...r.params);
    this.#stmt(`DELETE FROM ${this.#t} WHERE ${r.where}`).run(...r.params);
  }

  // --- reads --------------------------------------------------------------------------

  getSync(key: unknown): unknown {
    const row = this.#stmt(`SELECT v FROM ${this.#t} WHERE k = ?`).get(encodeKey(key)) as Row | undefined;
    return row === undefined ? undefined : deserialize(row.v);
  }

  /** Rows of `query` in order: primary key, index key and (if `values`) the value bytes. */
  protected select(
    index: DBCoreIndex,
    range: DBCoreKeyRange,
    values: boolean,
    reverse: boolean,
    limit: number | undefined,
  ): IndexRow[] {
    const dir = reverse ? 'DESC' : 'ASC';
    const lim =
      limit === undefined || limit === Number.POSITIVE_INFINITY ? '' : ` LIMIT ${Math.floor(limit)}`;
    if (index.isPrimaryKey || index.name === null) {
      const r = rangeSql('k', range);
      if (r.never) return [];
      const rows = this.#stmt(
        `SELECT k${values ? ', v' : ''} FROM ${this.#t} WHERE ${r.where} ORDER BY k ${dir}${lim}`,
      ).all(...r.params) as IndexRow[];
      for (const row of rows) row.ik = row.k;
      return rows;
    }
    const t = this.#indexTables.get(index.name);
    if (t === undefined) throw new IdbLikeError('NotFoundError', `${this.name} has no index ${index.name}`);
    const r = rangeSql('i.ik', range);
    if (r.never) return [];
    return this.#stmt(
      `SELECT i.ik AS ik, i.k AS k${values ? ', b.v AS v' : ''} FROM ${t} i` +
        `${values ? ` JOIN ${this.#t} b ON b.k = i.k` : ''} WHERE ${r.where} ORDER BY i.ik ${dir}, i.k ${dir}${lim}`,
    ).all(...r.params) as IndexRow[];
  }

  protected countSync(index: DBCoreIndex, range: DBCoreKeyRange): number {
    const pk = index.isPrimaryKey || index.name === null;
    const r = rangeSql(pk ? 'k' : 'ik', range);
    if (r.never) return 0;
    const t = pk ? this.#t : (this.#indexTables.get(index.name as string) as string);
    return (this.#stmt(`SELECT count(*) AS n FROM ${t} WHERE ${r.where}`).get(...r.params) as { n: number })
      .n;
  }
}

/**
 * The DBCore for one Dexie database in the store: `prefix` keeps several databases apart
 * in one file; the schema is Dexie's own (from the open handshake, see sqlite-store.ts).
 */
export function createSqliteCore(
  db: Database.Database,
  queue: TxQueue,
  prefix: string,
  down: DBCore,
): Partial<DBCore> {
  const raw = new Map<string, SqliteTable>();
  db.exec('CREATE TABLE IF NOT EXISTS _fieldsim_autoinc (tbl TEXT PRIMARY KEY, next INTEGER NOT NULL)');
  for (const s of down.schema.tables) raw.set(s.name, new SqliteTable(db, queue, prefix, s));
  return assembleCore(queue, down, raw);
}
