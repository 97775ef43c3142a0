import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_ACTIVE, resolveMaxActive } from '../../../src/cli/runner/engine.ts';
import { autoThreads, shareLimits, THREADS_AUTO_MIN_WORKERS } from '../../../src/cli/runner/run-threads.ts';

describe('run over threads: how many, and what share of the limits each takes', () => {
  it('uses every core (at most 8) from 200 workers, one thread below', () => {
    expect(THREADS_AUTO_MIN_WORKERS).toBe(200);
    expect(autoThreads(199, 2)).toBe(1);
    expect(autoThreads(200, 2)).toBe(2);
    expect(autoThreads(1000, 1)).toBe(1);
    expect(autoThreads(5000, 32)).toBe(8);
  });

  it('splits the run-wide limits between the threads, keeping "no limit" on restores', () => {
    expect(shareLimits({}, 2)).toEqual({ maxInFlight: 100, maxRestores: 50, autoMaxActive: 125 });
    expect(shareLimits({ maxInFlight: 5, maxRestores: 3 }, 2)).toMatchObject({
      maxInFlight: 3,
      maxRestores: 2,
    });
    expect(shareLimits({ maxInFlight: 1, maxRestores: 0 }, 4)).toMatchObject({
      maxInFlight: 1,
      maxRestores: 0,
    });
    // --max-active: 0 stays "no limit"; a limit is shared like the others; absent, each
    // thread gets its share of the automatic bound (decided by its own scenario).
    expect(shareLimits({ maxActive: 0 }, 2)).toEqual({ maxInFlight: 100, maxRestores: 50, maxActive: 0 });
    expect(shareLimits({ maxActive: 301 }, 2)).toEqual({ maxInFlight: 100, maxRestores: 50, maxActive: 151 });
    expect(shareLimits({ autoMaxActive: 0 }, 2)).toMatchObject({ autoMaxActive: 0 });
  });

  it('bounds a big batch run by default, never a run with a duration, never against --max-active', () => {
    expect(DEFAULT_MAX_ACTIVE).toBe(250);
    expect(resolveMaxActive({}, 1000, false)).toBe(250);
    expect(resolveMaxActive({}, 250, false)).toBe(0);
    expect(resolveMaxActive({}, 1000, true)).toBe(0);
    expect(resolveMaxActive({ maxActive: 0 }, 1000, false)).toBe(0);
    expect(resolveMaxActive({ maxActive: 400 }, 1000, false)).toBe(400);
    expect(resolveMaxActive({ autoMaxActive: 125 }, 500, false)).toBe(125);
    expect(resolveMaxActive({ autoMaxActive: 0 }, 500, false)).toBe(0);
  });
});
