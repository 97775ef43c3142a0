import { Dexie } from 'dexie';
import { fromSqlite, IdbLikeError } from './idb-errors.ts';

/**
 * Dexie transactions serialized onto one SQLite connection's transactions.
 *
 * Dexie expects IndexedDB's transaction model: many transactions may be created at once,
 * their requests run in order, and a transaction commits by itself once it has no pending
 * request left at the end of a task (Dexie never calls commit for an explicit transaction;
 * it waits for `complete`). Here transactions wait in a queue; the head one holds an SQLite
 * transaction (BEGIN IMMEDIATE for read-write) and runs its requests synchronously; it
 * commits in a `setImmediate` check after its last request settled, which runs after every
 * microtask, so a scope that awaits a request and issues the next one keeps it open, as in
 * IndexedDB (and as fake-indexeddb, which also commits in a later task).
 *
 * Serializing everything, reads included, is what IndexedDB does for overlapping scopes
 * and costs little here: requests are synchronous calls that take microseconds.
 */

type Settle = () => void;

/** Dexie's promise zone, captured so a request's continuation runs in the caller's transaction. */
function zoned<A extends unknown[]>(fn: (...a: A) => void): (...a: A) => void {
  const P = Dexie.Promise as unknown as {
    PSD: unknown;
    usePSD: (psd: unknown, f: (...x: unknown[]) => void, ...a: unknown[]) => void;
  };
  const psd = P.PSD;
  return (...a: A) => P.usePSD(psd, fn as (...x: unknown[]) => void, ...a);
}

export interface RawRequest {
  result: unknown;
  error: Error | null;
  onsuccess: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export interface RawObjectStore {
  get(key: unknown): RawRequest;
}

export type TxState = 'queued' | 'active' | 'committed' | 'aborted';

/** What Dexie sees as the IDBTransaction (`idbtrans`): event handlers, abort, commit. */
export class SqliteTransaction {
  readonly mode: 'readonly' | 'readwrite';
  readonly storeNames: string[];
  state: TxState = 'queued';
  error: Error | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onabort: ((ev: unknown) => void) | null = null;
  oncomplete: ((ev: unknown) => void) | null = null;
  /** Requests issued before this transaction became the active one. */
  readonly waiting: Settle[] = [];
  pending = 0;
  /** Runs inside the SQLite transaction the queue holds across staged writes (see `TxQueue`). */
  nested = false;
  /** Raw IndexedDB-style access for core code that reads through `idbtrans` (set by the DBCore). */
  rawStore: ((name: string) => RawObjectStore) | null = null;
  #checkScheduled = false;
  readonly #queue: TxQueue;

  constructor(queue: TxQueue, storeNames: string[], mode: 'readonly' | 'readwrite') {
    this.#queue = queue;
    this.storeNames = storeNames;
    this.mode = mode;
  }

  get db(): unknown {
    return this.#queue;
  }

  readonly #listeners: { type: string; fn: (ev: unknown) => void }[] = [];

  abort(): void {
    this.#queue.abort(this, null);
  }

  /** EventTarget's subset Dexie's optional layers (its cache) use. */
  addEventListener(type: string, fn: (ev: unknown) => void): void {
    this.#listeners.push({ type, fn });
  }

  removeEventListener(type: string, fn: (ev: unknown) => void): void {
    const i = this.#listeners.findIndex((l) => l.type === type && l.fn === fn);
    if (i >= 0) this.#listeners.splice(i, 1);
  }

  /** Fires `on<type>` then the listeners, as an IDBTransaction event. */
  fire(type: 'complete' | 'abort' | 'error', ev: unknown): void {
    const handler = type === 'complete' ? this.oncomplete : type === 'abort' ? this.onabort : this.onerror;
    handler?.(ev);
    for (const l of [...this.#listeners]) if (l.type === type) l.fn(ev);
  }

  /**
   * `idbtrans.objectStore(name).get(key)`, as IDBObjectStore: the core's optimistic save
   * reads the case state this way so that its success handler runs before any later
   * request of the transaction (case-writer.ts, verifyGuess). Here the handler runs inside
   * the request itself, so an abort from it comes before anything queued after it.
   */
  objectStore(name: string): RawObjectStore {
    if (this.rawStore === null || !this.storeNames.includes(name))
      throw new IdbLikeError('NotFoundError', `${name} is not part of the transaction`);
    return this.rawStore(name);
  }

  /** Dexie calls this for its implicit read-write transactions once their one request is out. */
  commit(): void {
    this.scheduleCheck();
  }

  scheduleCheck(): void {
    if (this.#checkScheduled) return;
    this.#checkScheduled = true;
    setImmediate(() => {
      this.#checkScheduled = false;
      if (this.state === 'active' && this.pending === 0 && this.waiting.length === 0)
        this.#queue.commit(this);
    });
  }
}

/** What the queue needs of its engine: SQLite's transaction statements (memory-store.ts mimics them). */
export interface TxEngine {
  exec(sql: string): unknown;
  readonly inTransaction: boolean;
}

/**
 * The tables a full restore stages its new generation in (store/fieldsim-db.ts,
 * store/restore-ingest.ts): only read-write transactions over these, and no others, are
 * grouped into one SQLite transaction while staging.
 */
const STAGED_TABLES: ReadonlySet<string> = new Set(['casePages', 'caseSums', 'ledgers']);

/**
 * Staged read-write transactions per SQLite commit. A 100k-case restore runs ~340 of them
 * (one per 250-event batch); each SQLite commit appends the pages it changed to the WAL,
 * the B-tree's right edge and interior pages again every time, and costs an event loop
 * turn and a BEGIN. Grouped by 64: 343 commits -> 9, and the WAL of a 100k-case restore
 * 130 -> 109 MB.
 */
export const STAGED_PER_COMMIT = 64;

const SAVEPOINT = 'fieldsim_staged';

export class TxQueue {
  readonly #db: TxEngine;
  readonly #txs: SqliteTransaction[] = [];
  /** Set while a transaction's requests run, so one cannot start another by accident. */
  closed = false;
  /** Open staged-write periods (see `SqliteStore.stagedWrites`); 0 means every commit syncs. */
  staged = 0;
  /** Whether the connection's sync pragmas may be tuned (a file in WAL mode). */
  readonly #tunable: boolean;
  #relaxed = false;
  /**
   * Whether an SQLite transaction is held open across staged Dexie transactions, and how
   * many it holds: each of them runs as a SAVEPOINT inside it (released at its end, rolled
   * back alone on abort), and the SQLite transaction commits every `STAGED_PER_COMMIT` of
   * them, before any other read-write transaction, and once staging ends. Staged rows are
   * a generation nothing points to yet, so a kill that loses the uncommitted ones loses
   * nothing anyone relies on: the restore's switch is the commit that counts.
   */
  #outer = false;
  #outerTxs = 0;
  /** Called after each commit of a staged group (sqlite-store.ts flushes the WAL then). */
  onStagedCommit: (() => void) | null = null;

  constructor(db: TxEngine, tunable = false) {
    this.#db = db;
    this.#tunable = tunable;
  }

  /**
   * Sync settings for the write transaction about to begin (pragmas cannot change inside
   * one). Staged writes: synchronous=NORMAL (WAL stays consistent, only durability waits)
   * and no automatic checkpoint, which measured ~1.4 s of fsync and copy waits per 100k
   * restored cases; the next ordinary write runs with FULL again, and its synced commit
   * covers every WAL frame before it, staged ones included.
   */
  #tune(): void {
    const relaxed = this.staged > 0;
    if (!this.#tunable || relaxed === this.#relaxed) return;
    this.#db.exec(relaxed ? 'PRAGMA synchronous = NORMAL' : 'PRAGMA synchronous = FULL');
    this.#db.exec(relaxed ? 'PRAGMA wal_autocheckpoint = 0' : 'PRAGMA wal_autocheckpoint = 1000');
    this.#relaxed = relaxed;
  }

  create(storeNames: string[], mode: 'readonly' | 'readwrite'): SqliteTransaction {
    if (this.closed) throw new IdbLikeError('InvalidStateError', 'The SQLite store is closed');
    const tx = new SqliteTransaction(this, storeNames, mode);
    this.#txs.push(tx);
    if (this.#txs.length === 1) this.#activate();
    return tx;
  }

  /**
   * Runs `fn` as one request of `tx`: at once when `tx` is the active transaction with
   * nothing queued before it, else when its turn comes. Settles in the caller's Dexie zone.
   */
  request<T>(tx: SqliteTransaction, fn: () => T, context: string, defer = false): Promise<T> {
    return new Promise<T>((resolve0, reject0) => {
      if (tx.state === 'committed' || tx.state === 'aborted') {
        reject0(new IdbLikeError('TransactionInactiveError', `${context}: the transaction has finished`));
        return;
      }
      const resolve = zoned(resolve0);
      const reject = zoned(reject0);
      tx.pending++;
      const run: Settle = () => {
        tx.pending--;
        if (tx.state === 'aborted') {
          reject(new IdbLikeError('AbortError', `${context}: the transaction was aborted`));
          return;
        }
        let out: T;
        try {
          out = fn();
        } catch (e) {
          reject(fromSqlite(e, context));
          tx.scheduleCheck();
          return;
        }
        resolve(out);
        tx.scheduleCheck();
      };
      if (tx.state === 'active' && tx.waiting.length === 0 && !defer) run();
      else {
        tx.waiting.push(run);
        // A deferred request (raw IDBRequest, whose handlers are set after the call) runs in
        // a microtask; requests issued meanwhile queue behind it, keeping the order.
        if (defer) queueMicrotask(() => this.#flush(tx));
      }
    });
  }

  #activate(): void {
    const tx = this.#txs[0];
    if (tx === undefined || tx.state !== 'queued') return;
    try {
      if (this.#outer && !this.#nestable(tx)) this.#endOuter();
      if (this.#outer) {
        if (tx.mode === 'readwrite') this.#db.exec(`SAVEPOINT ${SAVEPOINT}`);
        tx.nested = true;
      } else {
        if (tx.mode === 'readwrite') this.#tune();
        this.#db.exec(tx.mode === 'readwrite' ? 'BEGIN IMMEDIATE' : 'BEGIN');
        if (this.#tunable && this.#nestable(tx) && tx.mode === 'readwrite') {
          this.#db.exec(`SAVEPOINT ${SAVEPOINT}`);
          this.#outer = true;
          this.#outerTxs = 0;
          tx.nested = true;
        }
      }
    } catch (e) {
      // A BEGIN that went through before its SAVEPOINT failed must not stay open: the
      // next BEGIN would be refused.
      if (!this.#outer && !tx.nested && this.#db.inTransaction) {
        try {
          this.#db.exec('ROLLBACK');
        } catch {
          // Rolled back already.
        }
      }
      this.#fail(tx, fromSqlite(e, 'Starting a transaction'));
      return;
    }
    tx.state = 'active';
    this.#flush(tx);
    tx.scheduleCheck();
  }

  /** Whether `tx` may run inside the held staged transaction (or start one). */
  #nestable(tx: SqliteTransaction): boolean {
    if (this.staged === 0 || this.#outerTxs >= STAGED_PER_COMMIT) return false;
    return tx.mode === 'readonly' || tx.storeNames.every((n) => STAGED_TABLES.has(n));
  }

  /** Commits the held staged transaction; throws as COMMIT does (the caller fails its own tx). */
  #endOuter(): void {
    if (!this.#outer) return;
    this.#outer = false;
    this.#outerTxs = 0;
    if (!this.#db.inTransaction) return;
    try {
      this.#db.exec('COMMIT');
      this.onStagedCommit?.();
    } catch (e) {
      // Left open, it would refuse the next BEGIN: the staged rows go (their restore fails).
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
      throw e;
    }
  }

  #flush(tx: SqliteTransaction): void {
    while (tx.waiting.length > 0 && tx.state === 'active') (tx.waiting.shift() as Settle)();
  }

  #next(tx: SqliteTransaction): void {
    const i = this.#txs.indexOf(tx);
    if (i >= 0) this.#txs.splice(i, 1);
    if (i === 0) this.#activate();
  }

  commit(tx: SqliteTransaction): void {
    try {
      if (!tx.nested) this.#db.exec('COMMIT');
      else {
        if (tx.mode === 'readwrite') {
          this.#db.exec(`RELEASE ${SAVEPOINT}`);
          this.#outerTxs++;
        }
        // Committed at once when staging ended or the group is full, so that a failure of
        // the commit is this transaction's, reported to its caller.
        if (this.staged === 0 || this.#outerTxs >= STAGED_PER_COMMIT) this.#endOuter();
      }
    } catch (e) {
      this.#fail(tx, fromSqlite(e, 'Committing'));
      return;
    }
    tx.state = 'committed';
    this.#next(tx);
    tx.fire('complete', { type: 'complete', target: tx });
  }

  /** Rolls back (if begun) and reports the abort, as IndexedDB's abort event. */
  abort(tx: SqliteTransaction, error: Error | null): void {
    if (tx.state === 'committed' || tx.state === 'aborted') return;
    const wasActive = tx.state === 'active';
    tx.state = 'aborted';
    tx.error = error;
    if (wasActive && this.#db.inTransaction) {
      try {
        if (!tx.nested) this.#db.exec('ROLLBACK');
        else if (tx.mode === 'readwrite' && this.#outer) {
          // Only this transaction's writes; the staged ones before it stay.
          this.#db.exec(`ROLLBACK TO ${SAVEPOINT}`);
          this.#db.exec(`RELEASE ${SAVEPOINT}`);
        } else if (!this.#outer) this.#db.exec('ROLLBACK');
      } catch {
        // SQLite may have rolled back by itself (disk full, I/O error): nothing is kept either way.
      }
    }
    // SQLite rolls a whole transaction back by itself on some errors (disk full, I/O):
    // the held staged one is gone then, and the restore that wrote it fails with this error.
    if (!this.#db.inTransaction) this.#outer = false;
    // Queued requests fail now; they check the state when they run.
    for (const run of tx.waiting.splice(0)) run();
    this.#next(tx);
    queueMicrotask(() => {
      if (error) tx.fire('error', { type: 'error', target: tx, preventDefault() {} });
      tx.fire('abort', { type: 'abort', target: tx, preventDefault() {} });
    });
  }

  #fail(tx: SqliteTransaction, error: Error): void {
    this.abort(tx, error);
  }

  /** Aborts every open transaction; for closing the store. */
  abortAll(): void {
    for (const tx of [...this.#txs])
      this.abort(tx, new IdbLikeError('AbortError', 'The SQLite store was closed'));
    // Staged transactions that completed are kept, as if each had committed.
    try {
      this.#endOuter();
    } catch {
      // Rolled back: nothing half-written stays either way.
    }
    this.closed = true;
  }
}
