import { describe, expect, it } from 'vitest';
import { emptyReport, formatReport, mergeReport } from '../../bench/report.ts';

describe('npm run bench -- --json FILE: one object', () => {
  it('has every figure of the issue-15 shape, null until a benchmark fills it', () => {
    const r = emptyReport();
    expect(r.restore.chromium).toEqual({
      cases: null,
      ingestMs: null,
      parseOnlyMs: null,
      putOnlyMs: null,
      casesPerSec: null,
    });
    expect(r.restore.node).toEqual({ cases: null, ingestMs: null, peakRssMb: null, casesPerSec: null });
    expect(r.outbox).toEqual({ drainFormsPerSec: null });
    expect(r.server).toEqual({
      receiverFormsPerSec1: null,
      receiverFormsPerSec8: null,
      restoreGenCasesPerSec: null,
    });
    expect(r.runner).toEqual({ workers: null, seconds: null, peakRssMb: null });
    expect(r.machine.cores).toBeGreaterThan(0);
    expect(r.loadAverage.start).toHaveLength(3);
  });

  it('merges the parts benchmarks report, keeps only finite numbers in known slots', () => {
    const r = emptyReport();
    mergeReport(r, { server: { receiverFormsPerSec8: 1600, restoreGenCasesPerSec: Number.NaN, other: 3 } });
    mergeReport(r, { restore: { node: { cases: 100_000, ingestMs: 1400 } }, stray: { x: 1 } });
    mergeReport(r, { outbox: { drainFormsPerSec: '500' } });
    mergeReport(r, undefined);
    expect(r.server).toEqual({
      receiverFormsPerSec1: null,
      receiverFormsPerSec8: 1600,
      restoreGenCasesPerSec: null,
    });
    expect(r.restore.node).toMatchObject({ cases: 100_000, ingestMs: 1400, peakRssMb: null });
    expect(r.outbox.drainFormsPerSec).toBeNull();
    expect(JSON.parse(JSON.stringify(r))).not.toHaveProperty('stray');
    const text = formatReport(r);
    expect(text).toMatch(/receiver, 8 clients, forms\/s\s+1600\s+target >= 1500\s+ratio 1\.07\s+met/);
    expect(text).toMatch(/Node restore 100k, ingest ms\s+1400\s+target <= 1500\s+ratio 0\.93\s+met/);
    expect(text).toContain('not measured');
  });
});
