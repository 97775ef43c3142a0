import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  DEFAULT_MAX_ACTIVE,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_MAX_RESTORES,
  type RunOptions,
  type RunProgress,
  RunSetupError,
} from './engine.ts';
import { mergeReports, type RunReport } from './report.ts';
import { subShard, sumProgress } from './run-processes.ts';
import type { RunnerWarning } from './run-timeline.ts';
import type { Shard } from './workers-plan.ts';

/**
 * `fieldsim run` over worker threads of this process: the workers are split into shards
 * exactly as `--processes` splits them (subShard), each thread runs its shard with the
 * engine, and the threads' reports merge into one, as `fieldsim report merge` does. One
 * process (one RSS figure, nothing to start or stop), every core of the machine, and each
 * thread's V8 heap sized for the runner (a young generation large enough that most of a
 * worker's short-lived restore and request garbage dies there; bench/RESULTS.md session 6:
 * 14.4 s vs 16.3 s CPU for 200 workers, no difference measured at 100).
 */

/** Runs of at least this many workers use the machine's cores by default (threads 'auto'). */
export const THREADS_AUTO_MIN_WORKERS = 200;

/** Young generation per thread (V8's default gives 16 MB semi-spaces; 3 x 32 MB here). */
export const THREAD_YOUNG_GENERATION_MB = 96;

/** What a thread needs to run its shard: all of it plain data (structured-cloned). */
export interface ThreadRunInput {
  scenario: { file: string } | { text: string };
  /** Overrides of the scenario's seed and duration (the CLI's --seed and --duration). */
  seed?: string;
  durationMs?: number;
  options: Omit<RunOptions, 'fetch' | 'signal' | 'onProgress' | 'log' | 'onRunnerWarning'>;
}

export type ThreadMessage =
  | { type: 'progress'; progress: RunProgress }
  | { type: 'log'; line: string }
  | { type: 'warning'; warning: RunnerWarning }
  | { type: 'report'; report: RunReport }
  | { type: 'setup-error'; message: string; exitCode: 1 | 2 }
  | { type: 'error'; message: string };

export type ParentMessage = { type: 'start'; input: ThreadRunInput } | { type: 'abort' };

export interface ThreadsOptions {
  threads: number;
  signal?: AbortSignal;
  onProgress?: (p: RunProgress) => void;
  progressMs?: number;
  log?: (line: string) => void;
  onRunnerWarning?: (w: RunnerWarning) => void;
}

export class ThreadRunError extends Error {
  override readonly name = 'ThreadRunError';
}

/**
 * The run's limits on requests in flight and restores at once are the whole run's, as on
 * one thread: each thread takes its share (a thousand restores at once is what the limit
 * keeps from peaking together, bench/RESULTS.md).
 */
export function shareLimits(
  o: Pick<RunOptions, 'maxInFlight' | 'maxRestores' | 'maxActive' | 'autoMaxActive'>,
  threads: number,
): Pick<RunOptions, 'maxInFlight' | 'maxRestores' | 'maxActive' | 'autoMaxActive'> {
  const share = (n: number) => Math.max(1, Math.ceil(n / threads));
  const restores = o.maxRestores ?? DEFAULT_MAX_RESTORES;
  const auto = o.autoMaxActive ?? DEFAULT_MAX_ACTIVE;
  return {
    maxInFlight: share(o.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT),
    maxRestores: restores === 0 ? 0 : share(restores),
    // Absent stays absent: each thread decides on its own share of the automatic bound,
    // which a scenario with a duration never takes.
    ...(o.maxActive === undefined
      ? { autoMaxActive: auto === 0 ? 0 : share(auto) }
      : { maxActive: o.maxActive === 0 ? 0 : share(o.maxActive) }),
  };
}

/** `auto`: one thread per core for big runs (>= THREADS_AUTO_MIN_WORKERS workers), else one. */
export function autoThreads(workers: number, cores = availableParallelism()): number {
  return workers >= THREADS_AUTO_MIN_WORKERS ? Math.max(1, Math.min(cores, 8)) : 1;
}

/**
 * The thread entry: the compiled one next to this file, or, when this file runs as
 * TypeScript source (tests, an unbuilt checkout), the source one compiled by tsx's
 * require hook (Node 20 applies no ESM loader hooks inside a worker thread).
 */
function threadEntry(): { entry: URL | string; eval: boolean } {
  if (!import.meta.url.endsWith('.ts'))
    return { entry: new URL('./thread-entry.js', import.meta.url), eval: false };
  const tsx = createRequire(import.meta.url).resolve('tsx/cjs/api');
  const file = fileURLToPath(new URL('./thread-entry.ts', import.meta.url));
  return {
    entry: `require(${JSON.stringify(tsx)}).require(${JSON.stringify(file)}, __filename)`,
    eval: true,
  };
}

export async function runInThreads(input: ThreadRunInput, opts: ThreadsOptions): Promise<RunReport> {
  const shard: Shard = input.options.shard ?? { index: 1, count: 1 };
  const entry = threadEntry();
  const started = Date.now();
  const latest = new Map<number, RunProgress>();
  const workers: Worker[] = [];
  const runs: Promise<RunReport>[] = [];
  for (let j = 1; j <= opts.threads; j++) {
    const w = new Worker(entry.entry, {
      eval: entry.eval,
      resourceLimits: { maxYoungGenerationSizeMb: THREAD_YOUNG_GENERATION_MB },
      // The run's output is the merged summary: a thread writes nothing of its own.
      stdout: false,
      stderr: false,
    });
    workers.push(w);
    runs.push(
      new Promise<RunReport>((resolve, reject) => {
        w.on('message', (m: ThreadMessage) => {
          if (m.type === 'progress') latest.set(j, m.progress);
          else if (m.type === 'log') opts.log?.(m.line);
          else if (m.type === 'warning') opts.onRunnerWarning?.(m.warning);
          else if (m.type === 'report') resolve(m.report);
          else if (m.type === 'setup-error') reject(new RunSetupError(m.message, m.exitCode));
          else reject(new ThreadRunError(`thread ${j} of ${opts.threads} failed: ${m.message}`));
        });
        w.on('error', (e) =>
          reject(new ThreadRunError(`thread ${j} of ${opts.threads} failed: ${e.message}`)),
        );
        // After a settled promise this does nothing: only an exit before the report counts.
        w.on('exit', (code) =>
          reject(
            new ThreadRunError(`thread ${j} of ${opts.threads} ended (exit ${code}) without its report`),
          ),
        );
      }),
    );
    const mine: ThreadRunInput = {
      ...input,
      options: {
        ...input.options,
        ...shareLimits(input.options, opts.threads),
        shard: subShard(shard, opts.threads, j),
      },
    };
    w.postMessage({ type: 'start', input: mine } satisfies ParentMessage);
  }
  const abort = () => {
    for (const w of workers) w.postMessage({ type: 'abort' } satisfies ParentMessage);
  };
  opts.signal?.addEventListener('abort', abort, { once: true });
  // A thread that fails stops the others at their next step: the run fails either way.
  for (const r of runs) r.catch(abort);
  const tick = () => opts.onProgress?.(sumProgress([...latest.values()], Date.now() - started, false));
  const timer = opts.onProgress ? setInterval(tick, opts.progressMs ?? 1000) : null;
  try {
    const settled = await Promise.allSettled(runs);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    opts.onProgress?.(sumProgress([...latest.values()], Date.now() - started, true));
    // The threads' timelines name this one process: the merge keeps its CPU and RSS once.
    return mergeReports(settled.map((s) => (s as PromiseFulfilledResult<RunReport>).value));
  } finally {
    if (timer) clearInterval(timer);
    opts.signal?.removeEventListener('abort', abort);
    for (const w of workers) void w.terminate();
  }
}
