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

  it('encryption: one row per runtime (issue 16), its ratios judged against 1.15', () => {
    const r = emptyReport();
    expect(r.encryption).toEqual({
      nodeSqlite: null,
      nodeFakeIndexedDb: null,
      chromium: null,
      chromiumWorker: null,
    });
    const row = {
      runtime: 'Chromium, IndexedDB on disk',
      cipher: 'WebCrypto',
      cases: 20_000,
      forms: 300,
      rounds: 3,
      restorePlainMs: 1000,
      restoreEncryptedMs: 1050,
      restoreRatio: 1.05,
      savePlainP50Ms: 3.6,
      saveEncryptedP50Ms: 4.32,
      saveRatio: 1.2,
      loadAverage: '1 1 1 -> 1 1 1',
    };
    mergeReport(r, { encryption: { chromium: row, nodeSqlite: { saveRatio: 'x' }, other: row } });
    expect(r.encryption).toEqual({
      nodeSqlite: null,
      nodeFakeIndexedDb: null,
      chromium: row,
      chromiumWorker: null,
    });
    const text = formatReport(r);
    expect(text).toMatch(/encrypted\/plain restore, chromium\s+1\.05\s+target <= 1\.15\s+ratio 0\.91\s+met/);
    expect(text).toMatch(
      /encrypted\/plain save p50, chromium\s+1\.20\s+target <= 1\.15\s+ratio 1\.04\s+not met/,
    );
    expect(text).toMatch(
      /encrypted\/plain save p50, nodeSqlite\s+-\s+target <= 1\.15\s+ratio -\s+not measured/,
    );
  });

  it('encryption: a restore with pairs is judged by the median of per-pair ratios; fake-indexeddb by no budget', () => {
    const r = emptyReport();
    const row = {
      runtime: 'Chromium, IndexedDB on disk',
      cipher: 'WebCrypto',
      cases: 20_000,
      forms: 300,
      rounds: 9,
      restorePlainMs: 1000,
      restoreEncryptedMs: 1300,
      restoreRatio: 1.3,
      restorePairRatioMedian: 1.1,
      savePlainP50Ms: 3,
      saveEncryptedP50Ms: 3,
      saveRatio: 1,
      loadAverage: '1 1 1 -> 1 1 1',
    };
    const fake = {
      ...row,
      runtime: 'Node, fake-indexeddb',
      restorePairRatioMedian: undefined,
      saveRatio: 1.5,
    };
    mergeReport(r, { encryption: { chromium: row, nodeFakeIndexedDb: fake } });
    const text = formatReport(r);
    expect(text).toMatch(/encrypted\/plain restore, chromium\s+1\.10\s+target <= 1\.15\s+ratio 0\.96\s+met/);
    expect(text).toMatch(
      /encrypted\/plain save p50, nodeFakeIndexedDb\s+1\.50\s+target <= 1\.15\s+ratio 1\.30\s+\(test double, no budget\)/,
    );
    expect(text).not.toMatch(/nodeFakeIndexedDb.*not met/);
  });

  it("encryption: the PWA's restore worker is judged on its restore only (it has no save row)", () => {
    const r = emptyReport();
    const worker = {
      runtime: "Chromium, the PWA's restore worker",
      cipher: 'WebCrypto',
      cases: 20_000,
      forms: 0,
      rounds: 9,
      restorePlainMs: 1300,
      restoreEncryptedMs: 1560,
      restoreRatio: 1.2,
      restorePairRatioMedian: 1.18,
      savePlainP50Ms: null,
      saveEncryptedP50Ms: null,
      saveRatio: null,
      loadAverage: '1 1 1 -> 1 1 1',
    };
    mergeReport(r, { encryption: { chromiumWorker: worker } });
    expect(r.encryption.chromiumWorker).toEqual(worker);
    const text = formatReport(r);
    expect(text).toMatch(
      /encrypted\/plain restore, chromiumWorker\s+1\.18\s+target <= 1\.15\s+ratio 1\.03\s+not met/,
    );
    expect(text).not.toMatch(/save p50, chromiumWorker/);
  });
});
