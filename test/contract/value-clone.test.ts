import { deserialize, serialize } from 'node:v8';
import { Dexie } from 'dexie';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/node-store/memory-store.ts';
import { cloneValue } from '../../src/node-store/value-clone.ts';

/**
 * The in-memory store's private copies (value-clone.ts): the same values back as V8's
 * structured clone gives, never the caller's objects, and the same DataCloneError.
 */
describe('cloneValue', () => {
  const samples: unknown[] = [
    'text',
    42,
    null,
    undefined,
    true,
    10n,
    { a: 1, b: 'x', c: [1, 'two', { d: null, e: undefined }], f: { g: { h: [[]] } } },
    [1, [2, [3]], { x: 'y' }],
    new Date(1_700_000_000_000),
    new Map<unknown, unknown>([
      ['k', { v: 1 }],
      [2, [3]],
    ]),
    new Set(['a', 1]),
    new Uint8Array([1, 2, 3]),
    new Float64Array([1.5, -2]).subarray(1),
    new Uint8Array([9, 8, 7]).buffer,
    Buffer.from('bytes'),
    new DataView(new Uint8Array([5, 6]).buffer),
    Object.assign(Object.create(null) as Record<string, unknown>, { p: 'q' }),
    /re/g,
    Object.assign([1, 2], { extra: 'kept' }),
    // biome-ignore lint/suspicious/noSparseArray: a sparse array takes V8's path
    [1, , 3],
  ];

  it.each(samples.map((s, i) => [i, s]))('sample %i comes back as a structured clone would', (_, s) => {
    expect(cloneValue(s)).toEqual(deserialize(serialize(s)));
  });

  it('never hands back the object it was given, at any depth', () => {
    const v = { rows: [{ cases: ['a'] }], bytes: new Uint8Array([1]) };
    const c = cloneValue(v) as typeof v;
    expect(c).not.toBe(v);
    expect(c.rows).not.toBe(v.rows);
    expect(c.rows[0]).not.toBe(v.rows[0]);
    expect(c.bytes.buffer).not.toBe(v.bytes.buffer);
    v.rows[0]?.cases.push('b');
    (v.bytes as Uint8Array)[0] = 9;
    expect(c).toEqual({ rows: [{ cases: ['a'] }], bytes: new Uint8Array([1]) });
  });

  it('clones cyclic and very deep values through V8', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const back = cloneValue(cyclic) as Record<string, unknown>;
    expect(back.self).toBe(back);
    let deep: unknown = 'bottom';
    for (let i = 0; i < 200; i++) deep = { deep };
    expect(cloneValue(deep)).toEqual(deep);
  });

  it('refuses functions and symbols with a DataCloneError, as IndexedDB does', () => {
    expect(() => cloneValue({ f: () => 1 })).toThrow(expect.objectContaining({ name: 'DataCloneError' }));
    expect(() => cloneValue([Symbol('s')])).toThrow(expect.objectContaining({ name: 'DataCloneError' }));
  });

  it('a stored value cannot be changed through the object put or the object read', async () => {
    const store = new MemoryStore();
    const deps = store.deps();
    const db = new Dexie('clone', { indexedDB: deps.indexedDB, IDBKeyRange: deps.IDBKeyRange }) as Dexie & {
      rows: Dexie.Table<{ id: string; list: string[] }, string>;
    };
    db.version(1).stores({ rows: 'id' });
    deps.backend?.install(db);
    const row = { id: 'r', list: ['a'] };
    await db.rows.put(row);
    row.list.push('changed after put');
    const read = await db.rows.get('r');
    read?.list.push('changed after get');
    expect(await db.rows.get('r')).toEqual({ id: 'r', list: ['a'] });
    expect(await db.rows.toArray()).toEqual([{ id: 'r', list: ['a'] }]);
    await expect(db.rows.put({ id: 'f', list: [(() => 1) as unknown as string] })).rejects.toMatchObject({
      name: 'DataCloneError',
    });
    expect(await db.rows.count()).toBe(1);
    db.close();
    store.close();
  });
});
