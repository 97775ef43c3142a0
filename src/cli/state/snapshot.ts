import { createHash } from 'node:crypto';
import v8 from 'node:v8';
import { StateError } from './state-error.ts';

/**
 * A byte-exact copy of every IndexedDB database in one IDBFactory, so the CLI can keep a
 * worker's fake-indexeddb (in-memory) database between commands.
 *
 * The copy goes through the raw IndexedDB API, not Dexie: it takes every object store
 * with its key path, auto-increment flag and indexes, whatever the schema version, and
 * recreates the database at that same version. Opening it afterwards with a newer
 * FieldsimDb therefore runs Dexie's upgrade as on a real device.
 *
 * Values are structured-clone data; node:v8's serializer keeps all of it (ArrayBuffer,
 * typed arrays, Date, Map, `undefined`...) except Blob and File, which it refuses as host
 * objects. Those are read ahead of time and written as tagged host objects (type, name,
 * bytes), so a Blob in an outbox row comes back byte for byte.
 *
 * File layout: MAGIC, uint32 BE format version, SHA-256 of the payload, payload. The
 * digest turns a truncated or damaged file into a typed `state-corrupt` error.
 */

export interface IndexSchema {
  name: string;
  keyPath: string | string[];
  unique: boolean;
  multiEntry: boolean;
}

export interface StoreSnapshot {
  name: string;
  keyPath: string | string[] | null;
  autoIncrement: boolean;
  indexes: IndexSchema[];
  /** Out-of-line keys, in the order of `values`; null when the store has a key path. */
  keys: IDBValidKey[] | null;
  values: unknown[];
}

export interface DbSnapshot {
  name: string;
  version: number;
  stores: StoreSnapshot[];
}

export interface StateSnapshot {
  savedAt: string;
  databases: DbSnapshot[];
}

const MAGIC = Buffer.from('FIELDSIM-STATE\n', 'latin1');
const FORMAT_VERSION = 1;
const HEADER_BYTES = MAGIC.length + 4 + 32;

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function finished(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
  });
}

function openDatabase(
  factory: IDBFactory,
  name: string,
  version?: number,
  onUpgrade?: (db: IDBDatabase) => void,
) {
  return new Promise<IDBDatabase>((resolve, reject) => {
    const r = version === undefined ? factory.open(name) : factory.open(name, version);
    r.onupgradeneeded = () => {
      if (onUpgrade) onUpgrade(r.result);
      else {
        r.transaction?.abort();
        reject(new Error(`Database ${name} does not exist`));
      }
    };
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.onblocked = () => reject(new Error(`Database ${name} is blocked by another connection`));
  });
}

/** Copies every database of `factory` (read in one read-only transaction each). */
export async function exportDatabases(factory: IDBFactory): Promise<DbSnapshot[]> {
  const infos = await factory.databases();
  const names = infos.flatMap((i) => (i.name ? [i.name] : [])).sort();
  const out: DbSnapshot[] = [];
  for (const name of names) {
    const db = await openDatabase(factory, name);
    try {
      const storeNames = Array.from(db.objectStoreNames).sort();
      const stores: StoreSnapshot[] = [];
      if (storeNames.length > 0) {
        const tx = db.transaction(storeNames, 'readonly');
        const done = finished(tx);
        // Every request is issued before the first await, so the transaction stays active.
        const pending = storeNames.map((n) => {
          const s = tx.objectStore(n);
          const indexes: IndexSchema[] = Array.from(s.indexNames)
            .sort()
            .map((i) => {
              const ix = s.index(i);
              return { name: ix.name, keyPath: ix.keyPath, unique: ix.unique, multiEntry: ix.multiEntry };
            });
          const keyPath = s.keyPath as string | string[] | null;
          return Promise.all([
            request(s.getAll()),
            keyPath === null ? request(s.getAllKeys()) : Promise.resolve(null),
          ]).then(([values, keys]) => ({
            name: n,
            keyPath,
            autoIncrement: s.autoIncrement,
            indexes,
            keys,
            values: values as unknown[],
          }));
        });
        stores.push(...(await Promise.all(pending)));
        await done;
      }
      out.push({ name, version: db.version, stores });
    } finally {
      db.close();
    }
  }
  return out;
}

/** Recreates `dbs` in `factory`, which must not hold databases of the same names yet. */
export async function importDatabases(factory: IDBFactory, dbs: DbSnapshot[]): Promise<void> {
  for (const d of dbs) {
    let upgraded = false;
    const db = await openDatabase(factory, d.name, d.version, (up) => {
      upgraded = true;
      for (const s of d.stores) {
        const os = up.createObjectStore(s.name, { keyPath: s.keyPath, autoIncrement: s.autoIncrement });
        for (const i of s.indexes)
          os.createIndex(i.name, i.keyPath, { unique: i.unique, multiEntry: i.multiEntry });
      }
    });
    try {
      if (!upgraded) throw new Error(`Database ${d.name} already exists in this factory`);
      const storeNames = d.stores.map((s) => s.name);
      if (storeNames.length === 0) continue;
      const tx = db.transaction(storeNames, 'readwrite');
      const done = finished(tx);
      for (const s of d.stores) {
        const os = tx.objectStore(s.name);
        const keys = s.keys;
        s.values.forEach((v, i) => {
          if (keys === null) os.put(v);
          else os.put(v, keys[i]);
        });
      }
      await done;
    } finally {
      db.close();
    }
  }
}

// --- encoding -------------------------------------------------------------------------

const HOST_DEFAULT = 0;
const HOST_BLOB = 1;
const HOST_FILE = 2;

interface HostHooks {
  _writeHostObject(this: v8.Serializer, obj: object): void;
  _readHostObject(this: v8.Deserializer): unknown;
}

const defaultWrite = (v8.DefaultSerializer.prototype as unknown as HostHooks)._writeHostObject;
const defaultRead = (v8.DefaultDeserializer.prototype as unknown as HostHooks)._readHostObject;

function writeBytes(s: v8.Serializer, b: Uint8Array): void {
  s.writeUint32(b.length);
  s.writeRawBytes(b);
}

function writeString(s: v8.Serializer, v: string): void {
  writeBytes(s, Buffer.from(v, 'utf8'));
}

class StateSerializer extends v8.DefaultSerializer {
  readonly #blobs: Map<Blob, Uint8Array>;

  constructor(blobs: Map<Blob, Uint8Array>) {
    super();
    this.#blobs = blobs;
  }

  _writeHostObject(obj: object): void {
    if (obj instanceof Blob) {
      const bytes = this.#blobs.get(obj);
      if (bytes === undefined) throw new Error('A Blob was not read before serialising');
      const isFile = typeof File !== 'undefined' && obj instanceof File;
      this.writeUint32(isFile ? HOST_FILE : HOST_BLOB);
      writeString(this, obj.type);
      if (isFile) {
        writeString(this, (obj as File).name);
        this.writeDouble((obj as File).lastModified);
      }
      writeBytes(this, bytes);
      return;
    }
    this.writeUint32(HOST_DEFAULT);
    defaultWrite.call(this, obj);
  }
}

class StateDeserializer extends v8.DefaultDeserializer {
  #bytes(): Uint8Array<ArrayBuffer> {
    const n = this.readUint32();
    // Copy: readRawBytes returns a view into the whole file buffer.
    const out = new Uint8Array(n);
    out.set(this.readRawBytes(n));
    return out;
  }

  #string(): string {
    return Buffer.from(this.#bytes()).toString('utf8');
  }

  _readHostObject(): unknown {
    const tag = this.readUint32();
    if (tag === HOST_DEFAULT) return defaultRead.call(this);
    if (tag === HOST_BLOB) {
      const type = this.#string();
      return new Blob([this.#bytes()], { type });
    }
    if (tag === HOST_FILE) {
      const type = this.#string();
      const name = this.#string();
      const lastModified = this.readDouble();
      return new File([this.#bytes()], name, { type, lastModified });
    }
    throw new Error(`Unknown host object tag ${tag}`);
  }
}

/** Every Blob reachable from `root` (rows are plain structured-clone trees). */
function findBlobs(root: unknown): Set<Blob> {
  const found = new Set<Blob>();
  const seen = new Set<object>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    if (v instanceof Blob) found.add(v);
    else if (Array.isArray(v)) for (const x of v) stack.push(x);
    else if (v instanceof Map)
      for (const [k, x] of v) {
        stack.push(k);
        stack.push(x);
      }
    else if (v instanceof Set) for (const x of v) stack.push(x);
    else if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof Date || v instanceof RegExp)
      continue;
    else for (const x of Object.values(v)) stack.push(x);
  }
  return found;
}

export async function encodeSnapshot(snapshot: StateSnapshot): Promise<Buffer> {
  const blobs = new Map<Blob, Uint8Array>();
  for (const b of findBlobs(snapshot)) blobs.set(b, new Uint8Array(await b.arrayBuffer()));
  const s = new StateSerializer(blobs);
  s.writeHeader();
  s.writeValue(snapshot);
  const payload = s.releaseBuffer();
  const version = Buffer.alloc(4);
  version.writeUInt32BE(FORMAT_VERSION);
  const digest = createHash('sha256').update(payload).digest();
  return Buffer.concat([MAGIC, version, digest, payload]);
}

function corrupt(path: string, why: string, cause?: unknown): StateError {
  return new StateError(
    'state-corrupt',
    `${path} cannot be read (${why}). It was left untouched; move it aside to start this user afresh ` +
      '(forms still queued in it would then be lost)',
    path,
    cause,
  );
}

function isSnapshot(v: unknown): v is StateSnapshot {
  if (v === null || typeof v !== 'object') return false;
  const o = v as Partial<StateSnapshot>;
  return (
    typeof o.savedAt === 'string' &&
    Array.isArray(o.databases) &&
    o.databases.every(
      (d) =>
        typeof d?.name === 'string' &&
        typeof d.version === 'number' &&
        Array.isArray(d.stores) &&
        d.stores.every(
          (s) =>
            typeof s?.name === 'string' &&
            Array.isArray(s.values) &&
            Array.isArray(s.indexes) &&
            (s.keys === null || (Array.isArray(s.keys) && s.keys.length === s.values.length)),
        ),
    )
  );
}

/** Reads a file written by `encodeSnapshot`; `path` only names the file in errors. */
export function decodeSnapshot(data: Uint8Array, path: string): StateSnapshot {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < HEADER_BYTES || !buf.subarray(0, MAGIC.length).equals(MAGIC))
    throw corrupt(path, 'not a fieldsim state file');
  const version = buf.readUInt32BE(MAGIC.length);
  if (version !== FORMAT_VERSION)
    throw corrupt(path, `format version ${version}; this fieldsim reads version ${FORMAT_VERSION}`);
  const digest = buf.subarray(MAGIC.length + 4, HEADER_BYTES);
  const payload = buf.subarray(HEADER_BYTES);
  if (!createHash('sha256').update(payload).digest().equals(digest))
    throw corrupt(path, 'checksum mismatch: the file is truncated or damaged');
  let value: unknown;
  try {
    const d = new StateDeserializer(payload);
    d.readHeader();
    value = d.readValue();
  } catch (e) {
    throw corrupt(path, `unreadable payload: ${e instanceof Error ? e.message : String(e)}`, e);
  }
  if (!isSnapshot(value)) throw corrupt(path, 'unexpected content');
  return value;
}
