import { Dexie } from 'dexie';
import { describe, expect, it } from 'vitest';
import type { IndexedDbDeps } from '../../src/core/platform.ts';
import { MemoryStore } from '../../src/node-store/memory-store.ts';
import { SchemaIdbFactory } from '../../src/node-store/schema-idb.ts';
import { SchemaIdbError } from '../../src/node-store/schema-idb-error.ts';
import { SchemaKeyRange } from '../../src/node-store/schema-key-range.ts';
import { SqliteStore } from '../../src/node-store/sqlite-store.ts';

/**
 * The schema-only IndexedDB under the Node stores (src/node-store/schema-idb.ts): Dexie's
 * open handshake and schema upgrades work on it, data requests are refused with a typed
 * error, and records go through the stores' DBCores.
 */

function dexieOn(deps: IndexedDbDeps, name: string): Dexie {
  const db = new Dexie(name, { indexedDB: deps.indexedDB, IDBKeyRange: deps.IDBKeyRange });
  deps.backend?.install(db);
  return db;
}

function request<T>(r: {
  onsuccess: unknown;
  onerror: unknown;
  result?: T;
  error?: unknown;
}): Promise<NonNullable<T>> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result as NonNullable<T>);
    r.onerror = () => reject(r.error);
  });
}

describe('schema-only IndexedDB', () => {
  it('Dexie reads back every kind of key and index, and records go through the store', async () => {
    for (const store of [new MemoryStore(), SqliteStore.open(':memory:')]) {
      const deps = store.deps();
      const db = dexieOn(deps, 'kinds');
      db.version(3).stores({
        auto: '++id, name',
        compound: '[a+b], &code, *tags, [b+a]',
        outbound: ', v',
      });
      await db.open();
      const schema = db.core.schema.tables.map((t) => ({
        name: t.name,
        pk: [t.primaryKey.keyPath, t.primaryKey.autoIncrement, t.primaryKey.outbound],
        idx: t.indexes.map((i) => [i.name, i.keyPath, i.unique, i.multiEntry]),
      }));
      expect(schema).toEqual([
        { name: 'auto', pk: ['id', true, false], idx: [['name', 'name', false, false]] },
        {
          name: 'compound',
          pk: [['a', 'b'], false, false],
          idx: [
            ['[b+a]', ['b', 'a'], false, false],
            ['code', 'code', true, false],
            ['tags', 'tags', false, true],
          ],
        },
        { name: 'outbound', pk: [null, false, true], idx: [['v', 'v', false, false]] },
      ]);
      expect(db.verno).toBe(3);
      // No list of names kept by Dexie in a database of its own (that would need records).
      expect(await deps.indexedDB.databases()).toEqual([{ name: 'kinds', version: 30 }]);

      await db.table('auto').bulkAdd([{ name: 'x' }, { name: 'y' }]);
      await db.table('compound').put({ a: 1, b: 'z', code: 'c1', tags: ['p', 'q'] });
      await db.table('outbound').put({ v: 7 }, 'k1');
      expect(await db.table('auto').where('name').equals('y').first()).toEqual({ id: 2, name: 'y' });
      expect(await db.table('compound').where('tags').equals('q').count()).toBe(1);
      expect(await db.table('compound').where('code').above('').primaryKeys()).toEqual([[1, 'z']]);
      await expect(db.table('compound').put({ a: 2, b: 'z', code: 'c1', tags: [] })).rejects.toMatchObject({
        name: 'ConstraintError',
      });
      expect(await db.table('outbound').get('k1')).toEqual({ v: 7 });
      // Dexie's MAX_KEY is the array one (it probed IDBKeyRange.only([[]])).
      expect(await db.table('auto').where('id').between(0, Dexie.maxKey).count()).toBe(2);
      db.close();
      store.close();
    }
  });

  it('a later schema version on the same connection adds its index over the stored rows', async () => {
    const store = SqliteStore.open(':memory:');
    const deps = store.deps();
    const v1 = dexieOn(deps, 'grow');
    v1.version(1).stores({ people: 'id' });
    await v1.open();
    // More rows than one backfill batch (sqlite-dbcore.ts).
    await v1
      .table('people')
      .bulkPut(
        Array.from({ length: 1300 }, (_, i) => ({ id: i + 1, town: i % 100 === 1 ? 'Lira' : 'Gulu' })),
      );
    v1.close();
    const v2 = dexieOn(deps, 'grow');
    v2.version(2).stores({ people: 'id, town', notes: '++n' });
    await v2.open();
    expect(v2.tables.map((t) => t.name).sort()).toEqual(['notes', 'people']);
    expect(await v2.table('people').where('town').equals('Lira').primaryKeys()).toEqual(
      Array.from({ length: 13 }, (_, i) => i * 100 + 2),
    );
    v2.close();
    // An older version than the one stored: Dexie reopens at the stored one, as in a browser.
    const old = dexieOn(deps, 'grow');
    old.version(1).stores({ people: 'id' });
    await old.open();
    expect(old.backendDB().version).toBe(20);
    expect(await old.table('people').count()).toBe(1300);
    old.close();
    store.close();
  });

  it('refuses every data request with a typed error naming the call', async () => {
    const factory = new SchemaIdbFactory();
    const req = factory.open('raw', 1);
    req.onupgradeneeded = () => {
      const s = req.result?.createObjectStore('s', { keyPath: 'k' });
      s?.createIndex('v', 'v');
    };
    const db = await request(req);
    expect([...db.objectStoreNames]).toEqual(['s']);
    const tx = db.transaction(['s'], 'readonly');
    const store = tx.objectStore('s');
    expect(store.keyPath).toBe('k');
    expect([...store.indexNames]).toEqual(['v']);
    for (const call of [
      () => store.put(),
      () => store.get(),
      () => store.openCursor(),
      () => store.count(),
      () => db.transaction('s', 'readwrite'),
      () => factory.cmp(),
      () => SchemaKeyRange.only(1).includes(1),
    ]) {
      let caught: unknown;
      try {
        call();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(SchemaIdbError);
      expect(caught).toMatchObject({ code: 'storage-error' });
    }
    expect(() => store.createIndex('w', 'w')).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
    expect(() => db.createObjectStore('t')).toThrow(expect.objectContaining({ name: 'InvalidStateError' }));
    db.close();
  });

  it('versions: a lower one is a VersionError; an aborted upgrade leaves the schema as it was', async () => {
    const factory = new SchemaIdbFactory();
    const first = factory.open('v', 2);
    first.onupgradeneeded = () => first.result?.createObjectStore('a');
    (await request(first)).close();

    await expect(request(factory.open('v', 1))).rejects.toMatchObject({ name: 'VersionError' });

    const up = factory.open('v', 3);
    up.onupgradeneeded = () => {
      up.result?.createObjectStore('b');
      up.transaction?.abort();
    };
    await expect(request(up)).rejects.toMatchObject({ name: 'AbortError' });
    const again = await request(factory.open('v'));
    expect(again.version).toBe(2);
    expect([...again.objectStoreNames]).toEqual(['a']);
    again.close();
    expect(await factory.databases()).toEqual([{ name: 'v', version: 2 }]);
    await request(factory.deleteDatabase('v'));
    expect(await factory.databases()).toEqual([]);
  });

  it('key ranges: IndexedDB keys only, bounds in order', () => {
    expect(SchemaKeyRange.only([[]])).toMatchObject({ lower: [[]], upper: [[]] });
    expect(SchemaKeyRange.bound(1, 'a', true)).toMatchObject({ lower: 1, upper: 'a', lowerOpen: true });
    expect(SchemaKeyRange.lowerBound('x')).toMatchObject({ lower: 'x', upper: undefined, upperOpen: true });
    for (const bad of [
      () => SchemaKeyRange.only(undefined),
      () => SchemaKeyRange.only(Number.NaN),
      () => SchemaKeyRange.upperBound({}),
      () => SchemaKeyRange.bound('b', 'a'),
      () => SchemaKeyRange.bound(1, 1, true),
    ])
      expect(bad).toThrow(expect.objectContaining({ name: 'DataError' }));
  });
});
