import { describe, expect, it } from 'vitest';
import { createInProcessLock, systemClock } from '../../../src/core/platform.ts';

describe('createInProcessLock', () => {
  it('runs holders of the same name one at a time, in order, even when one fails', async () => {
    const lock = createInProcessLock();
    const events: string[] = [];
    const job = (id: string, ms: number, fail = false) =>
      lock('outbox', async () => {
        events.push(`start ${id}`);
        await new Promise((r) => setTimeout(r, ms));
        events.push(`end ${id}`);
        if (fail) throw new Error(id);
        return id;
      });
    const results = await Promise.allSettled([job('a', 20, true), job('b', 5), job('c', 1)]);
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
  });

  it('does not serialise different names', async () => {
    const lock = createInProcessLock();
    const events: string[] = [];
    let release: () => void = () => {};
    const held = lock(
      'x',
      () =>
        new Promise<void>((r) => {
          release = r;
        }),
    );
    await lock('y', async () => {
      events.push('y ran while x held');
    });
    release();
    await held;
    expect(events).toEqual(['y ran while x held']);
  });
});

describe('systemClock.sleep', () => {
  it('rejects promptly when aborted', async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    const p = systemClock.sleep(10_000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
