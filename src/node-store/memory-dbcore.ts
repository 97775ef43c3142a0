import type { DBCore, DBCoreIndex, DBCoreKeyRange, DBCoreTableSchema } from 'dexie';
import { assembleCore } from './assemble-dbcore.ts';
import { IdbLikeError } from './idb-errors.ts';
import { encodeKey, isValidKey } from './key-codec.ts';
import { type IndexRow, QueuedTable } from './queued-table.ts';
import { indexKeys, MAX_KEY_MARKER, withKey } from './sqlite-dbcore.ts';
import type { TxQueue } from './sqlite-tx-queue.ts';
import { cloneValue } from './value-clone.ts';

/**
 * A Dexie DBCore over plain Maps, for the QA runner's short-lived in-memory worker
 * databases: the same IndexedDB semantics as the SQLite DBCore (sqlite-dbcore.ts), which
 * it shares its key encoding, cursor and error rules with; a stored value is a private
 * clone (value-clone.ts: copied in and out, strings shared), not encoded bytes; and the
 * same transaction queue (sqlite-tx-queue.ts) above an undo log instead of SQLite's
 * journal. What it saves per worker: an SQLite connection (its page cache, schema and
 * prepared statements) and the per-request SQL calls (bench/RESULTS.md, session 6).
 *
 * Ordered views (by primary key, by each index) are built when read after a write and
 * kept until the next write: a worker's pattern is a few writes (a form) then a few reads.
 */

/** A row: encoded key, the value's private clone, and its encoded keys in each index (schema order). */
interface Rec {
  readonly row: IndexRow & { v: unknown };
  readonly iks: Buffer[][];
}

/** The undo log SQLite's BEGIN / COMMIT / ROLLBACK stand for, driven by the TxQueue. */
export class MemoryEngine {
  #undo: (() => void)[] | null = null;

  get inTransaction(): boolean {
    return this.#undo !== null;
  }

  exec(sql: string): this {
    if (sql.startsWith('BEGIN')) this.#undo = [];
    else if (sql === 'COMMIT') this.#undo = null;
    else if (sql === 'ROLLBACK') {
      const undo = this.#undo ?? [];
      this.#undo = null;
      for (let i = undo.length - 1; i >= 0; i--) (undo[i] as () => void)();
    } else throw new Error(`MemoryEngine: unsupported statement ${sql}`);
    return this;
  }

  /** Remembers how to take back a change of the current transaction. */
  onRollback(f: () => void): void {
    this.#undo?.push(f);
  }
}

interface Bounds {
  lower: Buffer | null;
  lowerOpen: boolean;
  upper: Buffer | null;
  upperOpen: boolean;
  never: boolean;
}

function bounds(r: DBCoreKeyRange): Bounds {
  const b: Bounds = { lower: null, lowerOpen: false, upper: null, upperOpen: false, never: false };
  if (r.type === 4) b.never = true;
  else if (r.type === 1) {
    b.lower = encodeKey(r.lower);
    b.upper = b.lower;
  } else if (r.type !== 3) {
    if (r.lower !== undefined && r.lower !== Number.NEGATIVE_INFINITY) {
      b.lower = encodeKey(r.lower);
      b.lowerOpen = r.lowerOpen === true;
    }
    if (r.upper !== undefined) {
      const upper = encodeKey(r.upper);
      // Dexie's maxKey ([[]]) stands for "no upper bound".
      if (!upper.equals(MAX_KEY_MARKER)) {
        b.upper = upper;
        b.upperOpen = r.upperOpen === true;
      }
    }
  }
  return b;
}

/** [from, to) of the rows of `sorted` (ordered by ik) inside `b`. */
function span(sorted: IndexRow[], b: Bounds): [number, number] {
  if (b.never) return [0, 0];
  const first = (ok: (row: IndexRow) => boolean): number => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ok(sorted[mid] as IndexRow)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const { lower, upper } = b;
  const from =
    lower === null
      ? 0
      : first((r) => {
          const c = Buffer.compare(r.ik, lower);
          return b.lowerOpen ? c > 0 : c >= 0;
        });
  const to =
    upper === null
      ? sorted.length
      : first((r) => {
          const c = Buffer.compare(r.ik, upper);
          return b.upperOpen ? c >= 0 : c > 0;
        });
  return [from, Math.max(from, to)];
}

const byIkThenK = (a: IndexRow, b: IndexRow) => Buffer.compare(a.ik, b.ik) || Buffer.compare(a.k, b.k);

function sameIndexes(a: DBCoreTableSchema, b: DBCoreTableSchema): boolean {
  const names = (s: DBCoreTableSchema) =>
    s.indexes.map((ix) => `${ix.name}:${ix.unique}:${ix.multiEntry}`).join();
  return a.primaryKey.name === b.primaryKey.name && names(a) === names(b);
}

export class MemoryTable extends QueuedTable {
  readonly #engine: MemoryEngine;
  readonly #rows = new Map<string, Rec>();
  #auto = 1;
  #sorted: IndexRow[] | null = null;
  readonly #sortedIndex = new Map<string, IndexRow[]>();
  /** For each unique index (by schema position): index key -> primary key, both latin1. */
  readonly #unique = new Map<number, Map<string, string>>();

  /** `from`: the table under an earlier schema version, whose rows are re-indexed here. */
  constructor(engine: MemoryEngine, queue: TxQueue, schema: DBCoreTableSchema, from?: MemoryTable) {
    super(queue, schema);
    this.#engine = engine;
    schema.indexes.forEach((ix, i) => {
      if (ix.unique) this.#unique.set(i, new Map());
    });
    if (from === undefined) return;
    this.#auto = from.#auto;
    for (const [ks, rec] of from.#rows) {
      // Index keys only read the value: the private clone serves as it is.
      const value = rec.row.v;
      this.#set(ks, { row: rec.row, iks: schema.indexes.map((ix) => indexKeys(ix, value)) }, false);
    }
  }

  // --- writes -------------------------------------------------------------------------

  /** Replaces (or removes) the row at `ks`; every change goes through here, undo included. */
  #set(ks: string, rec: Rec | undefined, undoable = true): void {
    const prev = this.#rows.get(ks);
    if (undoable) this.#engine.onRollback(() => this.#set(ks, prev, false));
    for (const [i, map] of this.#unique) {
      for (const ik of prev?.iks[i] ?? []) map.delete(ik.toString('latin1'));
      for (const ik of rec?.iks[i] ?? []) map.set(ik.toString('latin1'), ks);
    }
    if (rec === undefined) this.#rows.delete(ks);
    else this.#rows.set(ks, rec);
    this.#sorted = null;
    this.#sortedIndex.clear();
  }

  #setAuto(next: number): void {
    const prev = this.#auto;
    this.#engine.onRollback(() => {
      this.#auto = prev;
    });
    this.#auto = next;
  }

  protected writeOne(type: 'add' | 'put', value0: unknown, outKey: unknown): unknown {
    const pk = this.schema.primaryKey;
    let value = value0;
    let key: unknown = pk.outbound ? outKey : pk.extractKey?.(value);
    if (key === undefined && pk.autoIncrement) {
      key = this.#auto;
      if (!pk.outbound && typeof pk.keyPath === 'string') value = withKey(value, pk.keyPath, key);
    }
    if (!isValidKey(key)) throw new IdbLikeError('DataError', `${this.name}: the value has no valid key`);
    const k = encodeKey(key);
    const ks = k.toString('latin1');
    const iks = this.schema.indexes.map((ix) => indexKeys(ix, value));
    const v = cloneValue(value);
    if (type === 'add' && this.#rows.has(ks))
      throw new IdbLikeError('ConstraintError', `${this.name}: a record with this key already exists`);
    for (const [i, map] of this.#unique)
      for (const ik of iks[i] ?? []) {
        const holder = map.get(ik.toString('latin1'));
        if (holder !== undefined && holder !== ks)
          throw new IdbLikeError(
            'ConstraintError',
            `${this.name}: unique index ${this.schema.indexes[i]?.name} already has this key`,
          );
      }
    // IndexedDB's key generator: an explicit numeric key at or above the current value moves it.
    if (pk.autoIncrement && typeof key === 'number' && Math.floor(key) + 1 > this.#auto)
      this.#setAuto(Math.floor(key) + 1);
    this.#set(ks, { row: { ik: k, k, v }, iks });
    return key;
  }

  protected deleteRange(range: DBCoreKeyRange): void {
    const sorted = this.#byKey();
    const [from, to] = span(sorted, bounds(range));
    for (let i = from; i < to; i++) this.#set((sorted[i] as IndexRow).k.toString('latin1'), undefined);
  }

  protected deleteKeys(keys: readonly unknown[]): void {
    for (const key of keys) {
      const ks = encodeKey(key).toString('latin1');
      if (this.#rows.has(ks)) this.#set(ks, undefined);
    }
  }

  // --- reads --------------------------------------------------------------------------

  #byKey(): IndexRow[] {
    if (this.#sorted === null) {
      this.#sorted = [];
      for (const r of this.#rows.values()) this.#sorted.push(r.row);
      this.#sorted.sort((a, b) => Buffer.compare(a.k, b.k));
    }
    return this.#sorted;
  }

  #byIndex(name: string): IndexRow[] {
    let sorted = this.#sortedIndex.get(name);
    if (sorted !== undefined) return sorted;
    const i = this.schema.indexes.findIndex((ix) => ix.name === name);
    if (i < 0) throw new IdbLikeError('NotFoundError', `${this.name} has no index ${name}`);
    sorted = [];
    for (const r of this.#rows.values())
      for (const ik of r.iks[i] as Buffer[]) sorted.push({ ik, k: r.row.k, v: r.row.v });
    sorted.sort(byIkThenK);
    this.#sortedIndex.set(name, sorted);
    return sorted;
  }

  getSync(key: unknown): unknown {
    const rec = this.#rows.get(encodeKey(key).toString('latin1'));
    return rec === undefined ? undefined : cloneValue(rec.row.v);
  }

  protected override decodeValue(v: unknown): unknown {
    return cloneValue(v);
  }

  /** Every row carries its value; `values` false leaves it out, as SQLite's select does. */
  protected select(
    index: DBCoreIndex,
    range: DBCoreKeyRange,
    values: boolean,
    reverse: boolean,
    limit: number | undefined,
  ): IndexRow[] {
    const sorted =
      index.isPrimaryKey || index.name === null ? this.#byKey() : this.#byIndex(index.name as string);
    const [from, to] = span(sorted, bounds(range));
    const n = limit === undefined || limit === Number.POSITIVE_INFINITY ? to - from : Math.floor(limit);
    const rows = reverse
      ? sorted.slice(Math.max(from, to - n), to).reverse()
      : sorted.slice(from, Math.min(to, from + n));
    return values ? rows : rows.map((r) => ({ ik: r.ik, k: r.k }));
  }

  protected countSync(index: DBCoreIndex, range: DBCoreKeyRange): number {
    const sorted =
      index.isPrimaryKey || index.name === null ? this.#byKey() : this.#byIndex(index.name as string);
    const [from, to] = span(sorted, bounds(range));
    return to - from;
  }
}

/**
 * The DBCore for one Dexie database held in memory (memory-store.ts). `held` keeps its
 * tables between opens of the database (a login closes and reopens it), as a file would.
 */
export function createMemoryCore(
  engine: MemoryEngine,
  queue: TxQueue,
  down: DBCore,
  held: Map<string, MemoryTable>,
): Partial<DBCore> {
  const raw = new Map<string, MemoryTable>();
  for (const s of down.schema.tables) {
    const known = held.get(s.name);
    const t =
      known !== undefined && sameIndexes(known.schema, s) ? known : new MemoryTable(engine, queue, s, known);
    held.set(s.name, t);
    raw.set(s.name, t);
  }
  return assembleCore(queue, down, raw);
}
