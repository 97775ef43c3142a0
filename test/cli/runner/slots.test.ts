import { describe, expect, it } from 'vitest';
import { Slots } from '../../../src/cli/runner/worker.ts';

describe('Slots (the bound on workers restoring at once)', () => {
  it('runs at most n tasks at once, in arrival order, and frees a slot when a task fails', async () => {
    const slots = new Slots(2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const task = (i: number, fail = false) =>
      slots.run(async () => {
        running++;
        most = Math.max(most, running);
        order.push(i);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        if (fail) throw new Error(`task ${i} failed`);
        return i;
      });
    const results = await Promise.allSettled([task(1), task(2, true), task(3), task(4), task(5)]);
    expect(most).toBe(2);
    expect(order).toEqual([1, 2, 3, 4, 5]);
    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
    // Every slot came back: two more tasks start at once.
    running = 0;
    most = 0;
    await Promise.all([task(6), task(7)]);
    expect(most).toBe(2);
  });
});
