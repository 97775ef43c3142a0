import { formatDuration } from './duration.ts';
import type { RunOutcome } from './engine.ts';
import { HISTOGRAM_RATIO, Histogram, type HistogramJson } from './histogram.ts';
import type { AssertionResult, ErrorGroup, StepStats, WorkerResult } from './metrics.ts';
import type { RunnerWarning, TimelineJson, TimelineSample } from './run-timeline.ts';
import type { Scenario } from './scenario-types.ts';
import { LEAF_STEP_KINDS } from './scenario-types.ts';

/**
 * The run report: `--report-json FILE` writes it, `fieldsim report merge` reads several
 * (one per shard) and writes one. Format `fieldsim-run-report`, version 1; fields are
 * documented in docs/scenarios.md. A reader must check `format` and `version`;
 * later versions only add fields.
 */

export const REPORT_FORMAT = 'fieldsim-run-report';
export const REPORT_VERSION = 1;

export interface StatsJson {
  count: number;
  errors: number;
  expectedErrors: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  meanMs: number;
  latency: HistogramJson;
  /** Requests only: count by HTTP status (`0` = no answer: network failure). */
  statuses?: Record<string, number>;
}

export interface RunReport {
  format: typeof REPORT_FORMAT;
  version: typeof REPORT_VERSION;
  scenario: { name: string; file: string | null; domain: string; seed: string };
  server: string;
  /** The shards this report covers: one for a run, all of them after a merge. */
  shards: { index: number; count: number }[];
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  ok: boolean;
  exitCode: 0 | 1;
  interrupted: boolean;
  workers: {
    planned: number;
    ok: number;
    failed: number;
    completed: number;
    stopped: number;
    notStarted: number;
    formsSent: number;
  };
  /** By step kind (login, restore, sync, create_case, ...). */
  steps: Record<string, StatsJson>;
  /** By endpoint (sso, restore, receiver, api): every HTTP request the workers made. */
  requests: Record<string, StatsJson>;
  errors: ErrorGroup[];
  assertions: {
    total: number;
    passed: number;
    failed: number;
    /** Per `<kind> <check>` (e.g. `assert_server forms.count`). */
    byCheck: Record<string, { passed: number; failed: number }>;
    /** The failed ones, first 1000. */
    failures: AssertionResult[];
  };
  workerResults: WorkerResult[];
  /** How to read `latency.buckets`: bucket k holds values in [ratio^k, ratio^(k+1)) microseconds. */
  histogram: { unit: 'microseconds'; ratio: number };
  /** Forms the server accepted and requests made, per second over the whole run. */
  throughput?: { forms: number; requests: number; formsPerSec: number; requestsPerSec: number };
  /** The same per interval, with the runner's own health (see run-timeline.ts). */
  timeline?: TimelineJson;
  /** Intervals where the runner itself was saturated: its latencies are then suspect. */
  runnerWarnings?: RunnerWarning[];
}

const perSec = (n: number, ms: number) => (ms > 0 ? Math.round((n * 10_000) / ms) / 10 : 0);

function throughputOf(
  forms: number,
  requests: number,
  durationMs: number,
): NonNullable<RunReport['throughput']> {
  return {
    forms,
    requests,
    formsPerSec: perSec(forms, durationMs),
    requestsPerSec: perSec(requests, durationMs),
  };
}

/**
 * Shards' timelines on one clock: samples falling in the same interval since the merged
 * start add their counts and rates and keep the worst delay and busiest thread. CPU and
 * RSS are each process's whole figures: shards that ran in one process (threads of
 * `--threads`) measured the same process, so within a process the interval keeps the
 * highest reading; separate processes (`--processes`, shards on other machines) add up.
 */
function mergeTimelines(reports: RunReport[], startMs: number): RunReport['timeline'] {
  const withTimeline = reports.filter((r) => r.timeline && r.timeline.samples.length > 0);
  const intervalMs = withTimeline[0]?.timeline?.intervalMs;
  if (intervalMs === undefined) return undefined;
  const slots = new Map<
    number,
    { sample: TimelineSample; byProcess: Map<string, { cpuPct: number; rssMb: number }> }
  >();
  const processes = new Set<string>();
  withTimeline.forEach((r, i) => {
    const ids = r.timeline?.processes;
    // A report without the field (older runner) is a process of its own.
    const proc = ids && ids.length > 0 ? [...ids].sort().join(' ') : `report ${i}`;
    for (const id of ids ?? []) processes.add(id);
    const offset = Date.parse(r.startedAt) - startMs;
    for (const s of r.timeline?.samples ?? []) {
      const slot = Math.max(1, Math.ceil((offset + s.tMs) / intervalMs));
      let a = slots.get(slot);
      if (!a) {
        a = { sample: { ...s, tMs: slot * intervalMs }, byProcess: new Map() };
        slots.set(slot, a);
      } else {
        const m = a.sample;
        m.forms += s.forms;
        m.requests += s.requests;
        m.formsPerSec = Math.round((m.formsPerSec + s.formsPerSec) * 10) / 10;
        m.requestsPerSec = Math.round((m.requestsPerSec + s.requestsPerSec) * 10) / 10;
        m.loopLagP99Ms = Math.max(m.loopLagP99Ms, s.loopLagP99Ms);
        m.loopLagMaxMs = Math.max(m.loopLagMaxMs, s.loopLagMaxMs);
        m.loopBusyPct = Math.max(m.loopBusyPct, s.loopBusyPct);
      }
      const p = a.byProcess.get(proc);
      if (!p) a.byProcess.set(proc, { cpuPct: s.cpuPct, rssMb: s.rssMb });
      else {
        p.cpuPct = Math.max(p.cpuPct, s.cpuPct);
        p.rssMb = Math.max(p.rssMb, s.rssMb);
      }
    }
  });
  const samples = [...slots.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([, { sample, byProcess }]) => {
      let cpu = 0;
      let rss = 0;
      for (const p of byProcess.values()) {
        cpu += p.cpuPct;
        rss += p.rssMb;
      }
      return { ...sample, cpuPct: Math.round(cpu * 10) / 10, rssMb: Math.round(rss * 10) / 10 };
    });
  return { intervalMs, samples, ...(processes.size > 0 ? { processes: [...processes].sort() } : {}) };
}

function statsJson(s: StepStats): StatsJson {
  const r = (x: number) => Math.round(x * 100) / 100;
  return {
    count: s.count,
    errors: s.errors,
    expectedErrors: s.expectedErrors,
    p50Ms: r(s.latency.percentile(50)),
    p95Ms: r(s.latency.percentile(95)),
    p99Ms: r(s.latency.percentile(99)),
    meanMs: r(s.latency.meanMs()),
    latency: s.latency.toJSON(),
    ...(s.statuses ? { statuses: s.statuses } : {}),
  };
}

function statsRecord(map: Map<string, StepStats>): Record<string, StatsJson> {
  const keys = [...map.keys()].sort((a, b) => {
    const ia = (LEAF_STEP_KINDS as readonly string[]).indexOf(a);
    const ib = (LEAF_STEP_KINDS as readonly string[]).indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });
  const out: Record<string, StatsJson> = {};
  for (const k of keys) out[k] = statsJson(map.get(k) as StepStats);
  return out;
}

function workerCounts(results: WorkerResult[], planned: number): RunReport['workers'] {
  return {
    planned,
    ok: results.filter((w) => w.ok).length,
    failed: results.filter((w) => !w.ok).length,
    completed: results.filter((w) => w.status === 'completed').length,
    stopped: results.filter((w) => w.status === 'stopped').length,
    notStarted: results.filter((w) => w.status === 'not-started').length,
    formsSent: results.reduce((n, w) => n + w.formsSent, 0),
  };
}

function assertionsJson(all: AssertionResult[]): RunReport['assertions'] {
  const byCheck: Record<string, { passed: number; failed: number }> = {};
  for (const a of all) {
    const k = `${a.kind} ${a.check}`;
    byCheck[k] ??= { passed: 0, failed: 0 };
    if (a.ok) byCheck[k].passed++;
    else byCheck[k].failed++;
  }
  const failures = all.filter((a) => !a.ok);
  return {
    total: all.length,
    passed: all.length - failures.length,
    failed: failures.length,
    byCheck,
    failures: failures.slice(0, 1000),
  };
}

function verdict(workers: WorkerResult[], interrupted: boolean): { ok: boolean; exitCode: 0 | 1 } {
  const ok = !interrupted && workers.every((w) => w.ok && w.status !== 'not-started');
  return { ok, exitCode: ok ? 0 : 1 };
}

export function buildReport(scenario: Scenario, run: RunOutcome): RunReport {
  const m = run.metrics;
  return {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    scenario: {
      name: scenario.name,
      file: scenario.file ?? null,
      domain: scenario.domain,
      seed: scenario.seed,
    },
    server: run.serverUrl,
    shards: [{ index: run.shard.index, count: run.shard.count }],
    startedAt: new Date(run.startedAt).toISOString(),
    finishedAt: new Date(run.finishedAt).toISOString(),
    durationMs: run.finishedAt - run.startedAt,
    ...verdict(m.workers, run.interrupted),
    interrupted: run.interrupted,
    workers: workerCounts(m.workers, run.planned.length),
    steps: statsRecord(m.steps),
    requests: statsRecord(m.requests as Map<string, StepStats>),
    errors: m.errorGroups(),
    assertions: assertionsJson(m.assertions),
    workerResults: m.workers,
    histogram: { unit: 'microseconds', ratio: HISTOGRAM_RATIO },
    throughput: throughputOf(m.formsAccepted, m.requestCount, run.finishedAt - run.startedAt),
    timeline: run.timeline,
    runnerWarnings: run.runnerWarnings,
  };
}

/** Why a file is not a report this version can read. */
export class ReportFormatError extends Error {
  override readonly name = 'ReportFormatError';
}

export function checkReport(raw: unknown, source: string): RunReport {
  const o = raw as Partial<RunReport> | null;
  if (typeof o !== 'object' || o === null || o.format !== REPORT_FORMAT)
    throw new ReportFormatError(`${source}: not a fieldsim run report (format ${REPORT_FORMAT})`);
  if (o.version !== REPORT_VERSION)
    throw new ReportFormatError(
      `${source}: report version ${String(o.version)}; this fieldsim reads version ${REPORT_VERSION}`,
    );
  if (o.histogram?.ratio !== HISTOGRAM_RATIO)
    throw new ReportFormatError(
      `${source}: histogram ratio ${String(o.histogram?.ratio)} differs from ${HISTOGRAM_RATIO}`,
    );
  for (const k of [
    'scenario',
    'steps',
    'requests',
    'errors',
    'assertions',
    'workerResults',
    'shards',
  ] as const)
    if (o[k] === undefined || o[k] === null) throw new ReportFormatError(`${source}: missing ${k}`);
  return o as RunReport;
}

function mergeStats(parts: Record<string, StatsJson>[]): Record<string, StatsJson> {
  const acc = new Map<string, StepStats>();
  for (const p of parts)
    for (const [k, s] of Object.entries(p)) {
      let a = acc.get(k);
      if (!a) {
        a = { count: 0, errors: 0, expectedErrors: 0, latency: new Histogram() };
        acc.set(k, a);
      }
      a.count += s.count;
      a.errors += s.errors;
      a.expectedErrors += s.expectedErrors;
      a.latency.merge(s.latency);
      if (s.statuses) {
        a.statuses ??= {};
        for (const [code, n] of Object.entries(s.statuses)) a.statuses[code] = (a.statuses[code] ?? 0) + n;
      }
    }
  return statsRecord(acc);
}

/**
 * One report from several (the shards of one scenario): counts add up, histograms merge
 * (percentiles are recomputed from the merged buckets), error groups with the same step
 * and message are combined, worker results are concatenated.
 */
export function mergeReports(reports: RunReport[]): RunReport {
  const first = reports[0];
  if (!first) throw new ReportFormatError('no reports to merge');
  const names = new Set(reports.map((r) => r.scenario.name));
  if (names.size > 1)
    throw new ReportFormatError(`the reports are of different scenarios: ${[...names].join(', ')}`);
  const errors = new Map<string, ErrorGroup>();
  for (const r of reports)
    for (const g of r.errors) {
      const key = `${g.step}\u0000${g.expected}\u0000${g.message}`;
      const e = errors.get(key);
      if (!e) errors.set(key, { ...g, workers: [...g.workers] });
      else {
        e.count += g.count;
        for (const w of g.workers) if (e.workers.length < 5 && !e.workers.includes(w)) e.workers.push(w);
      }
    }
  const workerResults = reports.flatMap((r) => r.workerResults).sort((a, b) => a.worker - b.worker);
  const byCheck: Record<string, { passed: number; failed: number }> = {};
  for (const r of reports)
    for (const [k, v] of Object.entries(r.assertions.byCheck)) {
      byCheck[k] ??= { passed: 0, failed: 0 };
      byCheck[k].passed += v.passed;
      byCheck[k].failed += v.failed;
    }
  const started = Math.min(...reports.map((r) => Date.parse(r.startedAt)));
  const finished = Math.max(...reports.map((r) => Date.parse(r.finishedAt)));
  const interrupted = reports.some((r) => r.interrupted);
  const shards = reports.flatMap((r) => r.shards).sort((a, b) => a.index - b.index);
  const failedAll = reports.flatMap((r) => r.assertions.failures);
  const reportsOk = reports.every((r) => r.ok);
  const v = verdict(workerResults, interrupted);
  const ok = v.ok && reportsOk;
  const timeline = mergeTimelines(reports, started);
  return {
    format: REPORT_FORMAT,
    version: REPORT_VERSION,
    scenario: first.scenario,
    server: [...new Set(reports.map((r) => r.server))].join(' '),
    shards,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    durationMs: finished - started,
    ok,
    exitCode: ok ? 0 : 1,
    interrupted,
    workers: workerCounts(
      workerResults,
      reports.reduce((n, r) => n + r.workers.planned, 0),
    ),
    steps: mergeStats(reports.map((r) => r.steps)),
    requests: mergeStats(reports.map((r) => r.requests)),
    errors: [...errors.values()].sort((a, b) => b.count - a.count || a.message.localeCompare(b.message)),
    assertions: {
      total: reports.reduce((n, r) => n + r.assertions.total, 0),
      passed: reports.reduce((n, r) => n + r.assertions.passed, 0),
      failed: reports.reduce((n, r) => n + r.assertions.failed, 0),
      byCheck,
      failures: failedAll.slice(0, 1000),
    },
    workerResults,
    histogram: first.histogram,
    throughput: throughputOf(
      reports.reduce((n, r) => n + (r.throughput?.forms ?? 0), 0),
      reports.reduce((n, r) => n + (r.throughput?.requests ?? 0), 0),
      finished - started,
    ),
    ...(timeline ? { timeline } : {}),
    runnerWarnings: reports.flatMap((r) => r.runnerWarnings ?? []),
  };
}

function table(rows: string[][], rightAlignFrom: number): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => (i >= rightAlignFrom ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const ms = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(x < 10 ? 1 : 0)} ms`);

function statsTable(title: string, stats: Record<string, StatsJson>): string {
  const withStatus = Object.values(stats).some((s) => s.statuses);
  const rows = [[title, 'count', 'errors', 'p50', 'p95', 'p99', ...(withStatus ? ['statuses'] : [])]];
  for (const [k, s] of Object.entries(stats))
    rows.push([
      k,
      String(s.count),
      s.expectedErrors > 0 ? `${s.errors} (${s.expectedErrors} expected)` : String(s.errors),
      ms(s.p50Ms),
      ms(s.p95Ms),
      ms(s.p99Ms),
      ...(withStatus
        ? [
            Object.entries(s.statuses ?? {})
              .map(([code, n]) => `${code === '0' ? 'none' : code}:${n}`)
              .join(' '),
          ]
        : []),
    ]);
  return table(rows, 1).replace(/ +$/gm, '');
}

function timelineTable(samples: TimelineSample[]): string {
  const rows = [['time', 'forms/s', 'requests/s', 'loop delay p99', 'thread busy', 'cpu', 'rss']];
  for (const s of samples)
    rows.push([
      formatDuration(s.tMs),
      String(s.formsPerSec),
      String(s.requestsPerSec),
      ms(s.loopLagP99Ms),
      `${s.loopBusyPct}%`,
      `${s.cpuPct}%`,
      `${s.rssMb} MB`,
    ]);
  return table(rows, 1)
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

/** The summary printed at the end of `fieldsim run` and by `fieldsim report merge`. */
export function formatSummary(r: RunReport): string {
  const shardText =
    r.shards.length === 1
      ? `shard ${r.shards[0]?.index}/${r.shards[0]?.count}`
      : `${r.shards.length} shards merged`;
  const out: string[] = [];
  out.push(
    `Scenario "${r.scenario.name}" (${shardText}, seed ${r.scenario.seed}) on ${r.server}, domain ${r.scenario.domain}: ` +
      `${r.workers.planned} workers in ${formatDuration(r.durationMs)}`,
  );
  out.push('');
  out.push(Object.keys(r.steps).length > 0 ? statsTable('step', r.steps) : '(no steps ran)');
  if (Object.keys(r.requests).length > 0) {
    out.push('');
    out.push(statsTable('HTTP', r.requests));
  }
  if (r.throughput) {
    out.push('');
    out.push(
      `Throughput: ${r.throughput.formsPerSec} forms/s, ${r.throughput.requestsPerSec} requests/s ` +
        `(${r.throughput.forms} forms accepted, ${r.throughput.requests} requests)`,
    );
  }
  if (r.timeline && r.timeline.samples.length > 1) out.push(timelineTable(r.timeline.samples));
  for (const w of r.runnerWarnings ?? []) out.push(`Warning at ${formatDuration(w.tMs)}: ${w.message}`);
  out.push('');
  out.push(`Assertions: ${r.assertions.passed} held, ${r.assertions.failed} failed`);
  for (const [k, v] of Object.entries(r.assertions.byCheck))
    if (v.failed > 0) out.push(`  ${k}: ${v.failed} failed, ${v.passed} held`);
  for (const a of r.assertions.failures.slice(0, 5))
    out.push(`  e.g. ${a.user} ${a.step} ${a.kind} ${a.check}: expected ${a.expected}, got ${a.actual}`);
  if (r.errors.length > 0) {
    out.push('');
    out.push('Errors by message:');
    const rows = [['count', 'step', 'message']];
    for (const g of r.errors.slice(0, 20))
      rows.push([
        String(g.count),
        g.step,
        `${g.expected ? '(expected) ' : ''}${g.message.split('\n')[0] ?? ''}`,
      ]);
    out.push(
      table(rows, 99)
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
    if (r.errors.length > 20)
      out.push(`  ... and ${r.errors.length - 20} more kinds of error (see the JSON report)`);
  }
  out.push('');
  const w = r.workers;
  out.push(
    `Workers: ${w.ok} ok, ${w.failed} failed (${w.completed} completed, ${w.stopped} stopped, ${w.notStarted} not started); ${w.formsSent} forms sent`,
  );
  out.push(`${r.ok ? 'PASS' : 'FAIL'} (exit ${r.exitCode})${r.interrupted ? ' — interrupted' : ''}`);
  return out.join('\n');
}
