import { deserialize } from 'node:v8';
import type {
  DBCoreCountRequest,
  DBCoreCursor,
  DBCoreGetManyRequest,
  DBCoreGetRequest,
  DBCoreIndex,
  DBCoreKeyRange,
  DBCoreMutateRequest,
  DBCoreMutateResponse,
  DBCoreOpenCursorRequest,
  DBCoreQueryRequest,
  DBCoreQueryResponse,
  DBCoreTableSchema,
  DBCoreTransaction,
} from 'dexie';
import { IdbLikeError } from './idb-errors.ts';
import { decodeKey, encodeKey, isValidKey } from './key-codec.ts';
import type { RawRequest, SqliteTransaction, TxQueue } from './sqlite-tx-queue.ts';

/**
 * What the Node stores' tables (SQLite and plain Maps) share: the transaction checks and
 * the queue every request goes through, IndexedDB's per-record failures in `mutate`, and
 * the request shapes of get, query and cursors. A store supplies only how rows are kept:
 * `getSync`, `writeOne`, the deletes, `select` and `count`.
 */
export abstract class QueuedTable {
  readonly name: string;
  readonly schema: DBCoreTableSchema;
  readonly #queue: TxQueue;

  constructor(queue: TxQueue, schema: DBCoreTableSchema) {
    this.#queue = queue;
    this.name = schema.name;
    this.schema = schema;
  }

  abstract getSync(key: unknown): unknown;
  /** One add or put; checks everything before its first write, so a failure wrote nothing. */
  protected abstract writeOne(type: 'add' | 'put', value: unknown, outKey: unknown): unknown;
  protected abstract deleteKeys(keys: readonly unknown[]): void;
  protected abstract deleteRange(range: DBCoreKeyRange): void;
  /** Rows of a query in order: primary key, index key and (if `values`) the value bytes. */
  protected abstract select(
    index: DBCoreIndex,
    range: DBCoreKeyRange,
    values: boolean,
    reverse: boolean,
    limit: number | undefined,
  ): IndexRow[];
  protected abstract countSync(index: DBCoreIndex, range: DBCoreKeyRange): number;

  /** A row's stored value as the caller gets it: V8's structured-clone bytes by default. */
  protected decodeValue(v: unknown): unknown {
    return deserialize(v as Buffer);
  }

  #tx(trans: DBCoreTransaction, write: boolean): SqliteTransaction {
    const tx = trans as SqliteTransaction;
    if (!tx.storeNames.includes(this.name))
      throw new IdbLikeError('NotFoundError', `Table ${this.name} is not part of the transaction`);
    if (write && tx.mode !== 'readwrite')
      throw new IdbLikeError('ReadOnlyError', `Transaction on ${this.name} is read-only`);
    return tx;
  }

  protected run<T>(trans: DBCoreTransaction, write: boolean, what: string, fn: () => T): Promise<T> {
    let tx: SqliteTransaction;
    try {
      tx = this.#tx(trans, write);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#queue.request(tx, fn, `${what} ${this.name}`);
  }

  mutate(req: DBCoreMutateRequest): Promise<DBCoreMutateResponse> {
    return this.run(req.trans, true, req.type, () => {
      const failures: Record<number, Error> = {};
      let numFailures = 0;
      if (req.type === 'deleteRange') {
        this.deleteRange(req.range);
        return { numFailures, failures, results: [], lastResult: undefined };
      }
      if (req.type === 'delete') {
        this.deleteKeys(req.keys);
        return { numFailures, failures, results: req.keys, lastResult: undefined };
      }
      const results: unknown[] = [];
      const { values, keys } = req;
      for (let i = 0; i < values.length; i++) {
        // Each record is its own request: a failed one (duplicate key) leaves the others,
        // as IndexedDB with Dexie's preventDefault on each request's error.
        try {
          results.push(this.writeOne(req.type, values[i], keys?.[i]));
        } catch (e) {
          if (!(e instanceof IdbLikeError) || (e.name !== 'ConstraintError' && e.name !== 'DataError'))
            throw e;
          failures[i] = e;
          numFailures++;
          results.push(undefined);
        }
      }
      return { numFailures, failures, results, lastResult: results[results.length - 1] };
    });
  }

  get(req: DBCoreGetRequest): Promise<unknown> {
    return this.run(req.trans, false, 'get', () => this.getSync(req.key));
  }

  /** IDBObjectStore.get for `idbtrans.objectStore(name)`: handlers run inside the request. */
  rawGet(tx: SqliteTransaction, key: unknown): RawRequest {
    const req: RawRequest = { result: undefined, error: null, onsuccess: null, onerror: null };
    this.#queue
      .request(
        tx,
        () => {
          try {
            req.result = this.getSync(key);
          } catch (e) {
            req.error = e as Error;
            req.onerror?.({ type: 'error', target: req });
            return;
          }
          req.onsuccess?.({ type: 'success', target: req });
        },
        `get ${this.name}`,
        true,
      )
      .catch(() => undefined);
    return req;
  }

  getMany(req: DBCoreGetManyRequest): Promise<unknown[]> {
    return this.run(req.trans, false, 'getMany', () =>
      req.keys.map((key) => (isValidKey(key) ? this.getSync(key) : undefined)),
    );
  }

  query(req: DBCoreQueryRequest): Promise<DBCoreQueryResponse> {
    return this.run(req.trans, false, 'query', () => {
      const dir = req.direction ?? 'next';
      const unique = dir === 'nextunique' || dir === 'prevunique';
      const values = req.values === true;
      if (req.limit === 0) return { result: [] };
      let rows = this.select(
        req.query.index,
        req.query.range,
        values,
        dir.startsWith('prev'),
        unique ? undefined : req.limit,
      );
      if (unique) rows = uniqueRows(rows, dir === 'prevunique', req.limit);
      return { result: rows.map((r) => (values ? this.decodeValue(r.v) : decodeKey(r.k))) };
    });
  }

  count(req: DBCoreCountRequest): Promise<number> {
    return this.run(req.trans, false, 'count', () => this.countSync(req.query.index, req.query.range));
  }

  openCursor(req: DBCoreOpenCursorRequest): Promise<DBCoreCursor | null> {
    return this.run(req.trans, false, 'openCursor', () => {
      let rows = this.select(
        req.query.index,
        req.query.range,
        req.values !== false,
        req.reverse === true,
        undefined,
      );
      if (req.unique) rows = uniqueRows(rows, req.reverse === true, undefined);
      if (rows.length === 0) return null;
      return new ArrayCursor(req.trans, rows, req.reverse === true, (v) =>
        this.decodeValue(v),
      ) as DBCoreCursor;
    });
  }
}

/**
 * A row of a query: index key, primary key and (when values were asked) the stored value,
 * as the table keeps it (bytes for SQLite, a private clone in memory: see `decodeValue`).
 */
export interface IndexRow {
  ik: Buffer;
  k: Buffer;
  v?: unknown;
}

/** `nextunique`/`prevunique`: one row per index key, the one with the lowest primary key. */
export function uniqueRows(rows: IndexRow[], reverse: boolean, limit: number | undefined): IndexRow[] {
  const out: IndexRow[] = [];
  for (const row of rows) {
    const last = out[out.length - 1];
    if (last?.ik.equals(row.ik)) {
      // Reverse order meets a duplicate group's lowest primary key last.
      if (reverse) out[out.length - 1] = row;
      continue;
    }
    if (limit !== undefined && out.length >= limit) break;
    out.push(row);
  }
  return out;
}

/**
 * A cursor over rows read when it was opened (the transaction is serialized, so nothing
 * else changes them meanwhile). Dexie drives it through `start`, calling `continue`,
 * `advance` or `stop` from its callback, as with an IDBCursor.
 */
export class ArrayCursor {
  readonly trans: DBCoreTransaction;
  readonly #rows: IndexRow[];
  readonly #reverse: boolean;
  readonly #decode: (v: unknown) => unknown;
  #pos = 0;
  done = false;
  #callback: (() => void) | null = null;
  #resolve: ((v: unknown) => void) | null = null;
  #reject: ((e: unknown) => void) | null = null;
  #scheduled = false;

  constructor(trans: DBCoreTransaction, rows: IndexRow[], reverse: boolean, decode: (v: unknown) => unknown) {
    this.trans = trans;
    this.#rows = rows;
    this.#reverse = reverse;
    this.#decode = decode;
  }

  get key(): unknown {
    return decodeKey((this.#rows[this.#pos] as IndexRow).ik);
  }

  get primaryKey(): unknown {
    return decodeKey((this.#rows[this.#pos] as IndexRow).k);
  }

  get value(): unknown {
    const v = (this.#rows[this.#pos] as IndexRow).v;
    return v === undefined ? undefined : this.#decode(v);
  }

  #move(to: number): void {
    this.#pos = to;
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#step();
    });
  }

  #step(): void {
    if (this.#pos >= this.#rows.length) {
      this.done = true;
      this.stop();
      return;
    }
    try {
      this.#callback?.();
    } catch (e) {
      this.fail(e as Error);
    }
  }

  continue(key?: unknown): void {
    if (key === undefined) {
      this.#move(this.#pos + 1);
      return;
    }
    const target = encodeKey(key);
    let i = this.#pos + 1;
    while (i < this.#rows.length) {
      const c = Buffer.compare((this.#rows[i] as IndexRow).ik, target);
      if (this.#reverse ? c <= 0 : c >= 0) break;
      i++;
    }
    this.#move(i);
  }

  continuePrimaryKey(key: unknown, primaryKey: unknown): void {
    const tk = encodeKey(key);
    const tp = encodeKey(primaryKey);
    let i = this.#pos + 1;
    while (i < this.#rows.length) {
      const r = this.#rows[i] as IndexRow;
      const c = Buffer.compare(r.ik, tk) || Buffer.compare(r.k, tp);
      if (this.#reverse ? c <= 0 : c >= 0) break;
      i++;
    }
    this.#move(i);
  }

  advance(count: number): void {
    this.#move(this.#pos + count);
  }

  start(onNext: () => void): Promise<unknown> {
    this.#callback = onNext;
    const p = new Promise<unknown>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#step();
    return p;
  }

  stop(value?: unknown): void {
    this.#callback = null;
    this.#resolve?.(value);
  }

  next(): Promise<DBCoreCursor> {
    let gotOne = 1;
    return this.start(() => (gotOne-- ? this.continue() : this.stop())).then(
      () => this as unknown as DBCoreCursor,
    );
  }

  fail(error: Error): void {
    this.#callback = null;
    this.#reject?.(error);
  }
}
