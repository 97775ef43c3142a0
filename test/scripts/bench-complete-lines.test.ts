import { describe, expect, it } from 'vitest';
import { completeLines } from '../../bench/complete-lines.ts';

describe('completeLines: the records of a JSON-lines file still being written', () => {
  it('leaves out a last line whose newline is not written yet', () => {
    const text = '{"formId":"a","atMs":1}\n{"formId":"b","atMs":2}\n{"formId":"c","at';
    expect(completeLines(text).map((l) => JSON.parse(l) as { formId: string })).toEqual([
      { formId: 'a', atMs: 1 },
      { formId: 'b', atMs: 2 },
    ]);
  });

  it('reads every line of a finished file and nothing of an empty or one-partial-line file', () => {
    expect(completeLines('x\n\ny\n')).toEqual(['x', 'y']);
    expect(completeLines('')).toEqual([]);
    expect(completeLines('{"partial"')).toEqual([]);
  });
});
