import { Dexie } from 'dexie';
import { afterAll, describe, expect, it } from 'vitest';
import type { IndexedDbDeps } from '../../src/core/platform.ts';
import { MemoryStore } from '../../src/node-store/memory-store.ts';
import { SqliteStore } from '../../src/node-store/sqlite-store.ts';

/**
 * The QA runner's Map-backed store against the SQLite store, request by request through
 * Dexie: the same answers for keys, ranges, indexes (unique, multi-entry, compound),
 * directions, cursors, failed requests and aborted transactions.
 */

interface Item {
  id?: number;
  name: string;
  tags: string[];
  gen: number;
  page: number;
}

const closers: (() => void)[] = [];
afterAll(() => {
  for (const c of closers) c();
});

function open(deps: IndexedDbDeps): Dexie & { items: Dexie.Table<Item, number> } {
  const db = new Dexie('semantics', { indexedDB: deps.indexedDB, IDBKeyRange: deps.IDBKeyRange }) as Dexie & {
    items: Dexie.Table<Item, number>;
  };
  db.version(1).stores({ items: '++id, &name, *tags, [gen+page]' });
  deps.backend?.install(db);
  return db;
}

async function script(db: Dexie & { items: Dexie.Table<Item, number> }): Promise<unknown[]> {
  const out: unknown[] = [];
  const note = async (what: string, f: () => Promise<unknown>) => {
    try {
      out.push([what, await f()]);
    } catch (e) {
      out.push([what, 'error', (e as Error).name]);
    }
  };
  await note('bulkAdd', () =>
    db.items.bulkAdd([
      { name: 'b', tags: ['x', 'y'], gen: 1, page: 2 },
      { name: 'a', tags: ['y'], gen: 1, page: 1 },
      { name: 'c', tags: [], gen: 2, page: 1 },
      { name: 'd', tags: ['x', 'x', 'z'], gen: 1, page: 3 },
    ]),
  );
  await note('duplicate unique name', () => db.items.add({ name: 'a', tags: [], gen: 9, page: 9 }));
  await note('bulkAdd partly failing', () =>
    db.items
      .bulkAdd([
        { name: 'e', tags: ['q'], gen: 3, page: 1 },
        { name: 'b', tags: [], gen: 3, page: 2 },
      ])
      .catch((e: Error & { failures?: unknown[] }) => `${e.name} ${e.failures?.length}`),
  );
  await note('explicit key moves the generator', () =>
    db.items.put({ id: 40, name: 'f', tags: [], gen: 4, page: 1 }),
  );
  await note('next generated key', () => db.items.add({ name: 'g', tags: [], gen: 4, page: 2 }));
  await note('by primary key', () => db.items.toArray());
  await note('by name, reverse, limit', () => db.items.orderBy('name').reverse().limit(3).primaryKeys());
  await note('multi-entry tag x', () => db.items.where('tags').equals('x').primaryKeys());
  await note('unique tags', () => db.items.orderBy('tags').uniqueKeys());
  await note('tags between x and z, open upper', () =>
    db.items.where('tags').between('x', 'z').primaryKeys(),
  );
  await note('compound gen 1 pages 2..', () =>
    db.items.where('[gen+page]').between([1, 2], [1, Dexie.maxKey]).toArray(),
  );
  await note('count gen+page', () => db.items.where('[gen+page]').above([1, 1]).count());
  await note('cursor modify', () =>
    db.items
      .where('gen')
      .equals(1)
      .modify({ gen: 5 })
      .catch(() => 'no gen index'),
  );
  await note('filter count', () => db.items.filter((i) => i.gen === 4).count());
  await note('aborted transaction keeps nothing', async () => {
    await db
      .transaction('rw', db.items, async () => {
        await db.items.put({ id: 1, name: 'changed', tags: ['w'], gen: 7, page: 7 });
        await db.items.delete(2);
        await db.items.add({ name: 'h', tags: [], gen: 8, page: 8 });
        throw new Error('stop');
      })
      .catch(() => undefined);
    return [await db.items.toArray(), await db.items.where('tags').equals('w').count()];
  });
  await note('key generator after the abort', () => db.items.add({ name: 'i', tags: [], gen: 4, page: 3 }));
  await note('a stored value is a copy', async () => {
    const v = (await db.items.get(1)) as Item;
    v.tags.push('mutated');
    return (await db.items.get(1))?.tags;
  });
  await note('deleteRange', async () => {
    await db.items.where(':id').between(2, 40, true, true).delete();
    return db.items.toCollection().primaryKeys();
  });
  await note('clear', async () => {
    await db.items.clear();
    return db.items.count();
  });
  return out;
}

describe('Map-backed DBCore (QA runner worker store)', () => {
  it('answers every request as the SQLite store does', async () => {
    const sqlite = SqliteStore.open(':memory:');
    const memory = new MemoryStore();
    closers.push(
      () => sqlite.close(),
      () => memory.close(),
    );
    const a = open(sqlite.deps());
    const b = open(memory.deps());
    const want = await script(a);
    const got = await script(b);
    expect(got).toEqual(want);
    // The script meets the failures it means to meet.
    expect(JSON.stringify(want)).toContain('ConstraintError');
    a.close();
    b.close();
  });

  it('keeps a database between opens and forgets it when closed', async () => {
    const memory = new MemoryStore();
    const db = open(memory.deps());
    await db.items.add({ name: 'kept', tags: [], gen: 1, page: 1 });
    db.close();
    const again = open(memory.deps());
    expect((await again.items.toArray()).map((i) => i.name)).toEqual(['kept']);
    expect(memory.databaseNames()).toEqual(['semantics']);
    again.close();
    memory.close();
    expect(memory.databaseNames()).toEqual([]);
    await expect(open(memory.deps()).items.count()).rejects.toThrow();
  });
});
