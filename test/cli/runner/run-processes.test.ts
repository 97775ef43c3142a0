import { describe, expect, it } from 'vitest';
import { subShard } from '../../../src/cli/runner/run-processes.ts';

const owner = (k: number, s: { count: number }) => ((k - 1) % s.count) + 1;

describe('subShard', () => {
  it('splits a shard among processes so every worker of it runs exactly once, and nothing else', () => {
    for (const shard of [
      { index: 1, count: 1 },
      { index: 2, count: 3 },
    ])
      for (const processes of [2, 3, 4]) {
        const parts = Array.from({ length: processes }, (_, j) => subShard(shard, processes, j + 1));
        for (let k = 1; k <= 120; k++) {
          const runners = parts.filter((p) => owner(k, p) === p.index);
          expect(runners.length).toBe(owner(k, shard) === shard.index ? 1 : 0);
        }
      }
  });
});
