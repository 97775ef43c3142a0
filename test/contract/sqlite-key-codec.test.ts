import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { decodeKey, encodeKey, isValidKey } from '../../src/node-store/key-codec.ts';

/** The SQLite store's key encoding sorts as IndexedDB compares keys (fake-indexeddb's `cmp`). */
const idb = new IDBFactory();

const keys: unknown[] = [
  Number.NEGATIVE_INFINITY,
  -1e300,
  -2.5,
  -1,
  -Number.MIN_VALUE,
  0,
  Number.MIN_VALUE,
  1,
  1.5,
  2,
  10,
  1e300,
  Number.POSITIVE_INFINITY,
  new Date(-1000),
  new Date(0),
  new Date(1_700_000_000_000),
  '',
  '\u0000',
  '\u0000a',
  'A',
  'Z',
  'a',
  'aa',
  'ab',
  'b',
  '\u007e',
  '\u007f',
  '\u0080',
  'é',
  '\u3fff',
  '\u407e',
  '\u407f',
  '\u4080',
  '中',
  '\ud83d\ude00',
  '\uffff',
  // (An empty ArrayBuffer is a key too, but fake-indexeddb's cmp refuses it.)
  new Uint8Array([0]).buffer,
  new Uint8Array([0, 0]).buffer,
  new Uint8Array([1]).buffer,
  new Uint8Array([255]).buffer,
  [],
  [0],
  [0, 0],
  [0, 'a'],
  [1],
  ['a'],
  ['a', 1],
  ['a', 'b'],
  [['x']],
  [[]],
  [[[]]],
  [1, [2, [3]]],
];

describe('SQLite key codec', () => {
  it('orders keys byte-wise exactly as IndexedDB compares them', () => {
    for (const a of keys)
      for (const b of keys) {
        const want = idb.cmp(a as IDBValidKey, b as IDBValidKey);
        const got = Math.sign(Buffer.compare(encodeKey(a), encodeKey(b)));
        if (got !== want)
          throw new Error(`${JSON.stringify(a)} vs ${JSON.stringify(b)}: ${got}, want ${want}`);
      }
  });

  it('decodes what it encodes', () => {
    for (const k of keys) expect(idb.cmp(decodeKey(encodeKey(k)) as IDBValidKey, k as IDBValidKey)).toBe(0);
    expect(decodeKey(encodeKey([7, 'gen', ['x', 2]]))).toEqual([7, 'gen', ['x', 2]]);
  });

  it('refuses what IndexedDB refuses as a key', () => {
    for (const bad of [Number.NaN, null, undefined, {}, true, new Date(Number.NaN), [1, null]])
      expect(isValidKey(bad)).toBe(false);
    expect(() => encodeKey({})).toThrow(expect.objectContaining({ name: 'DataError' }));
  });
});
