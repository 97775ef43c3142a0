import { setMaxListeners } from 'node:events';
import type { FetchLike } from '../../core/platform.ts';
import { RunMetrics, type WorkerResult } from './metrics.ts';
import { gatedFetch } from './network-sim.ts';
import { OpenRosaSimWorker } from './openrosa-worker.ts';
import { currentProcessId } from './process-id.ts';
import { type RunnerWarning, RunTimeline, type TimelineJson } from './run-timeline.ts';
import { openRunnerHttp, type RunnerHttp, type RunnerHttpKind, runnerHttpKind } from './runner-http.ts';
import type { Scenario, Step } from './scenario-types.ts';
import { type AdminCredentials, ApiServices, type RunServices } from './services.ts';
import { SimWorker, Slots } from './worker.ts';
import { createUsers, PlanError, type PlannedWorker, planWorkers, type Shard } from './workers-plan.ts';

/**
 * Runs one scenario (one shard of it) in this process: plans the workers, creates users
 * when asked, starts each worker at its arrival time, waits for all of them, and hands
 * back the metrics. Reporting is separate (report.ts), so the bench and the tests can run
 * the engine without the CLI.
 */

export interface RunOptions {
  serverUrl: string;
  shard?: Shard;
  /** Overrides `workers.count`. */
  workers?: number;
  /** Password for users the scenario gives none. */
  password?: string;
  admin?: AdminCredentials;
  fetch?: FetchLike;
  signal?: AbortSignal;
  /** Called about every `progressMs` while workers run, and once at the end. */
  onProgress?: (p: RunProgress) => void;
  progressMs?: number;
  /** Most requests waiting for response headers at once, across all workers (default 200). */
  maxInFlight?: number;
  /**
   * Most workers in a `restore` step at once (default DEFAULT_MAX_RESTORES; 0: no limit).
   * Each full restore holds its payload, parser and staged writes until it switches, so a
   * thousand at once peak together; the wait for a slot counts in the step's time.
   */
  maxRestores?: number;
  /**
   * Most workers running at once (0: no limit, every worker starts on time; absent: the
   * automatic bound, `autoMaxActive`, for batch scenarios only). A worker holds its phone
   * database from its login to its end; a batch scenario (no duration) of a thousand
   * workers needs no more alive at once than the runner's CPU keeps busy, and the others
   * wait their turn (bench/RESULTS.md sessions 7 and 8). The wait is not counted in any
   * step's time; a waiting worker has not started.
   */
  maxActive?: number;
  /**
   * The bound `maxActive` takes when absent, in a batch scenario with more workers than
   * this (default DEFAULT_MAX_ACTIVE; a thread of a threaded run gets its share). A
   * scenario with a duration never gets one: its workers must all be running until it ends.
   */
  autoMaxActive?: number;
  /** Setup messages (user creation). */
  log?: (line: string) => void;
  /** Length of one timeline interval (throughput and the runner's own health; default 5000 ms). */
  timelineMs?: number;
  /** Called when the runner finds itself saturated (its latencies include its own queueing). */
  onRunnerWarning?: (w: RunnerWarning) => void;
}

export interface RunProgress {
  elapsedMs: number;
  planned: number;
  active: number;
  finished: number;
  stepsDone: number;
  errors: number;
  unexpectedErrors: number;
  /** Throughput over the last timeline interval (absent before the first one closes). */
  formsPerSec?: number;
  requestsPerSec?: number;
  done: boolean;
}

export interface RunOutcome {
  metrics: RunMetrics;
  planned: PlannedWorker[];
  shard: Shard;
  serverUrl: string;
  startedAt: number;
  finishedAt: number;
  interrupted: boolean;
  timeline: TimelineJson;
  runnerWarnings: RunnerWarning[];
}

/** A run that cannot start (no admin credentials for a step that needs them, no password). */
export class RunSetupError extends Error {
  override readonly name = 'RunSetupError';
  /** 2 for problems in the scenario or the flags, 1 for the server refusing setup. */
  readonly exitCode: 1 | 2;
  constructor(message: string, exitCode: 1 | 2) {
    super(message);
    this.exitCode = exitCode;
  }
}

function usesStep(steps: Step[], kinds: readonly string[]): boolean {
  return steps.some(
    (s) =>
      kinds.includes(s.kind) ||
      (s.kind === 'repeat' && usesStep(s.steps, kinds)) ||
      (s.kind === 'mix' && s.branches.some((b) => usesStep(b.steps, kinds))),
  );
}

/** Whether a step counts the server's forms (`assert_server` with `forms`). */
function usesFormsAssertion(steps: Step[]): boolean {
  return steps.some(
    (s) =>
      (s.kind === 'assert_server' && s.forms !== undefined) ||
      (s.kind === 'repeat' && usesFormsAssertion(s.steps)) ||
      (s.kind === 'mix' && s.branches.some((b) => usesFormsAssertion(b.steps))),
  );
}

/** Why the run needs admin credentials, or null when it does not. */
export function adminNeeds(scenario: Scenario): string | null {
  if (scenario.openrosa) return null;
  const why: string[] = [];
  if (scenario.workers.users.kind === 'prefix' && scenario.workers.users.create) why.push('users.create');
  if (usesStep(scenario.steps, ['assert_server'])) why.push('assert_server');
  if (usesStep(scenario.steps, ['assert_forwarded'])) why.push('assert_forwarded (registers a forwarder)');
  if (usesStep(scenario.steps, ['submit_form'])) why.push('submit_form (application structure)');
  return why.length > 0 ? why.join(', ') : null;
}

/** Below Node's default listen backlog (511), with room for the server's own clients. */
export const DEFAULT_MAX_IN_FLIGHT = 200;

/**
 * A thousand full restores at once in one process took twice as long as a hundred at a
 * time and peaked above 2 GB (bench/RESULTS.md, QA runner, 01:18-01:21 runs): every
 * restore's payload, parse state and staged pages are alive together and each one's
 * garbage slows the others' collections. A phone's restore has a whole device to itself.
 */
export const DEFAULT_MAX_RESTORES = 100;

/**
 * Workers alive at once in a batch run unless told (`--max-active`): on the 2-core machine
 * 250 keep both cores busy, and a thousand at once only added memory (1.6 GB vs ~1 GB) and
 * CPU (bench/RESULTS.md sessions 7 and 8).
 */
export const DEFAULT_MAX_ACTIVE = 250;

/** The bound on workers alive at once this run takes: `maxActive` if given, else the automatic one. */
export function resolveMaxActive(
  opts: Pick<RunOptions, 'maxActive' | 'autoMaxActive'>,
  workers: number,
  hasDuration: boolean,
): number {
  if (opts.maxActive !== undefined) return opts.maxActive;
  const auto = opts.autoMaxActive ?? DEFAULT_MAX_ACTIVE;
  return !hasDuration && auto > 0 && workers > auto ? auto : 0;
}

export async function runScenario(scenario: Scenario, opts: RunOptions): Promise<RunOutcome> {
  const shard = opts.shard ?? { index: 1, count: 1 };
  let planned: PlannedWorker[];
  try {
    planned = planWorkers(scenario, shard, {
      ...(opts.password === undefined ? {} : { password: opts.password }),
      ...(opts.workers === undefined ? {} : { workers: opts.workers }),
    });
  } catch (e) {
    if (e instanceof PlanError) throw new RunSetupError(e.message, 2);
    throw e;
  }
  const need = adminNeeds(scenario);
  const admin = opts.admin;
  if (need && (!admin?.username || (admin.password === undefined && admin.apiKey === undefined)))
    throw new RunSetupError(
      `this scenario needs admin (web user) credentials for ${need}: pass --admin-user with --admin-password or --admin-api-key, or set admin: in the scenario`,
      2,
    );
  const maxRestores = opts.maxRestores ?? DEFAULT_MAX_RESTORES;
  const maxActive = resolveMaxActive(opts, planned.length, scenario.durationMs !== undefined);
  if (maxActive > 0 && scenario.durationMs !== undefined && maxActive < planned.length)
    // Workers waiting for a turn would start after the duration's end, and stop at once.
    throw new RunSetupError(
      `--max-active ${maxActive} is for scenarios without a duration: this one runs for a duration and has ${planned.length} workers`,
      2,
    );
  const startedAt = Date.now();
  let httpKind: RunnerHttpKind;
  try {
    httpKind = runnerHttpKind();
  } catch (e) {
    throw new RunSetupError((e as Error).message, 2);
  }
  const http = opts.fetch ? null : openRunnerHttp(httpKind);
  const baseFetch: FetchLike = gatedFetch(
    opts.fetch ?? (http as RunnerHttp).fetch,
    opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
  );
  const metrics = new RunMetrics();
  let services: ApiServices | null = null;
  const getServices = (): RunServices => {
    if (!services) throw new Error('admin services requested without admin credentials');
    return services;
  };
  if (need && admin)
    services = new ApiServices({
      serverUrl: opts.serverUrl,
      domain: scenario.domain,
      admin,
      // The admin API calls (user creation, application, assert_server) are timed as `api`.
      fetch: async (input, init) => {
        const t0 = performance.now();
        try {
          const res = await baseFetch(input, init);
          metrics.request(
            { endpoint: 'api', ms: performance.now() - t0, status: res.status },
            { notAnError: await isReusedUser(input, init, res) },
          );
          return res;
        } catch (e) {
          metrics.request({ endpoint: 'api', ms: performance.now() - t0, status: 0 });
          throw e;
        }
      },
      runStart: startedAt,
    });
  const users = scenario.workers.users;
  if (services && users.kind === 'prefix' && users.create) {
    try {
      const r = await createUsers(services, planned);
      opts.log?.(`users: ${r.created} created, ${r.reused} already existed`);
    } catch (e) {
      http?.close();
      throw new RunSetupError(`creating users failed: ${(e as Error).message}`, 1);
    }
  }

  // Forms already in assert_server's window are not this run's: read them before any worker.
  if (services && usesFormsAssertion(scenario.steps)) {
    try {
      await services.formsBaseline();
    } catch (e) {
      http?.close();
      throw new RunSetupError(
        `assert_server: listing the forms received before the run failed: ${(e as Error).message}`,
        1,
      );
    }
  }

  // A forwarder forwards only what arrives after it exists: set it up before any worker.
  if (services && usesStep(scenario.steps, ['assert_forwarded'])) {
    try {
      await services.forwarding();
    } catch (e) {
      http?.close();
      throw new RunSetupError(`assert_forwarded: ${(e as Error).message}`, 2);
    }
  }

  const signal = opts.signal ?? new AbortController().signal;
  // Every worker waiting (think time, a retry's pause, a delayed start) listens on this
  // one signal: a thousand listeners are expected, not a leak worth Node's warning.
  setMaxListeners(0, signal);
  const t0 = Date.now();
  const deadline = scenario.durationMs === undefined ? null : t0 + scenario.durationMs;
  const env = {
    scenario,
    serverUrl: opts.serverUrl,
    shard: shard.index,
    metrics,
    services: getServices,
    baseFetch,
    deadline,
    signal,
    restoreSlots: maxRestores === 0 ? null : new Slots(maxRestores),
  };
  const activeSlots = maxActive > 0 ? new Slots(maxActive) : null;
  const timelineMs = opts.timelineMs ?? 5000;
  const timeline = new RunTimeline(metrics, {
    intervalMs: timelineMs,
    ...(opts.onRunnerWarning ? { onWarning: opts.onRunnerWarning } : {}),
  });
  timeline.start();
  const progress = (done: boolean) => {
    const last = timeline.samples.at(-1);
    opts.onProgress?.({
      elapsedMs: Date.now() - t0,
      planned: planned.length,
      active: metrics.active,
      finished: metrics.finished,
      stepsDone: metrics.stepsDone,
      errors: metrics.errorCount,
      unexpectedErrors: metrics.unexpectedErrors,
      ...(last ? { formsPerSec: last.formsPerSec, requestsPerSec: last.requestsPerSec } : {}),
      done,
    });
  };
  const timer = opts.onProgress ? setInterval(() => progress(false), opts.progressMs ?? 1000) : null;
  try {
    const results = await Promise.all(
      planned.map(
        (w) =>
          new Promise<WorkerResult>((resolve, reject) => {
            const begin = () => {
              if (signal.aborted) {
                return Promise.resolve<WorkerResult>({
                  worker: w.number,
                  user: w.username,
                  ok: false,
                  status: 'not-started',
                  stepsRun: 0,
                  errors: 0,
                  formsSent: 0,
                  startedAtMs: Date.now(),
                  durationMs: 0,
                  failures: [
                    {
                      step: 'steps',
                      kind: 'interrupted',
                      message: 'The run was interrupted before this worker started',
                    },
                  ],
                });
              }
              return (
                scenario.openrosa
                  ? new OpenRosaSimWorker(w, env, scenario.openrosa.url)
                  : new SimWorker(w, env)
              ).run();
            };
            const start = () => {
              (activeSlots ? activeSlots.run(begin) : begin()).then(resolve, reject);
            };
            const wait = t0 + w.startOffsetMs - Date.now();
            if (wait <= 0) start();
            else {
              const t = setTimeout(start, wait);
              signal.addEventListener(
                'abort',
                () => {
                  clearTimeout(t);
                  start();
                },
                { once: true },
              );
            }
          }),
      ),
    );
    metrics.workers.push(...results.sort((a, b) => a.worker - b.worker));
  } finally {
    if (timer) clearInterval(timer);
    timeline.stop();
    await services?.close();
    http?.close();
  }
  progress(true);
  return {
    metrics,
    planned,
    shard,
    serverUrl: opts.serverUrl,
    startedAt,
    finishedAt: Date.now(),
    interrupted: signal.aborted,
    timeline: { intervalMs: timelineMs, samples: timeline.samples, processes: [currentProcessId()] },
    runnerWarnings: timeline.warnings,
  };
}

/**
 * A user-creation POST answered 400 "already taken": the run reuses that user (reruns on
 * the same domain), so the answer is expected, not an error of the run.
 */
async function isReusedUser(
  input: Parameters<FetchLike>[0],
  init: RequestInit | undefined,
  res: Response,
): Promise<boolean> {
  if (res.status !== 400) return false;
  const request = typeof input === 'object' && 'method' in input ? input : null;
  if ((init?.method ?? request?.method ?? 'GET').toUpperCase() !== 'POST') return false;
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  if (!/\/api\/v0\.5\/user\//.test(url)) return false;
  const text = await res
    .clone()
    .text()
    .catch(() => '');
  return /already|exists|taken/i.test(text);
}
