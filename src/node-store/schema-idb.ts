import { IdbLikeError } from './idb-errors.ts';
import { SchemaIdbError } from './schema-idb-error.ts';

/**
 * The IndexedDB the Node stores (SQLite, Maps) hand Dexie: schema only, never a record.
 *
 * Dexie cannot open a database without IndexedDB: its open handshake asks the factory
 * for the database at a version, creates object stores and indexes in the upgrade
 * transaction, and then reads them back (key paths, auto-increment, unique and multiEntry
 * flags) to build its DBCore schema. The stores install a DBCore below Dexie's own
 * (sqlite-store.ts, memory-store.ts) that serves every table request from that schema, so
 * the IndexedDB underneath only has to remember definitions. This one does exactly that:
 * `open` with its upgrade and success events, `createObjectStore`/`createIndex` and their
 * deletions during an upgrade, a read-only transaction to read the schema back,
 * `databases()` (which keeps Dexie from keeping its own list of names in a database of
 * its own), `deleteDatabase`. Anything that would touch data throws SchemaIdbError.
 *
 * Events follow IndexedDB's order (W3C IndexedDB 3.0, "open a database connection"):
 * `upgradeneeded` in a later task than `open`, the upgrade transaction's `complete` in a
 * task after that (Dexie's upgrade steps run as microtasks in between, as they would
 * against a browser's transaction), then the request's `success`; an abort in the upgrade
 * puts the schema back and fails the request with AbortError.
 */

interface IndexDef {
  name: string;
  keyPath: string | string[];
  unique: boolean;
  multiEntry: boolean;
}

interface StoreDef {
  name: string;
  keyPath: string | string[] | null;
  autoIncrement: boolean;
  indexes: Map<string, IndexDef>;
}

interface DbDef {
  version: number;
  stores: Map<string, StoreDef>;
}

type Handler = ((ev: SchemaEvent) => unknown) | null;

interface SchemaEvent {
  type: string;
  target: unknown;
  oldVersion?: number;
  newVersion?: number | null;
  preventDefault(): void;
  stopPropagation(): void;
}

function event(type: string, target: unknown, extra: Partial<SchemaEvent> = {}): SchemaEvent {
  return { type, target, preventDefault() {}, stopPropagation() {}, ...extra };
}

/** IndexedDB's DOMStringList: sorted names, indexable, with `contains`. */
function nameList(
  names: Iterable<string>,
): string[] & { contains(n: string): boolean; item(i: number): string | null } {
  const list = [...names].sort();
  return Object.assign(list, {
    contains: (n: string) => list.includes(n),
    item: (i: number) => list[i] ?? null,
  });
}

function copyDef(d: DbDef): DbDef {
  const stores = new Map<string, StoreDef>();
  for (const [n, s] of d.stores) stores.set(n, { ...s, indexes: new Map(s.indexes) });
  return { version: d.version, stores };
}

function later(fn: () => void): void {
  setImmediate(fn);
}

function fire(target: { [k: string]: unknown }, ev: SchemaEvent): void {
  const h = target[`on${ev.type}`] as Handler | undefined;
  if (typeof h === 'function') h.call(target, ev);
}

function refuse(method: string): () => never {
  return () => {
    throw new SchemaIdbError(`IDBObjectStore.${method}`);
  };
}

class SchemaIndex {
  readonly name: string;
  readonly keyPath: string | string[];
  readonly unique: boolean;
  readonly multiEntry: boolean;

  constructor(d: IndexDef) {
    this.name = d.name;
    this.keyPath = d.keyPath;
    this.unique = d.unique;
    this.multiEntry = d.multiEntry;
  }
}

class SchemaStore {
  readonly #def: StoreDef;
  readonly #tx: SchemaTransaction;

  constructor(def: StoreDef, tx: SchemaTransaction) {
    this.#def = def;
    this.#tx = tx;
  }

  get name(): string {
    return this.#def.name;
  }
  get keyPath(): string | string[] | null {
    return this.#def.keyPath;
  }
  get autoIncrement(): boolean {
    return this.#def.autoIncrement;
  }
  get indexNames() {
    return nameList(this.#def.indexes.keys());
  }

  index(name: string): SchemaIndex {
    const d = this.#def.indexes.get(name);
    if (d === undefined) throw new IdbLikeError('NotFoundError', `No index ${name} on ${this.#def.name}`);
    return new SchemaIndex(d);
  }

  createIndex(
    name: string,
    keyPath: string | string[],
    opts: { unique?: boolean; multiEntry?: boolean } = {},
  ) {
    this.#tx.requireUpgrade('IDBObjectStore.createIndex');
    if (this.#def.indexes.has(name))
      throw new IdbLikeError('ConstraintError', `Index ${name} already exists on ${this.#def.name}`);
    const d: IndexDef = {
      name,
      keyPath: Array.isArray(keyPath) ? [...keyPath] : keyPath,
      unique: opts.unique === true,
      multiEntry: opts.multiEntry === true,
    };
    this.#def.indexes.set(name, d);
    return new SchemaIndex(d);
  }

  deleteIndex(name: string): void {
    this.#tx.requireUpgrade('IDBObjectStore.deleteIndex');
    if (!this.#def.indexes.delete(name))
      throw new IdbLikeError('NotFoundError', `No index ${name} on ${this.#def.name}`);
  }

  // Every data request: the records live in the store's DBCore, never here.
  readonly add = refuse('add');
  readonly put = refuse('put');
  readonly get = refuse('get');
  readonly getAll = refuse('getAll');
  readonly getAllKeys = refuse('getAllKeys');
  readonly count = refuse('count');
  readonly delete = refuse('delete');
  readonly clear = refuse('clear');
  readonly openCursor = refuse('openCursor');
  readonly openKeyCursor = refuse('openKeyCursor');
}

class SchemaTransaction {
  readonly db: SchemaDatabase;
  readonly mode: 'readonly' | 'versionchange';
  readonly #names: string[];
  error: Error | null = null;
  oncomplete: Handler = null;
  onerror: Handler = null;
  onabort: Handler = null;
  #done = false;
  #aborted = false;

  constructor(db: SchemaDatabase, mode: 'readonly' | 'versionchange', names: string[]) {
    this.db = db;
    this.mode = mode;
    this.#names = names;
  }

  get objectStoreNames() {
    return nameList(this.mode === 'versionchange' ? this.db.def.stores.keys() : this.#names);
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  objectStore(name: string): SchemaStore {
    if (this.#done) throw new IdbLikeError('InvalidStateError', 'The transaction has finished');
    const d = this.db.def.stores.get(name);
    if (d === undefined || (this.mode !== 'versionchange' && !this.#names.includes(name)))
      throw new IdbLikeError('NotFoundError', `No object store ${name} in this transaction`);
    return new SchemaStore(d, this);
  }

  requireUpgrade(op: string): void {
    if (this.mode !== 'versionchange' || this.#done)
      throw new IdbLikeError('InvalidStateError', `${op} is only allowed during a version upgrade`);
  }

  abort(): void {
    if (this.#done) throw new IdbLikeError('InvalidStateError', 'The transaction has finished');
    this.#aborted = true;
    this.#done = true;
    this.error = new IdbLikeError('AbortError', 'The transaction was aborted');
    later(() => fire(this as unknown as { [k: string]: unknown }, event('abort', this)));
  }

  /** Ends the transaction (it holds no requests, so it commits when its task is over). */
  finish(): void {
    if (this.#done) return;
    this.#done = true;
    fire(this as unknown as { [k: string]: unknown }, event('complete', this));
  }

  commit(): void {
    later(() => this.finish());
  }
}

class SchemaDatabase {
  readonly name: string;
  def: DbDef;
  onversionchange: Handler = null;
  onclose: Handler = null;
  onabort: Handler = null;
  onerror: Handler = null;
  #closed = false;
  #upgrade: SchemaTransaction | null = null;

  constructor(name: string, def: DbDef) {
    this.name = name;
    this.def = def;
  }

  get version(): number {
    return this.def.version;
  }

  get objectStoreNames() {
    return nameList(this.def.stores.keys());
  }

  get closed(): boolean {
    return this.#closed;
  }

  beginUpgrade(tx: SchemaTransaction): void {
    this.#upgrade = tx;
  }

  endUpgrade(): void {
    this.#upgrade = null;
  }

  createObjectStore(
    name: string,
    opts: { keyPath?: string | string[] | null; autoIncrement?: boolean } = {},
  ) {
    const tx = this.#requireUpgrade('IDBDatabase.createObjectStore');
    if (this.def.stores.has(name))
      throw new IdbLikeError('ConstraintError', `Object store ${name} already exists`);
    const keyPath = opts.keyPath ?? null;
    const d: StoreDef = {
      name,
      keyPath: Array.isArray(keyPath) ? [...keyPath] : keyPath,
      autoIncrement: opts.autoIncrement === true,
      indexes: new Map(),
    };
    this.def.stores.set(name, d);
    return new SchemaStore(d, tx);
  }

  deleteObjectStore(name: string): void {
    this.#requireUpgrade('IDBDatabase.deleteObjectStore');
    if (!this.def.stores.delete(name)) throw new IdbLikeError('NotFoundError', `No object store ${name}`);
  }

  #requireUpgrade(op: string): SchemaTransaction {
    const tx = this.#upgrade;
    if (tx === null)
      throw new IdbLikeError('InvalidStateError', `${op} is only allowed during a version upgrade`);
    return tx;
  }

  transaction(names: string | string[], mode: string = 'readonly'): SchemaTransaction {
    if (this.#closed) throw new IdbLikeError('InvalidStateError', `Database ${this.name} is closed`);
    if (mode !== 'readonly') throw new SchemaIdbError(`IDBDatabase.transaction(${mode})`);
    const list = typeof names === 'string' ? [names] : [...names];
    for (const n of list)
      if (!this.def.stores.has(n)) throw new IdbLikeError('NotFoundError', `No object store ${n}`);
    const tx = new SchemaTransaction(this, 'readonly', list);
    tx.commit();
    return tx;
  }

  close(): void {
    this.#closed = true;
  }
}

class SchemaOpenRequest {
  result: SchemaDatabase | undefined = undefined;
  error: Error | null = null;
  transaction: SchemaTransaction | null = null;
  readyState: 'pending' | 'done' = 'pending';
  source = null;
  onsuccess: Handler = null;
  onerror: Handler = null;
  onblocked: Handler = null;
  onupgradeneeded: Handler = null;

  succeed(db: SchemaDatabase): void {
    this.result = db;
    this.readyState = 'done';
    this.transaction = null;
    fire(this as unknown as { [k: string]: unknown }, event('success', this));
  }

  fail(error: Error): void {
    this.result = undefined;
    this.error = error;
    this.readyState = 'done';
    this.transaction = null;
    fire(this as unknown as { [k: string]: unknown }, event('error', this));
  }
}

/** One factory per store connection: its databases live as long as it does. */
export class SchemaIdbFactory {
  readonly #dbs = new Map<string, DbDef>();

  open(name: string, version?: number): SchemaOpenRequest {
    if (version !== undefined && (!Number.isInteger(version) || version < 1))
      throw new TypeError(`Invalid IndexedDB version ${String(version)}`);
    const req = new SchemaOpenRequest();
    later(() => this.#open(req, name, version));
    return req;
  }

  #open(req: SchemaOpenRequest, name: string, version: number | undefined): void {
    const existing = this.#dbs.get(name);
    const oldVersion = existing?.version ?? 0;
    const target = version ?? (oldVersion || 1);
    if (target < oldVersion) {
      req.fail(
        new IdbLikeError('VersionError', `Database ${name} is at version ${oldVersion}, not ${target}`),
      );
      return;
    }
    const before = existing === undefined ? { version: 0, stores: new Map() } : copyDef(existing);
    const db = new SchemaDatabase(name, existing ?? { version: 0, stores: new Map() });
    if (target === oldVersion) {
      req.succeed(db);
      return;
    }
    db.def = copyDef(before);
    db.def.version = target;
    this.#dbs.set(name, db.def);
    const tx = new SchemaTransaction(db, 'versionchange', []);
    db.beginUpgrade(tx);
    req.result = db;
    req.transaction = tx;
    try {
      fire(
        req as unknown as { [k: string]: unknown },
        event('upgradeneeded', req, { oldVersion, newVersion: target }),
      );
    } catch (e) {
      // An exception in the upgrade handler aborts the upgrade, as in IndexedDB.
      if (!tx.aborted) tx.abort();
      tx.error = e instanceof Error ? e : new Error(String(e));
    }
    later(() => {
      db.endUpgrade();
      if (tx.aborted) {
        if (existing === undefined) this.#dbs.delete(name);
        else this.#dbs.set(name, before);
        req.fail(new IdbLikeError('AbortError', `The upgrade of ${name} was aborted`, tx.error));
        return;
      }
      tx.finish();
      if (db.closed) {
        req.fail(new IdbLikeError('AbortError', `Database ${name} was closed during its upgrade`));
        return;
      }
      req.succeed(db);
    });
  }

  deleteDatabase(name: string): SchemaOpenRequest {
    const req = new SchemaOpenRequest();
    later(() => {
      this.#dbs.delete(name);
      req.readyState = 'done';
      fire(req as unknown as { [k: string]: unknown }, event('success', req, { newVersion: null }));
    });
    return req;
  }

  databases(): Promise<{ name: string; version: number }[]> {
    return Promise.resolve([...this.#dbs].map(([name, d]) => ({ name, version: d.version })));
  }

  cmp(): never {
    throw new SchemaIdbError('IDBFactory.cmp');
  }
}

/** A fresh factory, typed as the DOM's, for `IndexedDbDeps`. */
export function schemaIndexedDb(): IDBFactory {
  return new SchemaIdbFactory() as unknown as IDBFactory;
}
