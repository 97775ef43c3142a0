import { describe, expect, it } from 'vitest';
import { Histogram } from '../../../src/cli/runner/histogram.ts';
import { escapeXml, toJunit } from '../../../src/cli/runner/junit.ts';
import { RunMetrics } from '../../../src/cli/runner/metrics.ts';
import { parseScenario } from '../../../src/cli/runner/parse-scenario.ts';
import {
  buildReport,
  checkReport,
  formatSummary,
  mergeReports,
  type RunReport,
} from '../../../src/cli/runner/report.ts';
import { Prng } from '../../../src/core/lib/prng.ts';

function exactPercentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

describe('Histogram', () => {
  it('reads percentiles within 1% of the exact nearest-rank value', () => {
    const rng = new Prng('latency');
    const h = new Histogram();
    const xs: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      // Log-normal-ish latencies from 1 ms to a few seconds.
      const x = Math.exp(rng.next() * 8) * (0.5 + rng.next());
      xs.push(x);
      h.record(x);
    }
    xs.sort((a, b) => a - b);
    for (const p of [50, 90, 95, 99, 99.9]) {
      const want = exactPercentile(xs, p);
      expect(Math.abs(h.percentile(p) - want) / want).toBeLessThan(0.01);
    }
    expect(h.percentile(100)).toBe(xs[xs.length - 1]);
    expect(h.count).toBe(20_000);
  });

  it('merges to the same percentiles as one histogram of all samples', () => {
    const rng = new Prng('merge');
    const all = new Histogram();
    const parts = [new Histogram(), new Histogram(), new Histogram()];
    for (let i = 0; i < 9000; i++) {
      const x = rng.next() * 1000;
      all.record(x);
      parts[i % 3]?.record(x);
    }
    const merged = new Histogram();
    for (const p of parts) merged.merge(Histogram.fromJSON(JSON.parse(JSON.stringify(p.toJSON()))));
    for (const p of [50, 95, 99]) expect(merged.percentile(p)).toBe(all.percentile(p));
    expect(merged.count).toBe(all.count);
    expect(merged.maxMs).toBeCloseTo(all.maxMs, 2);
  });

  it('is empty-safe', () => {
    expect(new Histogram().percentile(99)).toBe(0);
    expect(new Histogram().toJSON()).toEqual({ count: 0, sumMs: 0, minMs: 0, maxMs: 0, buckets: [] });
  });
});

const scenario = parseScenario(
  'name: merge-me\ndomain: demo\nseed: 1\nworkers: { count: 4, users: { prefix: qa, password: pw } }\nsteps: [login]\n',
);

function shardReport(index: number, samples: number[], failing: boolean): RunReport {
  const m = new RunMetrics();
  for (const s of samples) m.step('login', s, 'ok');
  m.request({ endpoint: 'sso', ms: 5, status: 200 });
  for (let i = 0; i < 6 * index; i++) m.request({ endpoint: 'receiver', ms: 5, status: 201 });
  m.request({ endpoint: 'receiver', ms: 5, status: 500 });
  if (failing) {
    m.step('sync', 40, 'error');
    m.error('sync', 'Request failed: socket hang up', false, `qa${index}`);
    m.assertions.push({
      worker: index,
      user: `qa${index}`,
      step: 'steps[3]',
      kind: 'assert_server',
      check: 'forms.count',
      ok: false,
      expected: '10 (sent)',
      actual: '9',
    });
  }
  m.error('sync', 'Connection failed (simulated network failure)', true, `qa${index}`);
  m.workers.push({
    worker: index,
    user: `qa${index}`,
    ok: !failing,
    status: 'completed',
    stepsRun: 3,
    errors: failing ? 1 : 0,
    formsSent: 10,
    startedAtMs: 0,
    durationMs: 1500,
    failures: failing
      ? [{ step: 'steps[3]', kind: 'assert_server', message: 'forms.count: expected 10, got 9 <&>' }]
      : [],
  });
  return buildReport(scenario, {
    metrics: m,
    planned: [{ number: index, username: `qa${index}`, password: 'pw', startOffsetMs: 0 }],
    shard: { index, count: 2 },
    serverUrl: 'http://hq.example',
    startedAt: Date.parse('2026-11-28T00:00:00Z') + index * 1000,
    finishedAt: Date.parse('2026-11-28T00:01:00Z') + index * 1000,
    interrupted: false,
    timeline: {
      intervalMs: 30_000,
      samples: [30_000, 60_000].map((tMs) => ({
        tMs,
        forms: 3 * index,
        requests: 4 * index,
        formsPerSec: 0.1 * index,
        requestsPerSec: 0.2 * index,
        loopLagP99Ms: 10 * index,
        loopLagMaxMs: 20 * index,
        loopBusyPct: 40 + index,
        cpuPct: 50,
        rssMb: 100,
      })),
    },
    runnerWarnings: failing ? [{ tMs: 30_000, message: 'the runner itself is saturated (test)' }] : [],
  });
}

describe('reports', () => {
  it('merges shard reports: counts, histograms, errors, verdict', () => {
    const a = shardReport(1, [10, 20, 30], false);
    const b = shardReport(2, [40, 50], true);
    expect(a.exitCode).toBe(0);
    expect(b.exitCode).toBe(1);
    const m = mergeReports([checkReport(JSON.parse(JSON.stringify(a)), 'a'), checkReport(b, 'b')]);
    expect(m.shards).toEqual([
      { index: 1, count: 2 },
      { index: 2, count: 2 },
    ]);
    expect(m.steps.login?.count).toBe(5);
    expect(m.steps.login?.p50Ms).toBeCloseTo(30, 0);
    expect(m.requests.sso?.statuses).toEqual({ 200: 2 });
    expect(m.errors.find((e) => e.expected)).toMatchObject({ count: 2, workers: ['qa1', 'qa2'] });
    expect(m.assertions).toMatchObject({
      total: 1,
      failed: 1,
      byCheck: { 'assert_server forms.count': { passed: 0, failed: 1 } },
    });
    expect(m.workers).toMatchObject({ planned: 2, ok: 1, failed: 1, formsSent: 20 });
    expect(m.durationMs).toBe(61_000);
    // 6 + 12 accepted forms (the 500s are requests, not forms) over the merged 61 s.
    expect(a.throughput).toEqual({ forms: 6, requests: 8, formsPerSec: 0.1, requestsPerSec: 0.1 });
    expect(m.throughput).toMatchObject({ forms: 18, requests: 22, formsPerSec: 0.3, requestsPerSec: 0.4 });
    // Shard 2 started 1 s later: its samples land in the same 30 s slots, summed; delay is the worst.
    expect(m.timeline?.samples.map((s) => [s.tMs, s.forms, s.requests, s.loopLagP99Ms, s.rssMb])).toEqual([
      [30_000, 3, 4, 10, 100],
      [60_000, 9, 12, 20, 200],
      [90_000, 6, 8, 20, 100],
    ]);
    expect(m.runnerWarnings).toHaveLength(1);
    expect(m.ok).toBe(false);
    expect(m.exitCode).toBe(1);
    const text = formatSummary(m);
    expect(text).toContain('2 shards merged');
    expect(text).toContain('Assertions: 0 held, 1 failed');
    expect(text).toContain('Throughput: 0.3 forms/s, 0.4 requests/s (18 forms accepted, 22 requests)');
    expect(text).toMatch(/forms\/s +requests\/s +loop delay p99/);
    expect(text).toContain('Warning at 30.0 s: the runner itself is saturated (test)');
    expect(text).toContain('(expected) Connection failed (simulated network failure)');
    expect(text).toMatch(/FAIL \(exit 1\)$/);
  });

  it('adds CPU and RSS across processes but not across threads of one process', () => {
    const withProcess = (index: number, proc: string) => {
      const r = shardReport(index, [10], false);
      if (r.timeline) r.timeline.processes = [proc];
      // Threads of one process read slightly different figures of the same process.
      for (const x of r.timeline?.samples ?? []) {
        x.cpuPct = 100 + index;
        x.rssMb = 400 + index;
      }
      return r;
    };
    // Two threads of process A (--threads 2): counts add up, CPU and RSS are A's, once.
    const threads = mergeReports([withProcess(1, 'host:1:0'), withProcess(2, 'host:1:0')]);
    expect(threads.timeline?.processes).toEqual(['host:1:0']);
    expect(threads.timeline?.samples.map((s) => [s.tMs, s.forms, s.cpuPct, s.rssMb])).toEqual([
      [30_000, 3, 101, 401],
      [60_000, 9, 102, 402],
      [90_000, 6, 102, 402],
    ]);
    // Two processes (--processes 2): CPU and RSS add up where both sampled.
    const procs = mergeReports([withProcess(1, 'host:1:0'), withProcess(2, 'host:2:0')]);
    expect(procs.timeline?.processes).toEqual(['host:1:0', 'host:2:0']);
    expect(procs.timeline?.samples.map((s) => [s.tMs, s.cpuPct, s.rssMb])).toEqual([
      [30_000, 101, 401],
      [60_000, 203, 803],
      [90_000, 102, 402],
    ]);
    // A threads run merged again with a third process (report merge): A once, plus C.
    const again = mergeReports([
      checkReport(JSON.parse(JSON.stringify(threads)), 'threads.json'),
      withProcess(3, 'other:9:0'),
    ]);
    expect(again.timeline?.processes).toEqual(['host:1:0', 'other:9:0']);
    expect(again.timeline?.samples.map((s) => s.rssMb)).toEqual([401, 402 + 403, 402 + 403]);
  });

  it('refuses files that are not version-1 reports, and reports of different scenarios', () => {
    expect(() => checkReport({ format: 'other' }, 'x.json')).toThrow(/not a fieldsim run report/);
    const a = shardReport(1, [1], false);
    expect(() => checkReport({ ...a, version: 2 }, 'v2.json')).toThrow(/version 2/);
    const other = { ...a, scenario: { ...a.scenario, name: 'other' } };
    expect(() => mergeReports([a, other])).toThrow(/different scenarios/);
  });

  it('writes JUnit with one testcase per worker and escapes what XML cannot hold', () => {
    const xml = toJunit(mergeReports([shardReport(1, [1], false), shardReport(2, [1], true)]));
    expect(xml).toContain('<testsuite name="merge-me" tests="2" failures="1"');
    expect(xml).toContain('<testcase classname="fieldsim.merge-me" name="worker 1 (qa1)" time="1.500"/>');
    expect(xml).toContain(
      '<failure message="assert_server: forms.count: expected 10, got 9 &lt;&amp;&gt;" type="assertion">',
    );
    expect(escapeXml('a<b>&"\'\u0001\u0007z')).toBe('a&lt;b&gt;&amp;&quot;&apos;\uFFFD\uFFFDz');
    expect(escapeXml('tab\tnl\n')).toBe('tab\tnl\n');
  });
});
