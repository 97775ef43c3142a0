/**
 * QA runner benchmark (issue 7, issue 15 part 5): 1,000 simulated workers in one process,
 * each a real core Session with its own in-memory database, against the emulator in its
 * own process. Each worker logs in, restores its 50 cases, saves 10 forms (5
 * registrations, 5 updates) and syncs (send, then incremental restore). The workers run
 * as `fieldsim run` runs them: over worker threads of this process for a run this big
 * (run-threads.ts, `--threads auto`), so the peak RSS is the whole run's.
 * Targets (issue 15): <= 30 s and <= 1 GB resident on the 2-core machine. Prints the time,
 * the peak RSS of this (runner) process and the memory per worker (peak over baseline / N).
 *
 * Run: `BENCH_ONLY=runner npm run bench [-- --write]` or
 * `npx tsx bench/runner.bench.ts [--workers 1000] [--cases 50] [--threads n] [--write]`;
 * `--write` appends the figures to bench/RESULTS.md under "## QA runner".
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MAX_RESTORES, resolveMaxActive, runScenario } from '../src/cli/runner/engine.ts';
import { parseScenario } from '../src/cli/runner/parse-scenario.ts';
import { buildReport, formatSummary, type RunReport } from '../src/cli/runner/report.ts';
import { autoThreads, runInThreads } from '../src/cli/runner/run-threads.ts';
import { runnerHttpKind } from '../src/cli/runner/runner-http.ts';
import { runnerStoreKind } from '../src/cli/runner/worker-store.ts';
import { tightHeapGrowth } from '../src/node-store/heap-growth.ts';
import { createEmulator } from '../src/server/emulator.ts';
import { seedLoadUsers } from '../src/server/seed/load-users.ts';
import { spawnEmulatorProcess } from './emulator-process.ts';
import { appendToResults, runHeading, writeJsonIfAsked } from './results-file.ts';
import { machine } from './server.bench.ts';

export interface RunnerBenchResult {
  workers: number;
  casesPerWorker: number;
  seconds: number;
  /** CPU (user + system) of this process, all threads, during the run: steadier than the wall time on a shared machine. */
  cpuSeconds: number;
  peakRssMb: number;
  baselineRssMb: number;
  perWorkerKb: number;
  formsSent: number;
  ok: boolean;
  workersOk: number;
  offlineSaves: boolean;
  /** RunOptions.maxRestores (0: no bound). */
  maxRestores: number;
  /** The bound on workers alive at once the run took (0: none; resolveMaxActive). */
  maxActive: number;
  tightHeap: boolean;
  /** The workers' HTTP client (FIELDSIM_RUNNER_HTTP). */
  http: string;
  /** Worker threads the run used (1: this thread only). */
  threads: number;
  /** The worker store (FIELDSIM_RUNNER_STORE). */
  store: string;
  /** The most frequent error, if any. */
  topError: string | null;
  seedSeconds: number;
  summary: string;
  machine: string;
}

function scenarioYaml(workers: number, offlineSaves: boolean): string {
  return `
name: bench-${workers}
domain: demo
seed: 1
workers: { count: ${workers}, users: { prefix: load, password: fieldsim } }
steps:
  - login
  - restore${offlineSaves ? '\n  - offline' : ''}
  - repeat: 5
    steps:
      - create_case: { type: household, name: "Bench {{worker}}-{{i}}", properties: { village: "{{pick riverside hilltop lakeview}}" } }
      - update_case: { case: random_open, type: household, properties: { visit_count: "{{i}}" } }
${offlineSaves ? '  - online\n' : ''}  # A phone retries a failed sync (e.g. a keep-alive socket the server just closed).
  - sync: { retries: 2, retry_wait: 1s }
  - assert_local: { outbox: { pending: 0, quarantined: 0, sent: 10 } }
`;
}

export async function runRunnerBench(
  opts: {
    workers?: number;
    cases?: number;
    offlineSaves?: boolean;
    maxRestores?: number;
    threads?: number;
    /** RunOptions.maxActive (0: every worker alive at once; absent: the runner's automatic bound). */
    maxActive?: number;
    /** `fieldsim run --tight-heap`: V8's heap held near its live data (heap-growth.ts). */
    tightHeap?: boolean;
  } = {},
): Promise<RunnerBenchResult> {
  const workers = opts.workers ?? 1000;
  const offlineSaves = opts.offlineSaves ?? false;
  const cases = opts.cases ?? 50;
  const threads = opts.threads ?? autoThreads(workers);
  const dir = mkdtempSync(join(tmpdir(), 'fieldsim-bench-runner-'));
  try {
    const emu = createEmulator({ dataDir: dir });
    const seeded = seedLoadUsers(emu.db, {
      prefix: 'load',
      count: workers,
      password: 'fieldsim',
      casesPerUser: cases,
    });
    emu.close();
    const server = await spawnEmulatorProcess(dir);
    try {
      const yaml = scenarioYaml(workers, offlineSaves);
      const scenario = parseScenario(yaml);
      (globalThis as { gc?: () => void }).gc?.();
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage().rss);
      }, 100);
      if (opts.tightHeap) tightHeapGrowth(true);
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const options = {
        serverUrl: server.url,
        ...(opts.maxRestores === undefined ? {} : { maxRestores: opts.maxRestores }),
        // Absent: the runner's automatic bound (engine.ts resolveMaxActive), as `fieldsim run`.
        ...(opts.maxActive === undefined ? {} : { maxActive: opts.maxActive }),
      };
      const onProgress = (p: {
        done: boolean;
        elapsedMs: number;
        active: number;
        finished: number;
        stepsDone: number;
        errors: number;
      }) => {
        if (!p.done)
          process.stderr.write(
            `  ${(p.elapsedMs / 1000).toFixed(0)} s: ${p.active} active, ${p.finished} done, ${p.stepsDone} steps, ${p.errors} errors\n`,
          );
      };
      let report: RunReport;
      try {
        report =
          threads > 1
            ? await runInThreads(
                { scenario: { text: yaml }, options },
                { threads, onProgress, progressMs: 10_000 },
              )
            : buildReport(
                scenario,
                await runScenario(scenario, { ...options, onProgress, progressMs: 10_000 }),
              );
      } finally {
        clearInterval(sampler);
        if (opts.tightHeap) tightHeapGrowth(false);
      }
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      peak = Math.max(peak, process.memoryUsage().rss);
      return {
        workers,
        casesPerWorker: cases,
        seconds,
        cpuSeconds,
        peakRssMb: Math.round(peak / 2 ** 20),
        baselineRssMb: Math.round(baseline / 2 ** 20),
        perWorkerKb: Math.round((peak - baseline) / workers / 1024),
        formsSent: report.workers.formsSent,
        ok: report.ok,
        workersOk: report.workers.ok,
        offlineSaves,
        maxRestores: opts.maxRestores ?? DEFAULT_MAX_RESTORES,
        maxActive: resolveMaxActive(
          opts.maxActive === undefined ? {} : { maxActive: opts.maxActive },
          workers,
          false,
        ),
        tightHeap: opts.tightHeap === true,
        http: runnerHttpKind(),
        threads,
        store: runnerStoreKind(),
        topError: report.errors[0]
          ? `${report.errors[0].count}x ${report.errors[0].step}: ${report.errors[0].message}`
          : null,
        seedSeconds: seeded.seconds,
        summary: formatSummary(report),
        machine: machine(),
      };
    } finally {
      await server.stop();
    }
  } finally {
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }
}

/** The heap-size flags this process runs with (execArgv and NODE_OPTIONS). */
function heapFlags(): string {
  return [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]
    .filter((a) => /^--max-(semi|old)-space-size/.test(a))
    .join(' ');
}

export function formatRunnerResult(r: RunnerBenchResult): string {
  return [
    `- ${r.workers} workers, each: login, restore ${r.casesPerWorker} cases, 10 forms (5 registrations, 5 updates) saved ` +
      `${r.offlineSaves ? 'offline (sent by the sync)' : 'online (each sent at once)'}, sync` +
      `${r.maxRestores === 0 ? ' (no bound on restores at once)' : ` (at most ${r.maxRestores} restoring at once, shared by the threads)`}, ` +
      `${r.maxActive > 0 ? `at most ${r.maxActive} workers alive at once, ` : ''}${r.tightHeap ? 'tight heap, ' : ''}` +
      `${r.threads} thread(s), ${r.store} worker store, ${r.http} HTTP client: ` +
      `${r.seconds.toFixed(1)} s (target <= 30 s), ${r.cpuSeconds.toFixed(1)} s CPU (${((r.cpuSeconds * 1000) / Math.max(1, r.formsSent)).toFixed(2)} ms per form, all in); ${r.workersOk} of ${r.workers} workers ok` +
      `${r.topError ? ` (most frequent error: ${r.topError})` : ''}; ${r.formsSent} forms sent`,
    `- runner process peak RSS ${r.peakRssMb} MB (baseline ${r.baselineRssMb} MB; target <= 1024 MB; ` +
      `V8 flags: ${heapFlags() || 'none'}); ` +
      `${r.perWorkerKb} KB per worker over the baseline`,
    `- emulator seeding (${r.workers} users x ${r.casesPerWorker} cases): ${r.seedSeconds.toFixed(1)} s, not included`,
  ].join('\n');
}

export default async function run(): Promise<RunnerBenchResult> {
  return runRunnerBench();
}

/**
 * V8 flags for the runner process: a larger young generation (V8's default semi-space is
 * 16 MB). A thousand concurrent workers allocate fast and most of it dies young; with
 * small semi-spaces scavenges run constantly and promote short-lived restore and request
 * garbage into the old generation, which then needs full collections. Same advice as
 * docs/scenarios.md gives users (NODE_OPTIONS).
 */
export const RUNNER_V8_FLAGS = ['--max-semi-space-size=64'];

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === resolve(import.meta.filename);
const hasFlags = RUNNER_V8_FLAGS.every((f) =>
  [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) =>
    a.startsWith(f.split('=')[0] ?? f),
  ),
);
if (isMain && !hasFlags) {
  // V8 reads heap sizes at start-up only: run this file again with them.
  const r = spawnSync(process.execPath, [...process.execArgv, ...RUNNER_V8_FLAGS, ...process.argv.slice(1)], {
    stdio: 'inherit',
  });
  process.exitCode = r.status ?? 1;
} else if (isMain) {
  const { values } = parseArgs({
    options: {
      workers: { type: 'string' },
      cases: { type: 'string' },
      write: { type: 'boolean' },
      'offline-saves': { type: 'boolean' },
      'max-restores': { type: 'string' },
      threads: { type: 'string' },
      'max-active': { type: 'string' },
      'tight-heap': { type: 'boolean' },
    },
    // bench/run.ts passes the same arguments to every benchmark; ignore the others' flags.
    strict: false,
  });
  const num = (v: string | boolean | undefined) => (typeof v === 'string' ? Number(v) : undefined);
  const workers = num(values.workers);
  const cases = num(values.cases);
  const maxRestores = num(values['max-restores']);
  const threads = num(values.threads);
  const maxActive = num(values['max-active']);
  const r = await runRunnerBench({
    ...(threads ? { threads } : {}),
    ...(workers ? { workers } : {}),
    ...(cases ? { cases } : {}),
    ...(maxRestores === undefined ? {} : { maxRestores }),
    ...(maxActive === undefined ? {} : { maxActive }),
    offlineSaves: values['offline-saves'] === true,
    tightHeap: values['tight-heap'] === true,
  });
  console.log(r.summary);
  const text = formatRunnerResult(r);
  console.log(`\nQA runner (${r.machine})\n${text}`);
  if (values.write) appendToResults('QA runner', `${runHeading(r.machine)}\n${text}`);
  writeJsonIfAsked({
    report: { runner: { workers: r.workers, seconds: r.seconds, peakRssMb: r.peakRssMb } },
    ...r,
  });
  if (!r.ok) process.exitCode = 1;
}
