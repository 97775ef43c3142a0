import { describe, expect, it } from 'vitest';
import {
  gatedFetch,
  isSimulated,
  NetworkSim,
  type RequestSample,
} from '../../../src/cli/runner/network-sim.ts';
import { NetworkError } from '../../../src/core/errors/network-error.ts';
import { Prng } from '../../../src/core/lib/prng.ts';

const ok = async () => new Response('ok', { status: 200 });

function reset(): Error {
  return new TypeError('fetch failed', {
    cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }),
  });
}

describe('NetworkSim', () => {
  it('fails every request while offline, without calling the real fetch', async () => {
    let calls = 0;
    const sim = new NetworkSim(
      async () => {
        calls++;
        return ok();
      },
      new Prng('n'),
      () => undefined,
    );
    sim.online = false;
    const e = await sim.fetch('http://hq/a/demo/receiver/').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NetworkError);
    expect(isSimulated(e)).toBe(true);
    expect((e as NetworkError).code).toBe('network-offline');
    expect(calls).toBe(0);
    expect(sim.simulatedFailures).toBe(1);
  });

  it('fails about the configured share, reproducibly, and times each request by endpoint', async () => {
    const run = async () => {
      const samples: RequestSample[] = [];
      const sim = new NetworkSim(ok, new Prng('7', 'worker', 1, 'network'), (s) => samples.push(s));
      sim.fail = 0.3;
      const outcomes: boolean[] = [];
      for (let i = 0; i < 400; i++)
        outcomes.push(
          await sim.fetch('http://hq/a/demo/phone/restore/?since=x').then(
            () => true,
            () => false,
          ),
        );
      return { outcomes, samples };
    };
    const a = await run();
    expect(a.outcomes).toEqual((await run()).outcomes);
    const failed = a.outcomes.filter((x) => !x).length;
    expect(failed).toBeGreaterThan(80);
    expect(failed).toBeLessThan(160);
    expect(a.samples.every((s) => s.endpoint === 'restore')).toBe(true);
    expect(a.samples.filter((s) => s.status === 0).length).toBe(failed);
  });
});

describe('gatedFetch', () => {
  it('keeps at most N requests waiting for headers', async () => {
    let active = 0;
    let peak = 0;
    const slow = async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5));
      active--;
      return ok();
    };
    const f = gatedFetch(slow, 3);
    await Promise.all(Array.from({ length: 20 }, () => f('http://hq/x')));
    expect(peak).toBe(3);
  });

  it('retries a GET after a reset socket (at most 3 times), never a POST', async () => {
    let calls = 0;
    const flaky = async () => {
      calls++;
      if (calls === 1) throw reset();
      return ok();
    };
    expect((await gatedFetch(flaky, 2)('http://hq/a/demo/phone/restore/')).status).toBe(200);
    expect(calls).toBe(2);
    calls = 0;
    await expect(gatedFetch(flaky, 2)('http://hq/a/demo/receiver/', { method: 'POST' })).rejects.toThrow(
      'fetch failed',
    );
    expect(calls).toBe(1);
  });
});
