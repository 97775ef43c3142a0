import { describe, expect, it } from 'vitest';
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
    expect(shareLimits({}, 2)).toEqual({ maxInFlight: 100, maxRestores: 50 });
    expect(shareLimits({ maxInFlight: 5, maxRestores: 3 }, 2)).toEqual({ maxInFlight: 3, maxRestores: 2 });
    expect(shareLimits({ maxInFlight: 1, maxRestores: 0 }, 4)).toEqual({ maxInFlight: 1, maxRestores: 0 });
    // --max-active: absent or 0 stays "no limit"; a limit is shared like the others.
    expect(shareLimits({ maxActive: 0 }, 2)).toEqual({ maxInFlight: 100, maxRestores: 50 });
    expect(shareLimits({ maxActive: 301 }, 2)).toEqual({ maxInFlight: 100, maxRestores: 50, maxActive: 151 });
  });
});
