import { deserialize, serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { V8RowWriter } from '../../../src/node-store/v8-row-writer.ts';

/**
 * src/node-store/v8-row-writer.ts: the packed page rows the restore parse thread writes by
 * hand are what `v8.serialize` makes of the same objects, byte for byte, and read back the
 * same, Latin-1 and two-byte strings alike, across a buffer that had to grow.
 */
describe('V8RowWriter', () => {
  it('writes page and summary rows as v8.serialize does', () => {
    const w = new V8RowWriter(64);
    const pages: [number, number, string[], string[]][] = [
      [1, 0, ['a', 'b'], ['{"x":1}', '{"é":"ü"}']],
      [3, 123_456, ['日本', 'x'.repeat(300)], ['{"e":"😀"}', 'y'.repeat(70_000)]],
      [2 ** 30 - 1, 7, [], []],
      [2, 1, ['ō'], ['z']],
    ];
    const bounds = pages.map(([gen, page, ids, data]) => [
      w.pageRow(gen, page, ids, data),
      w.sumRow(gen, page, `${JSON.stringify(ids)}ō`),
    ]);
    const bytes = w.take();
    const at = ([s, e]: [number, number]): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset + s, e - s);
    pages.forEach(([gen, page, ids, data], i) => {
      const [pageAt, sumAt] = bounds[i] as [[number, number], [number, number]];
      expect(at(pageAt).equals(serialize({ gen, page, ids, data }))).toBe(true);
      expect(deserialize(at(pageAt))).toEqual({ gen, page, ids, data });
      const sums = `${JSON.stringify(ids)}ō`;
      expect(at(sumAt).equals(serialize({ gen, page, sums }))).toBe(true);
      expect(deserialize(at(sumAt))).toEqual({ gen, page, sums });
    });
  });
});
