import { describe, expect, it } from 'vitest';
import { LAG_WARN_MS, type RunnerWarning, RunTimeline } from '../../../src/cli/runner/run-timeline.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function blockFor(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // a saturated runner: the event loop cannot turn
  }
}

describe('RunTimeline', () => {
  it('samples throughput per interval from the run counters', async () => {
    const counters = { formsAccepted: 0, requestCount: 0 };
    const t = new RunTimeline(counters, { intervalMs: 100 });
    t.start();
    counters.formsAccepted = 20;
    counters.requestCount = 50;
    await sleep(230);
    counters.formsAccepted = 25;
    counters.requestCount = 60;
    t.stop();
    const forms = t.samples.reduce((n, s) => n + s.forms, 0);
    const requests = t.samples.reduce((n, s) => n + s.requests, 0);
    expect(forms).toBe(25);
    expect(requests).toBe(60);
    expect(t.samples.length).toBeGreaterThanOrEqual(2);
    const first = t.samples[0]!;
    expect(first.forms).toBe(20);
    // 20 forms in about 100 ms of wall time: on the order of 200/s.
    expect(first.formsPerSec).toBeGreaterThan(50);
    expect(first.formsPerSec).toBeLessThan(400);
    expect(first.rssMb).toBeGreaterThan(10);
  });

  it('warns once when the runner blocks its own event loop', async () => {
    const seen: RunnerWarning[] = [];
    const t = new RunTimeline(
      { formsAccepted: 0, requestCount: 0 },
      { intervalMs: 100, onWarning: (w) => seen.push(w) },
    );
    t.start();
    await sleep(20);
    blockFor(LAG_WARN_MS + 250);
    await sleep(150);
    blockFor(LAG_WARN_MS + 250);
    await sleep(150);
    t.stop();
    const worst = Math.max(...t.samples.map((s) => s.loopLagMaxMs));
    expect(worst).toBeGreaterThan(LAG_WARN_MS);
    expect(Math.max(...t.samples.map((s) => s.loopBusyPct))).toBeGreaterThan(50);
    // Both stalls fall within one 30 s warning window: one warning, not a flood.
    expect(seen).toHaveLength(1);
    expect(t.warnings).toEqual(seen);
    expect(seen[0]?.message).toMatch(/runner itself is saturated .*--shard/);
  });
});
