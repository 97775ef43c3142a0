import { cpus, loadavg, release, totalmem, type } from 'node:os';

/**
 * The one JSON object `npm run bench -- --json FILE` writes (issue 15, part 6). Each
 * benchmark reports the figures it measured under `report` in its own part (see
 * `writeJsonIfAsked`); `bench/run.ts` merges the parts into this shape. A figure no
 * benchmark filled stays null, so a consumer can tell "not measured" from zero.
 */
export interface BenchReport {
  at: string;
  machine: { cpu: string; cores: number; memoryGb: number; os: string; node: string };
  /** 1, 5 and 15 minute load averages when the run started and when it ended. */
  loadAverage: { start: number[]; end: number[] | null };
  restore: {
    chromium: {
      cases: number | null;
      ingestMs: number | null;
      parseOnlyMs: number | null;
      putOnlyMs: number | null;
      casesPerSec: number | null;
    };
    node: {
      cases: number | null;
      ingestMs: number | null;
      peakRssMb: number | null;
      casesPerSec: number | null;
    };
  };
  outbox: { drainFormsPerSec: number | null };
  server: {
    receiverFormsPerSec1: number | null;
    receiverFormsPerSec8: number | null;
    restoreGenCasesPerSec: number | null;
  };
  runner: { workers: number | null; seconds: number | null; peakRssMb: number | null };
  /**
   * Encryption at rest, plain vs encrypted in the same run (issue 16: each ratio <= 1.15),
   * per runtime (bench/encryption.bench.ts); null when that runtime was not measured.
   */
  encryption: {
    nodeSqlite: EncryptionRow | null;
    nodeFakeIndexedDb: EncryptionRow | null;
    chromium: EncryptionRow | null;
    /** Chromium through the PWA's restore worker: restores only (no saves). */
    chromiumWorker?: EncryptionRow | null;
  };
  /** Each benchmark's full output, by file name (e.g. `server` for server.bench.ts). */
  benches: Record<string, unknown>;
  /** Benchmarks that exited non-zero. */
  failed: string[];
}

/** One runtime's figures in `BenchReport.encryption`. */
export interface EncryptionRow {
  runtime: string;
  /** What sealed the records: `node:crypto` (synchronous, injected) or `WebCrypto`. */
  cipher: string;
  cases: number;
  forms: number;
  rounds: number;
  restorePlainMs: number;
  restoreEncryptedMs: number;
  restoreRatio: number;
  /**
   * Restore ratio of each plain/encrypted pair run back to back, in round order, and their
   * median, min and max: the median is the budget's verdict, the spread its noise.
   */
  restorePairRatioMedian?: number;
  restorePairRatioMin?: number;
  restorePairRatioMax?: number;
  restorePairRatios?: number[];
  /** Each round's restore, ms, in round order. */
  restorePlainAllMs?: number[];
  restoreEncryptedAllMs?: number[];
  savePlainP50Ms: number;
  saveEncryptedP50Ms: number;
  saveRatio: number;
  /** CPU time per save (Node only: process.cpuUsage), p50, and its ratio. */
  saveCpuPlainP50Ms?: number;
  saveCpuEncryptedP50Ms?: number;
  saveCpuRatio?: number;
  /** Sealing a typical save's three records at once, alone, p50 ms: the floor encryption adds. */
  sealThreeP50Ms: number;
  /** Node only: save p50 on the encrypted path with a copy in place of AES-GCM (the path's own cost). */
  saveCopyOnlyP50Ms?: number;
  /** 1/5/15-minute load averages when this runtime's rounds started -> ended. */
  loadAverage: string;
}

/** What a benchmark may report: any subset of the sections, figure by figure. */
export type ReportPart = {
  [K in 'restore' | 'outbox' | 'server' | 'runner']?: K extends 'restore'
    ? {
        chromium?: Partial<BenchReport['restore']['chromium']>;
        node?: Partial<BenchReport['restore']['node']>;
      }
    : Partial<BenchReport[K]>;
} & { encryption?: Partial<BenchReport['encryption']> };

export function machineInfo(): BenchReport['machine'] {
  const c = cpus();
  return {
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${type()} ${release()}`,
    node: process.version,
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

export function emptyReport(): BenchReport {
  return {
    at: new Date().toISOString(),
    machine: machineInfo(),
    loadAverage: { start: loadavg().map(round2), end: null },
    restore: {
      chromium: { cases: null, ingestMs: null, parseOnlyMs: null, putOnlyMs: null, casesPerSec: null },
      node: { cases: null, ingestMs: null, peakRssMb: null, casesPerSec: null },
    },
    outbox: { drainFormsPerSec: null },
    server: { receiverFormsPerSec1: null, receiverFormsPerSec8: null, restoreGenCasesPerSec: null },
    runner: { workers: null, seconds: null, peakRssMb: null },
    encryption: { nodeSqlite: null, nodeFakeIndexedDb: null, chromium: null, chromiumWorker: null },
    benches: {},
    failed: [],
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Copies the figures of `part` into `into` where the report has a slot for them (finite
 * numbers only; anything else is left to the benchmark's own output under `benches`).
 */
export function mergeReport(into: BenchReport, part: unknown): void {
  const copy = (target: Record<string, unknown>, source: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(source)) {
      if (!(k in target)) continue;
      const slot = target[k];
      if (isRecord(slot) && isRecord(v)) copy(slot, v);
      else if (slot === null || typeof slot === 'number')
        if (typeof v === 'number' && Number.isFinite(v)) target[k] = v;
    }
  };
  if (!isRecord(part)) return;
  const { restore, outbox, server, runner, encryption } = part;
  copy(into as unknown as Record<string, unknown>, { restore, outbox, server, runner });
  // Whole rows, not figure by figure: a row is one runtime's measurement.
  if (isRecord(encryption))
    for (const k of ['nodeSqlite', 'nodeFakeIndexedDb', 'chromium', 'chromiumWorker'] as const) {
      const row = encryption[k];
      if (isRecord(row) && typeof row.restoreRatio === 'number')
        into.encryption[k] = row as unknown as EncryptionRow;
    }
}

/** Targets of issue 15, for the ratios `npm run bench` prints. */
const TARGETS: {
  label: string;
  get(r: BenchReport): number | null;
  target: number;
  higherIsBetter: boolean;
  /** Printed for comparison, judged by no target (a store no product uses). */
  informational?: string;
}[] = [
  {
    label: 'Chromium restore 100k, cases/s',
    get: (r) => r.restore.chromium.casesPerSec,
    target: 50_000,
    higherIsBetter: true,
  },
  {
    label: 'Node restore 100k, ingest ms',
    get: (r) => r.restore.node.ingestMs,
    target: 1500,
    higherIsBetter: false,
  },
  {
    label: 'receiver, 1 client, forms/s',
    get: (r) => r.server.receiverFormsPerSec1,
    target: 600,
    higherIsBetter: true,
  },
  {
    label: 'receiver, 8 clients, forms/s',
    get: (r) => r.server.receiverFormsPerSec8,
    target: 1500,
    higherIsBetter: true,
  },
  {
    label: 'restore generation, cases/s',
    get: (r) => r.server.restoreGenCasesPerSec,
    target: 100_000,
    higherIsBetter: true,
  },
  {
    label: 'ordered drain, forms/s',
    get: (r) => r.outbox.drainFormsPerSec,
    target: 500,
    higherIsBetter: true,
  },
  { label: 'runner, seconds', get: (r) => r.runner.seconds, target: 30, higherIsBetter: false },
  // The restore ratio is the median of per-pair ratios where the row has pairs (Chromium:
  // a short restore's single ratio swings with the machine; encryption.bench.ts judges
  // the same way). fake-indexeddb has been a test double only since session 7: no product
  // keeps data in it, so its row is shown for comparison and judged by no budget.
  ...(['nodeSqlite', 'nodeFakeIndexedDb', 'chromium', 'chromiumWorker'] as const).flatMap((k) =>
    (k === 'chromiumWorker' ? (['restoreRatio'] as const) : (['restoreRatio', 'saveRatio'] as const)).map(
      (f) => ({
        label: `encrypted/plain ${f === 'saveRatio' ? 'save p50' : 'restore'}, ${k}`,
        get: (r: BenchReport) => {
          const row = r.encryption[k];
          if (!row) return null;
          return f === 'restoreRatio' ? (row.restorePairRatioMedian ?? row.restoreRatio) : row.saveRatio;
        },
        target: 1.15,
        higherIsBetter: false,
        ...(k === 'nodeFakeIndexedDb' ? { informational: 'test double, no budget' } : {}),
      }),
    ),
  ),
  { label: 'runner, peak RSS MB', get: (r) => r.runner.peakRssMb, target: 1024, higherIsBetter: false },
];

/** One line per target: figure, target, and figure/target (1.00 or better on the right side meets it). */
export function formatReport(r: BenchReport): string {
  const lines = [
    `machine: ${r.machine.cpu} x${r.machine.cores}, ${r.machine.memoryGb} GB, ${r.machine.os}, Node ${r.machine.node}`,
    `load average: start ${r.loadAverage.start.join(' ')}, end ${r.loadAverage.end?.join(' ') ?? '-'}`,
  ];
  for (const t of TARGETS) {
    const v = t.get(r);
    const ratio = v === null ? '-' : (v / t.target).toFixed(2);
    const met =
      v === null
        ? 'not measured'
        : t.informational !== undefined
          ? `(${t.informational})`
          : (t.higherIsBetter ? v >= t.target : v <= t.target)
            ? 'met'
            : 'not met';
    lines.push(
      `${t.label.padEnd(44)} ${v === null ? '-'.padStart(9) : (Math.abs(v) < 10 ? v.toFixed(2) : String(Math.round(v))).padStart(9)}  target ${t.higherIsBetter ? '>=' : '<='} ${t.target}  ratio ${ratio}  ${met}`,
    );
  }
  return lines.join('\n');
}
