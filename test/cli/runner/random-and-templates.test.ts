import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../../src/cli/runner/parse-scenario.ts';
import { compileTemplate, type TemplateContext, TemplateError } from '../../../src/cli/runner/template.ts';
import { arrivalOffsets, parseShard, planWorkers } from '../../../src/cli/runner/workers-plan.ts';
import { Prng } from '../../../src/core/lib/prng.ts';

const draw = (p: Prng, n: number) => Array.from({ length: n }, () => p.next());

function ctx(rng: Prng, iterations: number[] = [3]): TemplateContext {
  return { worker: 7, user: 'qa7', shard: 2, iterations, rng, today: () => '2026-11-28' };
}

describe('Prng', () => {
  it('gives the same stream for the same seed and labels, and different ones otherwise', () => {
    expect(draw(new Prng('42', 'worker', 1), 20)).toEqual(draw(new Prng('42', 'worker', 1), 20));
    expect(draw(new Prng('42', 'worker', 1), 5)).not.toEqual(draw(new Prng('42', 'worker', 2), 5));
    expect(draw(new Prng('42', 'worker', 1), 5)).not.toEqual(draw(new Prng('43', 'worker', 1), 5));
  });

  it('is roughly uniform and stays in range', () => {
    const p = new Prng('uniform');
    const buckets = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const x = p.next();
      expect(x >= 0 && x < 1).toBe(true);
      buckets[Math.floor(x * 10)]++;
    }
    for (const b of buckets) expect(Math.abs(b - 10_000)).toBeLessThan(500);
    for (let i = 0; i < 1000; i++) {
      const n = p.int(3, 5);
      expect(n >= 3 && n <= 5).toBe(true);
    }
  });

  it('chooses mix branches by weight', () => {
    const p = new Prng('weights');
    const n = new Map<number, number>();
    for (let i = 0; i < 20_000; i++) {
      const k = p.weighted([45, 45, 10]);
      n.set(k, (n.get(k) ?? 0) + 1);
    }
    const share = (k: number) => (n.get(k) ?? 0) / 20_000;
    expect(share(2)).toBeGreaterThan(0.08);
    expect(share(2)).toBeLessThan(0.12);
    expect(Math.abs(share(0) - share(1))).toBeLessThan(0.04);
  });
});

describe('templates', () => {
  it('fills worker, user, i, shard and today', () => {
    const t = compileTemplate('HH {{worker}}-{{i}} {{user}} s{{ shard }} {{today}}', { inRepeat: true });
    expect(t.render(ctx(new Prng('x')))).toBe('HH 7-3 qa7 s2 2026-11-28');
    expect(t.random).toBe(false);
  });

  it('uses the innermost repeat counter', () => {
    expect(compileTemplate('{{i}}', { inRepeat: true }).render(ctx(new Prng('x'), [2, 9]))).toBe('9');
  });

  it('draws pick and int from the worker PRNG, reproducibly', () => {
    const t = compileTemplate('{{pick a b "c d"}}/{{int 1 6}}', { inRepeat: false });
    expect(t.random).toBe(true);
    const run = () => {
      const c = ctx(new Prng('42', 'worker', 7));
      return Array.from({ length: 50 }, () => t.render(c));
    };
    const a = run();
    expect(a).toEqual(run());
    for (const v of a) expect(v).toMatch(/^(a|b|c d)\/[1-6]$/);
    expect(new Set(a.map((v) => v.split('/')[0])).size).toBe(3);
  });

  it('rejects unknown placeholders, bad arguments and unclosed braces', () => {
    expect(() => compileTemplate('{{nope}}', { inRepeat: false })).toThrow(TemplateError);
    expect(() => compileTemplate('{{int 5 1}}', { inRepeat: false })).toThrow(/MIN <= MAX/);
    expect(() => compileTemplate('{{pick}}', { inRepeat: false })).toThrow(/at least one/);
    expect(() => compileTemplate('x {{worker', { inRepeat: false })).toThrow(/unclosed/);
    expect(() => compileTemplate('{{i}}', { inRepeat: false })).toThrow(/inside a repeat/);
  });
});

describe('shards and arrivals', () => {
  const scenario = parseScenario(
    'name: s\ndomain: demo\nseed: 7\nworkers: { count: 10, users: { prefix: qa, password: pw } }\narrival: { rate: 10/s, ramp: [{ for: 2s, rate: 1/s }], jitter: 0.5 }\nsteps: [login]\n',
  );

  it('parses i/n', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseShard('0/4')).toBeNull();
    expect(parseShard('5/4')).toBeNull();
    expect(parseShard('x')).toBeNull();
  });

  it('splits workers round-robin into disjoint shards that cover the run', () => {
    const all = planWorkers(scenario, { index: 1, count: 1 });
    const shards = [1, 2, 3].map((i) => planWorkers(scenario, { index: i, count: 3 }));
    expect(shards.map((s) => s.map((w) => w.username))).toEqual([
      ['qa1', 'qa4', 'qa7', 'qa10'],
      ['qa2', 'qa5', 'qa8'],
      ['qa3', 'qa6', 'qa9'],
    ]);
    // Same worker, same start time, whichever shard runs it.
    const byName = new Map(all.map((w) => [w.username, w.startOffsetMs]));
    for (const w of shards.flat()) expect(w.startOffsetMs).toBe(byName.get(w.username));
  });

  it('follows the ramp, then the rate, with seeded jitter', () => {
    const a = arrivalOffsets(10, scenario.arrival, '7');
    expect(a).toEqual(arrivalOffsets(10, scenario.arrival, '7'));
    expect(a[0]).toBe(0);
    // Ramp at 1/s (gaps 0.5-1.5 s with jitter 0.5) for 2 s, then 10/s (gaps 50-150 ms).
    const late = a.slice(-4);
    for (let i = 1; i < late.length; i++) {
      const gap = (late[i] ?? 0) - (late[i - 1] ?? 0);
      expect(gap).toBeGreaterThanOrEqual(49);
      expect(gap).toBeLessThanOrEqual(151);
    }
    expect(arrivalOffsets(3, undefined, '7')).toEqual([0, 0, 0]);
  });

  it('needs a password from the scenario or the flag', () => {
    const s = parseScenario(
      'name: s\ndomain: demo\nworkers: { count: 2, users: { prefix: qa } }\nsteps: [login]\n',
    );
    expect(() => planWorkers(s, { index: 1, count: 1 })).toThrow(/no password for qa1/);
    expect(planWorkers(s, { index: 1, count: 1 }, { password: 'p' })[1]).toMatchObject({
      username: 'qa2',
      password: 'p',
    });
  });
});
